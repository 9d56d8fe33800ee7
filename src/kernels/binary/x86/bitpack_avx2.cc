// AVX2 bitpacking: vcmpltps + vmovmskps (float), vpcmpgtb + vpmovmskb (int8).
#include "kernels/binary/optimized/variants.h"

#if defined(__x86_64__)
#include <immintrin.h>

// AVX2 for this file only: the library runs on any x86-64 and isa_table.inc picks this variant
// at run time. (The intrinsics header comes first: its functions carry their own targets.)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,bmi2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi2")
#endif

namespace xbnn::kernels::optimized {
namespace {

inline uint32_t FloatWord(const float* in) {
  const __m256 zero = _mm256_setzero_ps();
  const uint32_t m0 = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(in), zero, _CMP_LT_OQ));
  const uint32_t m1 =
      _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(in + 8), zero, _CMP_LT_OQ));
  const uint32_t m2 =
      _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(in + 16), zero, _CMP_LT_OQ));
  const uint32_t m3 =
      _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(in + 24), zero, _CMP_LT_OQ));
  return m0 | (m1 << 8) | (m2 << 16) | (m3 << 24);
}

void PackFloatAvx2(const float* in, int64_t outer, int64_t channels, int32_t* out) {
  const int64_t full = channels / 32;
  const int tail = static_cast<int>(channels % 32);
  for (int64_t r = 0; r < outer; ++r) {
    int64_t w = 0;
    for (; w + 4 <= full; w += 4) {
      out[0] = static_cast<int32_t>(FloatWord(in));
      out[1] = static_cast<int32_t>(FloatWord(in + 32));
      out[2] = static_cast<int32_t>(FloatWord(in + 64));
      out[3] = static_cast<int32_t>(FloatWord(in + 96));
      in += 128;
      out += 4;
    }
    for (; w < full; ++w) {
      *out++ = static_cast<int32_t>(FloatWord(in));
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

void PackInt8Avx2(const int8_t* in, int64_t outer, int64_t channels, int zero_point,
                  int32_t* out) {
  const int64_t full = channels / 32;
  const int tail = static_cast<int>(channels % 32);
  const __m256i zp = _mm256_set1_epi8(static_cast<char>(zero_point));
  for (int64_t r = 0; r < outer; ++r) {
    for (int64_t w = 0; w < full; ++w) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
      *out++ = _mm256_movemask_epi8(_mm256_cmpgt_epi8(zp, x));
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

constexpr PackVariant kVariant = {&PackFloatAvx2, &PackInt8Avx2};

}  // namespace

}  // namespace xbnn::kernels::optimized

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace xbnn::kernels::optimized {
// Baseline code: the variant table calls it on any CPU.
const PackVariant* PackVariantAvx2() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __x86_64__
