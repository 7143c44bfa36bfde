// Reductions among a view's engines (detail/reduce.hpp): a communicator of exactly those
// engines, made by them alone (MPI_Comm_create_group over their link), an agreement that each
// holds the value, then one MPI_Reduce or MPI_Allreduce.

#include "ranks/detail/reduce.hpp"

#include <mpi.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "controller.hpp"
#include "engine.hpp"
#include "ranks/error.hpp"
#include "ranks/run.hpp"
#include "transport.hpp"

namespace ranks::detail {

namespace {

constexpr int kCommTag = transport::kTag + 9;  // MPI_Comm_create_group's, on the link

// The communicators of engine sets this engine has reduced over, for its link of now.
struct EngineComms {
  MPI_Comm link = MPI_COMM_NULL;
  std::map<std::vector<int>, MPI_Comm> of;
};
EngineComms g_comms;

MPI_Comm engines_comm(const std::vector<int>& ranks) {
  MPI_Comm link = engine_link();
  if (link == MPI_COMM_NULL) throw Error("a reduction runs on engines only");
  if (g_comms.link != link) {  // another program (a started cluster): the old ones are gone
    g_comms.of.clear();
    g_comms.link = link;
  }
  auto found = g_comms.of.find(ranks);
  if (found != g_comms.of.end()) return found->second;
  MPI_Group whole = MPI_GROUP_NULL, group = MPI_GROUP_NULL;
  MPI_Comm_group(link, &whole);
  MPI_Group_incl(whole, static_cast<int>(ranks.size()), ranks.data(), &group);
  MPI_Comm comm = MPI_COMM_NULL;
  const int rc = MPI_Comm_create_group(link, group, kCommTag, &comm);
  MPI_Group_free(&group);
  MPI_Group_free(&whole);
  transport::check(rc, "MPI_Comm_create_group");
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  g_comms.of.emplace(ranks, comm);
  return comm;
}

MPI_Datatype datatype_of(const ReduceSpec& s, MPI_Datatype* made) {
  switch (s.kind) {
    case ElemKind::kInt32:
      return MPI_INT32_T;
    case ElemKind::kInt64:
      return MPI_INT64_T;
    case ElemKind::kUInt32:
      return MPI_UINT32_T;
    case ElemKind::kUInt64:
      return MPI_UINT64_T;
    case ElemKind::kFloat:
      return MPI_FLOAT;
    case ElemKind::kDouble:
      return MPI_DOUBLE;
    case ElemKind::kBytes:
      break;
  }
  MPI_Type_contiguous(static_cast<int>(s.elem_size), MPI_BYTE, made);
  MPI_Type_commit(made);
  return *made;
}

// MPI's user operations carry no state: the one running on this thread is named here.
thread_local const ReduceSpec* t_running = nullptr;

void user_op(void* in, void* inout, int* len, MPI_Datatype*) {
  t_running->combine(in, inout, static_cast<std::size_t>(*len));
}

}  // namespace

void agree_on_reduce(const std::vector<int>& ranks, const std::string& name, int problem,
                     std::int64_t length) {
  MPI_Comm comm = engines_comm(ranks);
  const int n = transport::size(comm);
  const std::int64_t mine[3] = {ranks::engine_id(), problem, length};
  std::vector<std::int64_t> all(3 * static_cast<std::size_t>(n));
  transport::check(MPI_Allgather(mine, 3, MPI_INT64_T, all.data(), 3, MPI_INT64_T, comm),
                   "MPI_Allgather");
  for (int i = 0; i < n; ++i) {
    const std::int64_t* e = &all[3 * static_cast<std::size_t>(i)];
    if (e[1] == 1)
      throw Error("reduce of '" + name + "': engine " + std::to_string(e[0]) +
                  " has no value named '" + name + "'; push it to every engine of the view first");
    if (e[1] == 2)
      throw Error("reduce of '" + name + "': engine " + std::to_string(e[0]) + " holds '" + name +
                  "' as another type than the reduction's (pull it with that type to see which)");
  }
  for (int i = 1; i < n; ++i) {
    const std::int64_t* first = &all[0];
    const std::int64_t* e = &all[3 * static_cast<std::size_t>(i)];
    if (e[2] != first[2])
      throw Error("reduce of '" + name + "': the vectors differ in length (engine " +
                  std::to_string(first[0]) + " has " + std::to_string(first[2]) +
                  " elements, engine " + std::to_string(e[0]) + " has " + std::to_string(e[2]) +
                  "); a reduction combines them element by element");
  }
}

int reduce_on_engines(const ReduceSpec& s) {
  MPI_Comm comm = engines_comm(*s.ranks);
  MPI_Datatype made = MPI_DATATYPE_NULL;
  const MPI_Datatype type = datatype_of(s, &made);
  MPI_Op op = MPI_OP_NULL;
  bool own_op = false;
  switch (s.op) {
    case ReduceOp::kSum:
      op = MPI_SUM;
      break;
    case ReduceOp::kProd:
      op = MPI_PROD;
      break;
    case ReduceOp::kMin:
      op = MPI_MIN;
      break;
    case ReduceOp::kMax:
      op = MPI_MAX;
      break;
    case ReduceOp::kUser:
      MPI_Op_create(&user_op, 0, &op);  // not commutative: combined in rank order
      own_op = true;
      break;
  }
  t_running = &s;
  const int count = static_cast<int>(s.count);
  const int rc = s.all ? MPI_Allreduce(s.in, s.out, count, type, op, comm)
                       : MPI_Reduce(s.in, s.out, count, type, op, 0, comm);
  t_running = nullptr;
  if (own_op) MPI_Op_free(&op);
  if (made != MPI_DATATYPE_NULL) MPI_Type_free(&made);
  transport::check(rc, s.all ? "MPI_Allreduce" : "MPI_Reduce");
  return transport::rank(comm);
}

std::vector<int> common_link_ranks(const Group& g) {
  return the_controller("DirectView::reduce").common_link_ranks(g);
}

std::vector<int> Controller::common_link_ranks(const Group& g) {
  auto lk = lock();
  std::vector<int> ranks;
  int link = -1;
  for (int e : g.engines) {
    const Member& m = roster_.member(e);
    if (!m.alive) continue;
    if (link >= 0 && m.link != link) return {};
    link = m.link;
    ranks.push_back(m.rank);
  }
  return ranks;
}

}  // namespace ranks::detail
