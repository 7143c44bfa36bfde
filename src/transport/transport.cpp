#include "transport/transport.hpp"

#include <sched.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "ranks/error.hpp"
#include "transport/channel.hpp"

namespace ranks::detail::transport {

void check(int rc, const char* routine) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  int error_class = rc;
  MPI_Error_class(rc, &error_class);
  throw MpiError(routine, rc, error_class, std::string(text, static_cast<std::size_t>(len)));
}

void check_cleanup(int rc, const char* routine) noexcept {
  if (rc == MPI_SUCCESS) return;
  try {
    check(rc, routine);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  }
}

int rank(MPI_Comm comm) {
  int r = 0;
  check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank");
  return r;
}

int size(MPI_Comm comm) {
  int s = 0;
  check(MPI_Comm_size(comm, &s), "MPI_Comm_size");
  return s;
}

namespace {

// A block of any size as MPI messages of at most kMaxPart bytes (MPI counts are ints).
void isend_parts(MPI_Comm comm, int dest, int tag, const std::byte* p, std::size_t n,
                 std::vector<MPI_Request>& out) {
  std::size_t off = 0;
  do {
    const int len = static_cast<int>(std::min(kMaxPart, n - off));
    MPI_Request r;
    check(MPI_Isend(p + off, len, MPI_BYTE, dest, tag, comm, &r), "MPI_Isend");
    out.push_back(r);
    off += static_cast<std::size_t>(len);
  } while (off < n);
}

void recv_parts(MPI_Comm comm, int source, int tag, std::byte* p, std::size_t n) {
  std::size_t off = 0;
  do {
    const int len = static_cast<int>(std::min(kMaxPart, n - off));
    check(MPI_Recv(p + off, len, MPI_BYTE, source, tag, comm, MPI_STATUS_IGNORE), "MPI_Recv");
    off += static_cast<std::size_t>(len);
  } while (off < n);
}

}  // namespace

void finish(Message& msg) {
  Writer w(msg.bytes);
  for (const auto& a : msg.attachments) {
    const std::uint64_t n = a.size;
    w.raw(&n, sizeof n);
  }
  const std::uint64_t count = msg.attachments.size();
  w.raw(&count, sizeof count);
  seal(msg.bytes);
}

std::vector<std::uint64_t> strip_trailer(Bytes& data) {
  std::uint64_t k = 0;
  const std::size_t size = data.size();
  if (size >= sizeof k) std::memcpy(&k, data.data() + size - sizeof k, sizeof k);
  if (size < sizeof k || k > (size - sizeof k) / sizeof k)
    throw Error("a message without its trailer arrived (mismatched binaries?)");
  const std::size_t body = size - (k + 1) * sizeof k;
  std::vector<std::uint64_t> sizes(k);
  if (k) std::memcpy(sizes.data(), data.data() + body, k * sizeof k);
  data.resize(body);
  return sizes;
}

void Outbox::send(MPI_Comm comm, int dest, Message msg, int tag) {
  finish(msg);
  send_finished(comm, dest, std::move(msg), tag);
}

void Outbox::send_finished(MPI_Comm comm, int dest, Message msg, int tag) {
  post(comm, dest, std::move(msg), tag);
}

void Outbox::send_attachments(MPI_Comm comm, int dest, Message msg) {
  if (msg.attachments.empty()) return;
  post(comm, dest, std::move(msg), -1);
}

void Outbox::post(MPI_Comm comm, int dest, Message msg, int tag) {
  if (!lazy_) progress();
  std::size_t slot = slots_.size();
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slots_.emplace_back();
  }
  Pending& p = slots_[slot];
  p.msg = std::move(msg);
  const std::size_t before = requests_.size();
  if (tag >= 0) isend_parts(comm, dest, tag, p.msg.bytes.data(), p.msg.bytes.size(), requests_);
  for (const auto& a : p.msg.attachments)
    isend_parts(comm, dest, kDataTag, a.data, a.size, requests_);
  p.left = requests_.size() - before;
  owner_.resize(requests_.size(), slot);
}

void Outbox::progress() {
  // All sends are tested at once: a large send waiting for a busy engine must not hold back the
  // release of those behind it, and one MPI call drives MPI's progress once, not once per send.
  if (requests_.empty()) return;
  done_.resize(requests_.size());
  int count = 0;
  check(MPI_Testsome(static_cast<int>(requests_.size()), requests_.data(), &count, done_.data(),
                     MPI_STATUSES_IGNORE),
        "MPI_Testsome");
  if (count <= 0) return;  // none finished (MPI_UNDEFINED cannot happen: none is null here)
  for (int i = 0; i < count; ++i) {
    const std::size_t slot = owner_[static_cast<std::size_t>(done_[static_cast<std::size_t>(i)])];
    if (--slots_[slot].left == 0) {
      slots_[slot].msg = Message();
      free_.push_back(slot);
    }
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    if (requests_[i] == MPI_REQUEST_NULL) continue;
    requests_[kept] = requests_[i];
    owner_[kept] = owner_[i];
    ++kept;
  }
  requests_.resize(kept);
  owner_.resize(kept);
}

void Outbox::abandon() {
  for (auto& r : requests_)
    if (r != MPI_REQUEST_NULL) check_cleanup(MPI_Request_free(&r), "MPI_Request_free");
  requests_.clear();
  owner_.clear();
  slots_.clear();
  free_.clear();
}

void Outbox::drain() {
  check(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE),
        "MPI_Waitall");
  requests_.clear();
  owner_.clear();
  slots_.clear();
  free_.clear();
}

void Incoming::receive(void* dst, std::size_t n) {
  if (next_ >= sizes_.size() || sizes_[next_] != n)
    throw Error(
        "a message's attached data does not match what its decoder expects (corrupt or "
        "mismatched payload)");
  ++next_;
  recv_parts(comm_, source, kDataTag, static_cast<std::byte*>(dst), n);
}

std::vector<Bytes> Incoming::receive_rest() {
  std::vector<Bytes> out;
  while (next_ < sizes_.size()) {
    Bytes b(sizes_[next_]);
    receive(b.data(), b.size());
    out.push_back(std::move(b));
  }
  return out;
}

void Incoming::drain() {
  Bytes scratch;
  for (; next_ < sizes_.size(); ++next_) {
    // Part by part, as they were sent, into one part's worth of scratch.
    const std::size_t n = sizes_[next_];
    scratch.resize(std::min(n, kMaxPart));
    for (std::size_t off = 0; off < n; off += kMaxPart)
      recv_parts(comm_, source, kDataTag, scratch.data(), std::min(kMaxPart, n - off));
  }
}

void Incoming::take(Bytes bytes, MPI_Comm comm, int source_rank) {
  drain();  // what the previous message left unread
  data = std::move(bytes);
  sizes_ = strip_trailer(data);
  next_ = 0;
  comm_ = comm;
  source = source_rank;
}

bool try_recv(MPI_Comm comm, int source, Incoming& out, int tag) {
  out.drain();  // what the previous message left unread
  int flag = 0;
  MPI_Status st;
  check(MPI_Iprobe(source, tag, comm, &flag, &st), "MPI_Iprobe");
  if (!flag) return false;
  int count = 0;
  check(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count");
  out.source = st.MPI_SOURCE;
  out.data.resize(static_cast<std::size_t>(count));
  check(MPI_Recv(out.data.data(), count, MPI_BYTE, st.MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE),
        "MPI_Recv");
  // Every message starts with its total length: a longer one follows in further parts.
  std::uint64_t total = 0;
  if (out.data.size() >= sizeof total) std::memcpy(&total, out.data.data(), sizeof total);
  if (total > out.data.size()) {
    const std::size_t off = out.data.size();
    out.data.resize(total);
    recv_parts(comm, st.MPI_SOURCE, tag, out.data.data() + off, total - off);
  }
  // The trailer lists the attachments that follow on kDataTag.
  out.sizes_ = strip_trailer(out.data);
  out.next_ = 0;
  out.comm_ = comm;
  return true;
}

void Backoff::reset() {
  last_ = std::chrono::steady_clock::now();
  sleep_ = std::chrono::microseconds(0);
}

void Backoff::pause(bool sending, Channel* doorbell) {
  using namespace std::chrono;
  const auto idle = steady_clock::now() - last_;
  // Spin for 2 us only (a reply that follows at once is seen at once), then yield: with more
  // ranks than cores (engines oversubscribed on a laptop, the controller beside them) a
  // spinning rank takes the core a busy one needs, and with a core to spare sched_yield
  // returns at once (ranks_bench task-length, chunksize 1, in docs/PERFORMANCE.md).
  if (idle < spin_) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    return;
  }
  if (idle < microseconds(500)) {
    sched_yield();
    return;
  }
  // Over TCP a send moves only while its rank drives MPI: with data in flight a long sleep
  // would stall it once the socket's buffer is full (a 64 MiB reply between hosts).
  if (doorbell) {
    // The next message wakes it: it looks up only for what comes another way (a cluster's
    // stop) every 50 ms, or for its own sends in flight every kSendingSleep.
    doorbell->wait(sending ? kSendingSleep : kDoorbellColdSleep);
    return;
  }
  const microseconds cap = sending ? kSendingSleep : idle < seconds(1) ? max_sleep_ : cold_sleep_;
  sleep_ = std::min(cap, std::max(microseconds(20), sleep_ * 2));
  std::this_thread::sleep_for(sleep_);
}

MPI_Comm subset(MPI_Comm whole, const std::vector<int>& ranks, int tag) {
  MPI_Group all = MPI_GROUP_NULL, group = MPI_GROUP_NULL;
  check(MPI_Comm_group(whole, &all), "MPI_Comm_group");
  const int incl_rc = MPI_Group_incl(all, static_cast<int>(ranks.size()), ranks.data(), &group);
  check_cleanup(MPI_Group_free(&all), "MPI_Group_free");
  check(incl_rc, "MPI_Group_incl");
  MPI_Comm comm = MPI_COMM_NULL;
  const int rc = MPI_Comm_create_group(whole, group, tag, &comm);
  check_cleanup(MPI_Group_free(&group), "MPI_Group_free");
  check(rc, "MPI_Comm_create_group");
  errors_return(comm);
  return comm;
}

MPI_Comm dup_comm(MPI_Comm comm) {
  MPI_Comm copy = MPI_COMM_NULL;
  check(MPI_Comm_dup(comm, &copy), "MPI_Comm_dup");
  errors_return(copy);
  return copy;
}

void free_comm(MPI_Comm& comm) {
  if (comm != MPI_COMM_NULL) check_cleanup(MPI_Comm_free(&comm), "MPI_Comm_free");
  comm = MPI_COMM_NULL;
}

void errors_return(MPI_Comm comm) {
  check(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
}

Subset::~Subset() { free_comm(comm_); }

MPI_Comm Subset::of(const std::vector<int>& ranks) {
  if (ranks == ranks_ && comm_ != MPI_COMM_NULL) return comm_;
  free_comm(comm_);
  comm_ = subset(whole_, ranks, kSubsetTag);
  ranks_ = ranks;
  return comm_;
}

void Subset::rebase(MPI_Comm whole) {
  free_comm(comm_);
  ranks_.clear();
  whole_ = whole;
}

MPI_Request iscatterv(MPI_Comm comm, const std::byte* base, const std::vector<int>& counts,
                      const std::vector<int>& displs) {
  MPI_Request r;
  check(MPI_Iscatterv(base, counts.data(), displs.data(), MPI_BYTE, nullptr, 0, MPI_BYTE, 0, comm,
                      &r),
        "MPI_Iscatterv");
  return r;
}

MPI_Request ibcast(MPI_Comm comm, const std::byte* data, int n) {
  MPI_Request r;
  // The root only reads the buffer; MPI's signature is not const.
  check(MPI_Ibcast(const_cast<std::byte*>(data), n, MPI_BYTE, 0, comm, &r), "MPI_Ibcast");
  return r;
}

MPI_Request igather(MPI_Comm comm, void* recv, int each) {
  MPI_Request r;
  // The root gives nothing of its own: its slot of recv is left as it is.
  check(MPI_Igather(MPI_IN_PLACE, 0, MPI_BYTE, recv, each, MPI_BYTE, 0, comm, &r), "MPI_Igather");
  return r;
}

MPI_Request igatherv(MPI_Comm comm, std::byte* recv, const std::vector<int>& counts,
                     const std::vector<int>& displs) {
  MPI_Request r;
  check(
      MPI_Igatherv(nullptr, 0, MPI_BYTE, recv, counts.data(), displs.data(), MPI_BYTE, 0, comm, &r),
      "MPI_Igatherv");
  return r;
}

bool test_all(std::vector<MPI_Request>& requests) {
  int done = 0;
  check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE),
        "MPI_Testall");
  return done != 0;
}

namespace {

bool (*g_interrupt)() = nullptr;
std::chrono::steady_clock::time_point g_last_interrupt_check{};

// Nonblocking collectives match only nonblocking ones: the root posts I-versions, so engines do
// too, and wait by testing with backoff rather than spinning inside MPI.
void wait(MPI_Request r, const char* what) {
  Backoff backoff(std::chrono::microseconds(1000));
  int done = 0;
  while (true) {
    check(MPI_Test(&r, &done, MPI_STATUS_IGNORE), what);
    if (done) return;
    poll_interrupt();
    backoff.pause();
  }
}

}  // namespace

void set_interrupt(bool (*check)()) { g_interrupt = check; }

void poll_interrupt() {
  if (g_interrupt == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - g_last_interrupt_check < std::chrono::milliseconds(1)) return;
  g_last_interrupt_check = now;
  if (g_interrupt()) throw Interrupted{};
}

void scatterv_recv(MPI_Comm comm, std::byte* buf, int n) {
  MPI_Request r;
  check(MPI_Iscatterv(nullptr, nullptr, nullptr, MPI_BYTE, buf, n, MPI_BYTE, 0, comm, &r),
        "MPI_Iscatterv");
  wait(r, "MPI_Iscatterv");
}

void bcast_recv(MPI_Comm comm, std::byte* buf, int n) {
  MPI_Request r;
  check(MPI_Ibcast(buf, n, MPI_BYTE, 0, comm, &r), "MPI_Ibcast");
  wait(r, "MPI_Ibcast");
}

void gather_send(MPI_Comm comm, const void* data, int n) {
  MPI_Request r;
  check(MPI_Igather(data, n, MPI_BYTE, nullptr, 0, MPI_BYTE, 0, comm, &r), "MPI_Igather");
  wait(r, "MPI_Igather");
}

void gatherv_send(MPI_Comm comm, const std::byte* data, int n) {
  MPI_Request r;
  check(MPI_Igatherv(data, n, MPI_BYTE, nullptr, nullptr, nullptr, MPI_BYTE, 0, comm, &r),
        "MPI_Igatherv");
  wait(r, "MPI_Igatherv");
}

void bcast(MPI_Comm comm, void* data, int n) {
  MPI_Request r;
  check(MPI_Ibcast(data, n, MPI_BYTE, 0, comm, &r), "MPI_Ibcast");
  wait(r, "MPI_Ibcast");
}

void gather(MPI_Comm comm, const void* data, int n, void* recv) {
  MPI_Request r;
  check(MPI_Igather(data, n, MPI_BYTE, recv, n, MPI_BYTE, 0, comm, &r), "MPI_Igather");
  wait(r, "MPI_Igather");
}

void abort(int code, MPI_Comm comm) {
  MPI_Abort(comm, code == 0 ? 1 : code);
  std::_Exit(code == 0 ? 1 : code);
}

}  // namespace ranks::detail::transport
