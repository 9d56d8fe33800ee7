// The op registry: one line per operator. Each OP(Name) refers to the OpDef kNameOp that the op's
// kernel file (src/kernels/builtin, src/kernels/lce) defines.
#include "ops/registry.h"

#include <algorithm>
#include <string_view>

// clang-format off
#define XBNN_OPS(OP)                                                                        \
  /* Larq Compute Engine custom operators (src/kernels/lce). */                             \
  OP(LceQuantize) OP(LceDequantize) OP(LceBconv2d) OP(LceBMaxPool2d)                         \
  /* TFLite builtin operators (src/kernels/builtin). */                                     \
  OP(Conv2D)                                                                                \
  OP(DepthwiseConv2D)                                                                       \
  OP(FullyConnected)                                                                        \
  OP(Add)                                                                                   \
  OP(Sub)                                                                                   \
  OP(Mul)                                                                                   \
  OP(Div)                                                                                   \
  OP(Maximum)                                                                               \
  OP(Minimum)                                                                               \
  OP(MaxPool2D)                                                                             \
  OP(AveragePool2D)                                                                         \
  OP(Mean)                                                                                  \
  OP(Reshape)                                                                               \
  OP(Squeeze)                                                                               \
  OP(Concatenation)                                                                         \
  OP(Pad)                                                                                   \
  OP(PadV2)                                                                                 \
  OP(SpaceToBatchND)                                                                        \
  OP(BatchToSpaceND)                                                                        \
  OP(StridedSlice)                                                                          \
  OP(Gather)                                                                                \
  OP(Split)                                                                                 \
  OP(SplitV)                                                                                \
  OP(Pack)                                                                                  \
  OP(Transpose)                                                                             \
  OP(Shape)                                                                                 \
  OP(Softmax)                                                                               \
  OP(Relu)                                                                                  \
  OP(Relu6)                                                                                 \
  OP(ReluN1To1)                                                                             \
  OP(LeakyRelu)                                                                             \
  OP(Prelu)                                                                                 \
  OP(Logistic)                                                                              \
  OP(Tanh)                                                                                  \
  OP(HardSwish)                                                                             \
  OP(Sign)                                                                                  \
  OP(Abs)                                                                                   \
  OP(Round)                                                                                 \
  OP(Quantize)                                                                              \
  OP(Dequantize)                                                                            \
  OP(GreaterEqual)                                                                          \
  OP(Select)                                                                                \
  OP(SelectV2)
// clang-format on

namespace xbnn::kernels {
#define XBNN_DECLARE_OP(name) extern const ops::OpDef k##name##Op;
XBNN_OPS(XBNN_DECLARE_OP)
#undef XBNN_DECLARE_OP
}  // namespace xbnn::kernels

namespace xbnn::ops {
namespace {

#define XBNN_OP_ENTRY(name) &kernels::k##name##Op,
constexpr const OpDef* kOps[] = {XBNN_OPS(XBNN_OP_ENTRY)};
#undef XBNN_OP_ENTRY

bool Matches(const OpDef& d, const graph::OperatorCode& code) {
  if (d.builtin() != code.builtin) return false;
  return code.builtin != graph::op::kCustom ||
         code.custom_code == std::string_view(d.signature.custom_code);
}

const graph::Tensor* At(const graph::Subgraph& sg, const std::vector<int32_t>& list, size_t i) {
  if (i >= list.size() || list[i] < 0 || list[i] >= static_cast<int32_t>(sg.tensors.size()))
    return nullptr;
  return &sg.tensors[static_cast<size_t>(list[i])];
}

}  // namespace

std::span<const OpDef* const> AllOps() { return kOps; }

const OpDef* FindOp(const graph::OperatorCode& code) {
  for (const OpDef* d : kOps) {
    if (Matches(*d, code)) return d;
  }
  return nullptr;
}

const OpDef* FindKernel(const graph::OperatorCode& code, std::string* why) {
  const OpDef* d = FindOp(code);
  if (d && d->create && code.version <= d->max_version) return d;
  const std::string name =
      code.builtin == graph::op::kCustom ? code.custom_code : graph::BuiltinOpName(code.builtin);
  if (d && d->create) {
    *why = "operator " + name + " version " + std::to_string(code.version) +
           " is not supported (xbnn implements up to version " + std::to_string(d->max_version) +
           ")";
  } else {
    *why = (code.builtin == graph::op::kCustom ? "custom operator " : "operator ") + name +
           " is not supported";
  }
  return nullptr;
}

OpCost EstimateOpCost(const graph::Graph& g, const graph::Subgraph& sg, const graph::Operator& op,
                      const std::vector<std::vector<int32_t>>* shapes) {
  if (op.opcode_index >= g.operator_codes.size()) return {};
  const OpDef* d = FindOp(g.CodeOf(op));
  const graph::Tensor* in = At(sg, op.inputs, 0);
  const graph::Tensor* filter = At(sg, op.inputs, 1);
  const graph::Tensor* out = At(sg, op.outputs, 0);
  if (!d || !d->cost || !in || !filter || !out || filter->shape.size() < 2) return {};
  if (!shapes || shapes->size() != sg.tensors.size())
    return d->cost(CostQuery{g, sg, op, *in, *filter, *out});
  // Copies of the three tensors at the given shapes (the rules read only types and shapes).
  auto at = [&](const graph::Tensor* t) {
    graph::Tensor c = *t;
    c.shape = (*shapes)[static_cast<size_t>(t - sg.tensors.data())];
    return c;
  };
  const graph::Tensor in_c = at(in), filter_c = at(filter), out_c = at(out);
  if (filter_c.shape.size() < 2) return {};
  return d->cost(CostQuery{g, sg, op, in_c, filter_c, out_c});
}

}  // namespace xbnn::ops

namespace xbnn::graph {

const OpSignature* FindOpSignature(const OperatorCode& code) {
  const ops::OpDef* d = ops::FindOp(code);
  return d ? &d->signature : nullptr;
}

}  // namespace xbnn::graph
