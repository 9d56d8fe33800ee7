// Epilogue vector operations shared by the AVX-512 BConv2D variants (16 int32/float lanes).
// Internal linkage on purpose: every ISA unit gets its own copy compiled with its own flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {
namespace {

// A mask as a plain integer (32 or 64 bits) in a general register. GCC 12 may spill a __mmask16
// with kmovw (16 bits) and reload it with a 64-bit mov, picking up stale stack bytes (seen under
// -fsanitize=thread); _cvtmask16_u32 alone is folded away, the empty asm pins the conversion.
template <typename U>
inline U MaskBits(U bits) {
  __asm__("" : "+r"(bits));
  return bits;
}

struct Avx512Epilogue {
  using VI = __m512i;
  using VF = __m512;
  static inline VI LoadI(const int32_t* p) { return _mm512_loadu_si512(p); }
  static inline VI Set1I(int32_t v) { return _mm512_set1_epi32(v); }
  static inline VI AddI(VI a, VI b) { return _mm512_add_epi32(a, b); }
  static inline VI SubI(VI a, VI b) { return _mm512_sub_epi32(a, b); }
  static inline VF ToF(VI a) { return _mm512_cvtepi32_ps(a); }
  static inline VF LoadF(const float* p) { return _mm512_loadu_ps(p); }
  static inline VF Set1F(float v) { return _mm512_set1_ps(v); }
  static inline VF MinF(VF a, VF b) { return _mm512_min_ps(a, b); }
  static inline VF MaxF(VF a, VF b) { return _mm512_max_ps(a, b); }
  static inline VF MulF(VF a, VF b) { return _mm512_mul_ps(a, b); }
  static inline VF AddF(VF a, VF b) { return _mm512_add_ps(a, b); }
  static inline __mmask16 Mask(int n) {
    return static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1);
  }
  static inline void StoreF(float* p, VF v, int n) {
    if (n >= 16) {
      _mm512_storeu_ps(p, v);
    } else {
      _mm512_mask_storeu_ps(p, Mask(n), v);
    }
  }
  static inline uint32_t GtBits(VI a, VI b) {
    return MaskBits(_cvtmask16_u32(_mm512_cmpgt_epi32_mask(a, b)));
  }
  // min(max(v, lowest), max) as the clamp computes it (NaN returned as it is): vfixupimmps turns
  // -inf and +inf into -FLT_MAX and FLT_MAX and returns the other classes as they are (table
  // nibbles by class QNaN, SNaN, 0, +1, -inf, +inf, <0, >0: 1 = the value, 0xF / 0xE = -+max).
  static inline VF ClampFinite(VF v) {
    return _mm512_fixupimm_ps(v, v, _mm512_set1_epi32(0x11EF1111), 0);
  }
  static inline uint32_t NegBits(VF v) {
    return MaskBits(_cvtmask16_u32(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ)));
  }
  // The (v < 0) bits of NV vectors joined in mask registers (kunpck) and moved out once.
  template <int NV>
  static inline uint64_t NegBitsAll(const VF (&v)[NV]) {
    static_assert(NV >= 1 && NV <= 4);
    __mmask16 m[NV];
    for (int j = 0; j < NV; ++j) m[j] = _mm512_cmp_ps_mask(v[j], _mm512_setzero_ps(), _CMP_LT_OQ);
    if constexpr (NV == 1) {
      return MaskBits(_cvtmask16_u32(m[0]));
    } else if constexpr (NV == 2) {
      return MaskBits(_cvtmask32_u32(_mm512_kunpackw(m[1], m[0])));
    } else {
      const __mmask32 lo = _mm512_kunpackw(m[1], m[0]);
      const __mmask32 hi = NV == 4 ? _mm512_kunpackw(m[3], m[2]) : __mmask32{m[2]};
      return MaskBits(_cvtmask64_u64(_mm512_kunpackd(hi, lo)));
    }
  }
  // One BConvFused::chain step on the MR x NV vectors z of a block (pixel i's vector j, its
  // operand at k + i * pixel_stride + 16 * j): ApplyChainStep's expressions lane by lane (the
  // clamp: vmaxps(lo, v) is v < lo ? lo : v and vminps(hi, t) is hi < t ? hi : t, NaN and signed
  // zeros included).
  static constexpr bool kChainOps = true;
  template <int MR, int NV>
  static inline __attribute__((always_inline)) void ChainOp(EpilogueOp op, bool k_first,
                                                            const float* k, int64_t pixel_stride,
                                                            VF lo, VF hi, VF (&z)[MR][NV]) {
    // (Plain loops per case: lambdas returning vectors lose this file's target.)
#define XBNN_CHAIN_EACH(EXPR)                                       \
  for (int i = 0; i < MR; ++i) {                                    \
    for (int j = 0; j < NV; ++j) {                                  \
      const VF kv = _mm512_loadu_ps(k + i * pixel_stride + 16 * j); \
      const VF a = k_first ? kv : z[i][j];                          \
      const VF b = k_first ? z[i][j] : kv;                          \
      z[i][j] = (EXPR);                                             \
    }                                                               \
  }
#define XBNN_CLAMP(V) _mm512_min_ps(hi, _mm512_max_ps(lo, (V)))
    switch (op) {
      case EpilogueOp::kAdd:
        XBNN_CHAIN_EACH(XBNN_CLAMP(_mm512_add_ps(a, b)))
        break;
      case EpilogueOp::kSub:
        XBNN_CHAIN_EACH(XBNN_CLAMP(_mm512_sub_ps(a, b)))
        break;
      case EpilogueOp::kMul:
        XBNN_CHAIN_EACH(XBNN_CLAMP(_mm512_mul_ps(a, b)))
        break;
      case EpilogueOp::kDiv:
        XBNN_CHAIN_EACH(XBNN_CLAMP(_mm512_div_ps(a, b)))
        break;
      case EpilogueOp::kMax:
        XBNN_CHAIN_EACH(_mm512_max_ps(a, b))
        break;
      case EpilogueOp::kMin:
        XBNN_CHAIN_EACH(_mm512_min_ps(a, b))
        break;
      case EpilogueOp::kPrelu:
        // (not a >= 0, NaN included: a * b)
        XBNN_CHAIN_EACH(
            _mm512_mask_mul_ps(a, _mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NGE_UQ), a, b))
        break;
    }
#undef XBNN_CLAMP
#undef XBNN_CHAIN_EACH
  }
  static inline VI MinI(VI a, VI b) { return _mm512_min_epi32(a, b); }
  static inline VI MaxI(VI a, VI b) { return _mm512_max_epi32(a, b); }
  // Rounded half away from zero and saturated to int8; NaN gives -128 (vmaxps returns its second
  // operand for NaN).
  static inline void StoreI8(int8_t* p, VF v, int n) {
    const VF t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const VF frac = _mm512_sub_ps(v, t);  // exact
    const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __mmask16 down = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(-0.5f), _CMP_LE_OQ);
    VF r = _mm512_mask_add_ps(t, up, t, _mm512_set1_ps(1.0f));
    r = _mm512_mask_sub_ps(r, down, r, _mm512_set1_ps(1.0f));
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-128.0f)), _mm512_set1_ps(127.0f));
    _mm512_mask_cvtepi32_storeu_epi8(p, Mask(n), _mm512_cvtps_epi32(r));
  }
};

}  // namespace
}  // namespace xbnn::kernels::optimized
