// Activation memory planned ahead: every tensor of a run gets an offset in one arena, so that
// tensors whose lifetimes overlap never share bytes. Greedy by size with best fit (largest
// tensors first, each into the smallest gap left by the tensors it overlaps in time).
#pragma once

#include <cstdint>
#include <vector>

namespace cudago::nn {

struct ArenaItem {
  int64_t bytes = 0;
  int first = 0;  // the step that writes it
  int last = 0;   // the last step that reads it (≥ first)
};

struct ArenaPlan {
  std::vector<int64_t> offsets;  // per item, multiples of the alignment
  int64_t size = 0;              // the arena's bytes
  int64_t lower_bound = 0;       // the most bytes live at one step: no plan can be smaller
};

ArenaPlan plan_arena(const std::vector<ArenaItem>& items, int64_t align);

}  // namespace cudago::nn
