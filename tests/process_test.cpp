#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <ranks/ranks.hpp>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

std::string marker(const std::string& name) {
  return "/tmp/ranks_process_test_" + std::to_string(::getpid()) + "_" + name;
}

// Writes a file from the engine, so the test can see that run() ran there.
class Writer : public ranks::Process<Writer> {
 public:
  Writer() = default;
  Writer(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {}
  void run() { std::ofstream(path_) << text_ << " from engine " << ranks::engine_id(); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& path_& text_;
  }

 private:
  std::string path_, text_;
};

class Sleeper : public ranks::Process<Sleeper> {
 public:
  void run() { std::this_thread::sleep_for(400ms); }
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};

class Thrower : public ranks::Process<Thrower> {
 public:
  void run() { throw std::runtime_error("run failed"); }
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};

void write_file(std::string path, int value) { std::ofstream(path) << value; }

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s;
}

}  // namespace

TEST(Process, run_executes_on_an_engine) {
  const auto path = marker("writer");
  std::remove(path.c_str());
  Writer w(path, "hello");
  EXPECT_FALSE(w.exitcode().has_value());
  w.start();
  w.join();
  EXPECT_EQ(w.exitcode(), 0);
  EXPECT_FALSE(w.is_alive());
  const auto text = slurp(path);
  EXPECT_EQ(text.rfind("hello from engine ", 0), 0u) << text;
  std::remove(path.c_str());
}

TEST(Process, is_alive_while_running) {
  Sleeper s;
  s.start();
  EXPECT_TRUE(s.is_alive());
  EXPECT_FALSE(s.exitcode().has_value());
  EXPECT_FALSE(s.join(10ms));
  s.join();
  EXPECT_FALSE(s.is_alive());
  EXPECT_EQ(s.exitcode(), 0);
}

TEST(Process, throwing_run_gives_exitcode_one) {
  Thrower t;
  t.start();
  t.join();
  EXPECT_EQ(t.exitcode(), 1);
  Sleeper after;  // the engine serves on
  after.start();
  after.join();
  EXPECT_EQ(after.exitcode(), 0);
}

TEST(Process, target_form) {
  const auto path = marker("target");
  ranks::Process p(write_file, path, 7);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(slurp(path), "7");
  std::remove(path.c_str());
}

TEST(Process, many_at_once) {
  std::vector<Sleeper> ps(6);
  for (auto& p : ps) p.start();
  for (auto& p : ps) p.join();
  for (auto& p : ps) EXPECT_EQ(p.exitcode(), 0);
}
