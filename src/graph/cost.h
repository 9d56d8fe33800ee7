// Static costs of a graph: parameter bytes, activation memory of a naive plan (MACs per op are
// each op's own rule: ops::EstimateOpCost). Shared by `xbnn inspect`, the profiler and the
// benchmarks.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace xbnn::graph {

// True for an int32 tensor holding LCE's bitpacked words: written by LceQuantize, LceBconv2d or
// LceBMaxPool2d, or read as the packed input of an LCE op.
bool IsBitpackedTensor(const Graph& g, const Subgraph& sg, int32_t t);

// Bytes of distinct constant buffers the subgraph's tensors refer to.
int64_t ParameterBytes(const Graph& g, const Subgraph& sg);

// True when the tensor holds data from the model (a constant) rather than an activation.
bool IsConstant(const Graph& g, const Tensor& t);
// Tensor t of sg is a constant when run: data from the model (or zero elements and no op that
// writes it) and not a subgraph input (an input is written by the caller, whatever data the file
// gives it, as in TFLite).
bool IsConstantTensor(const Graph& g, const Subgraph& sg, int32_t t);

struct ActivationStats {
  int64_t total_bytes = 0;  // every activation tensor with its own memory
  int64_t peak_bytes = 0;   // max over op steps of the bytes live at once (no reuse gaps)
};
// Lifetimes in execution order: a tensor lives from its producer (or the start, for inputs) to
// its last consumer (or the end, for outputs).
ActivationStats NaiveActivationStats(const Graph& g, const Subgraph& sg);

int64_t TensorBytes(const Tensor& t);

}  // namespace xbnn::graph
