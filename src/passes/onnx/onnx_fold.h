// Constant folding for the ONNX importer (onnx_fold.cc). Not a public header.
#pragma once

#include <cstdint>
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

// a * d for dimensions (d >= 0), or -1 beyond 2^40 elements: shape products that a hostile model
// could make overflow int64 (Reshape to 2^62 rows, Flatten, Expand).
inline int64_t TimesDim(int64_t a, int64_t d) {
  constexpr int64_t kMaxElements = int64_t{1} << 40;
  return a < 0 || (d != 0 && a > kMaxElements / d) ? -1 : a * d;
}

// ONNX Reshape's target shape (0 copies the input dimension unless allowzero, -1 is inferred).
Result<std::vector<int64_t>> ReshapeDims(const std::vector<int64_t>& in,
                                         const std::vector<int64_t>& target, bool allowzero,
                                         const std::string& what);

}  // namespace xbnn::onnx_import::internal
