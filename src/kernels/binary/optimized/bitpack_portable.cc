// Portable bitpacking: one compare per value, written so compilers can vectorize it.
#include <cstdint>

#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {
namespace {

void PackFloatPortable(const float* in, int64_t outer, int64_t channels, int32_t* out) {
  const int64_t full = channels / 32;
  const int tail = static_cast<int>(channels % 32);
  for (int64_t r = 0; r < outer; ++r) {
    for (int64_t w = 0; w < full; ++w) {
      uint32_t word = 0;
      for (int b = 0; b < 32; ++b) word |= uint32_t{in[b] < 0.0f} << b;
      *out++ = static_cast<int32_t>(word);
      in += 32;
    }
    if (tail != 0) {
      uint32_t word = 0;
      for (int b = 0; b < tail; ++b) word |= uint32_t{in[b] < 0.0f} << b;
      *out++ = static_cast<int32_t>(word);
      in += tail;
    }
  }
}

void PackInt8Portable(const int8_t* in, int64_t outer, int64_t channels, int zero_point,
                      int32_t* out) {
  const int64_t full = channels / 32;
  const int tail = static_cast<int>(channels % 32);
  for (int64_t r = 0; r < outer; ++r) {
    for (int64_t w = 0; w < full; ++w) {
      uint32_t word = 0;
      for (int b = 0; b < 32; ++b) word |= uint32_t{in[b] < zero_point} << b;
      *out++ = static_cast<int32_t>(word);
      in += 32;
    }
    if (tail != 0) {
      uint32_t word = 0;
      for (int b = 0; b < tail; ++b) word |= uint32_t{in[b] < zero_point} << b;
      *out++ = static_cast<int32_t>(word);
      in += tail;
    }
  }
}

constexpr PackVariant kVariant = {&PackFloatPortable, &PackInt8Portable};

}  // namespace

const PackVariant* PackVariantPortable() { return &kVariant; }

}  // namespace xbnn::kernels::optimized
