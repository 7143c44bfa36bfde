#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ranks/detail/runtime.hpp"
#include "ranks/error.hpp"
#include "ranks/views.hpp"

/// @file
/// ranks::Client, IPython parallel's Client: the views of the engines.

namespace ranks {

/// The connection to every engine, like IPython's `ipyparallel.Client`: hands out views. Engine
/// ids are 0..n-1. Where the job has no engines, spawns one per core (as Pool() does).
///
/// @code
/// ranks::Client rc;                                 // every engine (spawned if there are none)
/// std::vector<int> ids = rc.ids();                  // {0, 1, ..., engines-1}
/// ranks::DirectView dview = rc.direct_view("all");  // also rc.direct_view()
/// ranks::EngineView e0 = rc[0];                     // one engine
/// ranks::DirectView some = rc[std::vector<int>{0, 1}];
/// ranks::LoadBalancedView tview = rc.load_balanced_view();
/// rc.cluster();                                     // the profile, when attached to a cluster
/// @endcode
class Client {
 public:
  /// Every engine of the job (spawning one per core if there are none).
  Client() : all_(detail::make_group(-1, "ranks::Client")) {}

  /// The ids of the engines alive now: {0, 1, ..., n-1} until one is lost or added.
  [[nodiscard]] std::vector<int> ids() const { return detail::group_engines(*all_); }
  /// The started cluster (its profile's name) whose engines these are, when the program
  /// attached to one (ranks cluster start); empty under mpirun, srun or spawning.
  [[nodiscard]] std::optional<std::string> cluster() const { return detail::attached_cluster(); }
  /// Starts n more engines (MPI_Comm_spawn) and returns their ids: to replace lost ones, say.
  /// They join every view of all engines. Throws ranks::Error where engines cannot be spawned (a
  /// started cluster, RANKS_SPAWN=0), saying why.
  ///
  /// @code
  /// std::vector<int> added = rc.add_engines(2);
  /// @endcode
  std::vector<int> add_engines(int n) {
    return detail::add_engines(n, "ranks::Client::add_engines");
  }
  /// One engine. Throws ranks::Error if it does not exist; calls on an engine that has died
  /// fail with ranks::EngineLost.
  [[nodiscard]] EngineView operator[](int id) const {
    return EngineView(detail::group_of({id}, "ranks::Client[]"));
  }
  /// These engines, in this order. Throws ranks::Error if one does not exist, if one is named
  /// twice, or if the list is empty.
  [[nodiscard]] DirectView operator[](const std::vector<int>& ids) const {
    return DirectView(subset(ids, "ranks::Client[]"));
  }
  /// Every engine alive at each call.
  [[nodiscard]] DirectView direct_view() const { return DirectView(all_); }
  /// direct_view("all"): every engine. Throws ranks::Error for any other word.
  [[nodiscard]] DirectView direct_view(std::string_view targets) const {
    if (targets != "all")
      throw Error("Client::direct_view(\"" + std::string(targets) +
                  "\"): the only word is \"all\"; for some engines use rc[std::vector<int>{...}]");
    return direct_view();
  }
  /// The load-balanced view of every engine (those alive at each dispatch).
  [[nodiscard]] LoadBalancedView load_balanced_view() const { return LoadBalancedView(all_); }
  /// The load-balanced view of these engines. Throws ranks::Error as operator[] does.
  [[nodiscard]] LoadBalancedView load_balanced_view(const std::vector<int>& ids) const {
    return LoadBalancedView(subset(ids, "ranks::Client::load_balanced_view"));
  }

 private:
  std::shared_ptr<detail::Group> subset(const std::vector<int>& ids, const char* who) const {
    if (ids.empty()) throw Error(std::string(who) + ": no engine ids given");
    for (std::size_t i = 0; i < ids.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (ids[i] == ids[j])
          throw Error(std::string(who) + ": engine " + std::to_string(ids[i]) +
                      " is named twice; name each engine once");
    return detail::group_of(ids, who);
  }

  std::shared_ptr<detail::Group> all_;
};

}  // namespace ranks
