// The op registry: one line per operator implementation.
#include <array>

#include "kernels/builtin/builtin_ops.h"
#include "kernels/lce/lce_ops.h"
#include "runtime/op_kernel.h"

namespace xbnn::runtime {
namespace {

namespace op = graph::op;

constexpr KernelRegistration kRegistry[] = {
    // Larq Compute Engine custom operators.
    {op::kCustom, "LceQuantize", 1, kernels::CreateLceQuantize},
    {op::kCustom, "LceDequantize", 1, kernels::CreateLceDequantize},
    {op::kCustom, "LceBconv2d", 1, kernels::CreateLceBconv2d},
    {op::kCustom, "LceBMaxPool2d", 1, kernels::CreateLceBMaxPool2d},
// TFLite builtin operators.
#include "kernels/builtin/registrations.inc"
};

}  // namespace

std::span<const KernelRegistration> AllKernels() { return kRegistry; }

const KernelRegistration* FindKernel(const graph::OperatorCode& code, std::string* why) {
  bool name_known = false;
  int max_version = 0;
  for (const KernelRegistration& r : kRegistry) {
    bool match = code.builtin == op::kCustom
                     ? (r.builtin == op::kCustom && code.custom_code == r.custom_code)
                     : r.builtin == code.builtin;
    if (!match) continue;
    name_known = true;
    max_version = std::max(max_version, r.max_version);
    if (code.version <= r.max_version) return &r;
  }
  std::string name = code.builtin == op::kCustom ? code.custom_code : graph::BuiltinOpName(code.builtin);
  if (name_known) {
    *why = "operator " + name + " version " + std::to_string(code.version) +
           " is not supported (xbnn implements up to version " + std::to_string(max_version) + ")";
  } else {
    *why = (code.builtin == op::kCustom ? "custom operator " : "operator ") + name + " is not supported";
  }
  return nullptr;
}

}  // namespace xbnn::runtime
