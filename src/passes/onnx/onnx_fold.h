// Constant folding for the ONNX importer (onnx_fold.cc). Not a public header.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "passes/onnx/onnx_model.h"
#include "xbnn/status.h"

namespace xbnn::onnx_import::internal {

// Evaluates node `n` on constant inputs (null for an absent or non-constant input). nullopt when
// the op is not one the folder evaluates; an error when it is but the inputs are malformed.
std::optional<Result<Constant>> FoldConstant(const Node& n,
                                             const std::vector<const Constant*>& inputs,
                                             int64_t opset, const std::string& what);

// ONNX Reshape's target shape (0 copies the input dimension unless allowzero, -1 is inferred).
Result<std::vector<int64_t>> ReshapeDims(const std::vector<int64_t>& in,
                                         const std::vector<int64_t>& target, bool allowzero,
                                         const std::string& what);

}  // namespace xbnn::onnx_import::internal
