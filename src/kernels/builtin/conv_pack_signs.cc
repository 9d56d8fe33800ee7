// direct_conv::PackSigns: a fused LceQuantize of the direct kernels' float output, region by region
// (conv_direct.h).
#include <algorithm>

#include "kernels/builtin/conv_direct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define XBNN_DIRECT_CONV_X86 1
#endif

namespace xbnn::kernels::builtin {

#if defined(XBNN_DIRECT_CONV_X86)
namespace {
// PackSigns with AVX2: 8 channels per compare, the last partial group of 8 one by one.
__attribute__((target("avx2"))) void PackSignsAvx2(const float* out, int out_c,
                                                   const direct_conv::Region& r, int32_t* packed) {
  const int64_t words = (out_c + 31) / 32;
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t p = r.p0; p < r.p1; ++p) {
    const float* x = out + p * out_c + r.c0;
    int32_t* w = packed + p * words + r.c0 / 32;
    for (int c = 0; c < r.channels; c += 32) {
      const int n = std::min(32, r.channels - c);
      uint32_t bits = 0;
      int j = 0;
      for (; j + 8 <= n; j += 8) {
        // Ordered less-than, as LceQuantize's x < 0: NaN and -0 give 0.
        const int m =
            _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + c + j), zero, _CMP_LT_OQ));
        bits |= static_cast<uint32_t>(m) << j;
      }
      for (; j < n; ++j) bits |= static_cast<uint32_t>(x[c + j] < 0.0f) << j;
      w[c / 32] = static_cast<int32_t>(bits);
    }
  }
}

__attribute__((target("avx512f"))) void PackSignsAvx512(const float* out, int out_c,
                                                        const direct_conv::Region& r,
                                                        int32_t* packed) {
  const int64_t words = (out_c + 31) / 32;
  const __m512 zero = _mm512_setzero_ps();
  auto lanes = [](int n) {
    return static_cast<__mmask16>(n >= 16 ? 0xFFFF : n <= 0 ? 0 : (1u << n) - 1);
  };
  if (r.channels % 32 == 0) {  // whole words (every block of a multiple of 32 channels)
    const int nw = r.channels / 32;
    for (int64_t p = r.p0; p < r.p1; ++p) {
      const float* x = out + p * out_c + r.c0;
      int32_t* w = packed + p * words + r.c0 / 32;
      for (int k = 0; k < nw; ++k) {
        const uint32_t m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + 32 * k), zero, _CMP_LT_OQ);
        const uint32_t m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + 32 * k + 16), zero, _CMP_LT_OQ);
        w[k] = static_cast<int32_t>(m0 | (m1 << 16));
      }
    }
    return;
  }
  for (int64_t p = r.p0; p < r.p1; ++p) {
    const float* x = out + p * out_c + r.c0;
    int32_t* w = packed + p * words + r.c0 / 32;
    for (int c = 0; c < r.channels; c += 32) {
      // Ordered less-than, as LceQuantize's x < 0: NaN and -0 give 0.
      const __mmask16 lo = lanes(r.channels - c), hi = lanes(r.channels - c - 16);
      const uint32_t m0 =
          _mm512_mask_cmp_ps_mask(lo, _mm512_maskz_loadu_ps(lo, x + c), zero, _CMP_LT_OQ);
      const uint32_t m1 =
          _mm512_mask_cmp_ps_mask(hi, _mm512_maskz_loadu_ps(hi, x + c + 16), zero, _CMP_LT_OQ);
      w[c / 32] = static_cast<int32_t>(m0 | (m1 << 16));
    }
  }
}
}  // namespace
#endif

void direct_conv::PackSigns(const float* out, int out_c, const Region& r, int32_t* packed) {
#if defined(XBNN_DIRECT_CONV_X86)
  if (__builtin_cpu_supports("avx512f")) {
    PackSignsAvx512(out, out_c, r, packed);
  } else {
    PackSignsAvx2(out, out_c, r, packed);
  }
#else
  (void)out, (void)out_c, (void)r, (void)packed;
#endif
}

}  // namespace xbnn::kernels::builtin
