// A Manager's dict and list, changed by the program and by tasks on every engine.

#include <gtest/gtest.h>

#include <algorithm>
#include <ranks/ranks.hpp>
#include <string>
#include <utility>
#include <vector>

#include "launch.hpp"

namespace {

TEST(Manager, a_dict_keeps_the_order_keys_were_first_set) {
  ranks::Manager manager;
  auto d = manager.dict<std::string, int>();
  d.set("b", 1);
  d.set("a", 2);
  d.set("b", 3);  // keeps its place
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.get("b"), 3);
  EXPECT_EQ(d.get("zz", -1), -1);
  EXPECT_TRUE(d.contains("a"));
  EXPECT_EQ(d.items(), (std::vector<std::pair<std::string, int>>{{"b", 3}, {"a", 2}}));
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"b", "a"}));
  EXPECT_TRUE(d.erase("b"));
  EXPECT_FALSE(d.erase("b"));
  EXPECT_EQ(d.values(), (std::vector<int>{2}));
  d.clear();
  EXPECT_EQ(d.size(), 0u);
}

TEST(Manager, a_missing_key_is_named) {
  ranks::Manager manager;
  auto d = manager.dict<std::string, int>();
  try {
    (void)d.get("absent");
    FAIL() << "get found it";
  } catch (const ranks::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no key 'absent'"), std::string::npos) << e.what();
  }
  auto by_number = manager.dict<int, int>();
  EXPECT_THROW((void)by_number.get(12), ranks::Error);
}

void count_words(ranks::DictProxy<std::string, int> d, ranks::ListProxy<int> seen, int id) {
  for (int i = 0; i < 50; ++i) {
    const std::string key = "engine task " + std::to_string(id);
    d.set(key, d.get(key, 0) + 1);  // each task has its own key: no lost update
  }
  seen.append(id);
}

TEST(Manager, tasks_on_every_engine_change_the_same_containers) {
  ranks::Manager manager;
  auto d = manager.dict<std::string, int>();
  auto seen = manager.list<int>();
  ranks::Pool pool;
  std::vector<ranks::AsyncResult<void>> done;
  for (int t = 0; t < 6; ++t) done.push_back(pool.apply_async(count_words, d, seen, t));
  for (auto& r : done) r.get();
  EXPECT_EQ(d.size(), 6u);
  for (int t = 0; t < 6; ++t) EXPECT_EQ(d.get("engine task " + std::to_string(t)), 50);
  std::vector<int> ids = seen.items();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(Manager, a_list_counts_positions_from_either_end) {
  ranks::Manager manager;
  auto l = manager.list<int>({0, 1, 2, 3, 4});
  EXPECT_EQ(l.size(), 5u);
  EXPECT_EQ(l.at(0), 0);
  EXPECT_EQ(l.at(-1), 4);
  l.set(-2, 30);
  EXPECT_EQ(l.at(3), 30);
  l.reverse();
  EXPECT_EQ(l.items(), (std::vector<int>{4, 30, 2, 1, 0}));
  EXPECT_EQ(l.pop(), 0);
  EXPECT_EQ(l.pop(0), 4);
  l.extend({7, 8});
  EXPECT_EQ(l.items(), (std::vector<int>{30, 2, 1, 7, 8}));
  try {
    (void)l.at(5);
    FAIL() << "at(5) of 5 items went through";
  } catch (const ranks::Error& e) {
    EXPECT_NE(std::string(e.what()).find("index 5 is outside the list of 5 items"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(l.set(-6, 1), ranks::Error);
  EXPECT_EQ(l.items(), (std::vector<int>{30, 2, 1, 7, 8}));  // unchanged
  l.clear();
  EXPECT_THROW((void)l.pop(), ranks::Error);
}

int bump(ranks::ListProxy<int> l, int item) {
  l.append(ranks::engine_id());
  return item;
}

TEST(Manager, each_call_is_atomic) {
  ranks::Manager manager;
  auto l = manager.list<int>();
  ranks::Pool pool;
  std::vector<std::tuple<ranks::ListProxy<int>, int>> items;
  for (int i = 0; i < 300; ++i) items.emplace_back(l, i);
  pool.starmap(bump, items, 1);
  EXPECT_EQ(l.size(), 300u);  // no append lost
}

}  // namespace
