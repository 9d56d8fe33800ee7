#include "partition.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "format/model_io.h"
#include "graph/graph.h"
#include "op_options.h"
#include "ops/registry.h"
#include "tensorflow/lite/builtin_ops.h"

namespace xbnn::tflite_delegate {
namespace {

bool GetNode(TfLiteContext* ctx, int index, TfLiteNode** node, TfLiteRegistration** reg) {
  return ctx->GetNodeAndRegistration(ctx, index, node, reg) == kTfLiteOk && *node && *reg;
}

std::span<const int> Ints(const TfLiteIntArray* a) {
  if (!a || a->size <= 0) return {};
  return std::span<const int>(a->data, static_cast<size_t>(a->size));
}

bool IsConstant(const TfLiteTensor& t) {
  return t.allocation_type == kTfLiteMmapRo && t.data.raw != nullptr;
}

Result<graph::DType> DTypeOf(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32:
      return graph::DType::kFloat32;
    case kTfLiteFloat16:
      return graph::DType::kFloat16;
    case kTfLiteInt32:
      return graph::DType::kInt32;
    case kTfLiteUInt8:
      return graph::DType::kUInt8;
    case kTfLiteInt64:
      return graph::DType::kInt64;
    case kTfLiteBool:
      return graph::DType::kBool;
    case kTfLiteInt16:
      return graph::DType::kInt16;
    case kTfLiteInt8:
      return graph::DType::kInt8;
    default:
      return Status::Error("type " + std::to_string(static_cast<int>(type)) + " is not supported");
  }
}

graph::OperatorCode CodeOf(const TfLiteRegistration& reg) {
  graph::OperatorCode code;
  code.builtin = reg.builtin_code;
  if (reg.builtin_code == kTfLiteBuiltinCustom && reg.custom_name)
    code.custom_code = reg.custom_name;
  code.version = std::max(reg.version, 1);
  return code;
}

std::string TensorName(const TfLiteTensor& t, int index) {
  return "tensor " + std::to_string(index) +
         (t.name ? std::string(" '") + t.name + "'" : std::string());
}

// One TFLite tensor as an xbnn graph tensor (constants get a buffer viewing TFLite's memory,
// which the writer copies).
Result<graph::Tensor> ConvertTensor(const TfLiteTensor& t, int index, graph::Graph& g) {
  auto fail = [&](const std::string& why) {
    return Status::Error(TensorName(t, index) + ": " + why);
  };
  auto type = DTypeOf(t.type);
  if (!type.ok()) return fail(type.status().message());
  if (!t.dims) return fail("has no shape");
  if (t.is_variable) return fail("is a variable tensor");
  if (t.sparsity) return fail("is sparse");
  graph::Tensor out;
  out.name = t.name ? t.name : "";
  out.type = *type;
  out.has_rank = true;
  for (int d : Ints(t.dims)) {
    if (d < 0) return fail("has a dynamic shape");
    out.shape.push_back(d);
  }
  if (t.quantization.type == kTfLiteAffineQuantization && t.quantization.params) {
    const auto* q = static_cast<const TfLiteAffineQuantization*>(t.quantization.params);
    graph::Quantization gq;
    if (q->scale) gq.scale.assign(q->scale->data, q->scale->data + std::max(q->scale->size, 0));
    for (int z : Ints(q->zero_point)) gq.zero_point.push_back(z);
    gq.quantized_dimension = q->quantized_dimension;
    out.quantization = std::move(gq);
  }
  if (IsConstant(t)) {
    graph::Buffer b;
    b.view = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(t.data.raw), t.bytes);
    out.buffer = static_cast<uint32_t>(g.buffers.size());
    g.buffers.push_back(b);
  }
  return out;
}

// Appends the op for one node, adding its tensors to `sg` through `local`.
Status AddNode(TfLiteContext* ctx, int node_index, graph::Graph& g, std::map<int, int32_t>& local) {
  TfLiteNode* node = nullptr;
  TfLiteRegistration* reg = nullptr;
  if (!GetNode(ctx, node_index, &node, &reg))
    return Status::Error("TFLite has no node " + std::to_string(node_index));
  graph::Subgraph& sg = g.subgraphs[0];
  auto tensor = [&](int ti) -> Result<int32_t> {
    if (ti < 0) return int32_t{-1};
    if (static_cast<size_t>(ti) >= ctx->tensors_size)
      return Status::Error("tensor index out of range");
    auto it = local.find(ti);
    if (it != local.end()) return it->second;
    auto t = ConvertTensor(ctx->tensors[ti], ti, g);
    if (!t.ok()) return t.status();
    auto id = static_cast<int32_t>(sg.tensors.size());
    sg.tensors.push_back(std::move(*t));
    local[ti] = id;
    return id;
  };
  graph::Operator op;
  graph::OperatorCode code = CodeOf(*reg);
  auto found = std::find(g.operator_codes.begin(), g.operator_codes.end(), code);
  op.opcode_index = static_cast<uint32_t>(found - g.operator_codes.begin());
  if (found == g.operator_codes.end()) g.operator_codes.push_back(code);
  for (int ti : Ints(node->inputs)) {
    auto id = tensor(ti);
    if (!id.ok()) return id.status();
    op.inputs.push_back(*id);
  }
  for (int ti : Ints(node->outputs)) {
    auto id = tensor(ti);
    if (!id.ok()) return id.status();
    op.outputs.push_back(*id);
  }
  if (code.builtin == kTfLiteBuiltinCustom) {
    const auto* data = static_cast<const uint8_t*>(node->custom_initial_data);
    if (data && node->custom_initial_data_size > 0) {
      op.custom_options.assign(data, data + node->custom_initial_data_size);
    }
  } else {
    XBNN_RETURN_IF_ERROR(TranslateOptions(code.builtin, node->builtin_data, &op.builtin_options));
  }
  sg.operators.push_back(std::move(op));
  return Status::Ok();
}

}  // namespace

std::string NodeName(TfLiteContext* ctx, int node_index) {
  TfLiteNode* node = nullptr;
  TfLiteRegistration* reg = nullptr;
  std::string name = "?";
  if (GetNode(ctx, node_index, &node, &reg)) {
    graph::OperatorCode code = CodeOf(*reg);
    name = code.builtin == kTfLiteBuiltinCustom ? code.custom_code
                                                : std::string(graph::BuiltinOpName(code.builtin));
  }
  return "node " + std::to_string(node_index) + " (" + name + ")";
}

std::string WhyNotSupported(TfLiteContext* ctx, int node_index) {
  TfLiteNode* node = nullptr;
  TfLiteRegistration* reg = nullptr;
  if (!GetNode(ctx, node_index, &node, &reg)) return "TFLite has no such node";
  graph::OperatorCode code = CodeOf(*reg);
  std::string why;
  if (!ops::FindKernel(code, &why)) return why;
  if (code.builtin != kTfLiteBuiltinCustom && !CanTranslateOptions(code.builtin)) {
    return std::string("the delegate does not translate the parameters of ") +
           graph::BuiltinOpName(code.builtin);
  }
  for (std::span<const int> list : {Ints(node->inputs), Ints(node->outputs)}) {
    for (int ti : list) {
      if (ti < 0) continue;
      if (static_cast<size_t>(ti) >= ctx->tensors_size) return "tensor index out of range";
      const TfLiteTensor& t = ctx->tensors[ti];
      if (auto type = DTypeOf(t.type); !type.ok())
        return TensorName(t, ti) + ": " + type.status().message();
      if (t.is_variable) return TensorName(t, ti) + " is a variable tensor";
      if (t.sparsity) return TensorName(t, ti) + " is sparse";
    }
  }
  return "";
}

PartitionIo SubsetIo(TfLiteContext* ctx, std::span<const int> plan, std::span<const int> nodes) {
  std::set<int> in_subset(nodes.begin(), nodes.end());
  std::set<int> produced, read_outside, read_anywhere;
  for (int n : plan) {
    TfLiteNode* node = nullptr;
    TfLiteRegistration* reg = nullptr;
    if (!GetNode(ctx, n, &node, &reg)) continue;
    for (int ti : Ints(node->inputs)) {
      if (ti < 0) continue;
      read_anywhere.insert(ti);
      if (!in_subset.count(n)) read_outside.insert(ti);
    }
    if (in_subset.count(n)) {
      for (int ti : Ints(node->outputs)) produced.insert(ti);
    }
  }
  PartitionIo io;
  std::set<int> seen;
  for (int n : nodes) {
    TfLiteNode* node = nullptr;
    TfLiteRegistration* reg = nullptr;
    if (!GetNode(ctx, n, &node, &reg)) continue;
    for (int ti : Ints(node->inputs)) {
      if (ti < 0 || static_cast<size_t>(ti) >= ctx->tensors_size || produced.count(ti)) continue;
      if (IsConstant(ctx->tensors[ti]) || !seen.insert(ti).second) continue;
      io.inputs.push_back(ti);
    }
    for (int ti : Ints(node->outputs)) {
      if (ti >= 0 && (read_outside.count(ti) || !read_anywhere.count(ti))) io.outputs.push_back(ti);
    }
  }
  return io;
}

Result<graph::Graph> BuildGraph(TfLiteContext* ctx, std::span<const int> nodes,
                                const PartitionIo& io) {
  graph::Graph g;
  g.buffers.emplace_back();  // buffer 0: the empty sentinel
  g.subgraphs.emplace_back();
  g.description = "xbnn TFLite delegate partition";
  std::map<int, int32_t> local;
  for (int n : nodes) {
    Status s = AddNode(ctx, n, g, local);
    if (!s.ok()) return s.Prefixed(NodeName(ctx, n) + ": ");
  }
  graph::Subgraph& sg = g.subgraphs[0];
  for (int ti : io.inputs) {
    auto it = local.find(ti);
    if (it == local.end())
      return Status::Error("partition input tensor " + std::to_string(ti) +
                           " is not read by its nodes");
    sg.inputs.push_back(it->second);
  }
  for (int ti : io.outputs) {
    auto it = local.find(ti);
    if (it == local.end())
      return Status::Error("partition output tensor " + std::to_string(ti) +
                           " is not written by its nodes");
    sg.outputs.push_back(it->second);
  }
  // The LCE ops' custom options as the model reader would parse them (bad ones: WriteModel says).
  format::ReadLceOptions(g);
  return g;
}

Result<std::shared_ptr<const Model>> ModelOf(const graph::Graph& g,
                                             const std::vector<std::vector<int>>& input_shapes) {
  graph::Graph copy = g;
  graph::Subgraph& sg = copy.subgraphs[0];
  if (input_shapes.size() != sg.inputs.size()) return Status::Error("wrong number of input shapes");
  for (size_t i = 0; i < sg.inputs.size(); ++i) {
    sg.tensors[sg.inputs[i]].shape.assign(input_shapes[i].begin(), input_shapes[i].end());
  }
  auto bytes = format::WriteModel(copy);
  if (!bytes.ok()) return bytes.status();
  return Model::FromBuffer(std::move(*bytes));
}

}  // namespace xbnn::tflite_delegate
