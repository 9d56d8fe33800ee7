// Instruction-set variants of the optimized binary kernels and their run-time selection.
#pragma once

#include <string>

#include "xbnn/status.h"

namespace xbnn::kernels::optimized {

enum class Isa : int {
  kBest = 0,        // the fastest variant this CPU runs (or the one XBNN_ISA names)
  kPortable,        // plain C++, any CPU
  kAvx2,            // x86-64 AVX2: vpshufb nibble popcount
  kAvx512Bw,        // x86-64 AVX-512BW: vpshufb nibble popcount on 512-bit vectors
  kAvx512Vpopcnt,   // x86-64 AVX-512 VPOPCNTDQ: vpopcntd
  kNeon,            // ARM NEON, AArch64 or 32-bit ARMv7: cnt + uadalp (vcnt + vpadal)
};

// Every concrete variant (x86 ones from slowest to fastest, then ARM).
inline constexpr Isa kAllIsas[] = {Isa::kPortable, Isa::kAvx2, Isa::kAvx512Bw,
                                   Isa::kAvx512Vpopcnt, Isa::kNeon};

// "portable", "avx2", "avx512bw", "avx512vpopcnt", "neon", "best".
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
