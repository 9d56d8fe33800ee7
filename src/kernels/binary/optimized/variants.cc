// Variant tables by instruction set, from isa_table.inc.
#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {

const BConvVariant* BConvVariantFor(Isa isa) {
  switch (isa) {
#define XBNN_ISA(e, name, arch, cpu, bconv, bmaxpool, pack) \
  case Isa::e:                                              \
    XBNN_ON_##arch(return bconv();) break;
#include "kernels/binary/optimized/isa_table.inc"
#undef XBNN_ISA
    case Isa::kBest:
      break;
  }
  return nullptr;
}

const BMaxPoolVariant* BMaxPoolVariantFor(Isa isa) {
  switch (isa) {
#define XBNN_ISA(e, name, arch, cpu, bconv, bmaxpool, pack) \
  case Isa::e:                                              \
    XBNN_ON_##arch(return bmaxpool();) break;
#include "kernels/binary/optimized/isa_table.inc"
#undef XBNN_ISA
    case Isa::kBest:
      break;
  }
  return nullptr;
}

const PackVariant* PackVariantFor(Isa isa) {
  switch (isa) {
#define XBNN_ISA(e, name, arch, cpu, bconv, bmaxpool, pack) \
  case Isa::e:                                              \
    XBNN_ON_##arch(return pack();) break;
#include "kernels/binary/optimized/isa_table.inc"
#undef XBNN_ISA
    case Isa::kBest:
      break;
  }
  return nullptr;
}

bool VariantCompiled(Isa isa) {
  return BConvVariantFor(isa) != nullptr && BMaxPoolVariantFor(isa) != nullptr &&
         PackVariantFor(isa) != nullptr;
}

}  // namespace xbnn::kernels::optimized
