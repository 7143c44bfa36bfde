// Loading a program's code on an engine of a started cluster: by path, checked by build id,
// with a message that says what to do when it cannot be. No MPI.
#include "registry/code.hpp"

#include <gtest/gtest.h>

#include <string>

#include "registry/modules.hpp"
#include "registry/registry_table.hpp"
#include "throws.hpp"

namespace {

using namespace ranks::detail;

// The path and build id of the loaded module whose path ends in name.
std::pair<std::string, std::string> loaded(const std::string& name) {
  for (const auto& m : loaded_modules())
    if (m.path.size() >= name.size() &&
        m.path.compare(m.path.size() - name.size(), name.size(), name) == 0)
      return {m.path, hex(m.build_id)};
  return {};
}

}  // namespace

TEST(Code, the_build_id_on_disk_is_the_loaded_one) {
  const auto [path, build] = loaded("libranks.so.0.1");
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(build.size(), 40u);  // a SHA-1 build id
  EXPECT_EQ(file_build_id(path), build);
  EXPECT_EQ(file_build_id("/nonexistent/lib.so"), "");
  EXPECT_EQ(file_build_id("/etc/hostname"), "");  // not an ELF file
}

TEST(Code, a_path_the_host_cannot_see_is_refused_with_what_to_do) {
  const std::string problem = load_code("/nonexistent/libapp_code.so", "00ff", "/tmp");
  EXPECT_NE(problem.find("cannot read /nonexistent/libapp_code.so"), std::string::npos) << problem;
  EXPECT_NE(problem.find("the same path"), std::string::npos) << problem;
}

TEST(Code, another_build_at_the_path_is_refused) {
  const std::string problem = load_code(CODE_SO, "0123456789", "/tmp");
  EXPECT_NE(problem.find("has another build of " + std::string(CODE_SO)), std::string::npos)
      << problem;
}

TEST(Code, the_program_code_loads_and_its_task_types_make_the_table) {
  freeze_registry();
  const std::string build = file_build_id(CODE_SO);
  ASSERT_FALSE(build.empty());
  EXPECT_EQ(load_code(CODE_SO, build, "/tmp"), "");
  EXPECT_EQ(load_code(CODE_SO, build, "/tmp"), "") << "a second time: already loaded";
  ASSERT_TRUE(use_code_module(build));
  // The table is that module's task types: the first one has an invoker in it.
  EXPECT_NE(find_invoker(0), nullptr);
  EXPECT_NE(std::string(task_name(0)), "an unknown task");
  EXPECT_FALSE(use_code_module("0badbuild"));
}
