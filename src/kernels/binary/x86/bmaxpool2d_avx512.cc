// BMaxPool2D compiled for AVX-512 (the compiler vectorizes the word loops with 512-bit ANDs).
#include "kernels/binary/optimized/variants.h"

#if defined(__AVX512F__) && defined(__AVX512BW__)
namespace xbnn::kernels::optimized {
namespace {
#include "kernels/binary/optimized/bmaxpool2d_impl.inc"
constexpr BMaxPoolVariant kVariant = {&BMaxPoolRows};
}  // namespace
const BMaxPoolVariant* BMaxPoolVariantAvx512() { return &kVariant; }
}  // namespace xbnn::kernels::optimized
#else
namespace xbnn::kernels::optimized {
const BMaxPoolVariant* BMaxPoolVariantAvx512() { return nullptr; }
}  // namespace xbnn::kernels::optimized
#endif
