#include "kernels/binary/optimized/isa.h"

#include <cstdlib>
#include <iterator>
#include <string_view>

#if defined(__arm__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include "kernels/binary/optimized/bconv_amx.h"
#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kBest: return "best";
#define XBNN_ISA(e, name, ...) \
  case Isa::e:                 \
    return name;
#include "kernels/binary/optimized/isa_table.inc"
#undef XBNN_ISA
  }
  return "unknown";
}

Result<Isa> ParseIsa(const std::string& name) {
  std::string names;
  for (Isa isa : kAllIsas) {
    if (name == IsaName(isa)) return isa;
    names += std::string(names.empty() ? "" : ", ") + IsaName(isa);
  }
  if (name == IsaName(Isa::kBest)) return Isa::kBest;
  return Status::Error("unknown instruction set '" + name + "' (expected " + names + " or best)");
}

namespace {

#if defined(__aarch64__) || defined(__arm__)
// The ARM features the table's rows may name.
bool ArmCpuHas(std::string_view feature) {
  if (feature != "neon") return false;
#if defined(__aarch64__)
  return true;  // Advanced SIMD is part of AArch64
#elif defined(__linux__)
  // 32-bit ARM: NEON is optional (absent on some Cortex-A9/R and VFP-only cores); the kernel
  // tells user space through the auxiliary vector.
  return (getauxval(AT_HWCAP) & HWCAP_NEON) != 0;
#else
  return false;
#endif
}
#endif

// What the CPU lacks of what a variant needs (the table's cpu column), checked on the
// architecture its kernel files are built for; "" when nothing.
std::string CpuMissing(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // __builtin_cpu_supports takes string literals only, hence a macro.
#define XBNN_CPU(feature) \
  if (!__builtin_cpu_supports(feature)) return "CPU lacks " feature;
#define XBNN_CPU_AMX_INT8 \
  if (!AmxUsable(kAmxInt8)) return "CPU lacks amx-int8 (or the OS does not grant its tile state)";
#else
#define XBNN_CPU_AMX_INT8 return "CPU lacks amx-int8";
#define XBNN_CPU(feature) \
  if (!ArmCpuHas(feature)) return std::string("CPU lacks ") + feature;
#endif
  switch (isa) {
#define XBNN_ISA(e, name, arch, cpu, ...) \
  case Isa::e:                            \
    XBNN_ON_##arch(cpu) break;
#include "kernels/binary/optimized/isa_table.inc"
#undef XBNN_ISA
    case Isa::kBest:
      break;
  }
#undef XBNN_CPU
#undef XBNN_CPU_AMX_INT8
  return "";
}

}  // namespace

std::string IsaUnavailableReason(Isa isa) {
  if (isa == Isa::kBest) return "";
  if (!VariantCompiled(isa)) {
    return std::string(IsaName(isa)) + " variant not compiled into this build (architecture " +
           "or compiler flags)";
  }
  return CpuMissing(isa);
}

Isa DetectBestIsa() {
  for (auto it = std::rbegin(kAllIsas); it != std::rend(kAllIsas); ++it) {
    if (IsaAvailable(*it)) return *it;
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
