// min(max(v, lo), hi) for the AVX-512 float convolution kernels (direct, bf16, eight_pairs), one
// definition so that all of them give NaN the same answer (lo: max returns its second operand).
// The masked forms with a full mask: GCC 12 warns that the unmasked _mm512_max_ps and
// _mm512_min_ps read an uninitialized value (its headers pass _mm512_undefined_ps).
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

namespace xbnn::kernels::builtin {

__attribute__((target("avx512f"))) inline __m512 ClampPs(__m512 v, __m512 lo, __m512 hi) {
  const __mmask16 all = 0xFFFF;
  return _mm512_mask_min_ps(hi, all, _mm512_mask_max_ps(lo, all, v, lo), hi);
}

}  // namespace xbnn::kernels::builtin
#endif
