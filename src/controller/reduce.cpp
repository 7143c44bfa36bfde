// Reductions among a view's engines (detail/reduce.hpp): a communicator of exactly those
// engines, made by them alone (MPI_Comm_create_group over their link), an agreement that each
// holds the value, then one MPI_Reduce or MPI_Allreduce (transport/reduction.hpp).

#include "ranks/detail/reduce.hpp"

#include <string>
#include <utility>
#include <vector>

#include "controller/controller.hpp"
#include "engine/engine.hpp"
#include "ranks/error.hpp"
#include "ranks/run.hpp"
#include "transport/reduction.hpp"
#include "transport/transport.hpp"

namespace ranks::detail {

namespace {

// What one engine's entry {engine, problem, length} of the agreement says is wrong, against
// the first engine's.
std::string reduce_problem(const std::string& name, const std::int64_t* first,
                           const std::int64_t* e) {
  const std::string what = "reduce of '" + name + "': ";
  if (e[1] == 1)
    return what + "engine " + std::to_string(e[0]) + " has no value named '" + name +
           "'; push it to every engine of the view first";
  if (e[1] == 2)
    return what + "engine " + std::to_string(e[0]) + " holds '" + name +
           "' as another type than the reduction's (pull it with that type to see which)";
  return what + "the vectors differ in length (engine " + std::to_string(first[0]) + " has " +
         std::to_string(first[2]) + " elements, engine " + std::to_string(e[0]) + " has " +
         std::to_string(e[2]) + "); a reduction combines them element by element";
}

}  // namespace

void agree_on_reduce(const std::vector<int>& ranks, const std::string& name, int problem,
                     std::int64_t length) {
  MPI_Comm comm = engines_comm(ranks);
  const int n = transport::size(comm);
  const std::int64_t mine[3] = {ranks::engine_id(), problem, length};
  std::vector<std::int64_t> all(3 * static_cast<std::size_t>(n));
  transport::allgather(comm, mine, 3, all.data());
  const auto entry = [&](int i) { return &all[3 * static_cast<std::size_t>(i)]; };
  // Missing values and wrong types first, on every engine alike, then the lengths.
  for (int i = 0; i < n; ++i)
    if (entry(i)[1] != 0) throw Error(reduce_problem(name, entry(0), entry(i)));
  for (int i = 1; i < n; ++i)
    if (entry(i)[2] != entry(0)[2]) throw Error(reduce_problem(name, entry(0), entry(i)));
}

int reduce_on_engines(const ReduceSpec& s) {
  MPI_Comm comm = engines_comm(*s.ranks);
  transport::reduce(comm, s);
  return transport::rank(comm);
}

std::vector<int> common_link_ranks(const Group& g) {
  return the_controller("DirectView").common_link_ranks(g);
}

std::vector<int> Controller::common_link_ranks(const Group& g) {
  auto lk = settled(g);
  std::vector<int> ranks;
  int link = -1;
  for (int e : g.engines) {
    const Engine& m = roster_.engine(e);
    if (!m.alive || (link >= 0 && m.link != link)) return {};
    link = m.link;
    ranks.push_back(m.rank);
  }
  return ranks;
}

}  // namespace ranks::detail
