// Memory planning: one arena for all activations; tensors whose lifetimes do not overlap share
// memory. Greedy by size (largest first, each at the lowest offset that fits beside the tensors it
// overlaps in time), which lands near the lower bound for chain-like networks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xbnn::runtime {

// Sizes and offsets in 64 bits on every platform: a 32-bit size_t could wrap on a hostile model's
// sum; the interpreter checks the total against what it may allocate.
struct TensorLifetime {
  uint64_t bytes = 0;
  int first = 0;  // first step that uses it (step -1: before the first op, for inputs)
  int last = 0;   // last step that uses it (inclusive)
};

struct ArenaPlan {
  uint64_t total_bytes = 0;
  std::vector<uint64_t> offsets;  // one per lifetime, aligned to `alignment`
};

ArenaPlan PlanArena(const std::vector<TensorLifetime>& tensors, uint64_t alignment = 64);

// The largest single allocation: PTRDIFF_MAX (pointer differences within it must not overflow),
// 2 GiB on 32-bit platforms.
inline constexpr uint64_t kMaxAllocation = static_cast<uint64_t>(PTRDIFF_MAX);

// "N bytes (X MiB)", for messages.
std::string ByteCount(uint64_t bytes);

}  // namespace xbnn::runtime
