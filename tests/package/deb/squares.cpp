// A program built against the packaged ranks (../deb.sh builds it with find_package and with
// pkg-config): a Pool of two engines maps over numbers (raw bytes) and strings (Boost
// archives); the lines it prints are checked.
#include <unistd.h>

#include <iostream>
#include <ranks/ranks.hpp>
#include <string>
#include <vector>

int square(int x) { return x * x; }
std::string shout(std::string s) { return s + "!"; }
int pid_of(int) { return static_cast<int>(::getpid()); }

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Pool pool(2);
    std::cout << "squares:";
    for (int v : pool.map(square, std::vector<int>{0, 1, 2, 3, 4})) std::cout << ' ' << v;
    std::cout << "\nshouted:";
    for (const auto& s : pool.map(shout, std::vector<std::string>{"a", "bb"}))
      std::cout << ' ' << s;
    bool elsewhere = true;
    for (int pid : pool.map(pid_of, std::vector<int>(8))) elsewhere &= pid != ::getpid();
    std::cout << "\nengines: " << pool.size() << (elsewhere ? ", not the controller" : ", FAIL")
              << std::endl;
    return elsewhere ? 0 : 1;
  });
}
