// Helpers of the reference-kernel tests. Deliberately independent of the code under test: the
// tests read and write packed bits with their own loops.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace xbnn::kernels::testing {

inline int Words(int channels) { return (channels + 31) / 32; }

// Random packed rows of `channels` bits each; unused bits are 0.
inline std::vector<int32_t> RandomPacked(std::mt19937_64& rng, int64_t rows, int channels) {
  const int words = Words(channels);
  std::vector<int32_t> out(rows * words);
  for (int64_t r = 0; r < rows; ++r) {
    for (int w = 0; w < words; ++w) {
      uint32_t word = static_cast<uint32_t>(rng());
      const int used = channels - 32 * w;
      if (used < 32) word &= (uint32_t{1} << used) - 1;
      out[r * words + w] = static_cast<int32_t>(word);
    }
  }
  return out;
}

// +1.0 for bit 0, -1.0 for bit 1: rows x channels.
inline std::vector<float> ToPlusMinusOne(const std::vector<int32_t>& packed, int64_t rows,
                                         int channels) {
  const int words = Words(channels);
  std::vector<float> out(rows * channels);
  for (int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < channels; ++c) {
      const uint32_t word = static_cast<uint32_t>(packed[r * words + c / 32]);
      out[r * channels + c] = ((word >> (c % 32)) & 1u) != 0 ? -1.0f : 1.0f;
    }
  }
  return out;
}

// Packs rows x channels values, bit 1 where `minus(value)`.
template <typename T, typename Pred>
std::vector<int32_t> PackWith(const std::vector<T>& values, int64_t rows, int channels,
                              Pred minus) {
  const int words = Words(channels);
  std::vector<int32_t> out(rows * words, 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < channels; ++c) {
      if (minus(values[r * channels + c])) {
        uint32_t word = static_cast<uint32_t>(out[r * words + c / 32]);
        word |= uint32_t{1} << (c % 32);
        out[r * words + c / 32] = static_cast<int32_t>(word);
      }
    }
  }
  return out;
}

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace xbnn::kernels::testing
