#include "runtime/shape_inference.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <variant>

#include "graph/cost.h"
#include "graph/lce_options.h"
#include "ops/op_kernel.h"
#include "ops/registry.h"
#include "ops/shape_rules.h"

namespace xbnn::runtime {
namespace {

using ops::Shape;
using ops::Values;

constexpr int kMaxRank = 8;
constexpr int64_t kMaxElements = ops::kMaxShapeElements;

bool IsIntType(graph::DType t) { return t == graph::DType::kInt32 || t == graph::DType::kInt64; }

// The shape of output `k` of the op, or nullopt to keep the file's: the op's own rule.
std::optional<Shape> OutputShape(const ops::OpDef* def, ops::ShapeQuery q, size_t k) {
  if (!def || !def->shape || (k != 0 && !def->shape_every_output)) return std::nullopt;
  q.output = k;
  return def->shape(q);
}

// Values of output 0 when they follow from known values and shapes: the op's value rule, for one
// small integer output.
std::optional<Values> OutputValues(const ops::OpDef* def, const ops::ShapeQuery& q,
                                   const Shape& out_shape) {
  if (!def || !def->values || q.op.outputs.size() != 1) return std::nullopt;
  if (!IsIntType(q.subgraph.tensors[static_cast<size_t>(q.op.outputs[0])].type))
    return std::nullopt;
  if (ops::Elements(out_shape) > kMaxKnownValues) return std::nullopt;
  return def->values(q, out_shape);
}

std::optional<Values> ConstantValues(const graph::Graph& g, const graph::Tensor& t) {
  if (!IsIntType(t.type) || t.NumElements() > kMaxKnownValues) return std::nullopt;
  if (t.NumElements() == 0) return Values{};  // an empty constant (graph::IsConstantTensor)
  if (!graph::IsConstant(g, t)) return std::nullopt;
  const auto bytes = g.buffers[t.buffer].bytes();
  const size_t size = t.type == graph::DType::kInt32 ? 4 : 8;
  const int64_t n = t.NumElements();
  if (bytes.size() < static_cast<size_t>(n) * size) return std::nullopt;
  Values v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (size == 4) {
      int32_t x;
      std::memcpy(&x, bytes.data() + i * 4, 4);
      v[static_cast<size_t>(i)] = x;
    } else {
      std::memcpy(&v[static_cast<size_t>(i)], bytes.data() + i * 8, 8);
    }
  }
  return v;
}

}  // namespace

Status CheckInputShapes(const graph::Subgraph& sg,
                        const std::vector<std::vector<int32_t>>& shapes) {
  if (shapes.size() > sg.inputs.size()) {
    return Status::Error("input_shapes gives " + std::to_string(shapes.size()) +
                         " shapes, the model has " + std::to_string(sg.inputs.size()) + " inputs");
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (shapes[i].empty()) continue;
    if (sg.inputs[i] < 0 || static_cast<size_t>(sg.inputs[i]) >= sg.tensors.size()) {
      return Status::Error("input " + std::to_string(i) + " is not a tensor of the subgraph");
    }
    const graph::Tensor& t = sg.tensors[static_cast<size_t>(sg.inputs[i])];
    const std::string what = "input_shapes: input " + std::to_string(i) + " ('" + t.name + "') ";
    if (shapes[i].size() != t.shape.size()) {
      return Status::Error(what + ShapeString(shapes[i]) + " has rank " +
                           std::to_string(shapes[i].size()) + ", the model's input " +
                           ShapeString(t.shape) + " has rank " + std::to_string(t.shape.size()));
    }
    int64_t elements = 1;
    for (int32_t d : shapes[i]) {
      if (d < 1)
        return Status::Error(what + ShapeString(shapes[i]) + ": every dimension must be positive");
      elements *= d;
      if (elements > (int64_t{1} << 31)) {
        return Status::Error(what + ShapeString(shapes[i]) + " exceeds the limit of 2^31 elements");
      }
    }
  }
  return Status::Ok();
}

Status InferShapes(const graph::Graph& g, const graph::Subgraph& sg, InferredShapes* out,
                   const std::vector<std::vector<int32_t>>* input_shapes) {
  InferredShapes& r = *out;
  const size_t n = sg.tensors.size();
  r.shapes.resize(n);
  r.values.assign(n, std::nullopt);
  r.folded.assign(sg.operators.size(), false);
  r.constant.assign(n, false);
  std::vector<bool>& constant = r.constant;
  for (size_t i = 0; i < n; ++i) {
    r.shapes[i] = sg.tensors[i].shape;
    // Not a subgraph input, so no kernel trusts values of an input it checked at load time.
    constant[i] = graph::IsConstantTensor(g, sg, static_cast<int32_t>(i));
    if (constant[i]) r.values[i] = ConstantValues(g, sg.tensors[i]);
  }
  if (input_shapes) {
    XBNN_RETURN_IF_ERROR(CheckInputShapes(sg, *input_shapes));
    for (size_t i = 0; i < std::min(sg.inputs.size(), input_shapes->size()); ++i) {
      const int32_t t = sg.inputs[i];
      if (!(*input_shapes)[i].empty() && t >= 0 && static_cast<size_t>(t) < n) {
        r.shapes[static_cast<size_t>(t)] = (*input_shapes)[i];
      }
    }
  }
  for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
    const graph::Operator& o = sg.operators[oi];
    if (o.opcode_index >= g.operator_codes.size()) continue;
    const ops::OpDef* def = ops::FindOp(g.CodeOf(o));
    const ops::ShapeQuery q{g, sg, o, r.shapes, r.values};
    bool all_known = !o.outputs.empty();
    for (size_t k = 0; k < o.outputs.size(); ++k) {
      const int32_t t = o.outputs[k];
      if (t < 0 || static_cast<size_t>(t) >= n || constant[static_cast<size_t>(t)]) {
        all_known = false;
        continue;
      }
      std::optional<Shape> s = OutputShape(def, q, k);
      if (s) {
        if (static_cast<int>(s->size()) > kMaxRank) {
          return Status::Error("op " + std::to_string(oi) + " (" + g.OpName(o) + "): inferred output shape has rank " +
                               std::to_string(s->size()) + ", over the limit of " + std::to_string(kMaxRank));
        }
        int64_t elements = 1;
        for (int32_t d : *s) {
          if (d < 0 || (d > 0 && elements > kMaxElements / d)) {
            return Status::Error("op " + std::to_string(oi) + " (" + g.OpName(o) +
                                 "): inferred output shape exceeds the limit of 2^31 elements");
          }
          elements *= d;
        }
        r.shapes[static_cast<size_t>(t)] = std::move(*s);
      }
      std::optional<Values> v =
          k == 0 ? OutputValues(def, q, r.shapes[static_cast<size_t>(t)]) : std::nullopt;
      if (v && static_cast<int64_t>(v->size()) == ops::Elements(r.shapes[static_cast<size_t>(t)])) {
        r.values[static_cast<size_t>(t)] = std::move(*v);
      } else {
        all_known = false;
      }
    }
    r.folded[oi] = all_known;
  }
  return Status::Ok();
}

Status CheckPackedChannels(const graph::Graph& g, const graph::Subgraph& sg,
                           const InferredShapes& inferred) {
  const size_t n = sg.tensors.size();
  std::vector<int> quantized_by(n, -1);  // the LceQuantize op writing each tensor
  for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
    const graph::Operator& o = sg.operators[oi];
    if (o.opcode_index >= g.operator_codes.size() || !g.IsCustom(o, graph::kLceQuantize)) continue;
    for (int32_t t : o.outputs) {
      if (t >= 0 && static_cast<size_t>(t) < n)
        quantized_by[static_cast<size_t>(t)] = static_cast<int>(oi);
    }
  }
  for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
    const graph::Operator& o = sg.operators[oi];
    const auto* options = std::get_if<graph::LceBconv2dOptions>(&o.lce_options);
    if (!options || o.inputs.empty() || o.inputs[0] < 0 || static_cast<size_t>(o.inputs[0]) >= n)
      continue;
    const int q = quantized_by[static_cast<size_t>(o.inputs[0])];
    if (q < 0 || sg.operators[static_cast<size_t>(q)].inputs.empty()) continue;
    const int32_t packed_from = sg.operators[static_cast<size_t>(q)].inputs[0];
    if (packed_from < 0 || static_cast<size_t>(packed_from) >= n) continue;
    const std::vector<int32_t>& shape = inferred.shapes[static_cast<size_t>(packed_from)];
    if (!shape.empty() && shape.back() != options->channels_in) {
      return Status::Error("op " + std::to_string(oi) + " (LceBconv2d): its input packs " +
                           std::to_string(shape.back()) + " channels (op " + std::to_string(q) +
                           ", LceQuantize of " + ShapeString(shape) +
                           "), but its weights take channels_in " +
                           std::to_string(options->channels_in));
    }
  }
  return Status::Ok();
}

}  // namespace xbnn::runtime
