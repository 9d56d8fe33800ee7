// Variant tables by instruction set.
#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {

const BConvVariant* BConvVariantFor(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return BConvVariantPortable();
#if defined(__x86_64__)
    case Isa::kAvx2: return BConvVariantAvx2();
    case Isa::kAvx512Bw: return BConvVariantAvx512Bw();
    case Isa::kAvx512Vpopcnt: return BConvVariantAvx512Vpopcnt();
#endif
#if defined(__aarch64__) || defined(__arm__)
    case Isa::kNeon: return BConvVariantNeon();
#endif
    default: return nullptr;
  }
}

// Bitpacking and max-pooling are memory-bound: the AVX-512 code serves both AVX-512 variants,
// and NEON uses the portable code (which the compiler vectorizes with NEON).
const BMaxPoolVariant* BMaxPoolVariantFor(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return BMaxPoolVariantPortable();
#if defined(__x86_64__)
    case Isa::kAvx2: return BMaxPoolVariantAvx2();
    case Isa::kAvx512Bw:
    case Isa::kAvx512Vpopcnt: return BMaxPoolVariantAvx512();
#endif
#if defined(__aarch64__) || defined(__arm__)
    case Isa::kNeon: return BMaxPoolVariantPortable();
#endif
    default: return nullptr;
  }
}

const PackVariant* PackVariantFor(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return PackVariantPortable();
#if defined(__x86_64__)
    case Isa::kAvx2: return PackVariantAvx2();
    case Isa::kAvx512Bw:
    case Isa::kAvx512Vpopcnt: return PackVariantAvx512();
#endif
#if defined(__aarch64__) || defined(__arm__)
    case Isa::kNeon: return PackVariantPortable();
#endif
    default: return nullptr;
  }
}

bool VariantCompiled(Isa isa) {
  return BConvVariantFor(isa) != nullptr && BMaxPoolVariantFor(isa) != nullptr &&
         PackVariantFor(isa) != nullptr;
}

}  // namespace xbnn::kernels::optimized
