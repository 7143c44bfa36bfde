// Lab 6.1: a Process subclass, started and joined twice.
#include <iostream>
#include <ranks/ranks.hpp>

class Hello : public ranks::Process<Hello> {
 public:
  Hello() = default;
  explicit Hello(int id) : id_(id) {}
  void run() { std::cout << "Soy el proceso con el ID: " << id_ << std::endl; }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& id_;
  }

 private:
  int id_ = 0;
};

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    for (int i = 0; i < 2; ++i) {
      Hello p(i);
      p.start();
      p.join();
    }
  });
}
