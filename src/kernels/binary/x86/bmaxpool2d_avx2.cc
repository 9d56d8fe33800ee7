// BMaxPool2D compiled for AVX2 (the compiler vectorizes the word loops with 256-bit ANDs).
#include "kernels/binary/optimized/variants.h"

#if defined(__AVX2__)
namespace xbnn::kernels::optimized {
namespace {
#include "kernels/binary/optimized/bmaxpool2d_impl.inc"
constexpr BMaxPoolVariant kVariant = {&BMaxPoolRows};
}  // namespace
const BMaxPoolVariant* BMaxPoolVariantAvx2() { return &kVariant; }
}  // namespace xbnn::kernels::optimized
#else
namespace xbnn::kernels::optimized {
const BMaxPoolVariant* BMaxPoolVariantAvx2() { return nullptr; }
}  // namespace xbnn::kernels::optimized
#endif
