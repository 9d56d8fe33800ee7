// The patterns of load-time fusion (runtime/fusion.h), op by op: which ops, tensors and
// operands a fusion may take. Internal to the runtime.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"
#include "ops/op_kernel.h"
#include "runtime/fusion.h"

namespace xbnn::runtime {

inline constexpr int32_t kMinConcatPart = 16;  // channels, see ConcatenatesLastAxis

inline bool IsFloat(const RuntimeTensor& t) { return t.type() == graph::DType::kFloat32; }

// `packed` has the shape and type of LceQuantize's output for input `x`.
bool PacksOf(const RuntimeTensor& x, const RuntimeTensor& packed);

// One value, or one per channel of the last of `dims` (all other dimensions 1).
bool IsPerChannelOrScalar(const RuntimeTensor& k, const std::vector<int32_t>& dims);

// A float ADD, SUB or MUL of the float tensor `x` and a constant of one value or one per channel
// of x's last dimension, or a PRELU of x with such a constant slope, writing a float tensor of
// x's shape (an op a fused pooling can run row by row before or after pooling; the kernel checks
// it again at Prepare).
bool IsRowOp(const graph::Graph& g, const graph::Operator& op, int32_t x,
             const std::vector<RuntimeTensor>& tensors);

// The float elementwise ops a chain runs (ChainFusion).
bool IsChainOp(const graph::Graph& g, const graph::Operator& op);

// A float operand a chain can read row by row against an output of `dims`: the same shape, one
// value per channel (all dimensions 1 but the last) or one value.
bool IsRowOperand(const RuntimeTensor& k, const std::vector<int32_t>& dims);

// Op `op` of a chain whose value so far is `x`: x is one of its two inputs, the other a row
// operand that exists before op `first` runs; the output a float tensor of x's shape.
bool ExtendsChain(const graph::Graph& g, const graph::Operator& op, int32_t x, int first,
                  const std::vector<RuntimeTensor>& tensors, const std::vector<int>& producer);

// A float PAD or PADV2 of the last axis only, with +0.0 (bitwise), from a float tensor of the
// same rank.
bool PadsLastAxisWithZeros(const graph::Graph& g, const graph::Operator& op,
                           const std::vector<RuntimeTensor>& tensors);

// A float CONCATENATION of float tensors of at least `min_part` channels along the last axis,
// without activation, into a float tensor of rank >= 1.
bool ConcatenatesLastAxis(const graph::Graph& g, const graph::Operator& op,
                          const std::vector<RuntimeTensor>& tensors,
                          int32_t min_part = kMinConcatPart);

// A float elementwise op that can read its input `x` (a concatenation) from its parts: ADD, SUB,
// MUL, DIV, MAXIMUM or MINIMUM reading x once against a row operand of x's shape (the kernel
// checks it again at Prepare).
bool ReadsInPlace(const graph::Graph& g, const graph::Operator& op, int32_t x,
                  const std::vector<RuntimeTensor>& tensors);

// A CONV_2D of the float tensor `x` (no other input is x) with a constant float filter whose
// depth is x's channels and an optional constant bias, writing a float rank-4 tensor, that runs
// on the 8-channel direct kernels (GroupConvFusion).
bool IsGroupConv(const graph::Graph& g, const graph::Operator& op, int32_t x,
                 const std::vector<RuntimeTensor>& tensors);

// The same geometry: filter shape, strides, dilations and padding.
bool SameConv(const graph::Operator& a, const graph::Operator& b,
              const std::vector<RuntimeTensor>& tensors);

// ChainBits (fusion.h): the chains whose bits can be computed part by part, then each part's jobs
// at the first of them that reads it.
void PlanBconvChains(const graph::Graph& g, const graph::Subgraph& sg,
                     const std::vector<RuntimeTensor>& tensors,
                     const std::vector<std::vector<int>>& readers, const std::vector<int>& producer,
                     FusionPlan& plan);

void PlanChainBits(const graph::Graph& g, const graph::Subgraph& sg,
                   const std::vector<RuntimeTensor>& tensors,
                   const std::vector<std::vector<int>>& readers, FusionPlan& plan);

}  // namespace xbnn::runtime
