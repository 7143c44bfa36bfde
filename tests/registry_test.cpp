// How callables are named and found again, and what identifies a binary. No MPI.
#include "ranks/detail/registry.hpp"

#include <gtest/gtest.h>

#include <ranks/ranks.hpp>
#include <string>

#include "registry/registry_table.hpp"
#include "throws.hpp"

namespace {

using namespace ranks::detail;

int square(int x) { return x * x; }
int not_code = 42;

using SquareTask = ApplyTask<int (*)(int), int>;
using HalveTask = ApplyTask<double (*)(double), double>;

class Registry : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { freeze_registry(); }
};

}  // namespace

TEST_F(Registry, each_task_type_has_its_own_id_and_invoker) {
  const std::uint32_t a = invoker_id<SquareTask>();
  const std::uint32_t b = invoker_id<HalveTask>();
  EXPECT_NE(a, b);
  EXPECT_EQ(find_invoker(a), &SquareTask::invoke);
  EXPECT_EQ(find_invoker(b), &HalveTask::invoke);
  EXPECT_EQ(find_invoker(1u << 30), nullptr) << "an id no task has";
  EXPECT_NE(std::string(task_name(a)).find("ApplyTask<int (*)(int), int>"), std::string::npos)
      << task_name(a);
}

TEST_F(Registry, a_function_is_found_again_by_module_and_offset) {
  const FunctionRef ref = function_ref(reinterpret_cast<const void*>(&square));
  EXPECT_NE(ref.module, 0u);
  EXPECT_EQ(resolve_function(ref), reinterpret_cast<const void*>(&square));
  FunctionRef outside = ref;
  outside.offset += std::uint64_t{1} << 40;  // far past the module's code
  EXPECT_EQ(resolve_function(outside), nullptr);
  FunctionRef no_module = ref;
  no_module.module ^= 1;  // a build no loaded module is
  EXPECT_EQ(resolve_function(no_module), nullptr);
}

TEST_F(Registry, data_is_not_a_function) {
  EXPECT_THROW_MSG(function_ref(&not_code), ranks::Error, "not in the program");
}

TEST_F(Registry, a_binary_has_one_identity) {
  const Identity a = identity();
  const Identity b = identity();
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_NE(a.hash, 0u);
  EXPECT_EQ(std::string(a.exe), self_exe());
  EXPECT_GT(a.pid, 0);
}
