// The codec and the API's answers outside ranks::run; no MPI needed.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <ranks/ranks.hpp>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "test_types.hpp"
#include "throws.hpp"

namespace {

using ranks::detail::Bytes;
using ranks::detail::Reader;
using ranks::detail::Writer;

template <class T>
T round_trip(const T& v, std::size_t* size = nullptr) {
  Bytes buf;
  Writer w(buf);
  ranks::detail::encode(w, v);
  if (size) *size = buf.size();
  Reader r(buf.data(), buf.size());
  T out{};
  ranks::detail::decode(r, out);
  EXPECT_EQ(r.remaining(), 0u);
  return out;
}

struct Pod {
  int a;
  double b;
  bool operator==(const Pod&) const = default;
};

int square(int x) { return x * x; }

// Plain structs that are not trivially copyable travel by a serialize() of their own, one found
// beside them, or one written elsewhere that they are declared to have.
struct Member {
  std::string s;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& s;
  }
};
struct Beside {
  std::string s;
};
struct NoSerialize {  // refused at compile time (tests/compile/struct_argument.cpp)
  std::string s;
};
template <class Archive>
void serialize(Archive& ar, Beside& b, unsigned) {
  ar& b.s;
}

}  // namespace

struct Elsewhere {
  std::string s;
};
namespace boost::serialization {
template <class Archive>
void serialize(Archive& ar, Elsewhere& e, unsigned) {
  ar& e.s;
}
}  // namespace boost::serialization
template <>
inline constexpr bool ranks::serialized_elsewhere<Elsewhere> = true;

TEST(Wire, plain_structs_travel_by_any_serialize_they_have) {
  static_assert(ranks::detail::archivable_v<Member> && ranks::detail::archivable_v<Beside> &&
                ranks::detail::archivable_v<Elsewhere>);
  static_assert(!ranks::detail::archivable_v<NoSerialize>);
  EXPECT_EQ(round_trip(Member{"m"}).s, "m");
  EXPECT_EQ(round_trip(Beside{"b"}).s, "b");
  EXPECT_EQ(round_trip(Elsewhere{"e"}).s, "e");
}

TEST(Wire, raw_values_and_vectors_travel_as_bytes) {
  std::size_t size = 0;
  EXPECT_EQ(round_trip(42, &size), 42);
  EXPECT_EQ(size, sizeof(int));
  std::vector<double> v(1000, 1.5);
  EXPECT_EQ(round_trip(v, &size), v);
  EXPECT_EQ(size, 8 + 1000 * sizeof(double));  // a length, then the bytes: no per-element work
  std::vector<Pod> pods{{1, 2.0}, {3, 4.0}};
  EXPECT_EQ(round_trip(pods, &size), pods);
  EXPECT_EQ(size, 8 + 2 * sizeof(Pod));
}

// A view travels as what it shows, never as its pointer, and arrives as the owning container.
template <class View>
ranks::detail::wire_t<View> sent_as_owner(const View& v) {
  Bytes buf;
  Writer w(buf);
  ranks::detail::encode(w, v);
  Reader r(buf.data(), buf.size());
  ranks::detail::wire_t<View> out;
  ranks::detail::decode(r, out);
  EXPECT_EQ(r.remaining(), 0u);
  return out;
}

TEST(Wire, spans_and_string_views_travel_as_their_elements) {
  static_assert(
      std::is_same_v<ranks::detail::wire_t<std::span<const double>>, std::vector<double>>);
  static_assert(std::is_same_v<ranks::detail::wire_t<std::string_view>, std::string>);
  static_assert(!ranks::detail::is_raw_v<std::span<int>>);
  const std::vector<double> v{1.5, 2.5, 3.5};
  EXPECT_EQ(sent_as_owner(std::span<const double>(v)), v);
  EXPECT_EQ(sent_as_owner(std::span<const double>(v).subspan(1)),
            std::vector<double>(v.begin() + 1, v.end()));
  const std::vector<std::string> words{"a", "bc"};
  EXPECT_EQ(sent_as_owner(std::span<const std::string>(words)), words);
  const std::string text = "hola mundo";
  EXPECT_EQ(sent_as_owner(std::string_view(text).substr(5)), "mundo");
}

TEST(Wire, a_vector_of_the_same_length_is_received_where_it_lies) {
  const std::vector<int> v{4, 5, 6};
  Bytes buf;
  Writer w(buf);
  ranks::detail::encode(w, v);
  std::vector<int> out{0, 0, 0};
  const int* before = out.data();
  Reader r(buf.data(), buf.size());
  ranks::detail::decode(r, out);
  EXPECT_EQ(out, v);
  EXPECT_EQ(out.data(), before);
}

TEST(Wire, strings_containers_and_user_types) {
  EXPECT_EQ(round_trip(std::string("hola")), "hola");
  EXPECT_EQ(round_trip(std::vector<std::string>{"a", "", "ccc"}),
            (std::vector<std::string>{"a", "", "ccc"}));
  const std::map<std::string, std::vector<int>> m{{"x", {1}}, {"y", {}}};
  EXPECT_EQ(round_trip(m), m);
  const auto t = std::make_tuple(1, std::string("two"), 3.0);
  EXPECT_EQ(round_trip(t), t);
  EXPECT_EQ(round_trip(std::optional<std::string>("o")), std::optional<std::string>("o"));
  EXPECT_EQ(round_trip(std::optional<int>()), std::optional<int>());
  const ranks_test::Person w{"name", {1, 2, 3}};
  EXPECT_EQ(round_trip(w), w);
  EXPECT_EQ(round_trip(std::vector<bool>{true, false, true}),
            (std::vector<bool>{true, false, true}));
}

// Hands a Reader the attachments a Writer recorded, as transport does between two ranks.
class FakeSource final : public ranks::detail::AttachmentSource {
 public:
  explicit FakeSource(std::vector<ranks::detail::Attachment> a) : a_(std::move(a)) {}
  void receive(void* dst, std::size_t n) override {
    ASSERT_LT(next_, a_.size());
    ASSERT_EQ(a_[next_].size, n);
    std::memcpy(dst, a_[next_].data, n);
    ++next_;
  }
  std::size_t next_ = 0;

 private:
  std::vector<ranks::detail::Attachment> a_;
};

TEST(Wire, large_blocks_travel_as_attachments_read_in_place) {
  std::vector<double> big(100000, 2.5);
  std::vector<double> small(100, 1.5);
  std::string text(200000, 'x');
  Bytes buf;
  std::vector<ranks::detail::Attachment> attached;
  Writer w(buf, &attached);
  const auto in = std::make_tuple(big, small, text);  // attachments point into it: keep it
  ranks::detail::encode(w, in);
  // The tuple's big vector and string went apart, read where they lie; the small one inline.
  ASSERT_EQ(attached.size(), 2u);
  EXPECT_EQ(attached[1].size, text.size());
  EXPECT_LT(buf.size(), 100 * sizeof(double) + 64);
  const auto* first = reinterpret_cast<const double*>(attached[0].data);
  EXPECT_EQ(attached[0].size, big.size() * sizeof(double));
  EXPECT_EQ(first, std::get<0>(in).data());
  EXPECT_EQ(first[99999], 2.5);

  FakeSource source(attached);
  Reader r(buf.data(), buf.size(), &source);
  std::tuple<std::vector<double>, std::vector<double>, std::string> out;
  ranks::detail::decode(r, out);
  EXPECT_EQ(std::get<0>(out), big);
  EXPECT_EQ(std::get<1>(out), small);
  EXPECT_EQ(std::get<2>(out), text);
  EXPECT_EQ(source.next_, 2u);

  // A reader that has no attachments to give refuses, rather than reading garbage.
  Reader lone(buf.data(), buf.size());
  EXPECT_THROW(ranks::detail::decode(lone, out), ranks::Error);
  // And a writer without an attachment list keeps everything inline.
  EXPECT_EQ(round_trip(big), big);
}

TEST(Wire, a_short_message_is_an_error_not_a_crash) {
  Bytes buf;
  Writer w(buf);
  ranks::detail::encode(w, std::vector<int>{1, 2, 3});
  buf.resize(buf.size() - 1);
  Reader r(buf.data(), buf.size());
  std::vector<int> out;
  EXPECT_THROW(ranks::detail::decode(r, out), ranks::Error);
}

TEST(Wire, a_shared_object_outside_run_says_what_to_do) {
  EXPECT_THROW_MSG(ranks::Queue<int> q, ranks::Error,
                   "ranks::Queue was called outside ranks::run; wrap your program's body");
  EXPECT_THROW_MSG((void)ranks::Pipe<int>(), ranks::Error, "ranks::Pipe was called outside");
  ranks::Manager manager;
  EXPECT_THROW_MSG((void)manager.list<int>(), ranks::Error, "ranks::Manager was called outside");
  ranks::Connection<int> end;  // names no pipe
  EXPECT_THROW_MSG(end.send(1), ranks::Error, "this handle names no object");
}

TEST(Wire, calling_the_api_outside_run_says_what_to_do) {
  EXPECT_THROW_MSG(ranks::Pool pool, ranks::Error, "outside ranks::run");
  ranks::Process p(square, 1);
  EXPECT_THROW(p.start(), ranks::Error);
  EXPECT_EQ(ranks::engine_id(), -1);
  EXPECT_THROW((void)ranks::engine_count(), ranks::Error);
}
