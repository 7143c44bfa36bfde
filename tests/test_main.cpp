#include <gtest/gtest.h>

#include <ranks/ranks.hpp>

// The suite runs as the controller's body; every rank exits with its result.
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return ranks::run(argc, argv, [] { return RUN_ALL_TESTS(); });
}
