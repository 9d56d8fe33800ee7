#include "runtime/tensor_info.h"

#include <algorithm>
#include <variant>

#include "graph/cost.h"
#include "graph/lce_options.h"

namespace xbnn::runtime {
namespace {

DataType PublicType(graph::DType t) {
  switch (t) {
    case graph::DType::kFloat32:
      return DataType::kFloat32;
    case graph::DType::kInt32:
      return DataType::kInt32;
    case graph::DType::kUInt8:
      return DataType::kUInt8;
    case graph::DType::kInt64:
      return DataType::kInt64;
    case graph::DType::kBool:
      return DataType::kBool;
    case graph::DType::kInt16:
      return DataType::kInt16;
    case graph::DType::kInt8:
      return DataType::kInt8;
    default:
      return DataType::kOther;
  }
}

// Unpacked channel count of a bitpacked tensor, from the ops around it (0 when unknown).
int32_t BitpackedChannels(const graph::Graph& g, const graph::Subgraph& sg, int32_t t,
                          int depth = 0) {
  if (depth > 64) return 0;
  for (const graph::Operator& op : sg.operators) {
    if (std::find(op.outputs.begin(), op.outputs.end(), t) != op.outputs.end()) {
      if (g.IsCustom(op, graph::kLceQuantize) && !op.inputs.empty() && op.inputs[0] >= 0) {
        const auto& s = sg.tensors[op.inputs[0]].shape;
        return s.empty() ? 0 : s.back();
      }
      if (g.IsCustom(op, graph::kLceBconv2d) && op.inputs.size() > 1 && op.inputs[1] >= 0) {
        const auto& s = sg.tensors[op.inputs[1]].shape;
        return s.empty() ? 0 : s[0];
      }
      if (g.IsCustom(op, graph::kLceBMaxPool2d) && !op.inputs.empty() && op.inputs[0] >= 0) {
        return BitpackedChannels(g, sg, op.inputs[0], depth + 1);
      }
      return 0;
    }
  }
  for (const graph::Operator& op : sg.operators) {
    if (op.inputs.empty() || op.inputs[0] != t) continue;
    if (g.IsCustom(op, graph::kLceDequantize) && !op.outputs.empty()) {
      const auto& s = sg.tensors[op.outputs[0]].shape;
      return s.empty() ? 0 : s.back();
    }
    if (g.IsCustom(op, graph::kLceBconv2d)) {
      const auto* o = std::get_if<graph::LceBconv2dOptions>(&op.lce_options);
      return o ? o->channels_in : 0;
    }
  }
  return 0;
}

}  // namespace

TensorInfo MakeTensorInfo(const graph::Graph& g, const graph::Subgraph& sg, int32_t t,
                          const std::vector<int32_t>& shape) {
  const graph::Tensor& d = sg.tensors[t];
  TensorInfo info;
  info.name = d.name;
  info.type = PublicType(d.type);
  info.shape = shape;
  if (d.quantization) {
    info.scale = d.quantization->scale;
    info.zero_point = d.quantization->zero_point;
  }
  info.bitpacked = graph::IsBitpackedTensor(g, sg, t);
  if (info.bitpacked) info.channels = BitpackedChannels(g, sg, t);
  return info;
}

}  // namespace xbnn::runtime
