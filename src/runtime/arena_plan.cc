#include "runtime/arena_plan.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace xbnn::runtime {

ArenaPlan PlanArena(const std::vector<TensorLifetime>& tensors, uint64_t alignment) {
  ArenaPlan plan;
  plan.offsets.assign(tensors.size(), 0);
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by earlier start, for a deterministic plan.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (tensors[a].bytes != tensors[b].bytes) return tensors[a].bytes > tensors[b].bytes;
    return tensors[a].first < tensors[b].first;
  });
  auto round_up = [&](uint64_t x) { return (x + alignment - 1) / alignment * alignment; };
  std::vector<size_t> placed;
  std::vector<std::pair<uint64_t, uint64_t>> busy;  // [begin, end) of overlapping placed tensors
  for (size_t idx : order) {
    const TensorLifetime& t = tensors[idx];
    const uint64_t size = round_up(std::max<uint64_t>(t.bytes, 1));
    busy.clear();
    for (size_t p : placed) {
      const TensorLifetime& o = tensors[p];
      if (o.first <= t.last && t.first <= o.last)
        busy.emplace_back(plan.offsets[p],
                          plan.offsets[p] + round_up(std::max<uint64_t>(o.bytes, 1)));
    }
    std::sort(busy.begin(), busy.end());
    uint64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + size <= begin) break;  // fits in the gap before this one
      offset = std::max(offset, end);
    }
    plan.offsets[idx] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + size);
    placed.push_back(idx);
  }
  return plan;
}

std::string ByteCount(uint64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%llu bytes (%.1f MiB)", static_cast<unsigned long long>(bytes),
                static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace xbnn::runtime
