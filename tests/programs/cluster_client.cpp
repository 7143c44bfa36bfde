// A program that attaches to a started cluster (it is built with ranks_add_executable): each
// mode does one thing the cluster tests check.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <ranks/ranks.hpp>
#include <string>
#include <thread>

namespace {

int square(int x) { return x * x; }
int pid_of(int) { return static_cast<int>(::getpid()); }
int id_inside(int) { return ranks::engine_id(); }
// A queue handle read from the engine's namespace (where a program before this one left it).
std::string put_through(ranks::Queue<int> q) {
  try {
    q.put(1);
    (void)q.get();
    return "put went through";
  } catch (const ranks::Error& e) {
    return e.what();
  }
}
std::string lock_through(ranks::Lock l) {
  try {
    std::scoped_lock g(l);
    return "lock went through";
  } catch (const ranks::Error& e) {
    return e.what();
  }
}
int nap(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const std::string arg = argc > 2 ? argv[2] : "";
  return ranks::run(argc, argv, [&]() -> int {
    ranks::Client rc;
    std::cout << "cluster=" << rc.cluster().value_or("none") << " engines=" << rc.ids().size()
              << std::endl;
    if (mode == "push") {  // push NAME=VALUE to every engine
      rc.direct_view().push(arg, std::stoi(argv[3])).get();
      return 0;
    }
    if (mode == "pull") {  // the value of NAME on every engine
      for (int v : rc.direct_view().pull<int>(arg).get()) std::cout << arg << "=" << v << std::endl;
      return 0;
    }
    if (mode == "who") {  // each engine: its id (as the client and the engine say), pid, NAME
      std::cout << "ids=";
      for (int id : rc.ids()) std::cout << (id == rc.ids().front() ? "" : ",") << id;
      std::cout << std::endl;
      for (int id : rc.ids()) {
        std::cout << "engine=" << id << " inside=" << rc[id].apply(id_inside, 0).get()
                  << " pid=" << rc[id].apply(pid_of, 0).get() << " " << arg << "=";
        try {
          std::cout << rc[id].pull<int>(arg).get() << std::endl;
        } catch (const ranks::Error& e) {
          std::cout << "error: " << e.what() << std::endl;
        }
      }
      return 0;
    }
    if (mode == "engine") {  // a call on engine arg, or why it cannot be made
      try {
        const int pid = rc[std::stoi(arg)].apply(pid_of, 0).get();
        std::cout << "pid=" << pid << std::endl;
      } catch (const ranks::Error& e) {
        std::cout << "error: " << e.what() << std::endl;
      }
      return 0;
    }
    if (mode == "queue-push") {  // a queue of this program's, its handle pushed as NAME
      ranks::Queue<int> q;
      rc.direct_view().push(arg, q).get();
      std::cout << "pushed" << std::endl;
      return 0;
    }
    if (mode == "queue-use") {  // the handle under NAME, used here and in a task
      const auto kept = rc[rc.ids().front()].pull<ranks::Queue<int>>(arg).get();
      std::cout << "here: " << put_through(kept) << std::endl;
      std::cout << "task: " << rc[rc.ids().front()].apply(put_through, ranks::Reference(arg)).get()
                << std::endl;
      return 0;
    }
    if (mode == "lock-push") {  // a lock of this program's, its handle pushed as NAME
      ranks::Lock l;
      rc.direct_view().push(arg, l).get();
      std::cout << "pushed" << std::endl;
      return 0;
    }
    if (mode == "lock-use") {  // the handle under NAME, used here and in a task
      const auto kept = rc[rc.ids().front()].pull<ranks::Lock>(arg).get();
      std::cout << "here: " << lock_through(kept) << std::endl;
      std::cout << "task: " << rc[rc.ids().front()].apply(lock_through, ranks::Reference(arg)).get()
                << std::endl;
      return 0;
    }
    if (mode == "map") {
      ranks::Pool pool;
      long sum = 0;
      for (int v : pool.map(square, std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) sum += v;
      std::cout << "sum=" << sum << std::endl;
      return 0;
    }
    if (mode == "pool") {  // a pool of arg engines: every engine's pid, then a map over it
      ranks::Pool pool(std::stoi(arg));
      std::cout << "pool=" << pool.size() << std::endl;
      ranks::Client now;  // every engine, those started for the pool too
      for (int pid : now.direct_view().apply(pid_of, 0).get())
        std::cout << "pid=" << pid << std::endl;
      long sum = 0;
      for (int v : pool.map(square, std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 1)) sum += v;
      std::cout << "sum=" << sum << std::endl;
      return 0;
    }
    if (mode == "add") {  // arg more engines, added to the client's
      const std::vector<int> added = rc.add_engines(std::stoi(arg));
      std::cout << "added=" << added.size() << " engines=" << rc.ids().size() << std::endl;
      for (int pid : rc.direct_view().apply(pid_of, 0).get())
        std::cout << "pid=" << pid << std::endl;
      return 0;
    }
    if (mode == "hold") {  // attach, say so, and keep the cluster busy for arg ms
      std::cout << "holding" << std::endl;
      auto r = rc.load_balanced_view().apply(nap, std::stoi(arg));
      r.get();
      std::cout << "held" << std::endl;
      return 0;
    }
    if (mode == "kill-engine") {  // SIGKILL engine 0 while work waits on it, then wait
      const int pid = rc[0].apply(pid_of, 0).get();
      auto r = rc[0].apply(nap, 60000);
      ::kill(pid, SIGKILL);
      try {
        r.get();
        std::cout << "no error" << std::endl;
        return 3;
      } catch (const ranks::Error& e) {
        std::cout << "error: " << e.what() << std::endl;
        return 0;
      }
    }
    std::cerr << "usage: cluster_client push NAME VALUE | pull NAME | who NAME | engine ID | map | "
                 "pool N | hold MS | kill-engine"
              << std::endl;
    return 64;
  });
}
