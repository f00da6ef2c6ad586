// The activation arena planner: tensors alive at the same step never share bytes, the arena is
// never below the liveness bound, and on the shapes networks have it stays close to it.
#include "cudago/nn/arena.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace {

using cudago::nn::ArenaItem;
using cudago::nn::ArenaPlan;
using cudago::nn::plan_arena;

void check_valid(const std::vector<ArenaItem>& items, const ArenaPlan& plan, int64_t align) {
  ASSERT_EQ(plan.offsets.size(), items.size());
  EXPECT_GE(plan.size, plan.lower_bound);
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % align, 0);
    EXPECT_LE(plan.offsets[i] + items[i].bytes, plan.size);
    for (size_t j = 0; j < i; ++j) {
      bool live_together = items[i].first <= items[j].last && items[j].first <= items[i].last;
      if (!live_together || items[i].bytes == 0 || items[j].bytes == 0) continue;
      bool apart = plan.offsets[i] + items[i].bytes <= plan.offsets[j] ||
                   plan.offsets[j] + items[j].bytes <= plan.offsets[i];
      EXPECT_TRUE(apart) << "items " << i << " and " << j << " overlap";
    }
  }
}

TEST(Arena, RandomLifetimesNeverOverlap) {
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 200; ++round) {
    int n = 1 + static_cast<int>(rng() % 60), steps = 1 + static_cast<int>(rng() % 40);
    std::vector<ArenaItem> items(static_cast<size_t>(n));
    for (auto& it : items) {
      it.bytes = static_cast<int64_t>(rng() % 5000);
      it.first = static_cast<int>(rng() % static_cast<unsigned>(steps));
      it.last = it.first + static_cast<int>(rng() % 6);
    }
    ArenaPlan plan = plan_arena(items, 256);
    check_valid(items, plan, 256);
  }
}

// A chain (each tensor read by the next step only) needs two live tensors at a time: the arena is
// the bound exactly.
TEST(Arena, ChainIsAtTheBound) {
  std::vector<ArenaItem> items;
  for (int i = 0; i < 50; ++i) items.push_back({1000 + 37 * (i % 7) * 256, i, i + 1});
  ArenaPlan plan = plan_arena(items, 256);
  check_valid(items, plan, 256);
  EXPECT_LE(plan.size, plan.lower_bound * 12 / 10);
}

// ResNet-like: a block's input lives across its three convolutions (the residual).
TEST(Arena, ResidualBlocksStayNearTheBound) {
  std::vector<ArenaItem> items;
  int step = 0;
  int64_t size = 1 << 20;
  for (int block = 0; block < 16; ++block) {
    if (block % 4 == 0 && block) size /= 2;
    int in_step = step;
    items.push_back({size, in_step, in_step + 4});  // block input, read by the residual add
    items.push_back({size / 4, step + 1, step + 2});
    items.push_back({size / 4, step + 2, step + 3});
    items.push_back({size, step + 3, step + 4});
    step += 4;
  }
  ArenaPlan plan = plan_arena(items, 256);
  check_valid(items, plan, 256);
  EXPECT_LE(static_cast<double>(plan.size), 1.2 * static_cast<double>(plan.lower_bound));
}

TEST(Arena, Empty) {
  ArenaPlan plan = plan_arena({}, 256);
  EXPECT_EQ(plan.size, 0);
  EXPECT_EQ(plan.lower_bound, 0);
}

}  // namespace
