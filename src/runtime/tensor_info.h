// The public description of a model input or output (xbnn::TensorInfo): name, type, shape,
// quantization, and for bitpacked int32 tensors the unpacked channel count.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"
#include "xbnn/tensor.h"

namespace xbnn::runtime {

// Tensor `t` of `sg`; `shape` is the inferred shape, which wins over the file's where they differ.
TensorInfo MakeTensorInfo(const graph::Graph& g, const graph::Subgraph& sg, int32_t t,
                          const std::vector<int32_t>& shape);

}  // namespace xbnn::runtime
