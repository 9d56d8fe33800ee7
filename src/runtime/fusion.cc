#include "runtime/fusion.h"

#include <algorithm>

#include "graph/lce_options.h"
#include "kernels/binary/binary_ops.h"
#include "kernels/builtin/common.h"

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

  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& conv = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || g.CodeOf(conv).builtin != graph::op::kConv2D ||
        conv.outputs.size() != 1 || conv.outputs[0] < 0)
      continue;
    const int32_t y = conv.outputs[0];
    if (!IsFloat(tensors[y]) || tensors[y].rank() != 4) continue;
    const int only = only_reader(y);
    if (only >= 0 && plan.host[only] < 0 &&
        g.CodeOf(sg.operators[only]).builtin == graph::op::kMaxPool2D) {
      const graph::Operator& pool = sg.operators[only];
      if (pool.inputs.size() == 1 && pool.outputs.size() == 1 && pool.outputs[0] >= 0 &&
          IsFloat(tensors[pool.outputs[0]])) {
        plan.host[only] = i;
        plan.pools.push_back({i, only});
        continue;
      }
    }
    for (int k : readers[y]) {
      const graph::Operator& q = sg.operators[k];
      if (plan.host[k] >= 0 || !g.IsCustom(q, graph::kLceQuantize) || q.inputs.size() != 1 ||
          q.outputs.size() != 1 || q.outputs[0] < 0 || !PacksOf(tensors[y], tensors[q.outputs[0]]))
        continue;
      plan.host[k] = i;
      plan.quantizes.push_back({i, k, q.outputs[0]});
      break;
    }
  }
  return plan;
}

}  // namespace xbnn::runtime
