// Memory planning: one arena for all activations; tensors whose lifetimes do not overlap share
// memory. Greedy by size (largest first, each at the lowest offset that fits beside the tensors it
// overlaps in time), which lands near the lower bound for chain-like networks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace xbnn::runtime {

struct TensorLifetime {
  size_t bytes = 0;
  int first = 0;  // first step that uses it (step -1: before the first op, for inputs)
  int last = 0;   // last step that uses it (inclusive)
};

struct ArenaPlan {
  size_t total_bytes = 0;
  std::vector<size_t> offsets;  // one per lifetime, aligned to `alignment`
};

ArenaPlan PlanArena(const std::vector<TensorLifetime>& tensors, size_t alignment = 64);

}  // namespace xbnn::runtime
