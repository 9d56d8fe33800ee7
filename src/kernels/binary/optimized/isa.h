// Instruction-set variants of the optimized binary kernels and their run-time selection. The
// variants themselves are the rows of isa_table.inc.
#pragma once

#include <string>

#include "xbnn/status.h"

namespace xbnn::kernels::optimized {

enum class Isa : int {
  kBest = 0,  // the fastest variant this CPU runs (or the one XBNN_ISA names)
#define XBNN_ISA(e, ...) e,
#include "kernels/binary/optimized/isa_table.inc"
#undef XBNN_ISA
};

// Every concrete variant, in the table's order (per architecture from slowest to fastest).
inline constexpr Isa kAllIsas[] = {
#define XBNN_ISA(e, ...) Isa::e,
#include "kernels/binary/optimized/isa_table.inc"
#undef XBNN_ISA
};

// The table's names ("portable", "avx2", ...), or "best".
const char* IsaName(Isa isa);

// Parses a name as IsaName writes it.
Result<Isa> ParseIsa(const std::string& name);

// Empty when `isa` was compiled into this library and this CPU runs it; otherwise says what is
// missing, e.g. "CPU lacks avx512vpopcntdq" or "not compiled for this architecture".
std::string IsaUnavailableReason(Isa isa);
inline bool IsaAvailable(Isa isa) { return IsaUnavailableReason(isa).empty(); }

// The fastest available variant, ignoring XBNN_ISA.
Isa DetectBestIsa();

// Turns a requested variant into a concrete one: kBest becomes the variant named by the XBNN_ISA
// environment variable when set, else DetectBestIsa(). Errors when the variant cannot run here.
Result<Isa> ResolveIsa(Isa requested);

}  // namespace xbnn::kernels::optimized
