// The xor+popcount ceiling loops of bench/ceiling.h count what they claim: a loop that drops or
// double-counts a block would put every roofline ratio off by as much.
#include "ceiling.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using xbnn::bench::kCeilingWords;

uint64_t Popcount32Xor(const std::vector<int32_t>& a, uint32_t k) {
  uint64_t sum = 0;
  for (int32_t w : a)
    sum += static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(w) ^ k));
  return sum;
}

// What one pass of the planes form counts: each byte xor k's byte, looked up by vpshufb (0 where
// the byte's top bit is set, else the popcount of its low nibble); the pass runs twice.
uint64_t PlanesPass(const std::vector<int32_t>& a, uint32_t k) {
  uint64_t sum = 0;
  for (int32_t w : a) {
    const uint32_t x = static_cast<uint32_t>(w) ^ k;
    for (int b = 0; b < 4; ++b) {
      const uint32_t byte = (x >> (8 * b)) & 0xFF;
      if ((byte & 0x80) == 0) sum += static_cast<uint64_t>(__builtin_popcount(byte & 0x0F));
    }
  }
  return 2 * sum;
}

uint64_t Expected(const std::string& name, const std::vector<int32_t>& a) {
  if (name == "scalar_swar_or_libgcc" || name == "scalar_popcnt64") {
    uint64_t sum = 0;
    for (int i = 0; i < kCeilingWords; i += 2) {
      const uint64_t w = static_cast<uint32_t>(a[static_cast<size_t>(i)]) |
                         uint64_t{static_cast<uint32_t>(a[static_cast<size_t>(i) + 1])} << 32;
      sum += static_cast<uint64_t>(__builtin_popcountll(w ^ 0x9E3779B97F4A7C15ull));
    }
    return sum;
  }
  if (name == "avx2_pshufb" || name == "avx512_vpopcntd") return Popcount32Xor(a, 0x5A3C96E1u);
  if (name == "avx2_pshufb_planes") return PlanesPass(a, 0x0A0C0601u);
  ADD_FAILURE() << "no expected count for ceiling form " << name;
  return 0;
}

TEST(Ceiling, EveryFormCountsItsWholePass) {
  std::mt19937 rng(7);
  alignas(64) static int32_t data[kCeilingWords];
  for (int fill = 0; fill < 3; ++fill) {
    std::vector<int32_t> a(kCeilingWords);
    for (int32_t& w : a) {
      // Random words, then every bit set and every bit clear (the byte counters' extremes).
      w = fill == 0 ? static_cast<int32_t>(rng()) : fill == 1 ? -1 : 0;
    }
    std::copy(a.begin(), a.end(), data);
    for (const xbnn::bench::CeilingVariant& v : xbnn::bench::CeilingVariants()) {
      EXPECT_EQ(v.fn(data, 3), 3 * Expected(v.name, a)) << v.name << ", fill " << fill;
    }
  }
}

}  // namespace
