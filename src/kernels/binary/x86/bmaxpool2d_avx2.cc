// BMaxPool2D compiled for AVX2 (the compiler vectorizes the word loops with 256-bit ANDs).
#include "kernels/binary/optimized/variants.h"

#if defined(__x86_64__)

// AVX2 for this file only: the library runs on any x86-64 and isa_table.inc picks this variant
// at run time.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,bmi2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi2")
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
const BMaxPoolVariant* BMaxPoolVariantAvx2() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __x86_64__
