#include "kernels/binary/optimized/isa.h"

#include <cstdlib>

#if defined(__arm__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kBest: return "best";
    case Isa::kPortable: return "portable";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512Bw: return "avx512bw";
    case Isa::kAvx512Vpopcnt: return "avx512vpopcnt";
    case Isa::kNeon: return "neon";
  }
  return "unknown";
}

Result<Isa> ParseIsa(const std::string& name) {
  for (Isa isa : {Isa::kBest, Isa::kPortable, Isa::kAvx2, Isa::kAvx512Bw, Isa::kAvx512Vpopcnt,
                  Isa::kNeon}) {
    if (name == IsaName(isa)) return isa;
  }
  return Status::Error("unknown instruction set '" + name +
                       "' (expected portable, avx2, avx512bw, avx512vpopcnt, neon or best)");
}

namespace {

// Which CPU features a variant needs beyond what its code was compiled for.
std::string CpuMissing(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kAvx2:
      if (!__builtin_cpu_supports("avx2")) return "CPU lacks avx2";
      return "";
    case Isa::kAvx512Vpopcnt:
      if (!__builtin_cpu_supports("avx512vpopcntdq")) return "CPU lacks avx512vpopcntdq";
      [[fallthrough]];
    case Isa::kAvx512Bw:
      if (!__builtin_cpu_supports("avx512f")) return "CPU lacks avx512f";
      if (!__builtin_cpu_supports("avx512bw")) return "CPU lacks avx512bw";
      if (!__builtin_cpu_supports("avx512vl")) return "CPU lacks avx512vl";
      if (!__builtin_cpu_supports("avx2")) return "CPU lacks avx2";
      return "";
    default:
      return "";
  }
#elif defined(__arm__)
  // 32-bit ARM: NEON is optional (absent on some Cortex-A9/R and VFP-only cores); the kernel
  // tells user space through the auxiliary vector.
  if (isa != Isa::kNeon) return "";
#if defined(__linux__)
  if ((getauxval(AT_HWCAP) & HWCAP_NEON) == 0) return "CPU lacks neon";
  return "";
#else
  return "cannot detect neon on this operating system";
#endif
#else
  (void)isa;
  return "";
#endif
}

}  // namespace

std::string IsaUnavailableReason(Isa isa) {
  if (isa == Isa::kBest || isa == Isa::kPortable) return "";
  if (!VariantCompiled(isa)) {
    return std::string(IsaName(isa)) + " variant not compiled into this build (architecture " +
           "or compiler flags)";
  }
  return CpuMissing(isa);
}

Isa DetectBestIsa() {
  for (Isa isa : {Isa::kAvx512Vpopcnt, Isa::kAvx512Bw, Isa::kAvx2, Isa::kNeon}) {
    if (IsaAvailable(isa)) return isa;
  }
  return Isa::kPortable;
}

Result<Isa> ResolveIsa(Isa requested) {
  if (requested == Isa::kBest) {
    const char* env = std::getenv("XBNN_ISA");
    if (env == nullptr || *env == '\0') return DetectBestIsa();
    Result<Isa> forced = ParseIsa(env);
    if (!forced.ok()) return forced.status().Prefixed("XBNN_ISA: ");
    if (*forced == Isa::kBest) return DetectBestIsa();
    requested = *forced;
  }
  std::string missing = IsaUnavailableReason(requested);
  if (!missing.empty()) {
    return Status::Error(std::string("instruction set ") + IsaName(requested) +
                         " unavailable: " + missing);
  }
  return requested;
}

}  // namespace xbnn::kernels::optimized
