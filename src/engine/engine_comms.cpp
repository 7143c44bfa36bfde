// Communicators among a set of engines (engine.hpp): made by those engines alone with
// MPI_Comm_create_group over their link to the controller, kept per set while that link lasts.
// Reductions use them, and ranks::engine_comm() hands one to a direct view's task.

#include <mpi.h>

#include <map>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "ranks/detail/view_tasks.hpp"
#include "ranks/engine_comm.hpp"
#include "ranks/error.hpp"
#include "transport/transport.hpp"

namespace ranks {

namespace detail {

namespace {

// The communicators of engine sets made on the link of now.
std::map<std::vector<int>, MPI_Comm> g_comms;

// The engines of the direct view whose task runs now (nullptr: no such task).
thread_local const std::vector<int>* t_view = nullptr;

}  // namespace

MPI_Comm engines_comm(const std::vector<int>& ranks) {
  MPI_Comm link = engine_link();
  if (link == MPI_COMM_NULL) throw Error("communicators among engines exist on engines only");
  auto found = g_comms.find(ranks);
  if (found != g_comms.end()) return found->second;
  MPI_Comm comm = transport::subset(link, ranks, transport::kEnginesTag);
  g_comms.emplace(ranks, comm);
  return comm;
}

void forget_engine_comms() {
  for (auto& [ranks, comm] : g_comms) transport::free_comm(comm);
  g_comms.clear();
}

ViewScope::ViewScope(const std::vector<int>& ranks) : outer_(t_view) { t_view = &ranks; }
ViewScope::~ViewScope() { t_view = outer_; }

}  // namespace detail

MPI_Comm engine_comm() {
  const std::vector<int>* view = detail::t_view;
  if (view == nullptr)
    throw Error(
        "ranks::engine_comm() is for tasks of DirectView::apply and execute, which run on every "
        "engine of the view; send the task through rc.direct_view() (or a view of the engines "
        "you want)");
  if (view->empty())
    throw Error(
        "ranks::engine_comm(): the view's engines share no MPI communicator (they came from "
        "different spawns); use a view of engines started together");
  return detail::engines_comm(*view);
}

}  // namespace ranks
