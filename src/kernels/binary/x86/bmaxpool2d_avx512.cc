// BMaxPool2D compiled for AVX-512 (the compiler vectorizes the word loops with 512-bit ANDs).
#include "kernels/binary/optimized/variants.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on _mm512_undefined_* (GCC PR105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// AVX-512BW for this file only: the library runs on any x86-64 and isa_table.inc picks this variant
// at run time.
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
#include "kernels/binary/optimized/bmaxpool2d_impl.inc"
constexpr BMaxPoolVariant kVariant = {&BMaxPoolRows};
}  // namespace
}  // namespace xbnn::kernels::optimized

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace xbnn::kernels::optimized {
// Baseline code: the variant table calls it on any CPU.
const BMaxPoolVariant* BMaxPoolVariantAvx512() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __x86_64__
