#include <gtest/gtest.h>

#include <map>
#include <ranks/namespace.hpp>
#include <string>
#include <vector>

#include "throws.hpp"

TEST(Namespace, set_get_contains_erase_names) {
  ranks::Namespace ns;
  EXPECT_TRUE(ns.names().empty());
  ns.set("a", 1);
  ns.set("b", std::string("two"));
  ns.set("c", std::vector<double>{1.5, 2.5});
  ns.set("d", std::map<std::string, int>{{"x", 1}});
  EXPECT_EQ(ns.get<int>("a"), 1);
  EXPECT_EQ(ns.get<std::string>("b"), "two");
  EXPECT_EQ(ns.get<std::vector<double>>("c"), (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ((ns.get<std::map<std::string, int>>("d")), (std::map<std::string, int>{{"x", 1}}));
  EXPECT_TRUE(ns.contains("a"));
  EXPECT_FALSE(ns.contains("z"));
  EXPECT_EQ(ns.names(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(ns.type_name("a"), "int");
  EXPECT_TRUE(ns.erase("a"));
  EXPECT_FALSE(ns.erase("a"));
  EXPECT_FALSE(ns.contains("a"));
  ns.set("b", 3.0);  // a name may change type by a new set
  EXPECT_EQ(ns.get<double>("b"), 3.0);
  ns.clear();
  EXPECT_TRUE(ns.names().empty());
}

TEST(Namespace, values_are_moved_in_and_shared_out) {
  ranks::Namespace ns;
  std::vector<double> big(1000, 2.0);
  const double* data = big.data();
  ns.set("big", std::move(big));
  auto shared = ns.share<std::vector<double>>("big");
  EXPECT_EQ(shared->data(), data);  // moved in, not copied
  ns.erase("big");
  EXPECT_EQ(shared->size(), 1000u);  // a shared value outlives its name
  ns.set("s", "text");               // a C string is stored as a std::string
  EXPECT_EQ(ns.get<std::string>("s"), "text");
  EXPECT_THROW((void)ns.share<int>("s"), ranks::Error);
}

TEST(Namespace, reading_as_another_type_names_the_name_and_both_types) {
  ranks::Namespace ns;
  ns.set("a", 1);
  EXPECT_THROW_MSG((void)ns.get<double>("a"), ranks::Error, "'a'");
  EXPECT_THROW_MSG((void)ns.get<double>("a"), ranks::Error, "holds a int, not a double");
  EXPECT_EQ(ns.get<int>("a"), 1);  // intact
  EXPECT_EQ(ns.names(), std::vector<std::string>{"a"});
}

TEST(Namespace, a_name_never_set_is_an_error_naming_it) {
  ranks::Namespace ns;
  ns.set("here", 1);
  EXPECT_THROW_MSG((void)ns.get<int>("missing"), ranks::Error, "'missing'");
  EXPECT_THROW_MSG((void)ns.get<int>("missing"), ranks::Error, "'here'");
  EXPECT_THROW((void)ns.type_name("missing"), ranks::Error);
}
