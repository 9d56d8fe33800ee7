// The conversion pass: see convert.h for the list of rewrites. The order follows LCE's MLIR
// pipeline (prepare: binarization and binary convolutions; optimize: folding, binary max pool,
// bitpacked activations; quantize: int8 next to fake quantization), so that the result has the
// LCE ops LCE's converter would make. Every rewrite checks that it keeps the model's outputs; a
// pattern that cannot be converted exactly is left alone and reported. One file per pattern:
// convert_binarize.cc, convert_bconv.cc, convert_dense.cc, convert_bitpacked.cc,
// convert_int8.cc; the shared state in convert_ctx.cc. This file: the driver and the clean-up.
#include "passes/convert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <queue>
#include <set>
#include <sstream>

#include "format/model_io.h"
#include "graph/lce_options.h"
#include "passes/convert_internal.h"
#include "passes/io_passes.h"

namespace xbnn::passes {
namespace convert_internal {
namespace {

namespace op = graph::op;
using graph::DType;
using graph::Operator;
using graph::Tensor;

// Removes dead ops and sorts the live ones topologically (ties by order key), then drops the
// tensors nothing refers to.
Status Compact(Ctx& c) {
  c.RemoveDeadOps();
  const int n = c.NumOps();
  std::vector<std::vector<int>> next(n);
  std::vector<int> indegree(n, 0);
  for (int j = 0; j < n; ++j) {
    if (c.dead[j]) continue;
    std::set<int> preds;
    for (int32_t t : c.sg.operators[j].inputs) {
      int p = c.Producer(t);
      if (p >= 0 && p != j) preds.insert(p);
    }
    for (int p : preds) {
      next[p].push_back(j);
      indegree[j]++;
    }
  }
  using Item = std::pair<double, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> ready;
  int live = 0;
  for (int j = 0; j < n; ++j) {
    if (c.dead[j]) continue;
    ++live;
    if (indegree[j] == 0) ready.push({c.key[j], j});
  }
  std::vector<graph::Operator> ops;
  while (!ready.empty()) {
    int j = ready.top().second;
    ready.pop();
    ops.push_back(std::move(c.sg.operators[j]));
    for (int k : next[j]) {
      if (--indegree[k] == 0) ready.push({c.key[k], k});
    }
  }
  if (static_cast<int>(ops.size()) != live)
    return Status::Error("internal error: the converted graph has a cycle");
  c.sg.operators = std::move(ops);
  RemoveUnusedTensors(c.g, c.sg, c.sgi);
  return Status::Ok();
}

// Activation tensors use buffer 0; buffers and operator codes nothing refers to go.
int RemoveUnusedBuffersAndCodes(graph::Graph& g) {
  for (graph::Subgraph& sg : g.subgraphs) {
    for (Tensor& t : sg.tensors) {
      if (t.buffer != 0 && t.buffer < g.buffers.size() && g.buffers[t.buffer].empty()) t.buffer = 0;
    }
  }
  std::vector<bool> used(g.buffers.size(), false);
  if (!used.empty()) used[0] = true;
  for (const graph::Subgraph& sg : g.subgraphs) {
    for (const Tensor& t : sg.tensors) {
      if (t.buffer < used.size()) used[t.buffer] = true;
    }
  }
  for (const graph::Metadata& m : g.metadata) {
    if (m.buffer < used.size()) used[m.buffer] = true;
  }
  for (int32_t b : g.metadata_buffer) {
    if (b >= 0 && static_cast<size_t>(b) < used.size()) used[b] = true;
  }
  std::vector<uint32_t> remap(g.buffers.size(), 0);
  std::vector<graph::Buffer> kept;
  for (size_t i = 0; i < g.buffers.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(g.buffers[i]));
  }
  int removed = static_cast<int>(g.buffers.size() - kept.size());
  g.buffers = std::move(kept);
  for (graph::Subgraph& sg : g.subgraphs) {
    for (Tensor& t : sg.tensors) t.buffer = remap[t.buffer];
  }
  for (graph::Metadata& m : g.metadata) m.buffer = remap[m.buffer];
  for (int32_t& b : g.metadata_buffer) b = static_cast<int32_t>(remap[static_cast<size_t>(b)]);

  std::vector<bool> code_used(g.operator_codes.size(), false);
  for (const graph::Subgraph& sg : g.subgraphs) {
    for (const Operator& o : sg.operators) code_used[o.opcode_index] = true;
  }
  std::vector<uint32_t> code_remap(g.operator_codes.size(), 0);
  std::vector<graph::OperatorCode> codes;
  for (size_t i = 0; i < g.operator_codes.size(); ++i) {
    if (!code_used[i]) continue;
    code_remap[i] = static_cast<uint32_t>(codes.size());
    codes.push_back(std::move(g.operator_codes[i]));
  }
  g.operator_codes = std::move(codes);
  for (graph::Subgraph& sg : g.subgraphs) {
    for (Operator& o : sg.operators) o.opcode_index = code_remap[o.opcode_index];
  }
  return removed;
}

// TFLite runs operators in file order: every tensor is written once, before it is read. The
// rewrites rely on that (they follow producers backwards).
Status CheckExecutionOrder(const graph::Graph& g, size_t si) {
  const graph::Subgraph& sg = g.subgraphs[si];
  std::string where = g.subgraphs.size() > 1 ? "subgraph " + std::to_string(si) + ": " : "";
  std::vector<int> producer(sg.tensors.size(), -1);
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    for (int32_t t : sg.operators[i].outputs) {
      if (t < 0) continue;
      if (producer[t] >= 0) {
        return Status::Error(where + "tensor " + std::to_string(t) + " is written by op " +
                             std::to_string(producer[t]) + " and op " + std::to_string(i));
      }
      producer[t] = static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    for (int32_t t : sg.operators[i].inputs) {
      if (t >= 0 && producer[t] >= static_cast<int>(i)) {
        return Status::Error(where + "op " + std::to_string(i) + " (" + g.OpName(sg.operators[i]) +
                             ") reads tensor " + std::to_string(t) + ", which op " +
                             std::to_string(producer[t]) +
                             " writes later; the converter needs operators in execution order");
      }
    }
  }
  return Status::Ok();
}

}  // namespace
}  // namespace convert_internal

Status ConvertToLce(graph::Graph& g, const ConvertOptions& options, ConvertReport* report) {
  using namespace convert_internal;  // NOLINT: the pass's own internals
  for (graph::DType t : {options.inference_input_type, options.inference_output_type}) {
    if (t != graph::DType::kFloat32 && t != graph::DType::kInt8) {
      return Status::Error(std::string("inference IO type must be float32 or int8, got ") +
                           graph::DTypeName(t));
    }
  }
  XBNN_RETURN_IF_ERROR(format::ValidateGraph(g));
  ConvertReport local;
  ConvertReport& r = report ? *report : local;
  r = ConvertReport{};
  size_t ops_before = 0, tensors_before = 0;
  for (const graph::Subgraph& sg : g.subgraphs) {
    ops_before += sg.operators.size();
    tensors_before += sg.tensors.size();
  }
  for (size_t s = 0; s < g.subgraphs.size(); ++s) XBNN_RETURN_IF_ERROR(CheckExecutionOrder(g, s));
  for (size_t s = 0; s < g.subgraphs.size(); ++s) {
    Ctx c(g, g.subgraphs[s], s, r);
    c.zero_padded_fusion = options.zero_padded_fusion;
    c.binary_dense = options.binary_dense;
    Binarize(c);
    ConvertConvs(c);
    if (c.binary_dense) ConvertDense(c);
    ConvertMaxPools(c);
    WriteBitpacked(c);
    ConvertFakeQuant(c);
    FinalizeBconvs(c);
    XBNN_RETURN_IF_ERROR(Compact(c));
  }
  r.removed_buffers = RemoveUnusedBuffersAndCodes(g);
  if (options.inference_input_type == graph::DType::kInt8 ||
      options.inference_output_type == graph::DType::kInt8) {
    Status s = SetIoTypes(g, options.inference_input_type, options.inference_output_type);
    if (!s.ok()) return s.Prefixed("inference IO type: ");
    r.removed_buffers += RemoveUnusedBuffersAndCodes(g);
  }
  size_t ops_after = 0, tensors_after = 0;
  for (const graph::Subgraph& sg : g.subgraphs) {
    ops_after += sg.operators.size();
    tensors_after += sg.tensors.size();
    for (const graph::Operator& o : sg.operators) {
      if (g.IsCustom(o, graph::kLceQuantize)) r.lce_quantize++;
      if (g.IsCustom(o, graph::kLceDequantize)) r.lce_dequantize++;
      if (g.IsCustom(o, graph::kLceBMaxPool2d)) r.bmaxpool++;
      if (g.IsCustom(o, graph::kLceBconv2d)) {
        r.bconv++;
        graph::DType t = sg.tensors[o.outputs[0]].type;
        if (t == graph::DType::kInt32) r.bconv_bitpacked++;
        if (t == graph::DType::kInt8) r.bconv_int8++;
      }
    }
  }
  r.removed_ops = static_cast<int>(ops_before) - static_cast<int>(ops_after);
  r.removed_tensors = static_cast<int>(tensors_before) - static_cast<int>(tensors_after);
  return format::ValidateGraph(g).Prefixed("internal error: the converted model is invalid: ");
}

Result<std::vector<uint8_t>> ConvertModel(std::span<const uint8_t> model,
                                          const ConvertOptions& options, ConvertReport* report) {
  auto g = format::ReadModel(model);
  if (!g.ok()) return g.status();
  XBNN_RETURN_IF_ERROR(ConvertToLce(*g, options, report));
  return format::WriteModel(*g);
}

}  // namespace xbnn::passes
