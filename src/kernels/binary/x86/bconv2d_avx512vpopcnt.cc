// BConv2D micro-kernel for AVX-512 VPOPCNTDQ (Ice Lake, Zen 4 and later): per 32-bit K word and
// output pixel, one broadcast input word is xor-ed with 16 output channels' filter words, vpopcntd
// counts the disagreements and vpaddd accumulates: three vector ops per 512 bit-MACs. A 6 pixel x
// 64 channel tile keeps 24 accumulators in zmm registers; no horizontal sums are needed since the
// lanes are output channels.
#include "kernels/binary/optimized/variants.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on _mm512_undefined_* (GCC PR105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

// AVX-512 VPOPCNTDQ for this file only: the library runs on any x86-64 and isa_table.inc picks this
// variant at run time. (The intrinsics header comes first: its functions carry their own targets.)
#if defined(__clang__)
#pragma clang attribute push(                                                                    \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2,avx512vpopcntdq"))), \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2,avx512vpopcntdq")
// GCC's tree PRE hoists the broadcast loads of the 6x4 micro-kernel and spills accumulators
// (34 stack accesses per K step instead of 0).
#pragma GCC optimize("no-tree-pre")
#endif

#include "kernels/binary/x86/avx512_epilogue.h"

namespace xbnn::kernels::optimized {
namespace {

struct Traits : Avx512Epilogue {
  static constexpr int kLanes = 16;
  static constexpr int kMaxVectors = 4;
  static constexpr int kRows = 6;
  // Zero-padded layers' inner pixels without the padding code: BinaryResNetE18's 56x56 layers
  // 1.09-1.11x, Bi-Real Net's 1.03-1.07x faster (Zen 5).
  static constexpr bool kSplitByPadding = true;

  template <int MR, int NV>
  static inline __attribute__((always_inline)) void Gemm(const int32_t* const* img,
                                                         const int32_t* const* ind,
                                                         const int32_t* zero, int taps, int cw,
                                                         const int32_t* f, __m512i (&acc)[MR][NV]) {
    // Local accumulators (not the caller's array) so that GCC keeps them in registers for the
    // whole K loop.
    __m512i r[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) r[i][j] = _mm512_setzero_si512();
    }
    for (int t = 0; t < taps; ++t) {
      const int32_t* a[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const int32_t off = ind[i][t];
        a[i] = off >= 0 ? img[i] + off : zero;
      }
      for (int w = 0; w < cw; ++w) {
        __m512i fv[NV];
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) fv[j] = _mm512_loadu_si512(f + 16 * j);
        f += 16 * NV;
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
          const __m512i b = _mm512_set1_epi32(a[i][w]);
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) {
            r[i][j] = _mm512_add_epi32(r[i][j], _mm512_popcnt_epi32(_mm512_xor_si512(fv[j], b)));
          }
        }
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = r[i][j];
    }
  }
};

#include "kernels/binary/optimized/bconv_driver.inc"

constexpr BConvVariant kVariant = {Traits::kLanes, Traits::kMaxVectors, Traits::kRows, false,
                                   &BConvDriver<Traits>::Run};

}  // namespace

}  // namespace xbnn::kernels::optimized

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace xbnn::kernels::optimized {
// Baseline code: the variant table calls it on any CPU.
const BConvVariant* BConvVariantAvx512Vpopcnt() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __x86_64__
