// The op registry: every operator xbnn knows, each described by the OpDef in its kernel file.
#pragma once

#include <span>
#include <string>

#include "ops/op_def.h"

namespace xbnn::ops {

// Every op, LCE ops first, in registry order (for listings: `xbnn ops`, docs/ops.md).
std::span<const OpDef* const> AllOps();

// The op for a code at any version; null for an op xbnn does not know.
const OpDef* FindOp(const graph::OperatorCode& code);

// The op that runs this code at its version; null with `why` set when xbnn cannot run it
// (unknown op, a newer version than implemented, or an op without a kernel).
const OpDef* FindKernel(const graph::OperatorCode& code, std::string* why);

// MACs of one op from the file's tensor shapes (zero for ops without multiply-accumulates).
// `shapes` (per tensor of sg, optional): the shapes the op runs at, when not the file's (an
// interpreter whose inputs were resized).
OpCost EstimateOpCost(const graph::Graph& g, const graph::Subgraph& sg, const graph::Operator& op,
                      const std::vector<std::vector<int32_t>>* shapes = nullptr);

}  // namespace xbnn::ops
