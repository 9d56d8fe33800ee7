// Fake quantization next to LCE ops. The stock converter writes each fake-quant node of a Keras
// model as QUANTIZE (float32 -> uint8) followed by DEQUANTIZE; LCE's converter quantizes the model
// instead (LCE quantize patterns in larq_compute_engine/mlir/transforms/quantize_patterns.td):
//  - the uint8 tensor becomes int8 (zero point - 128, same scale: the same real values);
//  - LceBconv2d and LceDequantize whose float output only feeds such a QUANTIZE write the int8
//    tensor themselves;
//  - LceQuantize reading the DEQUANTIZE output reads the int8 tensor (bit 1 exactly when
//    q < zero_point, i.e. when the dequantized value is negative);
//  - MEAN between two pairs runs on int8 (as TFLite's quantizer makes it), and so do RESHAPE,
//    SQUEEZE and MAX_POOL_2D when both pairs have the same scale and zero point.
// DEQUANTIZE ops whose float output is still read stay (int8 -> float32).
#include <algorithm>
#include <map>
#include <queue>

#include "graph/lce_options.h"
#include "passes/convert_internal.h"

namespace xbnn::passes::convert_internal {
namespace {

namespace op = graph::op;
using graph::DType;
using graph::Operator;

bool PerTensor(const graph::Tensor& t) {
  return t.quantization && t.quantization->scale.size() == 1 &&
         t.quantization->zero_point.size() == 1;
}

bool SameQuantization(const graph::Tensor& a, const graph::Tensor& b) {
  return PerTensor(a) && PerTensor(b) && a.quantization->scale[0] == b.quantization->scale[0] &&
         a.quantization->zero_point[0] == b.quantization->zero_point[0];
}

// A SAME zero-padded LceBconv2d (one this pass made, or one the model had).
bool ZeroPaddedSame(const Ctx& c, int op_index) {
  for (const BconvInfo& bi : c.bconvs) {
    if (bi.op == op_index) return bi.padding == 0 && bi.pad_values == 0;
  }
  const auto* o = std::get_if<graph::LceBconv2dOptions>(&c.sg.operators[op_index].lce_options);
  return o && o->padding == 0 && o->pad_values == 0;
}

// Live ops in a topological order (ties by order key).
std::vector<int> TopoOrder(const Ctx& c) {
  const int n = c.NumOps();
  std::vector<std::vector<int>> next(n);
  std::vector<int> indegree(n, 0);
  for (int j = 0; j < n; ++j) {
    if (c.dead[j]) continue;
    std::vector<int> preds;
    for (int32_t t : c.sg.operators[j].inputs) {
      int p = c.Producer(t);
      if (p >= 0 && p != j && std::find(preds.begin(), preds.end(), p) == preds.end())
        preds.push_back(p);
    }
    for (int p : preds) {
      next[p].push_back(j);
      indegree[j]++;
    }
  }
  using Item = std::pair<double, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> ready;
  for (int j = 0; j < n; ++j) {
    if (!c.dead[j] && indegree[j] == 0) ready.push({c.key[j], j});
  }
  std::vector<int> order;
  while (!ready.empty()) {
    int j = ready.top().second;
    ready.pop();
    order.push_back(j);
    for (int k : next[j]) {
      if (--indegree[k] == 0) ready.push({c.key[k], k});
    }
  }
  return order;
}

}  // namespace

void ConvertFakeQuant(Ctx& c) {
  c.Index();
  std::map<int32_t, int32_t> int8_of;  // DEQUANTIZE float output -> the int8 tensor it reads
  for (int q : TopoOrder(c)) {
    if (!c.IsBuiltin(q, op::kQuantize)) continue;
    const Operator& qo = c.sg.operators[q];
    if (qo.inputs.size() != 1 || qo.outputs.size() != 1) continue;
    const int32_t tf = qo.inputs[0], tq = qo.outputs[0];
    if (tf < 0 || c.sg.tensors[tf].type != DType::kFloat32) continue;
    graph::Tensor& qt = c.sg.tensors[tq];
    if ((qt.type != DType::kUInt8 && qt.type != DType::kInt8) || !PerTensor(qt) || c.is_output[tq])
      continue;
    // Every reader of the quantized tensor must be a DEQUANTIZE to float32: a fake-quant node.
    std::vector<int> deqs = c.consumers[tq];
    if (deqs.empty()) continue;
    bool pair = true;
    for (int d : deqs) {
      pair &= c.IsBuiltin(d, op::kDequantize) && c.sg.operators[d].outputs.size() == 1 &&
              c.sg.tensors[c.sg.operators[d].outputs[0]].type == DType::kFloat32;
    }
    if (!pair) continue;
    if (qt.type == DType::kUInt8) {
      const int64_t raw = qt.quantization->zero_point[0];
      if (raw < 0 || raw > 255) continue;  // not a uint8 zero point (and no overflow below)
      const int64_t zp = raw - 128;
      qt.type = DType::kInt8;
      qt.quantization->zero_point[0] = zp;
    }
    for (int d : deqs) int8_of[c.sg.operators[d].outputs[0]] = tq;

    // The float producer writes int8 directly where LCE's quantizer does that.
    const int p = c.Producer(tf);
    if (c.SoleConsumer(tf, q)) {
      std::string what;
      if (c.IsCustom(p, graph::kLceBconv2d) && ZeroPaddedSame(c, p)) {
        c.Skipped(c.Label(q) +
                  ": QUANTIZE kept after a zero-padded LceBconv2d: LCE's optimized kernels run "
                  "zero-padded binary convolutions only with float output");
      } else if (c.IsCustom(p, graph::kLceBconv2d) || c.IsCustom(p, graph::kLceDequantize)) {
        c.sg.operators[p].outputs[0] = tq;
        what = c.IsCustom(p, graph::kLceBconv2d) ? "LceBconv2d" : "LceDequantize";
      } else if (c.IsBuiltin(p, op::kMean) || c.IsBuiltin(p, op::kReshape) ||
                 c.IsBuiltin(p, op::kSqueeze) || c.IsBuiltin(p, op::kMaxPool2D)) {
        const Operator& po = c.sg.operators[p];
        auto it = po.inputs.empty() ? int8_of.end() : int8_of.find(po.inputs[0]);
        if (it != int8_of.end() && po.outputs.size() == 1 &&
            (c.IsBuiltin(p, op::kMean) ||
             SameQuantization(c.sg.tensors[it->second], c.sg.tensors[tq])) &&
            (!c.IsBuiltin(p, op::kMaxPool2D) ||
             po.builtin_options.GetInt("fused_activation_function", 0) == 0)) {
          c.sg.operators[p].inputs[0] = it->second;
          c.sg.operators[p].outputs[0] = tq;
          what = graph::BuiltinOpName(c.Builtin(p));
          c.report.int8_ops++;
        }
      }
      if (!what.empty()) {
        c.Kill(q);
        c.Applied(c.Label(q) + ": fake quantization -> int8 output of " + what);
      }
    }
    c.Index();
    // Binarizations of the fake-quantized values read the int8 tensor.
    for (int d : deqs) {
      int32_t td = c.sg.operators[d].outputs[0];
      std::vector<int> readers = c.consumers[td];
      for (int k : readers) {
        if (!c.IsCustom(k, graph::kLceQuantize)) continue;
        c.sg.operators[k].inputs[0] = tq;
        auto it = c.packed_of.find(td);
        if (it != c.packed_of.end()) {
          c.packed_of.emplace(tq, it->second);
          c.packed_of.erase(it);
        }
        c.Applied("LceQuantize of " + c.TensorLabel(td) + " reads int8 " + c.TensorLabel(tq));
      }
    }
    c.Index();
  }
  c.RemoveDeadOps();
}

}  // namespace xbnn::passes::convert_internal
