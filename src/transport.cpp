#include "transport.hpp"

#include <sched.h>

#include <cstring>
#include <thread>

#include "ranks/error.hpp"

namespace ranks::detail::transport {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("ranks: ") + what + " failed: " + std::string(text, len));
}

int rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

int size(MPI_Comm comm) {
  int s = 0;
  MPI_Comm_size(comm, &s);
  return s;
}

void Outbox::send(MPI_Comm comm, int dest, Bytes msg) {
  progress();
  Pending p;
  p.data = std::move(msg);
  const std::size_t n = p.data.size();
  for (std::size_t off = 0; off < n || off == 0; off += kMaxPart) {
    const int len = static_cast<int>(std::min(kMaxPart, n - off));
    MPI_Request r;
    check(MPI_Isend(p.data.data() + off, len, MPI_BYTE, dest, kTag, comm, &r), "MPI_Isend");
    p.requests.push_back(r);
    if (n == 0) break;
  }
  pending_.push_back(std::move(p));
}

void Outbox::progress() {
  while (!pending_.empty()) {
    auto& p = pending_.front();
    int done = 0;
    check(MPI_Testall(static_cast<int>(p.requests.size()), p.requests.data(), &done,
                      MPI_STATUSES_IGNORE),
          "MPI_Testall");
    if (!done) break;
    pending_.pop_front();
  }
}

void Outbox::drain() {
  for (auto& p : pending_)
    check(MPI_Waitall(static_cast<int>(p.requests.size()), p.requests.data(), MPI_STATUSES_IGNORE),
          "MPI_Waitall");
  pending_.clear();
}

bool try_recv(MPI_Comm comm, int source, Incoming& out) {
  int flag = 0;
  MPI_Status st;
  check(MPI_Iprobe(source, kTag, comm, &flag, &st), "MPI_Iprobe");
  if (!flag) return false;
  int count = 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  out.source = st.MPI_SOURCE;
  out.data.resize(static_cast<std::size_t>(count));
  check(MPI_Recv(out.data.data(), count, MPI_BYTE, st.MPI_SOURCE, kTag, comm, MPI_STATUS_IGNORE),
        "MPI_Recv");
  // Every message starts with its total length: a longer one follows in further parts.
  std::uint64_t total = 0;
  if (out.data.size() >= sizeof total) std::memcpy(&total, out.data.data(), sizeof total);
  if (total > out.data.size()) {
    std::size_t off = out.data.size();
    out.data.resize(total);
    while (off < total) {
      const int len = static_cast<int>(std::min(kMaxPart, total - off));
      check(MPI_Recv(out.data.data() + off, len, MPI_BYTE, st.MPI_SOURCE, kTag, comm,
                     MPI_STATUS_IGNORE),
            "MPI_Recv");
      off += static_cast<std::size_t>(len);
    }
  }
  return true;
}

void send_now(MPI_Comm comm, int dest, const Bytes& msg) {
  Outbox box;
  box.send(comm, dest, msg);
  box.drain();
}

void Backoff::reset() {
  last_ = std::chrono::steady_clock::now();
  sleep_ = std::chrono::microseconds(0);
}

void Backoff::pause() {
  using namespace std::chrono;
  const auto idle = steady_clock::now() - last_;
  if (idle < microseconds(50)) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    return;
  }
  if (idle < microseconds(500)) {
    sched_yield();
    return;
  }
  sleep_ = std::min(max_sleep_, std::max(microseconds(20), sleep_ * 2));
  std::this_thread::sleep_for(sleep_);
}

Spawned spawn(int n, const std::string& exe, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  MPI_Info info;
  MPI_Info_create(&info);
  // More engines than cores is what a user asks for with Pool(8) on a laptop: allow it.
  MPI_Info_set(info, "map_by", ":OVERSUBSCRIBE");
  Spawned s;
  std::vector<int> errcodes(static_cast<std::size_t>(n));
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  const int rc = MPI_Comm_spawn(exe.c_str(), argv.data(), n, info, 0, MPI_COMM_SELF, &s.inter,
                                errcodes.data());
  MPI_Info_free(&info);
  check(rc, "MPI_Comm_spawn");
  check(MPI_Intercomm_merge(s.inter, 0, &s.merged), "MPI_Intercomm_merge");
  return s;
}

MPI_Comm join_parent() {
  MPI_Comm parent = MPI_COMM_NULL;
  MPI_Comm_get_parent(&parent);
  if (parent == MPI_COMM_NULL) return MPI_COMM_NULL;
  MPI_Comm merged = MPI_COMM_NULL;
  check(MPI_Intercomm_merge(parent, 1, &merged), "MPI_Intercomm_merge");
  return merged;
}

void release(Spawned& s) {
  // Freeing the merged communicator and disconnecting the intercommunicator (not disconnecting
  // both) is what lets Open MPI end spawned jobs cleanly.
  if (s.merged != MPI_COMM_NULL) MPI_Comm_free(&s.merged);
  if (s.inter != MPI_COMM_NULL) MPI_Comm_disconnect(&s.inter);
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
  static const std::byte nothing[64] = {};
  check(MPI_Igather(nothing, each, MPI_BYTE, recv, each, MPI_BYTE, 0, comm, &r), "MPI_Igather");
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
// Nonblocking collectives match only nonblocking ones: the root posts I-versions, so engines do
// too, and wait by testing with backoff rather than spinning inside MPI.
void wait(MPI_Request r, const char* what) {
  Backoff backoff(std::chrono::microseconds(1000));
  int done = 0;
  while (true) {
    check(MPI_Test(&r, &done, MPI_STATUS_IGNORE), what);
    if (done) return;
    backoff.pause();
  }
}
}  // namespace

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
  check(MPI_Bcast(data, n, MPI_BYTE, 0, comm), "MPI_Bcast");
}

void gather(MPI_Comm comm, const void* data, int n, void* recv) {
  check(MPI_Gather(data, n, MPI_BYTE, recv, n, MPI_BYTE, 0, comm), "MPI_Gather");
}

void abort(int code, MPI_Comm comm) {
  MPI_Abort(comm, code == 0 ? 1 : code);
  std::_Exit(code == 0 ? 1 : code);
}

}  // namespace ranks::detail::transport
