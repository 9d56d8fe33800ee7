// The patterns runtime/fusion.cc looks for, op by op.
#include "runtime/fusion_rules.h"

#include <algorithm>
#include <cstring>

#include "graph/lce_options.h"
#include "kernels/binary/binary_ops.h"
#include "kernels/builtin/common.h"
#include "kernels/builtin/conv_direct.h"

namespace xbnn::runtime {

using graph::DType;

using graph::DType;

// `packed` has the shape and type of LceQuantize's output for input `x`.
bool PacksOf(const RuntimeTensor& x, const RuntimeTensor& packed) {
  std::vector<int32_t> expected = x.dims;
  if (expected.empty()) return false;
  expected.back() = kernels::PackedWords(expected.back());
  return packed.type() == DType::kInt32 && packed.dims == expected && !packed.constant;
}

// One value, or one per channel of the last of `dims` (all other dimensions 1).
bool IsPerChannelOrScalar(const RuntimeTensor& k, const std::vector<int32_t>& dims) {
  int64_t elements = 1;
  for (int32_t d : k.dims) elements *= d;
  for (size_t i = 0; i + 1 < k.dims.size(); ++i) {
    if (k.dims[i] != 1) return false;
  }
  return elements == 1 || (k.dims.size() <= dims.size() && elements == dims.back());
}

// A float ADD, SUB or MUL of the float tensor `x` and a constant of one value or one per channel
// of x's last dimension, or a PRELU of x with such a constant slope, writing a float tensor of
// x's shape (an op a fused pooling can run row by row before or after pooling; the kernel checks
// it again at Prepare).
bool IsRowOp(const graph::Graph& g, const graph::Operator& op, int32_t x,
             const std::vector<RuntimeTensor>& tensors) {
  const int32_t code = g.CodeOf(op).builtin;
  if (code != graph::op::kAdd && code != graph::op::kSub && code != graph::op::kMul &&
      code != graph::op::kPrelu)
    return false;
  if (op.inputs.size() != 2 || op.outputs.size() != 1 || op.outputs[0] < 0) return false;
  if ((op.inputs[0] == x) == (op.inputs[1] == x)) return false;
  if (code == graph::op::kPrelu && op.inputs[0] != x) return false;
  const int32_t c = op.inputs[0] == x ? op.inputs[1] : op.inputs[0];
  if (c < 0) return false;
  const RuntimeTensor& k = tensors[c];
  const RuntimeTensor& out = tensors[op.outputs[0]];
  if (!k.constant || !IsFloat(k) || !IsFloat(out) || out.constant || out.dims != tensors[x].dims ||
      tensors[x].dims.empty())
    return false;
  const int64_t act = op.builtin_options.GetInt("fused_activation_function", 0);
  if (act < 0 || act > 3) return false;
  return IsPerChannelOrScalar(k, tensors[x].dims);
}

// The float elementwise ops a chain runs (ChainFusion).
bool IsChainOp(const graph::Graph& g, const graph::Operator& op) {
  const int32_t code = g.CodeOf(op).builtin;
  return code == graph::op::kAdd || code == graph::op::kSub || code == graph::op::kMul ||
         code == graph::op::kDiv || code == graph::op::kMaximum || code == graph::op::kMinimum ||
         code == graph::op::kPrelu;
}

// A float operand a chain can read row by row against an output of `dims`: the same shape, one
// value per channel (all dimensions 1 but the last) or one value.
bool IsRowOperand(const RuntimeTensor& k, const std::vector<int32_t>& dims) {
  if (!IsFloat(k) || dims.empty()) return false;
  return k.dims == dims || IsPerChannelOrScalar(k, dims);
}

// Op `op` of a chain whose value so far is `x`: x is one of its two inputs, the other a row
// operand that exists before op `first` runs; the output a float tensor of x's shape.
bool ExtendsChain(const graph::Graph& g, const graph::Operator& op, int32_t x, int first,
                  const std::vector<RuntimeTensor>& tensors, const std::vector<int>& producer) {
  if (!IsChainOp(g, op) || op.inputs.size() != 2 || op.outputs.size() != 1 || op.outputs[0] < 0)
    return false;
  if ((op.inputs[0] == x) == (op.inputs[1] == x)) return false;
  const int32_t k = op.inputs[0] == x ? op.inputs[1] : op.inputs[0];
  if (k < 0) return false;
  const RuntimeTensor& out = tensors[op.outputs[0]];
  if (!IsFloat(out) || out.constant || out.dims != tensors[x].dims) return false;
  if (!tensors[k].constant && producer[k] >= first) return false;
  const int64_t act = op.builtin_options.GetInt("fused_activation_function", 0);
  if (act < 0 || act > 3) return false;
  return IsRowOperand(tensors[k], tensors[x].dims);
}

// A float PAD or PADV2 of the last axis only, with +0.0 (bitwise), from a float tensor of the
// same rank.
bool PadsLastAxisWithZeros(const graph::Graph& g, const graph::Operator& op,
                           const std::vector<RuntimeTensor>& tensors) {
  const int32_t code = g.CodeOf(op).builtin;
  if (code != graph::op::kPad && code != graph::op::kPadV2) return false;
  if (op.inputs.size() < 2 || op.outputs.size() != 1 || op.inputs[0] < 0 || op.inputs[1] < 0 ||
      op.outputs[0] < 0)
    return false;
  const RuntimeTensor& x = tensors[op.inputs[0]];
  const RuntimeTensor& p = tensors[op.inputs[1]];
  const RuntimeTensor& y = tensors[op.outputs[0]];
  const size_t rank = x.dims.size();
  if (!IsFloat(x) || !IsFloat(y) || y.constant || rank == 0 || y.dims.size() != rank) return false;
  if (!p.constant || !p.data || p.type() != DType::kInt32 ||
      p.dims != std::vector<int32_t>{static_cast<int32_t>(rank), 2})
    return false;
  const int32_t* a = p.as<int32_t>();
  for (size_t d = 0; d + 1 < rank; ++d) {
    if (a[2 * d] != 0 || a[2 * d + 1] != 0 || x.dims[d] != y.dims[d]) return false;
  }
  if (a[2 * rank - 2] < 0 || a[2 * rank - 1] < 0 ||
      int64_t{x.dims.back()} + a[2 * rank - 2] + a[2 * rank - 1] != y.dims.back())
    return false;
  if (code == graph::op::kPadV2 && op.inputs.size() > 2 && op.inputs[2] >= 0) {
    const RuntimeTensor& v = tensors[op.inputs[2]];
    if (!v.constant || !v.data || !IsFloat(v) || v.bytes != 4) return false;
    uint32_t bits = 1;
    std::memcpy(&bits, v.data, 4);
    if (bits != 0) return false;
  }
  return true;
}

// A float CONCATENATION of float tensors of at least `min_part` channels along the last axis,
// without activation, into a float tensor of rank >= 1.
bool ConcatenatesLastAxis(const graph::Graph& g, const graph::Operator& op,
                          const std::vector<RuntimeTensor>& tensors, int32_t min_part) {
  if (g.CodeOf(op).builtin != graph::op::kConcatenation || op.inputs.empty() ||
      op.outputs.size() != 1 || op.outputs[0] < 0)
    return false;
  const RuntimeTensor& y = tensors[op.outputs[0]];
  const auto rank = static_cast<int64_t>(y.dims.size());
  if (!IsFloat(y) || y.constant || rank == 0) return false;
  if (op.builtin_options.GetInt("fused_activation_function", 0) != 0) return false;
  const int64_t axis = op.builtin_options.GetInt("axis", 0);
  if (axis != rank - 1 && axis != -1) return false;
  int64_t channels = 0;
  for (int32_t t : op.inputs) {
    if (t < 0) return false;
    const RuntimeTensor& x = tensors[t];
    if (!IsFloat(x) || x.dims.size() != y.dims.size()) return false;
    // Narrower parts are read row by row in short vector runs: MeliusNet's stem concatenates
    // four and eight 8-channel convolutions, and its batch norms ran 1.01-1.08x slower than the
    // concatenation and the batch norm on the concatenated rows.
    if (x.dims.back() < min_part) return false;
    if (!std::equal(x.dims.begin(), x.dims.end() - 1, y.dims.begin())) return false;
    channels += x.dims.back();
  }
  return channels == y.dims.back();
}

// A float elementwise op that can read its input `x` (a concatenation) from its parts: ADD, SUB,
// MUL, DIV, MAXIMUM or MINIMUM reading x once against a row operand of x's shape (the kernel
// checks it again at Prepare).
bool ReadsInPlace(const graph::Graph& g, const graph::Operator& op, int32_t x,
                  const std::vector<RuntimeTensor>& tensors) {
  if (!IsChainOp(g, op) || g.CodeOf(op).builtin == graph::op::kPrelu || op.inputs.size() != 2 ||
      op.outputs.size() != 1 || op.outputs[0] < 0)
    return false;
  if ((op.inputs[0] == x) == (op.inputs[1] == x)) return false;
  const int32_t k = op.inputs[0] == x ? op.inputs[1] : op.inputs[0];
  if (k < 0) return false;
  const RuntimeTensor& out = tensors[op.outputs[0]];
  if (!IsFloat(out) || out.dims != tensors[x].dims) return false;
  const int64_t act = op.builtin_options.GetInt("fused_activation_function", 0);
  if (act < 0 || act > 3) return false;
  return IsRowOperand(tensors[k], tensors[x].dims);
}

// A CONV_2D of the float tensor `x` (no other input is x) with a constant float filter whose
// depth is x's channels and an optional constant bias, writing a float rank-4 tensor, that runs
// on the 8-channel direct kernels (GroupConvFusion).
bool IsGroupConv(const graph::Graph& g, const graph::Operator& op, int32_t x,
                 const std::vector<RuntimeTensor>& tensors) {
  if (g.CodeOf(op).builtin != graph::op::kConv2D || op.inputs.size() < 2 || op.inputs.size() > 3 ||
      op.outputs.size() != 1 || op.outputs[0] < 0 || op.inputs[0] != x)
    return false;
  const RuntimeTensor& f = tensors[static_cast<size_t>(op.inputs[1])];
  if (op.inputs[1] < 0 || !f.constant || !IsFloat(f) || f.dims.size() != 4) return false;
  if (op.inputs.size() == 3 && op.inputs[2] >= 0) {
    const RuntimeTensor& b = tensors[static_cast<size_t>(op.inputs[2])];
    if (!b.constant || !IsFloat(b)) return false;
  }
  const RuntimeTensor& y = tensors[static_cast<size_t>(op.outputs[0])];
  if (!IsFloat(y) || y.constant || y.dims.size() != 4 || f.dims[3] != tensors[x].dims[3])
    return false;
  const auto& o = op.builtin_options;
  return kernels::builtin::DirectConvF32::RunsEightChannelRows(
      f.dims[3], f.dims[0], f.dims[1], f.dims[2], static_cast<int>(o.GetInt("stride_h", 1)),
      static_cast<int>(o.GetInt("stride_w", 1)), static_cast<int>(o.GetInt("dilation_h_factor", 1)),
      static_cast<int>(o.GetInt("dilation_w_factor", 1)));
}

// The same geometry: filter shape, strides, dilations and padding.
bool SameConv(const graph::Operator& a, const graph::Operator& b,
              const std::vector<RuntimeTensor>& tensors) {
  for (const char* k :
       {"stride_h", "stride_w", "dilation_h_factor", "dilation_w_factor", "padding"}) {
    if (a.builtin_options.GetInt(k, 1) != b.builtin_options.GetInt(k, 1)) return false;
  }
  return tensors[static_cast<size_t>(a.inputs[1])].dims ==
         tensors[static_cast<size_t>(b.inputs[1])].dims;
}

// ChainBits (fusion.h): the chains whose bits can be computed part by part, then each part's jobs
// at the first of them that reads it.
void PlanChainBits(const graph::Graph& g, const graph::Subgraph& sg,
                   const std::vector<RuntimeTensor>& tensors,
                   const std::vector<std::vector<int>>& readers, FusionPlan& plan) {
  auto is_output = [&](int32_t t) {
    return std::find(sg.outputs.begin(), sg.outputs.end(), t) != sg.outputs.end();
  };
  auto constant_row = [&](int32_t k, const std::vector<int32_t>& dims) {
    return k >= 0 && tensors[k].constant && tensors[k].data && IsFloat(tensors[k]) &&
           IsPerChannelOrScalar(tensors[k], dims);
  };
  std::vector<std::vector<std::pair<int32_t, int64_t>>> parts_of;  // per bits chain
  for (size_t ci = 0; ci < plan.chains.size(); ++ci) {
    const ChainFusion& f = plan.chains[ci];
    if (f.quantize < 0) continue;
    const graph::Operator& first = sg.operators[f.first];
    const int32_t code = g.CodeOf(first).builtin;
    if (code != graph::op::kAdd && code != graph::op::kSub && code != graph::op::kMul &&
        code != graph::op::kDiv)
      continue;
    const int32_t last =
        f.after.empty() ? first.outputs[0] : sg.operators[f.after.back()].outputs[0];
    if (readers[last].size() != 1 || readers[last][0] != f.quantize || is_output(last)) continue;
    const std::vector<int32_t>& dims = tensors[first.outputs[0]].dims;
    const bool k_first = constant_row(first.inputs[0], dims);
    const int32_t x = first.inputs[k_first ? 1 : 0];
    if (!constant_row(first.inputs[k_first ? 0 : 1], dims) || tensors[x].constant ||
        tensors[x].dims != dims)
      continue;
    bool ok = std::none_of(plan.pad_adds.begin(), plan.pad_adds.end(),
                           [&](const PadAddFusion& p) { return p.add == f.first; });
    int32_t v = first.outputs[0];
    for (int k : f.after) {
      const graph::Operator& op = sg.operators[k];
      ok = ok && constant_row(op.inputs[op.inputs[0] == v ? 1 : 0], dims);
      v = op.outputs[0];
    }
    if (!ok) continue;
    // The input's parts: a concatenation read in place, or the tensor itself.
    std::vector<int32_t> parts{x};
    for (const ConcatFusion& c : plan.concats) {
      if (c.out == x && std::find(c.readers.begin(), c.readers.end(), f.first) != c.readers.end())
        parts = c.parts;
    }
    std::vector<std::pair<int32_t, int64_t>> placed;
    int64_t offset = 0;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      const int64_t n = tensors[parts[i]].dims.empty() ? 0 : tensors[parts[i]].dims.back();
      // Whole packed words per part (the last may end inside one).
      ok = offset % 32 == 0 && (n % 32 == 0 || i + 1 == parts.size());
      placed.emplace_back(parts[i], offset);
      offset += n;
    }
    if (!ok || offset != dims.back()) continue;
    plan.bits_chains.push_back(static_cast<int>(ci));
    parts_of.push_back(std::move(placed));
  }
  // Each part's jobs at the first bits chain (in op order) that reads it.
  std::vector<int> owner(tensors.size(), -1);  // per part: index into chain_bits
  for (size_t j = 0; j < plan.bits_chains.size(); ++j) {
    const int ci = plan.bits_chains[j];
    for (const auto& [t, offset] : parts_of[j]) {
      if (owner[t] < 0) {
        owner[t] = static_cast<int>(plan.chain_bits.size());
        plan.chain_bits.push_back({plan.chains[ci].first, {}});
      }
      plan.chain_bits[static_cast<size_t>(owner[t])].jobs.push_back({t, offset, ci});
    }
  }
}

}  // namespace xbnn::runtime
