// What xbnn knows about one operator, in one object that the op's kernel file defines: its code
// and highest version, its structural signature, its shape rule, its cost and its kernel factory.
// The registry (src/ops/registry.cc) lists the descriptors, one line each; the validator, shape
// inference, cost estimation and the interpreter read them from there.
//
// Adding a builtin op: write src/kernels/builtin/NAME.cc with the kernel and an OpDef named
// kNameOp, and add `OP(Name)` to the list in src/ops/registry.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/op_signature.h"
#include "ops/op_kernel.h"

namespace xbnn::ops {

using Shape = std::vector<int32_t>;
using Values = std::vector<int64_t>;

// What a shape rule sees of one op during shape inference: the shapes inferred so far and the
// values of small integer tensors known at load time (constants, and shapes computed from shapes).
struct ShapeQuery {
  const graph::Graph& graph;
  const graph::Subgraph& subgraph;
  const graph::Operator& op;
  const std::vector<Shape>& shapes;                  // per tensor of the subgraph
  const std::vector<std::optional<Values>>& values;  // per tensor; nullopt when not known
  size_t output = 0;                                 // the output whose shape is asked for

  // Input i's inferred shape / known values; null when absent or unknown.
  const Shape* In(size_t i) const;
  const Values* Val(size_t i) const;
  size_t num_inputs() const { return op.inputs.size(); }
  const graph::BuiltinOptions& options() const { return op.builtin_options; }
  // The shape the file gives a tensor.
  const Shape& FileShape(int32_t tensor) const;
};

// The shape of output q.output, or nullopt to keep the file's: inconsistent inputs are left to the
// kernel's Prepare, which reports them with its own message.
using ShapeRule = std::optional<Shape> (*)(const ShapeQuery& q);
// The values of output 0 when they follow from known values and shapes (shape-building integer
// ops: SHAPE, STRIDED_SLICE, PACK, ...), or nullopt.
using ValueRule = std::optional<Values> (*)(const ShapeQuery& q, const Shape& out_shape);

// MACs of one op by kind (zero for ops without multiply-accumulates).
struct OpCost {
  int64_t binary_macs = 0;  // xor-popcount MACs (LceBconv2d)
  int64_t float_macs = 0;   // float32 multiply-accumulates (CONV_2D, DEPTHWISE, FULLY_CONNECTED)
  int64_t int8_macs = 0;    // the same ops on int8 tensors
};

// What a cost rule sees: the op and the file's tensors. `in`, `filter` and `out` are inputs 0 and
// 1 and output 0 (present, filter rank >= 2, checked by the caller).
struct CostQuery {
  const graph::Graph& graph;
  const graph::Subgraph& subgraph;
  const graph::Operator& op;
  const graph::Tensor& in;
  const graph::Tensor& filter;
  const graph::Tensor& out;
};
// MACs of the op; the kind (float or int8) follows the input type unless the rule says binary.
using CostRule = OpCost (*)(const CostQuery& q);

struct OpDef {
  graph::OpSignature signature;  // code, custom code, arity, optional inputs, options table
  int max_version;               // highest op version the kernel implements
  ShapeRule shape = nullptr;     // null: outputs keep the file's shapes
  ValueRule values = nullptr;    // null: no output values computed at load time
  CostRule cost = nullptr;       // null: no MACs
  runtime::KernelFactory create = nullptr;  // null: validated and named, but not run
  bool shape_every_output = false;          // shape called for every output (SPLIT), else output 0

  int32_t builtin() const { return signature.builtin; }
  bool is_custom() const { return signature.builtin == graph::op::kCustom; }
  // "CONV_2D", or the custom code.
  std::string Name() const;
};

// A kernel factory for OpDef::create: a new Kernel(args...).
template <typename Kernel, auto... args>
std::unique_ptr<runtime::OpKernel> MakeKernel() {
  return std::make_unique<Kernel>(args...);
}

}  // namespace xbnn::ops
