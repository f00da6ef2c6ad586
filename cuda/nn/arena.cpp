#include "cudago/nn/arena.hpp"

#include <algorithm>
#include <numeric>

namespace cudago::nn {

ArenaPlan plan_arena(const std::vector<ArenaItem>& items, int64_t align) {
  ArenaPlan plan;
  size_t n = items.size();
  plan.offsets.assign(n, 0);
  auto rounded = [align](int64_t b) { return (b + align - 1) / align * align; };

  int steps = 0;
  for (const ArenaItem& it : items) steps = std::max(steps, it.last + 1);
  std::vector<int64_t> live(static_cast<size_t>(steps), 0);
  for (const ArenaItem& it : items) {
    for (int s = it.first; s <= it.last; ++s) live[static_cast<size_t>(s)] += rounded(it.bytes);
  }
  for (int64_t v : live) plan.lower_bound = std::max(plan.lower_bound, v);

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return items[a].bytes > items[b].bytes; });
  std::vector<size_t> placed;
  for (size_t i : order) {
    const ArenaItem& it = items[i];
    int64_t need = rounded(it.bytes);
    // The placed items alive at the same time, by offset.
    std::vector<size_t> overlap;
    for (size_t j : placed) {
      if (items[j].first <= it.last && it.first <= items[j].last) overlap.push_back(j);
    }
    std::sort(overlap.begin(), overlap.end(),
              [&](size_t a, size_t b) { return plan.offsets[a] < plan.offsets[b]; });
    int64_t best = -1, best_gap = INT64_MAX, cursor = 0;
    for (size_t j : overlap) {
      int64_t gap = plan.offsets[j] - cursor;
      if (gap >= need && gap < best_gap) {
        best = cursor;
        best_gap = gap;
      }
      cursor = std::max(cursor, plan.offsets[j] + rounded(items[j].bytes));
    }
    plan.offsets[i] = best >= 0 ? best : cursor;
    plan.size = std::max(plan.size, plan.offsets[i] + need);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace cudago::nn
