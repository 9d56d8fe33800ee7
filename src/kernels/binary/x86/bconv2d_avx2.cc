// BConv2D micro-kernel for AVX2 (Haswell, Zen 1-3): vpshufb nibble popcount into byte accumulators
// widened to int32 every 31 steps. 2 pixels x 32 channels per call (16 ymm registers). Filter and
// input come as nibble planes (BConvVariant::nibble_planes): popcount(a ^ f) is
// popcount(a_lo ^ f_lo) + popcount(a_hi ^ f_hi) with x_lo = x & 0x0F0F0F0F and
// x_hi = (x >> 4) & 0x0F0F0F0F, so the kernel needs no shift or mask: 2 vpxor, 2 vpshufb and
// 2 vpaddb per 8 channels and input word instead of 8 operations (1.11-1.23x on QuickNet's shapes
// on Zen 3 with the filter split at load time, 1.03-1.13x more with the input split once per Run;
// bench_bconv) for twice the filter bytes.
#include <array>

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

struct Traits {
  static constexpr int kLanes = 8;
  static constexpr int kMaxVectors = 4;
  static constexpr int kRows = 2;
  static constexpr int kFlushSteps = 31;
  static constexpr bool kNibblePlanes = true;
  static constexpr bool kSplitByPadding = true;
  using VI = __m256i;
  using VF = __m256;

  template <int MR, int NV>
  static inline __attribute__((always_inline)) void Gemm(const int32_t* const* img,
                                                         const int32_t* const* ind,
                                                         const int32_t* zero, int taps, int cw,
                                                         const int32_t* f, __m256i (&acc)[MR][NV]) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                         1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    __m256i acc8[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        acc[i][j] = _mm256_setzero_si256();
        acc8[i][j] = _mm256_setzero_si256();
      }
    }
    // Taps of up to 31 words (992 input channels): whole taps between flushes, so that the int32
    // accumulators are only touched in the flushes. With the word budget below, which can run out
    // inside a tap, GCC carried them through the tap loop and copied 8 spilled vectors per tap:
    // on Zen 3 this loop is 1.14-1.17x faster on 56x56x64 layers (2 words per tap), 1.06-1.18x
    // on the other 3x3 shapes of up to 8 words, the same at 16 (bench_bconv).
    if (taps * cw <= kFlushSteps) {
      // The whole K in one run of the byte counters (3x3 taps of up to 3 words): one widening at
      // the end and no int32 sums carried through the taps.
      WholeTaps<MR, NV>(img, ind, zero, 0, taps, cw, lut, f, acc8);
      Flush<MR, NV, true>(acc, acc8);
      return;
    }
    if (cw <= kFlushSteps) {
      // kFlushSteps / cw without a division per call.
      constexpr auto kTapsPerFlush = [] {
        std::array<int, kFlushSteps + 1> n{};
        for (int words = 1; words <= kFlushSteps; ++words) n[words] = kFlushSteps / words;
        return n;
      }();
      const int group = kTapsPerFlush[cw];
      for (int t0 = 0; t0 < taps; t0 += group) {
        const int t1 = t0 + group < taps ? t0 + group : taps;
        f = WholeTaps<MR, NV>(img, ind, zero, t0, t1, cw, lut, f, acc8);
        Flush<MR, NV>(acc, acc8);
      }
      return;
    }
    int budget = kFlushSteps;
    for (int t = 0; t < taps; ++t) {
      const int32_t* a[MR];
      TapInputs<MR>(img, ind, zero, t, a);
      int w = 0;
      while (w < cw) {
        const int steps = cw - w < budget ? cw - w : budget;
        for (int s = 0; s < steps; ++s, ++w) {
          Step<MR, NV>(a, w, lut, f, acc8);
          f += 16 * NV;
        }
        budget -= steps;
        if (budget == 0) {
          Flush<MR, NV>(acc, acc8);
          budget = kFlushSteps;
        }
      }
    }
    Flush<MR, NV>(acc, acc8);
  }

  // Taps [t0, t1) of cw words each into the byte counters; returns the filter past their words.
  template <int MR, int NV>
  static inline __attribute__((always_inline)) const int32_t* WholeTaps(
      const int32_t* const* img, const int32_t* const* ind, const int32_t* zero, int t0, int t1,
      int cw, __m256i lut, const int32_t* f, __m256i (&acc8)[MR][NV]) {
    for (int t = t0; t < t1; ++t) {
      const int32_t* a[MR];
      TapInputs<MR>(img, ind, zero, t, a);
      for (int w = 0; w < cw; ++w) {
        Step<MR, NV>(a, w, lut, f, acc8);
        f += 16 * NV;
      }
    }
    return f;
  }

  // Each pixel's input (two plane words per input word) at tap t, or the zero row for padding.
  template <int MR>
  static inline __attribute__((always_inline)) void TapInputs(const int32_t* const* img,
                                                              const int32_t* const* ind,
                                                              const int32_t* zero, int t,
                                                              const int32_t* (&a)[MR]) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const int32_t off = ind[i][t];
      a[i] = off >= 0 ? img[i] + 2 * off : zero;
    }
  }

  // One input word w of every pixel against the filter words at f.
  template <int MR, int NV>
  static inline __attribute__((always_inline)) void Step(const int32_t* const (&a)[MR], int w,
                                                         __m256i lut, const int32_t* f,
                                                         __m256i (&acc8)[MR][NV]) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      // The input word's two planes (split by BConv2DKernel::Run), against the filter's.
      const __m256i b_lo = _mm256_set1_epi32(a[i][2 * w]);
      const __m256i b_hi = _mm256_set1_epi32(a[i][2 * w + 1]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        const __m256i lo = _mm256_xor_si256(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f + 16 * j)), b_lo);
        const __m256i hi = _mm256_xor_si256(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f + 16 * j + 8)), b_hi);
        acc8[i][j] = _mm256_add_epi8(acc8[i][j], _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo),
                                                                 _mm256_shuffle_epi8(lut, hi)));
      }
    }
  }

  // acc (+)= acc8 widened to int32, and acc8 cleared. kFirst: acc = ..., the only flush of a K
  // that fits one run of the byte counters.
  template <int MR, int NV, bool kFirst = false>
  static inline __attribute__((always_inline)) void Flush(__m256i (&acc)[MR][NV],
                                                          __m256i (&acc8)[MR][NV]) {
    const __m256i ones8 = _mm256_set1_epi8(1);
    const __m256i ones16 = _mm256_set1_epi16(1);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        const __m256i sum = _mm256_madd_epi16(_mm256_maddubs_epi16(acc8[i][j], ones8), ones16);
        acc[i][j] = kFirst ? sum : _mm256_add_epi32(acc[i][j], sum);
        acc8[i][j] = _mm256_setzero_si256();
      }
    }
  }

  static inline VI LoadI(const int32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static inline VI Set1I(int32_t v) { return _mm256_set1_epi32(v); }
  static inline VI AddI(VI a, VI b) { return _mm256_add_epi32(a, b); }
  static inline VI SubI(VI a, VI b) { return _mm256_sub_epi32(a, b); }
  static inline VF ToF(VI a) { return _mm256_cvtepi32_ps(a); }
  static inline VF LoadF(const float* p) { return _mm256_loadu_ps(p); }
  static inline VF Set1F(float v) { return _mm256_set1_ps(v); }
  static inline VF MinF(VF a, VF b) { return _mm256_min_ps(a, b); }
  static inline VF MaxF(VF a, VF b) { return _mm256_max_ps(a, b); }
  static inline VF MulF(VF a, VF b) { return _mm256_mul_ps(a, b); }
  static inline VF AddF(VF a, VF b) { return _mm256_add_ps(a, b); }
  static inline __m256i LaneMask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static inline void StoreF(float* p, VF v, int n) {
    if (n >= 8) {
      _mm256_storeu_ps(p, v);
    } else {
      _mm256_maskstore_ps(p, LaneMask(n), v);
    }
  }
  static inline uint32_t GtBits(VI a, VI b) {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(a, b))));
  }
  static inline uint32_t NegBits(VF v) {
    return static_cast<uint32_t>(
        _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ)));
  }
  static inline VI MinI(VI a, VI b) { return _mm256_min_epi32(a, b); }
  static inline VI MaxI(VI a, VI b) { return _mm256_max_epi32(a, b); }
  // Rounded half away from zero and saturated to int8; NaN gives -128 (vmaxps returns its second
  // operand for NaN).
  static inline void StoreI8(int8_t* p, VF v, int n) {
    const VF t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const VF frac = _mm256_sub_ps(v, t);  // exact
    const VF one = _mm256_set1_ps(1.0f);
    const VF up = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one);
    const VF down = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(-0.5f), _CMP_LE_OQ), one);
    VF r = _mm256_sub_ps(_mm256_add_ps(t, up), down);
    r = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-128.0f)), _mm256_set1_ps(127.0f));
    const __m256i q = _mm256_cvtps_epi32(r);
    const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    const __m128i q8 = _mm_packs_epi16(q16, q16);
    if (n >= 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), q8);
    } else {
      alignas(16) int8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), q8);
      for (int l = 0; l < n; ++l) p[l] = tmp[l];
    }
  }
};

#include "kernels/binary/optimized/bconv_driver.inc"

constexpr BConvVariant kVariant = {Traits::kLanes, Traits::kMaxVectors,
                                   Traits::kRows,  Traits::kNibblePlanes,
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
const BConvVariant* BConvVariantAvx2() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __x86_64__
