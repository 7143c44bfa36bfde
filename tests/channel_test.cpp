// The shared-memory channel between a controller and an engine on one host, under mpirun -np
// 2: messages of every size keep their order both ways (small ones through the ring, large ones
// by MPI behind a marker), attachments follow their message, and the ring wraps around.
#include "transport/channel.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "transport/transport.hpp"

namespace {

using namespace ranks::detail;

int rank() { return transport::rank(MPI_COMM_WORLD); }

// Message i: i's bytes repeated to a size that grows and shrinks across the ring's size, some
// with an attachment.
std::size_t body_size(int i) {
  return (i % 50 == 7) ? 300000 : 16 + static_cast<std::size_t>(i % 997) * 37;
}
bool has_attachment(int i) { return i % 13 == 5; }

Message make(int i, std::vector<std::vector<std::byte>>& keep) {
  Message m;
  m.bytes.resize(8 + body_size(i));
  std::memset(m.bytes.data(), 0, 8);  // the total length: set by finish()
  for (std::size_t k = 8; k < m.bytes.size(); ++k) m.bytes[k] = static_cast<std::byte>(i + k);
  if (has_attachment(i)) {
    keep.emplace_back(70000 + static_cast<std::size_t>(i), static_cast<std::byte>(i));
    m.attachments.push_back({keep.back().data(), keep.back().size()});
  }
  return m;
}

void check(int i, transport::Incoming& in) {
  ASSERT_EQ(in.data.size(), 8 + body_size(i)) << "message " << i;
  for (std::size_t k = 8; k < in.data.size(); k += 101)
    ASSERT_EQ(in.data[k], static_cast<std::byte>(i + k)) << "message " << i << " byte " << k;
  if (has_attachment(i)) {
    std::vector<std::byte> a(70000 + static_cast<std::size_t>(i));
    in.receive(a.data(), a.size());
    ASSERT_EQ(a.back(), static_cast<std::byte>(i)) << "attachment of message " << i;
  }
}

// The two ranks' ends of one channel: rank 0 makes it, rank 1 opens it by name.
std::unique_ptr<transport::Channel> connect_pair() {
  const int peer = 1 - rank();
  char name[256] = {};
  std::unique_ptr<transport::Channel> ch;
  if (rank() == 0) {
    ch = transport::Channel::create(MPI_COMM_WORLD, peer);
    std::strncpy(name, ch->name().c_str(), sizeof name - 1);
  }
  transport::bcast(MPI_COMM_WORLD, name, sizeof name);
  if (rank() == 1) ch = transport::Channel::open(name, MPI_COMM_WORLD, peer);
  return ch;
}

}  // namespace

TEST(Channel, messages_keep_their_order_both_ways) {
  ASSERT_EQ(transport::size(MPI_COMM_WORLD), 2) << "run under mpirun -np 2";
  const auto ch = connect_pair();

  // Both sides send and receive at once, so that rings fill and wait for room.
  constexpr int kMessages = 3000;
  transport::Outbox outbox;
  transport::Incoming in;
  std::vector<std::vector<std::byte>> keep;
  keep.reserve(kMessages);
  int sent = 0, got = 0;
  transport::Backoff backoff(std::chrono::microseconds(100));
  while (got < kMessages || sent < kMessages || !ch->idle()) {
    bool moved = false;
    if (sent < kMessages) {
      ch->send(make(sent++, keep), outbox);
      moved = true;
    }
    while (got < kMessages && ch->try_recv(in)) {
      check(got++, in);
      if (HasFatalFailure()) return;
      moved = true;
    }
    ch->flush();
    outbox.progress();
    if (moved) {
      backoff.reset();
    } else {
      backoff.pause();
    }
  }
  outbox.drain();
  EXPECT_EQ(got, kMessages);
  MPI_Barrier(MPI_COMM_WORLD);  // neither unmaps before the other is done
}

// An engine waiting for work sleeps on its ring's bell: the next message wakes it (well before
// its 5 s are up), and with nothing coming the wait ends when its time does.
TEST(Channel, a_waiting_side_is_woken_by_the_next_message) {
  ASSERT_EQ(transport::size(MPI_COMM_WORLD), 2) << "run under mpirun -np 2";
  const auto ch = connect_pair();
  transport::Outbox outbox;
  transport::Incoming in;
  using Clock = std::chrono::steady_clock;
  if (rank() == 1) {
    auto t0 = Clock::now();
    ch->wait(std::chrono::milliseconds(30));  // nothing is sent yet
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
    EXPECT_FALSE(ch->try_recv(in));
    MPI_Barrier(MPI_COMM_WORLD);  // rank 0 sends after a pause
    t0 = Clock::now();
    while (!ch->try_recv(in)) ch->wait(std::chrono::seconds(5));
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(4)) << "the message did not wake it";
    EXPECT_EQ(in.data.size(), 8 + body_size(3));
  } else {
    MPI_Barrier(MPI_COMM_WORLD);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // rank 1 is asleep by now
    std::vector<std::vector<std::byte>> keep;
    ch->send(make(3, keep), outbox);
    outbox.drain();
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  MPI_Init(&argc, &argv);
  const int failed = RUN_ALL_TESTS();
  MPI_Finalize();
  return failed;
}
