#include <cstdint>

#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {
namespace {
#include "kernels/binary/optimized/bmaxpool2d_impl.inc"
constexpr BMaxPoolVariant kVariant = {&BMaxPoolRows};
}  // namespace

const BMaxPoolVariant* BMaxPoolVariantPortable() { return &kVariant; }

}  // namespace xbnn::kernels::optimized
