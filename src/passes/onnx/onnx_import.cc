// The ONNX import driver: graph inputs and outputs, node-by-node translation, removal of what the
// binarization patterns left unused, then the conversion pass.
#include "passes/onnx/onnx_import.h"

#include <set>

#include "format/model_io.h"
#include "passes/onnx/onnx_builder.h"

namespace xbnn::onnx_import {
namespace {

using internal::Builder;
using internal::Value;

Status AddInput(Builder& b, const ValueInfo& vi) {
  const std::string what = "graph input '" + vi.name + "'";
  if (vi.elem_type != 1)
    return Status::Error(what + " is not float32 (type " + std::to_string(vi.elem_type) + ")");
  if (!vi.has_shape) return Status::Error(what + " has no shape; export with a fixed input shape");
  std::vector<int64_t> shape = vi.dims;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1 && d == 0) {
      shape[d] = 1;
      b.Note(what + ": symbolic batch dimension fixed to 1");
    } else if (shape[d] <= 0 || shape[d] > (int64_t{1} << 24)) {
      return Status::Error(what + " has dimension " + std::to_string(d) +
                           " of unknown or bad size");
    }
  }
  int32_t t;
  if (shape.size() == 4 && b.options().keep_nchw_input) {
    int32_t in = b.AddTensor(vi.name, internal::ToI32(shape));
    b.sg().inputs.push_back(in);
    t = b.Transpose(in, {0, 2, 3, 1}, vi.name + "/nhwc");
    Value v;
    v.shape = shape;
    v.nhwc = true;
    v.tensor = t;
    b.values[vi.name] = v;
  } else {
    t = b.NewActivation(vi.name, shape, true);
    b.sg().inputs.push_back(t);
  }
  return Status::Ok();
}

// Removes ops none of whose outputs is read or is a graph output (patterns leave such ops behind:
// the float half of a straight-through estimator, constants computed for nothing).
// One pass from the last op back (ops are in execution order: an op's readers come after it), so
// a chain of n dead ops goes in one pass, not n (20,000 took 27 s).
void RemoveUnusedOps(graph::Subgraph& sg) {
  std::vector<char> used(sg.tensors.size(), 0);
  auto mark = [&](int32_t t) {
    if (t >= 0 && static_cast<size_t>(t) < used.size()) used[static_cast<size_t>(t)] = 1;
  };
  for (int32_t t : sg.outputs) mark(t);
  std::vector<char> live(sg.operators.size(), 0);
  for (size_t i = sg.operators.size(); i-- > 0;) {
    const graph::Operator& o = sg.operators[i];
    for (int32_t t : o.outputs) {
      if (t >= 0 && static_cast<size_t>(t) < used.size() && used[static_cast<size_t>(t)])
        live[i] = 1;
    }
    if (live[i]) {
      for (int32_t t : o.inputs) mark(t);
    }
  }
  std::vector<graph::Operator> kept;
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    if (live[i]) kept.push_back(std::move(sg.operators[i]));
  }
  sg.operators = std::move(kept);
}

// Drops tensors, buffers and operator codes nothing refers to.
void Compact(graph::Graph& g) {
  graph::Subgraph& sg = g.subgraphs[0];
  std::vector<bool> used(sg.tensors.size(), false);
  for (int32_t t : sg.inputs) used[t] = true;
  for (int32_t t : sg.outputs) used[t] = true;
  for (const graph::Operator& o : sg.operators) {
    for (int32_t t : o.inputs) {
      if (t >= 0) used[t] = true;
    }
    for (int32_t t : o.outputs) used[t] = true;
  }
  std::vector<int32_t> remap(sg.tensors.size(), -1);
  std::vector<graph::Tensor> tensors;
  std::vector<graph::Buffer> buffers = {graph::Buffer{}};
  for (size_t i = 0; i < sg.tensors.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int32_t>(tensors.size());
    graph::Tensor t = std::move(sg.tensors[i]);
    if (t.buffer != 0) {
      buffers.push_back(std::move(g.buffers[t.buffer]));
      t.buffer = static_cast<uint32_t>(buffers.size() - 1);
    }
    tensors.push_back(std::move(t));
  }
  auto fix = [&](std::vector<int32_t>& v) {
    for (int32_t& t : v) t = t >= 0 ? remap[t] : t;
  };
  fix(sg.inputs);
  fix(sg.outputs);
  std::vector<bool> code_used(g.operator_codes.size(), false);
  for (graph::Operator& o : sg.operators) {
    fix(o.inputs);
    fix(o.outputs);
    code_used[o.opcode_index] = true;
  }
  std::vector<uint32_t> code_remap(g.operator_codes.size(), 0);
  std::vector<graph::OperatorCode> codes;
  for (size_t i = 0; i < g.operator_codes.size(); ++i) {
    if (!code_used[i]) continue;
    code_remap[i] = static_cast<uint32_t>(codes.size());
    codes.push_back(g.operator_codes[i]);
  }
  for (graph::Operator& o : sg.operators) o.opcode_index = code_remap[o.opcode_index];
  g.operator_codes = std::move(codes);
  sg.tensors = std::move(tensors);
  g.buffers = std::move(buffers);
}

Status AddOutputs(Builder& b) {
  std::set<int32_t> inputs(b.sg().inputs.begin(), b.sg().inputs.end());
  for (const ValueInfo& o : b.model().outputs) {
    auto v = b.Get(o.name, "graph output '" + o.name + "'");
    if (!v.ok()) return v.status().Prefixed("cannot convert graph output '" + o.name + "': ");
    if ((*v)->konst) return Status::Error("graph output '" + o.name + "' is a constant");
    // Outputs keep ONNX's layout: NCHW for 4-D values.
    auto t = b.Logical(o.name);
    if (!t.ok()) return t.status().Prefixed("cannot convert graph output '" + o.name + "': ");
    if (!inputs.count(*t)) b.sg().tensors[*t].name = o.name;
    b.sg().outputs.push_back(*t);
  }
  return Status::Ok();
}

}  // namespace

Result<graph::Graph> ImportOnnx(const Model& model, const ImportOptions& options,
                                ImportReport* report) {
  ImportReport local;
  ImportReport& r = report ? *report : local;
  r = ImportReport{};
  Builder b(model, options, r);
  for (const auto& [name, c] : model.initializers) {
    Value v;
    v.shape = c.dims;
    v.konst = c;
    b.values[name] = std::move(v);
  }
  for (const ValueInfo& vi : model.inputs) XBNN_RETURN_IF_ERROR(AddInput(b, vi));
  for (const Node& n : model.nodes) {
    Status s = internal::TranslateNode(b, n);
    if (s.ok()) {
      // Every output must have a value; a node with extra outputs it cannot produce fails here.
      for (size_t k = 1; k < n.outputs.size(); ++k) {
        if (!n.outputs[k].empty() && !b.Find(n.outputs[k])) {
          Value v;
          v.error = n.Label() + ": output " + std::to_string(k) + " is not supported";
          b.values[n.outputs[k]] = v;
        }
      }
      continue;
    }
    // Not an error yet: the value may be unused once the patterns are applied (e.g. the float
    // branch of a straight-through estimator).
    for (const std::string& o : n.outputs) {
      if (o.empty()) continue;
      Value v;
      v.error = s.message();
      b.values[o] = v;
    }
  }
  XBNN_RETURN_IF_ERROR(AddOutputs(b));
  RemoveUnusedOps(b.sg());
  Compact(b.g());
  XBNN_RETURN_IF_ERROR(
      format::ValidateGraph(b.g()).Prefixed("internal error: the imported graph is invalid: "));
  return std::move(b.g());
}

Result<std::vector<uint8_t>> ConvertOnnxModel(std::span<const uint8_t> onnx_bytes,
                                              const ImportOptions& options,
                                              OnnxConvertReport* report) {
  OnnxConvertReport local;
  OnnxConvertReport& r = report ? *report : local;
  ReadLimits limits;
  limits.external_data_dir = options.external_data_dir;
  auto model = ReadOnnx(onnx_bytes, limits);
  if (!model.ok()) return model.status();
  auto g = ImportOnnx(*model, options, &r.import);
  if (!g.ok()) return g.status();
  passes::ConvertOptions copts;
  copts.zero_padded_fusion = true;
  copts.binary_dense = true;
  XBNN_RETURN_IF_ERROR(passes::ConvertToLce(*g, copts, &r.convert));
  return format::WriteModel(*g);
}

}  // namespace xbnn::onnx_import
