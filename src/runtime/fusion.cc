#include "runtime/fusion.h"

#include <algorithm>
#include <cstring>

#include "graph/lce_options.h"
#include "kernels/binary/binary_ops.h"
#include "kernels/builtin/common.h"
#include "kernels/builtin/conv_direct.h"

namespace xbnn::runtime {
namespace {

using graph::DType;

bool IsFloat(const RuntimeTensor& t) { return t.type() == DType::kFloat32; }

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

constexpr int32_t kMinConcatPart = 16;  // channels, see ConcatenatesLastAxis

// A float CONCATENATION of float tensors of at least `min_part` channels along the last axis,
// without activation, into a float tensor of rank >= 1.
bool ConcatenatesLastAxis(const graph::Graph& g, const graph::Operator& op,
                          const std::vector<RuntimeTensor>& tensors,
                          int32_t min_part = kMinConcatPart) {
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

}  // namespace

FusionPlan PlanFusions(const graph::Graph& g, const graph::Subgraph& sg,
                       const std::vector<RuntimeTensor>& tensors, const std::vector<bool>& skip) {
  const int n_ops = static_cast<int>(sg.operators.size());
  const size_t n = tensors.size();
  FusionPlan plan;
  plan.host.assign(static_cast<size_t>(n_ops), -1);
  // Readers of every tensor (an op reading a tensor twice counts twice), and its producer.
  std::vector<std::vector<int>> readers(n);
  std::vector<int> producer(n, -1);
  for (int i = 0; i < n_ops; ++i) {
    if (skip[i]) continue;
    for (int32_t t : sg.operators[i].inputs) {
      if (t >= 0 && static_cast<size_t>(t) < n) readers[t].push_back(i);
    }
    for (int32_t t : sg.operators[i].outputs) {
      if (t >= 0 && static_cast<size_t>(t) < n) producer[t] = i;
    }
  }
  auto is_output = [&](int32_t t) {
    return std::find(sg.outputs.begin(), sg.outputs.end(), t) != sg.outputs.end();
  };
  auto only_reader = [&](int32_t t) {
    return readers[t].size() == 1 && !is_output(t) ? readers[t][0] : -1;
  };
  // The same when it comes after op `at`: walks along readers then end even in a malformed
  // graph whose ops read their own outputs (the interpreter rejects it after planning).
  auto reader_after = [&](int32_t t, int at) {
    const int k = only_reader(t);
    return k > at ? k : -1;
  };

  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& conv = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || !g.IsCustom(conv, graph::kLceBconv2d)) continue;
    if (conv.outputs.size() != 1 || conv.inputs.size() < 2 || conv.inputs[0] < 0 ||
        conv.inputs[1] < 0)
      continue;
    const int32_t y = conv.outputs[0];
    const RuntimeTensor& in = tensors[conv.inputs[0]];
    const RuntimeTensor& filter = tensors[conv.inputs[1]];
    // Float output of an ungrouped convolution (its output channel tiles start on packed words).
    if (!IsFloat(tensors[y]) || in.rank() != 4 || filter.rank() != 4 || filter.dim(3) != in.dim(3))
      continue;
    const int j = only_reader(y);
    if (j < 0) continue;
    const graph::Operator& add = sg.operators[j];
    if (g.CodeOf(add).builtin != graph::op::kAdd || add.inputs.size() != 2 ||
        add.outputs.size() != 1)
      continue;
    const bool first = add.inputs[1] == y;
    const int32_t r = first ? add.inputs[0] : add.inputs[1];
    const int32_t z = add.outputs[0];
    if (r < 0 || r == y || z < 0 || tensors[z].constant) continue;
    if (!IsFloat(tensors[r]) || !IsFloat(tensors[z])) continue;
    if (tensors[r].dims != tensors[y].dims || tensors[z].dims != tensors[y].dims) continue;
    // The residual must exist when the convolution runs.
    if (producer[r] >= i) continue;
    const int64_t act = add.builtin_options.GetInt("fused_activation_function", 0);
    if (act < 0 || act > 3) continue;  // the ADD's Prepare reports it
    BconvFusion f;
    f.bconv = i;
    f.add = j;
    f.conv_out = y;
    f.residual = r;
    f.residual_first = first;
    f.sum = z;
    kernels::builtin::FloatActivationRange(static_cast<kernels::builtin::Activation>(act), &f.min,
                                           &f.max);
    int other_readers = static_cast<int>(readers[z].size());
    for (int k : readers[z]) {
      const graph::Operator& q = sg.operators[k];
      if (plan.host[k] >= 0 || !g.IsCustom(q, graph::kLceQuantize) || q.inputs.size() != 1 ||
          q.outputs.size() != 1) {
        continue;
      }
      if (!PacksOf(tensors[z], tensors[q.outputs[0]])) continue;
      f.quantize = k;
      f.packed = q.outputs[0];
      --other_readers;
      break;
    }
    f.sum_read = other_readers > 0 || is_output(z);
    plan.host[j] = i;
    if (f.quantize >= 0) plan.host[f.quantize] = i;
    plan.fusions.push_back(f);
  }

  // SPLIT -> CONV_2D per part -> CONCATENATION: one grouped convolution.
  std::vector<int32_t> group_out(static_cast<size_t>(n_ops), -1);  // per host: its output
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& split = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || g.CodeOf(split).builtin != graph::op::kSplit ||
        split.inputs.size() != 2 || split.inputs[0] < 0 || split.inputs[1] < 0 ||
        split.outputs.size() < 2)
      continue;
    const RuntimeTensor& axis = tensors[static_cast<size_t>(split.inputs[0])];
    const int32_t x = split.inputs[1];
    if (!axis.constant || !axis.data || axis.type() != DType::kInt32 || axis.bytes != 4 ||
        !IsFloat(tensors[x]) || tensors[x].dims.size() != 4)
      continue;
    const int32_t a = axis.as<int32_t>()[0];
    if (a != 3 && a != -1) continue;
    GroupConvFusion f;
    f.split = i;
    f.in = x;
    int concat = -1;
    bool ok = true;
    for (int32_t part : split.outputs) {
      const int c = part >= 0 ? reader_after(part, i) : -1;
      if (c < 0 || plan.host[c] >= 0 || !IsGroupConv(g, sg.operators[c], part, tensors) ||
          (!f.convs.empty() && !SameConv(sg.operators[f.convs[0]], sg.operators[c], tensors))) {
        ok = false;
        break;
      }
      const int32_t y = sg.operators[c].outputs[0];
      const int k = reader_after(y, c);
      if (k < 0 || (concat >= 0 && k != concat)) {
        ok = false;
        break;
      }
      concat = k;
      f.convs.push_back(c);
      f.elided.push_back(part);
      f.elided.push_back(y);
    }
    if (!ok || concat < 0 || plan.host[concat] >= 0 ||
        !ConcatenatesLastAxis(g, sg.operators[concat], tensors, 1) ||
        sg.operators[concat].inputs.size() != split.outputs.size())
      continue;
    for (size_t k = 0; k < f.convs.size() && ok; ++k) {
      ok = sg.operators[concat].inputs[k] == sg.operators[f.convs[k]].outputs[0];
    }
    if (!ok || tensors[sg.operators[concat].outputs[0]].dims.size() != 4) continue;
    f.concat = concat;
    f.out = sg.operators[concat].outputs[0];
    const int host = f.host();
    plan.host[i] = host;
    plan.host[concat] = host;
    for (int c : f.convs) {
      if (c != host) plan.host[c] = host;
    }
    group_out[static_cast<size_t>(host)] = f.out;
    plan.groups.push_back(std::move(f));
  }

  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& conv = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || g.CodeOf(conv).builtin != graph::op::kConv2D ||
        conv.outputs.size() != 1 || conv.outputs[0] < 0)
      continue;
    // (A grouped convolution's host writes the concatenation.)
    const int32_t y = group_out[static_cast<size_t>(i)] >= 0 ? group_out[static_cast<size_t>(i)]
                                                             : conv.outputs[0];
    if (!IsFloat(tensors[y]) || tensors[y].rank() != 4) continue;
    // An LceQuantize of `x` among its readers that no fusion took yet, or -1.
    auto quantize_of = [&](int32_t x) {
      for (int k : readers[x]) {
        const graph::Operator& q = sg.operators[k];
        if (plan.host[k] < 0 && g.IsCustom(q, graph::kLceQuantize) && q.inputs.size() == 1 &&
            q.outputs.size() == 1 && q.outputs[0] >= 0 &&
            PacksOf(tensors[x], tensors[q.outputs[0]]))
          return k;
      }
      return -1;
    };
    // Row ops between the convolution and a pooling, each the only reader of the one before.
    std::vector<int> before;
    std::vector<int32_t> elided;
    int32_t pooled_in = y;
    int only = reader_after(y, i);
    while (only >= 0 && plan.host[only] < 0 && IsRowOp(g, sg.operators[only], pooled_in, tensors)) {
      before.push_back(only);
      pooled_in = sg.operators[only].outputs[0];
      elided.push_back(pooled_in);
      only = reader_after(pooled_in, only);
    }
    if (only >= 0 && plan.host[only] < 0 &&
        g.CodeOf(sg.operators[only]).builtin == graph::op::kMaxPool2D) {
      const graph::Operator& pool = sg.operators[only];
      if (pool.inputs.size() == 1 && pool.outputs.size() == 1 && pool.outputs[0] >= 0 &&
          IsFloat(tensors[pool.outputs[0]])) {
        plan.host[only] = i;
        PoolFusion f;
        f.conv = i;
        f.pool = only;
        f.before = before;
        f.elided = elided;
        for (int k : before) plan.host[k] = i;
        int32_t x = pool.outputs[0];
        for (int k = reader_after(x, only);
             k >= 0 && plan.host[k] < 0 && IsRowOp(g, sg.operators[k], x, tensors);
             k = reader_after(x, k)) {
          plan.host[k] = i;
          f.after.push_back(k);
          x = sg.operators[k].outputs[0];
        }
        f.quantize = quantize_of(x);
        if (f.quantize >= 0) {
          plan.host[f.quantize] = i;
          f.packed = sg.operators[f.quantize].outputs[0];
        }
        plan.pools.push_back(f);
        continue;
      }
    }
    const int k = quantize_of(y);
    if (k >= 0) {
      plan.host[k] = i;
      plan.quantizes.push_back({i, k, sg.operators[k].outputs[0]});
    }
  }

  // Elementwise chains, from ops no other fusion took. The first op's operands must be row
  // operands too (its kernel splits the output into rows).
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& op = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || !IsChainOp(g, op) || op.inputs.size() != 2 ||
        op.outputs.size() != 1 || op.outputs[0] < 0 || op.inputs[0] < 0 || op.inputs[1] < 0)
      continue;
    int32_t x = op.outputs[0];
    const RuntimeTensor& y = tensors[x];
    if (!IsFloat(y) || y.constant || y.dims.empty() ||
        !IsRowOperand(tensors[op.inputs[0]], y.dims) ||
        !IsRowOperand(tensors[op.inputs[1]], y.dims))
      continue;
    const int64_t act = op.builtin_options.GetInt("fused_activation_function", 0);
    if (act < 0 || act > 3) continue;
    ChainFusion f;
    f.first = i;
    // Consecutive ops only: the last output and the LceQuantize's are then written when they
    // would have been, so no lifetime grows and the arena does not either.
    auto next = [&](int32_t t) {
      const int k = only_reader(t);
      return k == i + static_cast<int>(f.after.size()) + 1 ? k : -1;
    };
    for (int k = next(x);
         k >= 0 && plan.host[k] < 0 && ExtendsChain(g, sg.operators[k], x, i, tensors, producer);
         k = next(x)) {
      f.elided.push_back(x);
      f.after.push_back(k);
      x = sg.operators[k].outputs[0];
    }
    for (int k : readers[x]) {
      const graph::Operator& q = sg.operators[k];
      if (k == i + static_cast<int>(f.after.size()) + 1 && plan.host[k] < 0 &&
          g.IsCustom(q, graph::kLceQuantize) && q.inputs.size() == 1 && q.outputs.size() == 1 &&
          q.outputs[0] >= 0 && PacksOf(tensors[x], tensors[q.outputs[0]])) {
        f.quantize = k;
        f.packed = q.outputs[0];
        break;
      }
    }
    if (f.after.empty() && f.quantize < 0) continue;
    for (int k : f.after) plan.host[k] = i;
    if (f.quantize >= 0) plan.host[f.quantize] = i;
    plan.chains.push_back(std::move(f));
  }

  // PAD -> ADD (the ADD on its own or first in a chain).
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& pad = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || !PadsLastAxisWithZeros(g, pad, tensors)) continue;
    const int32_t y = pad.outputs[0];
    const int a = only_reader(y);
    if (a < 0 || plan.host[a] >= 0) continue;
    const graph::Operator& add = sg.operators[a];
    if (g.CodeOf(add).builtin != graph::op::kAdd || add.inputs.size() != 2 ||
        add.outputs.size() != 1 || add.outputs[0] < 0)
      continue;
    if ((add.inputs[0] == y) == (add.inputs[1] == y)) continue;
    const int32_t z = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
    if (z < 0 || !IsFloat(tensors[z]) || tensors[z].dims != tensors[y].dims ||
        tensors[add.outputs[0]].dims != tensors[y].dims || !IsFloat(tensors[add.outputs[0]]))
      continue;
    const int64_t act = add.builtin_options.GetInt("fused_activation_function", 0);
    if (act < 0 || act > 3) continue;
    plan.host[i] = a;
    plan.pad_adds.push_back({i, a, y});
  }

  // CONCATENATIONs read in place, last first: a concatenation's readers may be later ones.
  std::vector<int> concat_of(static_cast<size_t>(n_ops), -1);  // index into `found`
  std::vector<ConcatFusion> found;
  for (int i = n_ops - 1; i >= 0; --i) {
    const graph::Operator& op = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || !ConcatenatesLastAxis(g, op, tensors)) continue;
    const int32_t y = op.outputs[0];
    if (is_output(y) || readers[y].empty()) continue;
    ConcatFusion f;
    f.concat = i;
    f.out = y;
    bool ok = true;
    for (int k : readers[y]) {
      if (concat_of[k] >= 0) continue;  // (its parts include this one's)
      const graph::Operator& r = sg.operators[k];
      // (The other operand no concatenation: a reader reads one in place.)
      const int32_t other = r.inputs.size() == 2 ? r.inputs[r.inputs[0] == y ? 1 : 0] : -1;
      const bool other_concat =
          other >= 0 && producer[other] >= 0 &&
          g.CodeOf(sg.operators[producer[other]]).builtin == graph::op::kConcatenation;
      if (plan.host[k] >= 0 || other_concat || !ReadsInPlace(g, r, y, tensors)) {
        ok = false;
        break;
      }
      f.readers.push_back(k);
      f.end = std::max(f.end, k);
    }
    if (!ok) continue;
    // Run (that is, not run) at its first elementwise reader, or where the concatenation that
    // reads it is.
    int host = f.readers.empty() ? n_ops : *std::min_element(f.readers.begin(), f.readers.end());
    for (int k : readers[y]) {
      if (concat_of[k] >= 0) host = std::min(host, plan.host[k]);
    }
    plan.host[i] = host;
    concat_of[i] = static_cast<int>(found.size());
    found.push_back(std::move(f));
  }
  // Parts in op order, through the concatenations read in place.
  std::reverse(found.begin(), found.end());
  for (size_t j = 0; j < found.size(); ++j) {
    ConcatFusion& f = found[j];
    for (int32_t t : sg.operators[f.concat].inputs) {
      const int p = producer[t];
      if (p >= 0 && concat_of[p] >= 0) {
        const ConcatFusion& inner = found[found.size() - 1 - static_cast<size_t>(concat_of[p])];
        f.parts.insert(f.parts.end(), inner.parts.begin(), inner.parts.end());
      } else {
        f.parts.push_back(t);
      }
    }
  }
  plan.concats = std::move(found);
  return plan;
}

std::vector<int32_t> PlanInPlaceSums(const FusionPlan& plan,
                                     const std::vector<RuntimeTensor>& tensors,
                                     std::vector<int>& last) {
  std::vector<int32_t> home(tensors.size(), -1);
  // In op order, so that a chain of blocks (each sum the next block's residual) shares one buffer.
  for (const BconvFusion& f : plan.fusions) {
    const auto r = static_cast<size_t>(f.residual);
    const auto z = static_cast<size_t>(f.sum);
    if (!f.sum_read || tensors[r].constant || last[r] != f.bconv ||
        tensors[r].bytes != tensors[z].bytes) {
      continue;
    }
    const size_t root = home[r] >= 0 ? static_cast<size_t>(home[r]) : r;
    home[z] = static_cast<int32_t>(root);
    last[root] = std::max(last[root], last[z]);
  }
  return home;
}

void AttachConvFusions(const FusionPlan& plan, std::vector<OpContext>& contexts,
                       std::vector<RuntimeTensor>& tensors) {
  for (const GroupConvFusion& f : plan.groups) {
    OpContext& c = contexts[f.host()];
    for (int k : f.convs) c.fused_group.push_back(&contexts[k]);
    c.fused_split = &contexts[f.split];
    c.fused_group_concat = &contexts[f.concat];
  }
  for (const QuantizeFusion& q : plan.quantizes) contexts[q.conv].fused_packed = &tensors[q.packed];
  for (const PoolFusion& f : plan.pools) {
    OpContext& c = contexts[f.conv];
    c.fused_pool = &contexts[f.pool];
    for (int k : f.before) c.fused_before_pool.push_back(&contexts[k]);
    for (int k : f.after) c.fused_after_pool.push_back(&contexts[k]);
    if (f.packed >= 0) c.fused_packed = &tensors[f.packed];
  }
  for (const ChainFusion& f : plan.chains) {
    OpContext& c = contexts[f.first];
    for (int k : f.after) c.fused_chain.push_back(&contexts[k]);
    if (f.packed >= 0) c.fused_packed = &tensors[f.packed];
  }
  for (const PadAddFusion& f : plan.pad_adds) contexts[f.add].fused_pad = &contexts[f.pad];
  for (const ConcatFusion& f : plan.concats) {
    for (int k : f.readers) {
      OpContext& c = contexts[k];
      c.fused_concat = &tensors[f.out];
      c.fused_concat_parts.clear();
      for (int32_t t : f.parts) c.fused_concat_parts.push_back(&tensors[t]);
    }
  }
}

}  // namespace xbnn::runtime
