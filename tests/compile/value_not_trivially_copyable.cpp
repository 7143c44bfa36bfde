// Must not compile: a Value of a type whose bytes cannot be shared as they are.
#include <ranks/ranks.hpp>
#include <string>

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Value<std::string> name("engine");
    return static_cast<int>(name.load().size());
  });
}
