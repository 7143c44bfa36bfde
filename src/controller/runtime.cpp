// The header-only API's way into the controller of this run (include/ranks/detail/runtime.hpp).

#include "ranks/detail/runtime.hpp"

#include <string>

#include "controller/controller.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

void require_controller(const char* what) {
  if (controller()) return;
  if (on_engine())
    throw Error(std::string(what) +
                " was called inside a task on an engine; engines cannot start work of their "
                "own: return the data and call it from the controller");
  throw Error(std::string(what) +
              " was called outside ranks::run; wrap your program's body in "
              "ranks::run(argc, argv, body)");
}

std::shared_ptr<Group> make_group(int n, const char* who) {
  return the_controller(who).make_group(n, who);
}
std::shared_ptr<Group> group_of(const std::vector<int>& engines, const char* who) {
  return the_controller(who).group_of(engines, who);
}
std::shared_ptr<Group> default_group() { return the_controller("ranks::Process").default_group(); }
int group_size(const Group& g) { return static_cast<int>(group_engines(g).size()); }
std::vector<int> group_engines(const Group& g) { return the_controller("ranks").engines_of(g); }
std::vector<int> add_engines(int n, const char* who) {
  return the_controller(who).add_engines(n, who);
}
void set_group_options(Group& g, int maxtasks, bool keep_size) {
  if (maxtasks < 0)
    throw Error("PoolOptions::maxtasksperchild is " + std::to_string(maxtasks) +
                "; give 0 (never) or more");
  auto lk = the_controller("ranks::Pool").lock();
  g.maxtasks = maxtasks;
  g.replace = keep_size;
}
void set_group_init(Group& g, Bytes init) {
  auto lk = the_controller("ranks::Pool").lock();
  g.init = std::make_shared<Bytes>(std::move(init));
}
void submit(Group& g, std::shared_ptr<DynamicJob> job) {
  the_controller("submitting work").submit(g, std::move(job));
}
void submit_after(std::shared_ptr<Group> g, std::shared_ptr<DynamicJob> job,
                  std::vector<std::shared_ptr<StateBase>> after,
                  std::vector<std::shared_ptr<StateBase>> follow) {
  the_controller("submitting work")
      .submit_after(std::move(g), std::move(job), std::move(after), std::move(follow));
}
void submit_to(int engine, Message msg, std::shared_ptr<Job> job, std::uint64_t key) {
  the_controller("submitting work").submit_to(engine, std::move(msg), std::move(job), key);
}
void submit_static(Group& g, std::shared_ptr<StaticJob> job) {
  the_controller("submitting work").submit_static(g, std::move(job));
}
void drop_queued(Group& g, const std::exception_ptr& why) {
  the_controller("Pool::terminate").drop_queued(g, why);
}
std::size_t outstanding(const Group& g) { return the_controller("waiting").outstanding(g); }
std::optional<std::string> attached_cluster() {
  return the_controller("ranks::Client::cluster").cluster();
}

}  // namespace ranks::detail
