#include "passes/io_passes.h"

#include <algorithm>
#include <map>
#include <set>

#include "format/model_io.h"
#include "graph/lce_options.h"

namespace xbnn::passes {
namespace {

using graph::DType;
using graph::Graph;
using graph::Operator;
using graph::Subgraph;

std::string TensorLabel(const Subgraph& sg, int32_t t) {
  return "tensor " + std::to_string(t) + " '" + sg.tensors[t].name + "'";
}

bool IsOutput(const Subgraph& sg, int32_t t) {
  return std::find(sg.outputs.begin(), sg.outputs.end(), t) != sg.outputs.end();
}

// Ops other than `except` that read tensor t.
int ReaderOf(const Subgraph& sg, int32_t t, const Operator* except) {
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    const Operator& op = sg.operators[i];
    if (&op == except) continue;
    if (std::find(op.inputs.begin(), op.inputs.end(), t) != op.inputs.end())
      return static_cast<int>(i);
  }
  return -1;
}

// Replaces `from` by `to` in the subgraph's outputs (or inputs) and in the signatures of this
// subgraph.
void Repoint(Graph& g, Subgraph& sg, size_t sg_index, int32_t from, int32_t to, bool outputs) {
  auto& list = outputs ? sg.outputs : sg.inputs;
  std::replace(list.begin(), list.end(), from, to);
  for (graph::SignatureDef& sd : g.signature_defs) {
    if (sd.subgraph_index != sg_index) continue;
    for (graph::TensorMap& m : outputs ? sd.outputs : sd.inputs) {
      if (m.tensor_index == static_cast<uint32_t>(from)) m.tensor_index = static_cast<uint32_t>(to);
    }
  }
}

// Removes the ops at `indices` (sorted ascending) and then those of `dead` tensors that nothing
// refers to any more. Like LCE, only the tensors the rewrite orphaned go, nothing else.
void RemoveOps(Graph& g, Subgraph& sg, size_t sg_index, const std::vector<size_t>& indices,
               const std::set<int32_t>& dead) {
  for (auto it = indices.rbegin(); it != indices.rend(); ++it) {
    sg.operators.erase(sg.operators.begin() + static_cast<ptrdiff_t>(*it));
  }
  RemoveTensors(g, sg, sg_index, dead);
}

Status StripSubgraph(Graph& g, Subgraph& sg, size_t sg_index, StripReport* report) {
  std::string where = g.subgraphs.size() > 1 ? "subgraph " + std::to_string(sg_index) + ": " : "";
  // 1. DEQUANTIZE (int8 -> float32) ops that feed subgraph outputs.
  std::vector<size_t> remove;
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    const Operator& op = sg.operators[i];
    if (g.CodeOf(op).builtin != graph::op::kDequantize || op.outputs.empty() ||
        !IsOutput(sg, op.outputs[0]))
      continue;
    if (op.inputs.empty() || op.inputs[0] < 0) {
      return Status::Error(where + "output DEQUANTIZE op " + std::to_string(i) + " has no input");
    }
    int32_t out = op.outputs[0], in = op.inputs[0];
    if (sg.tensors[out].type != DType::kFloat32) {
      return Status::Error(where + "output DEQUANTIZE op " + std::to_string(i) + " writes " +
                           TensorLabel(sg, out) + " of type " +
                           graph::DTypeName(sg.tensors[out].type) + ", expected float32");
    }
    if (sg.tensors[in].type != DType::kInt8) {
      return Status::Error(where + "output DEQUANTIZE op " + std::to_string(i) + " reads " +
                           TensorLabel(sg, in) + " of type " +
                           graph::DTypeName(sg.tensors[in].type) +
                           ", expected int8 (the model is not integer quantized)");
    }
    if (int r = ReaderOf(sg, out, &op); r >= 0) {
      return Status::Error(where + "output " + TensorLabel(sg, out) + " of DEQUANTIZE op " +
                           std::to_string(i) + " is also read by op " + std::to_string(r) +
                           "; it cannot be removed");
    }
    remove.push_back(i);
  }
  std::set<int32_t> dead;
  for (size_t i : remove) {
    const Operator& op = sg.operators[i];
    Repoint(g, sg, sg_index, op.outputs[0], op.inputs[0], true);
    dead.insert(op.outputs[0]);
  }
  if (report) report->removed_dequantize += static_cast<int>(remove.size());
  RemoveOps(g, sg, sg_index, remove, dead);

  // 2. LceDequantize ops that feed subgraph outputs (possibly exposed by step 1).
  remove.clear();
  dead.clear();
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    const Operator& op = sg.operators[i];
    if (!g.IsCustom(op, graph::kLceDequantize) || op.outputs.empty() ||
        !IsOutput(sg, op.outputs[0]))
      continue;
    if (op.inputs.empty() || op.inputs[0] < 0) {
      return Status::Error(where + "output LceDequantize op " + std::to_string(i) +
                           " has no input");
    }
    int32_t out = op.outputs[0], in = op.inputs[0];
    if (sg.tensors[out].type != DType::kFloat32 && sg.tensors[out].type != DType::kInt8) {
      return Status::Error(where + "output LceDequantize op " + std::to_string(i) + " writes " +
                           TensorLabel(sg, out) + " of type " +
                           graph::DTypeName(sg.tensors[out].type) + ", expected float32 or int8");
    }
    if (sg.tensors[in].type != DType::kInt32) {
      return Status::Error(where + "output LceDequantize op " + std::to_string(i) + " reads " +
                           TensorLabel(sg, in) + " of type " +
                           graph::DTypeName(sg.tensors[in].type) + ", expected int32");
    }
    if (int r = ReaderOf(sg, out, &op); r >= 0) {
      return Status::Error(where + "output " + TensorLabel(sg, out) + " of LceDequantize op " +
                           std::to_string(i) + " is also read by op " + std::to_string(r) +
                           "; it cannot be removed");
    }
    remove.push_back(i);
  }
  for (size_t i : remove) {
    const Operator& op = sg.operators[i];
    const graph::Tensor& unpacked = sg.tensors[op.outputs[0]];
    if (report && !unpacked.shape.empty()) {
      report->bitpacked_outputs.emplace_back(sg.tensors[op.inputs[0]].name, unpacked.shape.back());
    }
    Repoint(g, sg, sg_index, op.outputs[0], op.inputs[0], true);
    dead.insert(op.outputs[0]);
  }
  if (report) report->removed_lce_dequantize += static_cast<int>(remove.size());
  RemoveOps(g, sg, sg_index, remove, dead);
  return Status::Ok();
}

}  // namespace

void RemoveTensors(Graph& g, Subgraph& sg, size_t subgraph_index,
                   const std::set<int32_t>& candidates) {
  std::vector<bool> used(sg.tensors.size(), false);
  auto mark = [&](int32_t t) {
    if (t >= 0 && static_cast<size_t>(t) < used.size()) used[t] = true;
  };
  for (int32_t t : sg.inputs) mark(t);
  for (int32_t t : sg.outputs) mark(t);
  for (const Operator& op : sg.operators) {
    for (int32_t t : op.inputs) mark(t);
    for (int32_t t : op.outputs) mark(t);
    for (int32_t t : op.intermediates) mark(t);
  }
  for (const graph::SignatureDef& sd : g.signature_defs) {
    if (sd.subgraph_index != subgraph_index) continue;
    for (const auto& m : sd.inputs) mark(static_cast<int32_t>(m.tensor_index));
    for (const auto& m : sd.outputs) mark(static_cast<int32_t>(m.tensor_index));
  }
  std::vector<int32_t> remap(sg.tensors.size(), -1);
  std::vector<graph::Tensor> kept;
  int32_t next = 0;
  for (size_t i = 0; i < sg.tensors.size(); ++i) {
    if (!used[i] && candidates.count(static_cast<int32_t>(i))) continue;
    remap[i] = next++;
  }
  if (static_cast<size_t>(next) == sg.tensors.size()) return;
  for (size_t i = 0; i < sg.tensors.size(); ++i) {
    if (remap[i] >= 0) kept.push_back(std::move(sg.tensors[i]));
  }
  sg.tensors = std::move(kept);
  auto apply = [&](std::vector<int32_t>& list) {
    for (int32_t& t : list) {
      if (t >= 0) t = remap[t];
    }
  };
  apply(sg.inputs);
  apply(sg.outputs);
  for (Operator& op : sg.operators) {
    apply(op.inputs);
    apply(op.outputs);
    apply(op.intermediates);
  }
  for (graph::SignatureDef& sd : g.signature_defs) {
    if (sd.subgraph_index != subgraph_index) continue;
    for (auto& m : sd.inputs) m.tensor_index = static_cast<uint32_t>(remap[m.tensor_index]);
    for (auto& m : sd.outputs) m.tensor_index = static_cast<uint32_t>(remap[m.tensor_index]);
  }
}

void RemoveUnusedTensors(Graph& g, Subgraph& sg, size_t subgraph_index) {
  std::set<int32_t> all;
  for (size_t i = 0; i < sg.tensors.size(); ++i) all.insert(static_cast<int32_t>(i));
  RemoveTensors(g, sg, subgraph_index, all);
}

Status StripLceDequantize(Graph& g, StripReport* report, bool add_metadata) {
  bool has_code = false;
  for (const graph::OperatorCode& c : g.operator_codes) {
    has_code |= c.builtin == graph::op::kDequantize ||
                (c.builtin == graph::op::kCustom && c.custom_code == graph::kLceDequantize);
  }
  if (!has_code)
    return Status::Error("the model contains no LceDequantize or DEQUANTIZE operators");
  // The rewrite indexes op inputs and outputs: a graph built or edited in code gets the reader's
  // checks.
  XBNN_RETURN_IF_ERROR(format::ValidateGraph(g));
  StripReport local;
  StripReport* r = report ? report : &local;
  for (size_t s = 0; s < g.subgraphs.size(); ++s) {
    XBNN_RETURN_IF_ERROR(StripSubgraph(g, g.subgraphs[s], s, r));
  }
  if (add_metadata && !r->bitpacked_outputs.empty()) {
    // One entry, merged with an earlier one, so stripping twice keeps every record.
    std::string text;
    for (graph::Metadata& m : g.metadata) {
      if (m.name != kBitpackedChannelsMetadata) continue;
      auto b = g.buffers[m.buffer].bytes();
      text.assign(b.begin(), b.end());
      while (!text.empty() && text.back() == '\0') text.pop_back();
    }
    for (const auto& [name, channels] : r->bitpacked_outputs) {
      text += (text.empty() ? "" : ";") + name + "=" + std::to_string(channels);
    }
    std::vector<uint8_t> bytes(text.begin(), text.end());
    bool found = false;
    for (graph::Metadata& m : g.metadata) {
      if (m.name == kBitpackedChannelsMetadata) {
        g.buffers.push_back(graph::Buffer::Owned(bytes));
        m.buffer = static_cast<uint32_t>(g.buffers.size() - 1);
        found = true;
      }
    }
    if (!found) {
      g.buffers.push_back(graph::Buffer::Owned(std::move(bytes)));
      g.metadata.push_back(
          {kBitpackedChannelsMetadata, static_cast<uint32_t>(g.buffers.size() - 1)});
    }
  }
  return Status::Ok();
}

Status SetIoTypes(Graph& g, DType input, DType output) {
  for (DType t : {input, output}) {
    if (t != DType::kFloat32 && t != DType::kInt8) {
      return Status::Error(std::string("model IO type must be float32 or int8, got ") +
                           graph::DTypeName(t));
    }
  }
  XBNN_RETURN_IF_ERROR(format::ValidateGraph(g));
  // Like LCE, only the main subgraph's boundary changes.
  Subgraph& sg = g.subgraphs[0];
  std::vector<size_t> remove;
  auto check = [&](const char* pos, int32_t float_t, int32_t int_t) -> Status {
    if (sg.tensors[float_t].type != DType::kFloat32) {
      return Status::Error(std::string("model ") + pos + " " + TensorLabel(sg, float_t) +
                           " has type " + graph::DTypeName(sg.tensors[float_t].type) +
                           ", expected float32");
    }
    if (sg.tensors[int_t].type != DType::kInt8) {
      return Status::Error("the model is not integer quantized: " + TensorLabel(sg, int_t) +
                           " has type " + graph::DTypeName(sg.tensors[int_t].type) +
                           ", expected int8");
    }
    return Status::Ok();
  };
  if (input == DType::kInt8) {
    size_t found = 0;
    for (size_t i = 0; i < sg.operators.size(); ++i) {
      const Operator& op = sg.operators[i];
      if (g.CodeOf(op).builtin != graph::op::kQuantize || op.inputs.empty() || op.outputs.empty())
        continue;
      int32_t in = op.inputs[0];
      if (in < 0 || std::find(sg.inputs.begin(), sg.inputs.end(), in) == sg.inputs.end()) continue;
      XBNN_RETURN_IF_ERROR(check("input", in, op.outputs[0]));
      if (int r = ReaderOf(sg, in, &op); r >= 0) {
        return Status::Error("model input " + TensorLabel(sg, in) + " is also read by op " +
                             std::to_string(r) + "; it cannot become int8");
      }
      remove.push_back(i);
      ++found;
    }
    if (found == 0) {
      for (int32_t t : sg.inputs) {
        if (t >= 0 && sg.tensors[t].type == DType::kInt8) {
          return Status::Error("model input " + TensorLabel(sg, t) + " is already int8");
        }
      }
      return Status::Error(
          "cannot make the input int8: no QUANTIZE (float32 -> int8) op follows a model input");
    }
  }
  if (output == DType::kInt8) {
    size_t found = 0;
    for (size_t i = 0; i < sg.operators.size(); ++i) {
      const Operator& op = sg.operators[i];
      if (g.CodeOf(op).builtin != graph::op::kDequantize || op.outputs.empty() ||
          !IsOutput(sg, op.outputs[0]))
        continue;
      if (op.inputs.empty() || op.inputs[0] < 0) {
        return Status::Error("output DEQUANTIZE op " + std::to_string(i) + " has no input");
      }
      XBNN_RETURN_IF_ERROR(check("output", op.outputs[0], op.inputs[0]));
      if (int r = ReaderOf(sg, op.outputs[0], &op); r >= 0) {
        return Status::Error("model output " + TensorLabel(sg, op.outputs[0]) +
                             " is also read by op " + std::to_string(r) +
                             "; it cannot become int8");
      }
      remove.push_back(i);
      ++found;
    }
    if (found == 0) {
      for (int32_t t : sg.outputs) {
        if (t >= 0 && sg.tensors[t].type == DType::kInt8) {
          return Status::Error("model output " + TensorLabel(sg, t) + " is already int8");
        }
      }
      return Status::Error(
          "cannot make the output int8: no DEQUANTIZE (int8 -> float32) op feeds a model output");
    }
  }
  std::sort(remove.begin(), remove.end());
  std::set<int32_t> dead;
  for (size_t i : remove) {
    const Operator& op = sg.operators[i];
    if (g.CodeOf(op).builtin == graph::op::kQuantize) {
      Repoint(g, sg, 0, op.inputs[0], op.outputs[0], false);
      dead.insert(op.inputs[0]);
    } else {
      Repoint(g, sg, 0, op.outputs[0], op.inputs[0], true);
      dead.insert(op.outputs[0]);
    }
  }
  RemoveOps(g, sg, 0, remove, dead);
  return Status::Ok();
}

Result<std::vector<uint8_t>> StripLceDequantizeOps(std::span<const uint8_t> model) {
  auto g = format::ReadModel(model);
  if (!g.ok()) return g.status();
  StripReport report;
  XBNN_RETURN_IF_ERROR(StripLceDequantize(*g, &report));
  // Same rule as `xbnn strip-dequantize`: a model with nothing to strip is an error, not a copy.
  if (report.removed_dequantize + report.removed_lce_dequantize == 0) {
    return Status::Error(kNothingToStrip);
  }
  return format::WriteModel(*g);
}

Result<std::vector<uint8_t>> ModifyIntegerQuantizedModelIoType(std::span<const uint8_t> model,
                                                               DType input, DType output) {
  auto g = format::ReadModel(model);
  if (!g.ok()) return g.status();
  XBNN_RETURN_IF_ERROR(SetIoTypes(*g, input, output));
  return format::WriteModel(*g);
}

}  // namespace xbnn::passes
