#include "graph/cost.h"

#include <algorithm>
#include <set>

#include "graph/lce_options.h"

namespace xbnn::graph {

int64_t TensorBytes(const Tensor& t) { return t.NumElements() * std::max(DTypeSize(t.type), 1); }

bool IsConstant(const Graph& g, const Tensor& t) {
  return t.buffer != 0 && t.buffer < g.buffers.size() && !g.buffers[t.buffer].empty();
}

bool IsConstantTensor(const Graph& g, const Subgraph& sg, int32_t t) {
  if (t < 0 || static_cast<size_t>(t) >= sg.tensors.size() ||
      std::find(sg.inputs.begin(), sg.inputs.end(), t) != sg.inputs.end())
    return false;
  const Tensor& x = sg.tensors[static_cast<size_t>(t)];
  if (IsConstant(g, x)) return true;
  // A tensor of zero elements that no op writes: a converter writes no bytes for an empty
  // constant (GATHER's indices, a RESHAPE to a scalar's shape), and TFLite runs it as one.
  if (std::find(x.shape.begin(), x.shape.end(), 0) == x.shape.end()) return false;
  for (const Operator& op : sg.operators) {
    if (std::find(op.outputs.begin(), op.outputs.end(), t) != op.outputs.end()) return false;
  }
  return true;
}

bool IsBitpackedTensor(const Graph& g, const Subgraph& sg, int32_t t) {
  if (t < 0 || static_cast<size_t>(t) >= sg.tensors.size()) return false;
  if (sg.tensors[t].type != DType::kInt32) return false;
  for (const Operator& op : sg.operators) {
    bool lce_producer = g.IsCustom(op, kLceQuantize) || g.IsCustom(op, kLceBconv2d) ||
                        g.IsCustom(op, kLceBMaxPool2d);
    if (lce_producer && std::find(op.outputs.begin(), op.outputs.end(), t) != op.outputs.end()) return true;
    bool lce_consumer = g.IsCustom(op, kLceDequantize) || g.IsCustom(op, kLceBMaxPool2d) ||
                        g.IsCustom(op, kLceBconv2d);
    if (lce_consumer && !op.inputs.empty() && op.inputs[0] == t) return true;
  }
  return false;
}

int64_t ParameterBytes(const Graph& g, const Subgraph& sg) {
  std::set<uint32_t> seen;
  int64_t total = 0;
  for (const Tensor& t : sg.tensors) {
    if (IsConstant(g, t) && seen.insert(t.buffer).second) {
      total += static_cast<int64_t>(g.buffers[t.buffer].bytes().size());
    }
  }
  return total;
}

ActivationStats NaiveActivationStats(const Graph& g, const Subgraph& sg) {
  const int n_ops = static_cast<int>(sg.operators.size());
  const size_t n = sg.tensors.size();
  std::vector<int> first(n, -2), last(n, -2);  // -2: unused; -1: before op 0; n_ops: after last op
  auto valid = [&](int32_t t) { return t >= 0 && static_cast<size_t>(t) < n && !IsConstant(g, sg.tensors[t]); };
  for (int32_t t : sg.inputs) {
    if (valid(t)) first[t] = last[t] = -1;
  }
  for (int i = 0; i < n_ops; ++i) {
    const Operator& op = sg.operators[i];
    for (int32_t t : op.inputs) {
      if (valid(t)) {
        if (first[t] == -2) first[t] = i;
        last[t] = std::max(last[t], i);
      }
    }
    for (int32_t t : op.outputs) {
      if (valid(t)) {
        if (first[t] == -2) first[t] = i;
        last[t] = std::max(last[t], i);
      }
    }
  }
  for (int32_t t : sg.outputs) {
    if (valid(t)) last[t] = n_ops;
  }
  ActivationStats s;
  std::vector<int64_t> live(n_ops + 2, 0);  // index step+1
  for (size_t t = 0; t < n; ++t) {
    if (first[t] == -2) continue;
    int64_t bytes = TensorBytes(sg.tensors[t]);
    s.total_bytes += bytes;
    for (int step = first[t]; step <= last[t]; ++step) live[step + 1] += bytes;
  }
  s.peak_bytes = live.empty() ? 0 : *std::max_element(live.begin(), live.end());
  return s;
}

}  // namespace xbnn::graph
