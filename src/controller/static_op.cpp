#include "controller/static_op.hpp"

#include <limits>

#include "transport/transport.hpp"

namespace ranks::detail {

namespace {
constexpr auto kIntMax = static_cast<std::ptrdiff_t>(std::numeric_limits<int>::max());
}  // namespace

// One job in flight. Per-rank vectors have an entry for the controller (rank 0) first.
struct StaticQueue::Op {
  std::shared_ptr<StaticJob> job;
  std::shared_ptr<Group> group;
  std::chrono::system_clock::time_point submitted;
  int stage = 0;  // 0 waiting, 1 items and outcomes posted, 2 results posted
  const std::byte* base = nullptr;
  std::vector<int> counts, displs;  // the items of each rank, from base
  std::vector<Outcome> outcomes;
  std::vector<MPI_Request> requests;
  Bytes results;
  std::vector<int> rcounts, rdispls;
};

bool fits_collective(const StaticJob& job, const std::vector<int>& ranks, const Link& link) {
  if (link.comm == MPI_COMM_NULL) return false;  // relayed through a hub: no communicator
  if (static_cast<int>(ranks.size()) != link.count) return false;
  for (std::size_t i = 0; i < ranks.size(); ++i)
    if (ranks[i] != static_cast<int>(i) + 1) return false;
  const std::byte* base = nullptr;
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    auto s = job.items(i);
    if (s.empty()) continue;
    if (!base) base = s.data();
    const auto off = s.data() - base;
    if (off < 0 || off + static_cast<std::ptrdiff_t>(s.size()) >= kIntMax) return false;
  }
  return true;
}

Message slot_message(const StaticJob& job, std::size_t slot, bool collective) {
  const auto items = job.items(slot);
  Message msg;
  Writer w(msg.bytes);
  if (collective) {
    write_body_message(w, job.body(), job.shared() ? Kind::kStaticBcast : Kind::kStaticMap,
                       job.count(slot), items.size());
  } else {
    write_body_message(w, job.body(), Kind::kTask, job.count(slot));
    w.raw(items.data(), items.size());
  }
  return msg;
}

StaticQueue::StaticQueue(const Link& link)
    : comm_(link.comm), ranks_(static_cast<std::size_t>(link.count) + 1) {}

StaticQueue::~StaticQueue() = default;

void StaticQueue::push(std::shared_ptr<StaticJob> job, std::shared_ptr<Group> group) {
  auto op = std::make_unique<Op>();
  op->job = std::move(job);
  op->group = std::move(group);
  op->submitted = std::chrono::system_clock::now();
  op->counts.assign(ranks_, 0);
  op->displs.assign(ranks_, 0);
  for (std::size_t i = 0; i + 1 < ranks_; ++i) {
    auto s = op->job->items(i);
    if (s.empty()) continue;
    if (!op->base) op->base = s.data();
    op->counts[i + 1] = static_cast<int>(s.size());
    op->displs[i + 1] = static_cast<int>(s.data() - op->base);
  }
  ops_.push_back(std::move(op));
  if (ops_.size() == 1) start();
}

void StaticQueue::start() {
  Op& op = *ops_.front();
  op.outcomes.assign(ranks_, Outcome{});
  op.requests.clear();
  if (!op.job->shared()) {
    op.requests.push_back(transport::iscatterv(comm_, op.base, op.counts, op.displs));
  } else if (op.counts[1] > 0) {  // an empty payload is not broadcast at all
    op.requests.push_back(transport::ibcast(comm_, op.base, op.counts[1]));
  }
  op.requests.push_back(transport::igather(comm_, op.outcomes.data(), sizeof(Outcome)));
  op.stage = 1;
}

void StaticQueue::abandon(const std::function<void(StaticJob& job, Group& group)>& fail) {
  auto ops = std::move(ops_);
  ops_.clear();
  for (auto& op : ops) fail(*op->job, *op->group);  // their requests are left to MPI
}

bool StaticQueue::progress(const Deliver& deliver) {
  if (ops_.empty()) return false;
  Op& op = *ops_.front();
  if (!transport::test_all(op.requests)) return false;
  if (op.stage == 1) {
    // The outcomes say how many result bytes each engine sends: gather them.
    op.rcounts.assign(ranks_, 0);
    op.rdispls.assign(ranks_, 0);
    std::size_t total = 0;
    for (std::size_t i = 1; i < ranks_; ++i) {
      op.rcounts[i] = static_cast<int>(op.outcomes[i].result_bytes);
      op.rdispls[i] = static_cast<int>(total);
      total += op.outcomes[i].result_bytes;
    }
    op.results.resize(total);
    op.requests = {transport::igatherv(comm_, op.results.data(), op.rcounts, op.rdispls)};
    op.stage = 2;
    return true;
  }
  // The job leaves the queue before its replies run, so that a job they submit queues behind.
  std::unique_ptr<Op> done = std::move(ops_.front());
  ops_.pop_front();
  if (!ops_.empty()) start();
  for (std::size_t i = 1; i < ranks_; ++i) {
    Reply r{done->outcomes[i], done->submitted,
            Reader(done->results.data() + done->rdispls[i],
                   static_cast<std::size_t>(done->rcounts[i]))};
    deliver(*done->job, *done->group, i - 1, r);
  }
  return true;
}

}  // namespace ranks::detail
