// BConv2D micro-kernel for 32-bit ARMv7 NEON (Raspberry Pi 2/3/4 running a 32-bit OS). Built
// with NEON for this file only and selected at run time only when the CPU has NEON.
// Per 32-bit K word a broadcast input word is xor-ed with 4 channels' filter words, vcnt.8 counts
// bits per byte and vpadal.u8 accumulates byte pairs into 16-bit lanes, widened to 32 bits
// (vpadal.u16) every 4095 steps, as on AArch64. ARMv7 has 16 q registers instead of 32, so the
// 2 pixels x 32 channels block runs as 2 column halves of 2 pixels x 16 channels (8
// accumulators, 4 filter vectors, 2 broadcasts). ARMv7 NEON float arithmetic flushes denormals
// to zero, unlike the reference's VFP arithmetic, so the float epilogue stays scalar (VFP).
#include "kernels/binary/optimized/variants.h"

#if defined(__arm__)
// NEON for this file only: the rest of the library keeps the toolchain's baseline (Debian armhf:
// ARMv7 + VFPv3-D16) and runs on CPUs without NEON.
#pragma GCC push_options
#pragma GCC target("fpu=neon")
#if defined(__GNUC__) && !defined(__clang__)
// As for AVX-512 VPOPCNT: GCC's tree PRE makes it copy 7 of the 8 accumulators (vorr) per K step.
#pragma GCC optimize("no-tree-pre")
#endif
#include <arm_neon.h>

namespace xbnn::kernels::optimized {
namespace {

struct Traits {
  static constexpr int kLanes = 4;
  static constexpr int kMaxVectors = 8;
  static constexpr int kRows = 2;
  static constexpr int kColumnVectors = 4;  // vectors per column half (register budget)
  static constexpr int kFlushSteps = 4095;  // 16 * 4095 < 65536
  using VI = int32x4_t;
  struct VF {
    float v[kLanes];
  };

  // acc[i][J0 + j] for j < NJ: the columns [J0, J0 + NJ) of a tile whose K steps are 4 * NV
  // words apart in `f`.
  template <int MR, int NV, int J0, int NJ>
  static inline __attribute__((always_inline)) void GemmColumns(const int32_t* const* img,
                                                                const int32_t* const* ind,
                                                                const int32_t* zero, int taps,
                                                                int cw, const int32_t* f,
                                                                int32x4_t (&acc)[MR][NV]) {
    uint32x4_t acc32[MR][NJ];
    uint16x8_t acc16[MR][NJ];
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NJ; ++j) {
        acc32[i][j] = vdupq_n_u32(0);
        acc16[i][j] = vdupq_n_u16(0);
      }
    }
    f += 4 * J0;
    int budget = kFlushSteps;
    for (int t = 0; t < taps; ++t) {
      const int32_t* a[MR];
      for (int i = 0; i < MR; ++i) {
        const int32_t off = ind[i][t];
        a[i] = off >= 0 ? img[i] + off : zero;
      }
      int w = 0;
      while (w < cw) {
        const int steps = cw - w < budget ? cw - w : budget;
        for (int s = 0; s < steps; ++s, ++w) {
          uint32x4_t fv[NJ];
          for (int j = 0; j < NJ; ++j) fv[j] = vreinterpretq_u32_s32(vld1q_s32(f + 4 * j));
          f += 4 * NV;
          for (int i = 0; i < MR; ++i) {
            const uint32x4_t b = vdupq_n_u32(static_cast<uint32_t>(a[i][w]));
            for (int j = 0; j < NJ; ++j) {
              const uint8x16_t c = vcntq_u8(vreinterpretq_u8_u32(veorq_u32(fv[j], b)));
              acc16[i][j] = vpadalq_u8(acc16[i][j], c);
            }
          }
        }
        budget -= steps;
        if (budget == 0) {
          for (int i = 0; i < MR; ++i) {
            for (int j = 0; j < NJ; ++j) {
              acc32[i][j] = vpadalq_u16(acc32[i][j], acc16[i][j]);
              acc16[i][j] = vdupq_n_u16(0);
            }
          }
          budget = kFlushSteps;
        }
      }
    }
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NJ; ++j) {
        acc[i][J0 + j] = vreinterpretq_s32_u32(vpadalq_u16(acc32[i][j], acc16[i][j]));
      }
    }
  }

  template <int MR, int NV, int J0 = 0>
  static inline __attribute__((always_inline)) void Gemm(const int32_t* const* img,
                                                         const int32_t* const* ind,
                                                         const int32_t* zero, int taps, int cw,
                                                         const int32_t* f,
                                                         int32x4_t (&acc)[MR][NV]) {
    constexpr int kNj = NV - J0 < kColumnVectors ? NV - J0 : kColumnVectors;
    GemmColumns<MR, NV, J0, kNj>(img, ind, zero, taps, cw, f, acc);
    if constexpr (J0 + kNj < NV) Gemm<MR, NV, J0 + kNj>(img, ind, zero, taps, cw, f, acc);
  }

  static inline VI LoadI(const int32_t* p) { return vld1q_s32(p); }
  static inline VI Set1I(int32_t v) { return vdupq_n_s32(v); }
  static inline VI AddI(VI a, VI b) { return vaddq_s32(a, b); }
  static inline VI SubI(VI a, VI b) { return vsubq_s32(a, b); }
  static inline VI MinI(VI a, VI b) { return vminq_s32(a, b); }
  static inline VI MaxI(VI a, VI b) { return vmaxq_s32(a, b); }
  // ARMv7 has no across-vector add (vaddvq): fold the halves, then a pairwise add.
  static inline uint32_t GtBits(VI a, VI b) {
    const uint32x4_t weights = {1, 2, 4, 8};
    const uint32x4_t m = vandq_u32(vcgtq_s32(a, b), weights);
    const uint32x2_t h = vadd_u32(vget_low_u32(m), vget_high_u32(m));
    return vget_lane_u32(vpadd_u32(h, h), 0);
  }

  // Float epilogue in scalar VFP code (see the top of the file). GCC does not vectorize float
  // arithmetic onto ARMv7 NEON without -funsafe-math-optimizations, so this stays IEEE.
  static inline VF ToF(VI a) {
    int32_t t[kLanes];
    vst1q_s32(t, a);
    VF r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = static_cast<float>(t[l]);
    return r;
  }
  static inline VF LoadF(const float* p) {
    VF r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = p[l];
    return r;
  }
  static inline VF Set1F(float x) {
    VF r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = x;
    return r;
  }
  static inline VF MinF(VF a, VF b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] = a.v[l] < b.v[l] ? a.v[l] : b.v[l];
    return a;
  }
  static inline VF MaxF(VF a, VF b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] = a.v[l] > b.v[l] ? a.v[l] : b.v[l];
    return a;
  }
  static inline VF MulF(VF a, VF b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] *= b.v[l];
    return a;
  }
  static inline VF AddF(VF a, VF b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] += b.v[l];
    return a;
  }
  static inline void StoreF(float* p, const VF& v, int n) {
    for (int l = 0; l < n; ++l) p[l] = v.v[l];
  }
  // Rounded half away from zero (roundf), saturated; NaN gives -128.
  static inline void StoreI8(int8_t* p, const VF& v, int n) {
    for (int l = 0; l < n; ++l) {
      const float x = v.v[l];
      p[l] = !(x >= -128.0f) ? int8_t{-128}
             : x > 127.0f    ? int8_t{127}
                             : static_cast<int8_t>(__builtin_roundf(x));
    }
  }
};

#include "kernels/binary/optimized/bconv_driver.inc"

constexpr BConvVariant kVariant = {Traits::kLanes, Traits::kMaxVectors,      Traits::kRows, false,
                                   false,          &BConvDriver<Traits>::Run};

}  // namespace

}  // namespace xbnn::kernels::optimized

#pragma GCC pop_options

namespace xbnn::kernels::optimized {
// Baseline code: the variant table calls it on any CPU.
const BConvVariant* BConvVariantNeon() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __arm__
