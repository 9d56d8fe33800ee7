// Semantic validation of a graph: everything a later stage indexes or sizes is checked here.
#include <array>
#include <limits>
#include <string>

#include "graph/lce_options.h"
#include "format/model_io.h"

namespace xbnn::format {
namespace {

using graph::Graph;
namespace gop = graph::op;
using graph::kLceQuantize;
using graph::kLceDequantize;
using graph::kLceBconv2d;
using graph::kLceBMaxPool2d;
using graph::ParseLceBconv2dOptions;
using graph::ParseLceBMaxPool2dOptions;

struct Arity {
  int32_t code;
  int min_in, max_in, min_out, max_out;
};

// Input/output counts of the builtins xbnn knows (optional inputs counted in max).
constexpr std::array kArity = {
    Arity{gop::kAdd, 2, 2, 1, 1},          Arity{gop::kSub, 2, 2, 1, 1},
    Arity{gop::kMul, 2, 2, 1, 1},          Arity{gop::kDiv, 2, 2, 1, 1},
    Arity{gop::kAveragePool2D, 1, 1, 1, 1}, Arity{gop::kMaxPool2D, 1, 1, 1, 1},
    Arity{gop::kConv2D, 2, 3, 1, 1},       Arity{gop::kDepthwiseConv2D, 2, 3, 1, 1},
    Arity{gop::kFullyConnected, 2, 3, 1, 1}, Arity{gop::kConcatenation, 1, 1 << 16, 1, 1},
    Arity{gop::kDequantize, 1, 1, 1, 1},   Arity{gop::kQuantize, 1, 1, 1, 1},
    Arity{gop::kLogistic, 1, 1, 1, 1},     Arity{gop::kRelu, 1, 1, 1, 1},
    Arity{gop::kRelu6, 1, 1, 1, 1},        Arity{gop::kReluN1To1, 1, 1, 1, 1},
    Arity{gop::kReshape, 1, 2, 1, 1},      Arity{gop::kSoftmax, 1, 1, 1, 1},
    Arity{gop::kPad, 2, 2, 1, 1},          Arity{gop::kPadV2, 3, 3, 1, 1},
    Arity{gop::kMean, 2, 2, 1, 1},         Arity{gop::kPrelu, 2, 2, 1, 1},
    Arity{gop::kMaximum, 2, 2, 1, 1},      Arity{gop::kMinimum, 2, 2, 1, 1},
    Arity{gop::kSign, 1, 1, 1, 1},         Arity{gop::kSelect, 3, 3, 1, 1},
    Arity{gop::kSelectV2, 3, 3, 1, 1},     Arity{gop::kGreaterEqual, 2, 2, 1, 1},
    Arity{gop::kHardSwish, 1, 1, 1, 1},    Arity{gop::kLeakyRelu, 1, 1, 1, 1},
    Arity{gop::kSqueeze, 1, 1, 1, 1},      Arity{gop::kStridedSlice, 4, 4, 1, 1},
};

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

Status ValidateLceOp(const Graph& g, const graph::Subgraph& sg, const graph::Operator& op,
                     const std::string& code) {
  auto count = [&](size_t min_in, size_t max_in) -> Status {
    if (op.inputs.size() < min_in || op.inputs.size() > max_in) {
      return Status::Error("expected " + std::to_string(min_in) +
                           (max_in != min_in ? " to " + std::to_string(max_in) : std::string()) +
                           " inputs, found " + std::to_string(op.inputs.size()));
    }
    if (op.outputs.size() != 1) {
      return Status::Error("expected 1 output, found " + std::to_string(op.outputs.size()));
    }
    return Status::Ok();
  };
  if (code == kLceQuantize || code == kLceDequantize) return count(1, 1);
  if (code == kLceBMaxPool2d) {
    XBNN_RETURN_IF_ERROR(count(1, 1));
    auto o = ParseLceBMaxPool2dOptions(op.custom_options);
    return o.ok() ? Status::Ok() : o.status();
  }
  if (code == kLceBconv2d) {
    XBNN_RETURN_IF_ERROR(count(2, 5));
    auto o = ParseLceBconv2dOptions(op.custom_options);
    return o.ok() ? Status::Ok() : o.status();
  }
  return Status::Ok();  // other custom ops: the runtime reports them as unsupported
}

}  // namespace

Status ValidateGraph(const Graph& g, const ReadLimits& limits) {
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
      const graph::OperatorCode& code = g.CodeOf(op);
      if (code.builtin == gop::kCustom) {
        Status s = ValidateLceOp(g, sg, op, code.custom_code);
        if (!s.ok()) return s.Prefixed(opw + ": ");
        continue;
      }
      for (const Arity& a : kArity) {
        if (a.code != code.builtin) continue;
        auto n_in = static_cast<int>(op.inputs.size()), n_out = static_cast<int>(op.outputs.size());
        if (n_in < a.min_in || n_in > a.max_in) {
          return Status::Error(opw + ": expected " + std::to_string(a.min_in) +
                               (a.max_in != a.min_in ? " to " + std::to_string(a.max_in) : std::string()) +
                               " inputs, found " + std::to_string(n_in));
        }
        if (n_out < a.min_out || n_out > a.max_out) {
          return Status::Error(opw + ": expected " + std::to_string(a.min_out) + " outputs, found " +
                               std::to_string(n_out));
        }
      }
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
