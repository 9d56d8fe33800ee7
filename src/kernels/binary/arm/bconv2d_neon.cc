// BConv2D micro-kernel for AArch64 NEON: per 32-bit K word, a broadcast input word is xor-ed with
// 4 channels' filter words, cnt counts bits per byte and uadalp (vpadalq_u8) accumulates byte
// pairs into 16-bit lanes, widened to 32 bits (vpadalq_u16) every 4095 steps. 2 pixels x 32
// channels per call (32 registers).
#include "kernels/binary/optimized/variants.h"

#if defined(__aarch64__)  // NEON (Advanced SIMD) is part of the baseline
#include <arm_neon.h>

namespace xbnn::kernels::optimized {
namespace {

struct Traits {
  static constexpr int kLanes = 4;
  static constexpr int kMaxVectors = 8;
  static constexpr int kRows = 2;
  static constexpr int kFlushSteps = 4095;  // 16 * 4095 < 65536
  using VI = int32x4_t;
  using VF = float32x4_t;

  template <int MR, int NV>
  static inline __attribute__((always_inline)) void Gemm(const int32_t* const* img,
                                                         const int32_t* const* ind,
                                                         const int32_t* zero, int taps, int cw,
                                                         const int32_t* f, int32x4_t (&acc)[MR][NV]) {
    uint32x4_t acc32[MR][NV];
    uint16x8_t acc16[MR][NV];
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NV; ++j) {
        acc32[i][j] = vdupq_n_u32(0);
        acc16[i][j] = vdupq_n_u16(0);
      }
    }
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
          uint32x4_t fv[NV];
          for (int j = 0; j < NV; ++j) {
            fv[j] = vreinterpretq_u32_s32(vld1q_s32(f + 4 * j));
          }
          f += 4 * NV;
          for (int i = 0; i < MR; ++i) {
            const uint32x4_t b = vdupq_n_u32(static_cast<uint32_t>(a[i][w]));
            for (int j = 0; j < NV; ++j) {
              const uint8x16_t c = vcntq_u8(vreinterpretq_u8_u32(veorq_u32(fv[j], b)));
              acc16[i][j] = vpadalq_u8(acc16[i][j], c);
            }
          }
        }
        budget -= steps;
        if (budget == 0) {
          for (int i = 0; i < MR; ++i) {
            for (int j = 0; j < NV; ++j) {
              acc32[i][j] = vpadalq_u16(acc32[i][j], acc16[i][j]);
              acc16[i][j] = vdupq_n_u16(0);
            }
          }
          budget = kFlushSteps;
        }
      }
    }
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NV; ++j) {
        acc[i][j] = vreinterpretq_s32_u32(vpadalq_u16(acc32[i][j], acc16[i][j]));
      }
    }
  }

  static inline VI LoadI(const int32_t* p) { return vld1q_s32(p); }
  static inline VI Set1I(int32_t v) { return vdupq_n_s32(v); }
  static inline VI AddI(VI a, VI b) { return vaddq_s32(a, b); }
  static inline VI SubI(VI a, VI b) { return vsubq_s32(a, b); }
  static inline VF ToF(VI a) { return vcvtq_f32_s32(a); }
  static inline VF LoadF(const float* p) { return vld1q_f32(p); }
  static inline VF Set1F(float v) { return vdupq_n_f32(v); }
  static inline VF MinF(VF a, VF b) { return vminq_f32(a, b); }
  static inline VF MaxF(VF a, VF b) { return vmaxq_f32(a, b); }
  static inline VF MulF(VF a, VF b) { return vmulq_f32(a, b); }
  static inline VF AddF(VF a, VF b) { return vaddq_f32(a, b); }
  static inline void StoreF(float* p, VF v, int n) {
    if (n >= 4) {
      vst1q_f32(p, v);
    } else {
      float tmp[4];
      vst1q_f32(tmp, v);
      for (int l = 0; l < n; ++l) p[l] = tmp[l];
    }
  }
  static inline uint32_t GtBits(VI a, VI b) {
    const uint32x4_t weights = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(vcgtq_s32(a, b), weights));
  }
  static inline VI MinI(VI a, VI b) { return vminq_s32(a, b); }
  static inline VI MaxI(VI a, VI b) { return vmaxq_s32(a, b); }
  // frinta rounds half away from zero; fmaxnm turns NaN into -128 like the reference.
  static inline void StoreI8(int8_t* p, VF v, int n) {
    VF r = vrndaq_f32(v);
    r = vminnmq_f32(vmaxnmq_f32(r, vdupq_n_f32(-128.0f)), vdupq_n_f32(127.0f));
    int32_t tmp[4];
    vst1q_s32(tmp, vcvtq_s32_f32(r));
    for (int l = 0; l < n; ++l) p[l] = static_cast<int8_t>(tmp[l]);
  }
};

#include "kernels/binary/optimized/bconv_driver.inc"

constexpr BConvVariant kVariant = {Traits::kLanes, Traits::kMaxVectors,      Traits::kRows, false,
                                   false,          &BConvDriver<Traits>::Run};

}  // namespace

const BConvVariant* BConvVariantNeon() { return &kVariant; }

}  // namespace xbnn::kernels::optimized

#endif  // __aarch64__
