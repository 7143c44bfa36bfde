#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <ranks/ranks.hpp>
#include <vector>

namespace {

// Over 2 GiB: more bytes than one MPI count can describe.
constexpr std::size_t kHuge = (std::size_t{1} << 31) + 4099;

std::uint64_t checksum(const std::vector<unsigned char>& v) {
  std::uint64_t s = v.size();
  for (std::size_t i = 0; i < v.size(); i += 4093) s = s * 31 + v[i];
  return s * 31 + v.back();
}

std::vector<unsigned char> make(std::size_t n) {
  std::vector<unsigned char> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<unsigned char>(i * 7 + (i >> 20));
  return v;
}

std::uint64_t checksum_there(const std::vector<unsigned char>& v) { return checksum(v); }
std::vector<unsigned char> make_there(std::size_t n) { return make(n); }
std::vector<double> identity(const std::vector<double>& v) { return v; }

}  // namespace

TEST(Payload, over_two_gib_to_an_engine) {
  ranks::Pool pool(1);
  const auto v = make(kHuge);
  EXPECT_EQ(pool.apply(checksum_there, v), checksum(v));
}

TEST(Payload, over_two_gib_back_from_an_engine) {
  ranks::Pool pool(1);
  const auto v = pool.apply(make_there, kHuge);
  ASSERT_EQ(v.size(), kHuge);
  EXPECT_EQ(checksum(v), checksum(make(kHuge)));
}

TEST(Payload, sixty_four_mib_round_trip) {
  ranks::Pool pool(1);
  std::vector<double> v(8 << 20);
  std::iota(v.begin(), v.end(), 0.5);
  EXPECT_EQ(pool.apply(identity, v), v);
}
