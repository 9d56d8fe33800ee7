// Semantic validation of a graph: everything a later stage indexes or sizes is checked here.
#include <array>
#include <limits>
#include <string>

#include "format/builtin_options.h"
#include "format/model_io.h"
#include "format/read_internal.h"
#include "graph/op_signature.h"
#include "tflite_subset_generated.h"

namespace xbnn::format {
namespace {

using graph::Graph;
namespace gop = graph::op;
namespace ot = graph::options_type;
namespace t = ::xbnn::tfl;

// The op table names options tables by number; keep those numbers equal to the schema's.
static_assert(ot::kConv2D == t::BuiltinOptions_Conv2DOptions && ot::kPool2D == t::BuiltinOptions_Pool2DOptions &&
              ot::kDepthwiseConv2D == t::BuiltinOptions_DepthwiseConv2DOptions &&
              ot::kFullyConnected == t::BuiltinOptions_FullyConnectedOptions &&
              ot::kSoftmax == t::BuiltinOptions_SoftmaxOptions &&
              ot::kConcatenation == t::BuiltinOptions_ConcatenationOptions && ot::kAdd == t::BuiltinOptions_AddOptions &&
              ot::kReshape == t::BuiltinOptions_ReshapeOptions && ot::kMul == t::BuiltinOptions_MulOptions &&
              ot::kPad == t::BuiltinOptions_PadOptions && ot::kBatchToSpaceND == t::BuiltinOptions_BatchToSpaceNDOptions &&
              ot::kSpaceToBatchND == t::BuiltinOptions_SpaceToBatchNDOptions &&
              ot::kTranspose == t::BuiltinOptions_TransposeOptions && ot::kReducer == t::BuiltinOptions_ReducerOptions &&
              ot::kSub == t::BuiltinOptions_SubOptions && ot::kDiv == t::BuiltinOptions_DivOptions &&
              ot::kSqueeze == t::BuiltinOptions_SqueezeOptions &&
              ot::kStridedSlice == t::BuiltinOptions_StridedSliceOptions && ot::kSplit == t::BuiltinOptions_SplitOptions &&
              ot::kDequantize == t::BuiltinOptions_DequantizeOptions &&
              ot::kMaximumMinimum == t::BuiltinOptions_MaximumMinimumOptions &&
              ot::kPadV2 == t::BuiltinOptions_PadV2Options && ot::kGreaterEqual == t::BuiltinOptions_GreaterEqualOptions &&
              ot::kSelect == t::BuiltinOptions_SelectOptions && ot::kShape == t::BuiltinOptions_ShapeOptions &&
              ot::kPack == t::BuiltinOptions_PackOptions && ot::kLeakyRelu == t::BuiltinOptions_LeakyReluOptions &&
              ot::kAbs == t::BuiltinOptions_AbsOptions && ot::kSplitV == t::BuiltinOptions_SplitVOptions &&
              ot::kQuantize == t::BuiltinOptions_QuantizeOptions && ot::kHardSwish == t::BuiltinOptions_HardSwishOptions &&
              ot::kSelectV2 == t::BuiltinOptions_SelectV2Options && ot::kSign == t::BuiltinOptions_SignOptions);
static_assert(ot::kGather == t::BuiltinOptions_GatherOptions);

std::string TensorLabel(const graph::Subgraph& sg, int32_t i) {
  std::string s = "tensor " + std::to_string(i);
  if (i >= 0 && i < static_cast<int32_t>(sg.tensors.size()) && !sg.tensors[i].name.empty()) {
    s += " '" + sg.tensors[i].name + "'";
  }
  return s;
}

Status ValidateTensor(const Graph& g, const graph::Subgraph& sg, size_t ti, const ReadLimits& limits,
                      const std::string& where) {
  const graph::Tensor& t = sg.tensors[ti];
  std::string label = where + TensorLabel(sg, static_cast<int32_t>(ti));
  if (static_cast<int>(t.shape.size()) > limits.max_rank) {
    return Status::Error(label + ": rank " + std::to_string(t.shape.size()) + " exceeds the limit of " +
                         std::to_string(limits.max_rank));
  }
  int64_t elements = 1;
  for (int32_t d : t.shape) {
    if (d < 0) return Status::Error(label + ": negative dimension " + std::to_string(d) + " in shape");
    if (d > 0 && elements > limits.max_tensor_elements / d) {
      return Status::Error(label + ": shape has more than " + std::to_string(limits.max_tensor_elements) +
                           " elements");
    }
    elements *= d;
  }
  if (t.buffer >= g.buffers.size()) {
    return Status::Error(label + ": buffer index " + std::to_string(t.buffer) + " out of range (model has " +
                         std::to_string(g.buffers.size()) + " buffers)");
  }
  const graph::Buffer& b = g.buffers[t.buffer];
  int esize = graph::DTypeSize(t.type);
  if (!b.empty() && esize > 0) {
    auto expected = static_cast<uint64_t>(elements) * static_cast<uint64_t>(esize);
    if (b.bytes().size() != expected) {
      return Status::Error(label + ": buffer " + std::to_string(t.buffer) + " holds " +
                           std::to_string(b.bytes().size()) + " bytes, expected " + std::to_string(expected) +
                           " (" + std::to_string(elements) + " x " + graph::DTypeName(t.type) + ")");
    }
  }
  if (t.quantization) {
    const graph::Quantization& q = *t.quantization;
    if (!q.scale.empty() && !q.zero_point.empty() && q.scale.size() != q.zero_point.size()) {
      return Status::Error(label + ": quantization has " + std::to_string(q.scale.size()) + " scales but " +
                           std::to_string(q.zero_point.size()) + " zero points");
    }
    if (q.scale.size() > 1) {
      if (q.quantized_dimension < 0 || q.quantized_dimension >= static_cast<int32_t>(t.shape.size()) ||
          t.shape[q.quantized_dimension] != static_cast<int32_t>(q.scale.size())) {
        return Status::Error(label + ": per-channel quantization with " + std::to_string(q.scale.size()) +
                             " scales does not match quantized_dimension " +
                             std::to_string(q.quantized_dimension));
      }
    }
  }
  return Status::Ok();
}

Status CheckIndex(const graph::Subgraph& sg, int32_t i, bool allow_absent, const std::string& what) {
  if (allow_absent && i == -1) return Status::Ok();
  if (i < 0 || i >= static_cast<int32_t>(sg.tensors.size())) {
    return Status::Error(what + " refers to tensor " + std::to_string(i) + ", out of range (subgraph has " +
                         std::to_string(sg.tensors.size()) + " tensors)");
  }
  return Status::Ok();
}

std::string OptionsTableName(uint8_t type) {
  if (type == 0) return "none";
  const OptionTableSpec* spec = FindOptionSpec(type);
  return spec ? std::string(spec->table_name) : "union type " + std::to_string(type);
}

// Counts, absent (-1) inputs and the options table against the op's signature. Unknown ops
// (null) are left to the runtime, which refuses them by name.
Status ValidateOpSignature(const graph::Operator& op, const graph::OpSignature* sig) {
  if (!sig) return Status::Ok();
  auto range = [](int lo, int hi) {
    return std::to_string(lo) + (hi != lo ? " to " + std::to_string(hi) : std::string());
  };
  const auto n_in = static_cast<int>(op.inputs.size()), n_out = static_cast<int>(op.outputs.size());
  if (n_in < sig->min_inputs || n_in > sig->max_inputs) {
    return Status::Error("expected " + range(sig->min_inputs, sig->max_inputs) + " inputs, found " +
                         std::to_string(n_in));
  }
  if (n_out < sig->min_outputs || n_out > sig->max_outputs) {
    return Status::Error("expected " + range(sig->min_outputs, sig->max_outputs) + " outputs, found " +
                         std::to_string(n_out));
  }
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    if (op.inputs[k] == -1 && !sig->MayBeAbsent(k)) {
      return Status::Error("input " + std::to_string(k) + " is absent (-1), but it is required");
    }
  }
  const uint8_t type = op.builtin_options.type;
  if (type != 0 && type != sig->options_type) {
    return Status::Error("builtin options are a " + OptionsTableName(type) + " table, expected " +
                         (sig->options_type == 0 ? std::string("none") : OptionsTableName(sig->options_type)));
  }
  return Status::Ok();
}

// The LCE options the op takes (its signature says which) against its custom options bytes,
// strictly (every key present, an integer, in range). With options_from_reader the reader has
// just parsed them from these bytes, so only ops left without them are parsed again, for the
// message. A graph from elsewhere (a pass, code) must hold exactly what its bytes say: the writer
// writes the bytes, every later stage reads the parsed options.
Status CheckLceOptions(const graph::Operator& op, const graph::OpSignature* sig,
                       bool options_from_reader) {
  if (!sig) return Status::Ok();
  const graph::LceOptionsKind kind = sig->lce_options;
  if (kind == graph::LceOptionsKind::kNone) {
    if (std::holds_alternative<std::monostate>(op.lce_options)) return Status::Ok();
    return Status::Error("has parsed LCE options, but the op takes none");
  }
  if (options_from_reader && graph::HoldsKind(op.lce_options, kind)) return Status::Ok();
  auto parsed = graph::ParseLceOptions(kind, op.custom_options);
  if (!parsed.ok()) return parsed.status();
  if (*parsed == op.lce_options) return Status::Ok();
  return Status::Error(std::string(graph::HoldsKind(op.lce_options, kind)
                                       ? "the parsed options differ from"
                                       : "the options were not parsed from") +
                       " the custom options bytes (set both with graph::SetLceOptions)");
}

}  // namespace

Status ValidateGraph(const Graph& g, const ReadLimits& limits) {
  return internal::ValidateGraph(g, limits, /*options_from_reader=*/false);
}

Status internal::ValidateGraph(const Graph& g, const ReadLimits& limits, bool options_from_reader) {
  if (g.version != 3) {
    return Status::Error("unsupported schema version " + std::to_string(g.version) + " (expected 3)");
  }
  if (g.subgraphs.empty()) return Status::Error("model has no subgraphs");
  if (g.buffers.empty()) return Status::Error("model has no buffers (buffer 0 must be the empty sentinel)");
  for (size_t i = 0; i < g.operator_codes.size(); ++i) {
    const graph::OperatorCode& c = g.operator_codes[i];
    if (c.builtin < 0) return Status::Error("operator code " + std::to_string(i) + " is negative");
    if (c.builtin == gop::kCustom && c.custom_code.empty()) {
      return Status::Error("operator code " + std::to_string(i) + " is CUSTOM without a custom_code");
    }
  }
  for (size_t i = 0; i < g.metadata.size(); ++i) {
    if (g.metadata[i].buffer >= g.buffers.size()) {
      return Status::Error("metadata '" + g.metadata[i].name + "' refers to buffer " +
                           std::to_string(g.metadata[i].buffer) + ", out of range");
    }
  }
  for (int32_t b : g.metadata_buffer) {
    if (b < 0 || b >= static_cast<int32_t>(g.buffers.size())) {
      return Status::Error("metadata_buffer refers to buffer " + std::to_string(b) + ", out of range");
    }
  }
  for (size_t si = 0; si < g.subgraphs.size(); ++si) {
    const graph::Subgraph& sg = g.subgraphs[si];
    std::string where = g.subgraphs.size() > 1 ? "subgraph " + std::to_string(si) + ": " : "";
    for (size_t ti = 0; ti < sg.tensors.size(); ++ti) {
      XBNN_RETURN_IF_ERROR(ValidateTensor(g, sg, ti, limits, where));
    }
    for (int32_t i : sg.inputs) XBNN_RETURN_IF_ERROR(CheckIndex(sg, i, false, where + "subgraph input"));
    for (int32_t i : sg.outputs) XBNN_RETURN_IF_ERROR(CheckIndex(sg, i, false, where + "subgraph output"));
    for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
      const graph::Operator& op = sg.operators[oi];
      std::string opw = where + "op " + std::to_string(oi);
      if (op.opcode_index >= g.operator_codes.size()) {
        return Status::Error(opw + ": opcode index " + std::to_string(op.opcode_index) + " out of range (model has " +
                             std::to_string(g.operator_codes.size()) + " operator codes)");
      }
      opw += " (" + g.OpName(op) + ")";
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        XBNN_RETURN_IF_ERROR(CheckIndex(sg, op.inputs[k], true, opw + ": input " + std::to_string(k)));
      }
      for (size_t k = 0; k < op.outputs.size(); ++k) {
        XBNN_RETURN_IF_ERROR(CheckIndex(sg, op.outputs[k], false, opw + ": output " + std::to_string(k)));
      }
      for (int32_t i : op.intermediates) XBNN_RETURN_IF_ERROR(CheckIndex(sg, i, false, opw + ": intermediate"));
      if (!op.mutating_variable_inputs.empty() && op.mutating_variable_inputs.size() != op.inputs.size()) {
        return Status::Error(opw + ": mutating_variable_inputs has the wrong length");
      }
      const graph::OpSignature* sig =
          limits.op_signatures ? limits.op_signatures(g.CodeOf(op)) : nullptr;
      Status s = ValidateOpSignature(op, sig);
      if (s.ok()) s = CheckLceOptions(op, sig, options_from_reader);
      if (!s.ok()) return s.Prefixed(opw + ": ");
    }
  }
  for (size_t i = 0; i < g.signature_defs.size(); ++i) {
    const graph::SignatureDef& sd = g.signature_defs[i];
    std::string where = "signature '" + sd.signature_key + "'";
    if (sd.subgraph_index >= g.subgraphs.size()) {
      return Status::Error(where + " refers to subgraph " + std::to_string(sd.subgraph_index) + ", out of range");
    }
    const graph::Subgraph& sg = g.subgraphs[sd.subgraph_index];
    for (const auto* list : {&sd.inputs, &sd.outputs}) {
      for (const graph::TensorMap& m : *list) {
        if (m.tensor_index >= sg.tensors.size()) {
          return Status::Error(where + " entry '" + m.name + "' refers to tensor " +
                               std::to_string(m.tensor_index) + ", out of range");
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace xbnn::format
