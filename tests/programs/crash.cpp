// An engine that dies: in a task (segfault, abort) or killed from outside (SIGKILL, as the
// out-of-memory killer does). The job must end within seconds, non-zero, and say which engine.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <ranks/ranks.hpp>
#include <string>
#include <thread>

int segfault(int x) {
  std::raise(SIGSEGV);  // what a stray pointer does, without undefined behaviour
  return x;
}
int abort_now(int x) {
  std::abort();
  return x;
}
namespace {
// Not exported (unnamed namespace): named from the file's symbol table.
int segfault_here(int x) {
  std::raise(SIGSEGV);
  return x;
}
}  // namespace
int pid_of_engine(int) { return static_cast<int>(::getpid()); }
int sleep_long(int x) {
  std::this_thread::sleep_for(std::chrono::minutes(10));
  return x;
}
int square(int x) { return x * x; }

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  return ranks::run(argc, argv, [&]() -> int {
    ranks::Pool pool(2);
    if (mode == "segfault") return pool.map(segfault, std::vector<int>{1, 2, 3, 4}, 1)[0];
    if (mode == "segfault-local") return pool.apply(segfault_here, 1);
    if (mode == "abort") return pool.apply(abort_now, 1);
    if (mode == "sigkill") {
      const int pid = pool.apply(pid_of_engine, 0);
      auto pending = pool.apply_async(sleep_long, 1);
      ::kill(pid, SIGKILL);
      // Other work goes on meanwhile; the result of the killed engine never comes.
      for (int i = 0; i < 100; ++i) pool.apply(square, i);
      return pending.get();
    }
    if (mode == "busy") return pool.apply(sleep_long, 1);
    std::cerr << "usage: crash segfault | abort | sigkill | busy\n";
    return 64;
  });
}
