// BConv2D micro-kernel for AVX-512BW without VPOPCNTDQ (Skylake-SP, Cascade Lake): the xor of a
// broadcast input word with 16 channels' filter words is counted with two vpshufb nibble lookups
// into byte accumulators, which are widened (vpmaddubsw + vpmaddwd) into int32 every 31 steps
// (8 * 31 < 256). 4 pixels x 64 channels per call; lanes are output channels.
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

#include "kernels/binary/x86/avx512_epilogue.h"

namespace xbnn::kernels::optimized {
namespace {

struct Traits : Avx512Epilogue {
  static constexpr int kLanes = 16;
  static constexpr int kMaxVectors = 4;
  static constexpr int kRows = 4;
  static constexpr int kFlushSteps = 31;

  template <int MR, int NV>
  static inline __attribute__((always_inline)) void Gemm(const int32_t* const* img,
                                                         const int32_t* const* ind,
                                                         const int32_t* zero, int taps, int cw,
                                                         const int32_t* f, __m512i (&acc)[MR][NV]) {
    const __m512i lut = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    const __m512i ones8 = _mm512_set1_epi8(1);
    const __m512i ones16 = _mm512_set1_epi16(1);
    __m512i acc8[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        acc[i][j] = _mm512_setzero_si512();
        acc8[i][j] = _mm512_setzero_si512();
      }
    }
    int budget = kFlushSteps;
    for (int t = 0; t < taps; ++t) {
      const int32_t* a[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const int32_t off = ind[i][t];
        a[i] = off >= 0 ? img[i] + off : zero;
      }
      int w = 0;
      while (w < cw) {
        const int steps = cw - w < budget ? cw - w : budget;
        for (int s = 0; s < steps; ++s, ++w) {
          __m512i fv[NV];
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) fv[j] = _mm512_loadu_si512(f + 16 * j);
          f += 16 * NV;
#pragma GCC unroll 8
          for (int i = 0; i < MR; ++i) {
            const __m512i b = _mm512_set1_epi32(a[i][w]);
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) {
              const __m512i x = _mm512_xor_si512(fv[j], b);
              const __m512i lo = _mm512_and_si512(x, nibble);
              const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(x, 4), nibble);
              acc8[i][j] = _mm512_add_epi8(
                  acc8[i][j],
                  _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo), _mm512_shuffle_epi8(lut, hi)));
            }
          }
        }
        budget -= steps;
        if (budget == 0) {
          Flush<MR, NV>(acc, acc8, ones8, ones16);
          budget = kFlushSteps;
        }
      }
    }
    Flush<MR, NV>(acc, acc8, ones8, ones16);
  }

  template <int MR, int NV>
  static inline __attribute__((always_inline)) void Flush(__m512i (&acc)[MR][NV],
                                                          __m512i (&acc8)[MR][NV],
                                                          __m512i ones8, __m512i ones16) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        acc[i][j] = _mm512_add_epi32(
            acc[i][j], _mm512_madd_epi16(_mm512_maddubs_epi16(acc8[i][j], ones8), ones16));
        acc8[i][j] = _mm512_setzero_si512();
      }
    }
  }
};

#include "kernels/binary/optimized/bconv_driver.inc"

constexpr BConvVariant kVariant = {Traits::kLanes, Traits::kMaxVectors,      Traits::kRows, false,
                                   false,          &BConvDriver<Traits>::Run};

}  // namespace

}  // namespace xbnn::kernels::optimized

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace xbnn::kernels::optimized {
// Baseline code: the variant table calls it on any CPU.
const BConvVariant* BConvVariantAvx512Bw() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __x86_64__
