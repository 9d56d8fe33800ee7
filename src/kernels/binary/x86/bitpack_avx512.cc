// AVX-512 bitpacking: vcmpltps / vpcmpb straight into mask registers, masked loads for the tail.
#include "kernels/binary/optimized/variants.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on _mm512_undefined_* (GCC PR105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

// AVX-512BW for this file only: the library runs on any x86-64 and isa_table.inc picks this variant
// at run time. (The intrinsics header comes first: its functions carry their own targets.)
#if defined(__clang__)
#pragma clang attribute push(                                                    \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2"))), \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2")
#endif

namespace xbnn::kernels::optimized {
namespace {

// Masks as integers in general registers: GCC 12 may spill a mask with kmov of its own width and
// reload it wider (see x86/avx512_epilogue.h); the empty asm pins the conversion.
inline uint32_t Bits32(uint32_t bits) {
  __asm__("" : "+r"(bits));
  return bits;
}
inline uint64_t Bits64(uint64_t bits) {
  __asm__("" : "+r"(bits));
  return bits;
}

inline uint32_t FloatWord(const float* in) {
  const __m512 zero = _mm512_setzero_ps();
  const uint32_t lo =
      Bits32(_cvtmask16_u32(_mm512_cmp_ps_mask(_mm512_loadu_ps(in), zero, _CMP_LT_OQ)));
  const uint32_t hi =
      Bits32(_cvtmask16_u32(_mm512_cmp_ps_mask(_mm512_loadu_ps(in + 16), zero, _CMP_LT_OQ)));
  return lo | (hi << 16);
}

void PackFloatAvx512(const float* in, int64_t outer, int64_t channels, int32_t* out) {
  const int64_t full = channels / 32;
  const int tail = static_cast<int>(channels % 32);
  const __m512 zero = _mm512_setzero_ps();
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
      // Masked-off lanes load +0.0, which packs as bit 0.
      const int lo_n = tail < 16 ? tail : 16;
      const __mmask16 lo_m = static_cast<__mmask16>((1u << lo_n) - 1);
      const __mmask16 hi_m = static_cast<__mmask16>((1u << (tail - lo_n)) - 1);
      const uint32_t lo = Bits32(
          _cvtmask16_u32(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(lo_m, in), zero, _CMP_LT_OQ)));
      const uint32_t hi = Bits32(_cvtmask16_u32(
          _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(hi_m, in + 16), zero, _CMP_LT_OQ)));
      *out++ = static_cast<int32_t>(lo | (hi << 16));
      in += tail;
    }
  }
}

void PackInt8Avx512(const int8_t* in, int64_t outer, int64_t channels, int zero_point,
                    int32_t* out) {
  const int64_t full = channels / 32;
  const int tail = static_cast<int>(channels % 32);
  const __m512i zp = _mm512_set1_epi8(static_cast<char>(zero_point));
  const __m256i zp256 = _mm256_set1_epi8(static_cast<char>(zero_point));
  for (int64_t r = 0; r < outer; ++r) {
    int64_t w = 0;
    for (; w + 2 <= full; w += 2) {
      const uint64_t m =
          Bits64(_cvtmask64_u64(_mm512_cmplt_epi8_mask(_mm512_loadu_si512(in), zp)));
      out[0] = static_cast<int32_t>(static_cast<uint32_t>(m));
      out[1] = static_cast<int32_t>(static_cast<uint32_t>(m >> 32));
      in += 64;
      out += 2;
    }
    for (; w < full; ++w) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
      *out++ = static_cast<int32_t>(Bits32(_cvtmask32_u32(_mm256_cmplt_epi8_mask(x, zp256))));
      in += 32;
    }
    if (tail != 0) {
      // Masked-off lanes load 0; mask the result instead of trusting 0 >= zero_point.
      const __mmask32 m = static_cast<__mmask32>((1u << tail) - 1);
      const __m256i x = _mm256_maskz_loadu_epi8(m, in);
      *out++ = static_cast<int32_t>(Bits32(_cvtmask32_u32(_mm256_cmplt_epi8_mask(x, zp256))) & m);
      in += tail;
    }
  }
}

constexpr PackVariant kVariant = {&PackFloatAvx512, &PackInt8Avx512};

}  // namespace

}  // namespace xbnn::kernels::optimized

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace xbnn::kernels::optimized {
// Baseline code: the variant table calls it on any CPU.
const PackVariant* PackVariantAvx512() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __x86_64__
