// A set of TFLite nodes as an xbnn model: the TFLite graph the delegate is given, rebuilt through
// xbnn's own format writer so that the normal reader, validator and interpreter run it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "tensorflow/lite/core/c/common.h"
#include "xbnn/model.h"
#include "xbnn/status.h"

namespace xbnn::tflite_delegate {

// The TFLite tensor indices an xbnn model reads and writes, in the order of its inputs/outputs.
struct PartitionIo {
  std::vector<int> inputs, outputs;
};

// "node 7 (LceBconv2d)"
std::string NodeName(TfLiteContext* ctx, int node_index);

// The op xbnn would run for a node: "" when it has a kernel for it and can translate its
// parameters, else why not.
std::string WhyNotSupported(TfLiteContext* ctx, int node_index);

// Inputs and outputs of a node subset: tensors read but not written inside (constants
// excluded), and tensors written inside that a node of `plan` outside the subset reads or that
// no node reads (the model's outputs).
PartitionIo SubsetIo(TfLiteContext* ctx, std::span<const int> plan, std::span<const int> nodes);

// The xbnn graph of `nodes` (in execution order) with the given graph inputs and outputs, using
// the tensors' current shapes. Constant buffers view TFLite's memory (valid as long as the TFLite
// interpreter). Needs TfLiteContext::GetNodeAndRegistration, so only inside the delegate's
// Prepare or its kernels' init.
Result<graph::Graph> BuildGraph(TfLiteContext* ctx, std::span<const int> nodes,
                                const PartitionIo& io);

// The model of `g` with its inputs given `input_shapes` (the TFLite tensors' current shapes;
// xbnn infers the rest). Constants are copied into the model.
Result<std::shared_ptr<const Model>> ModelOf(const graph::Graph& g,
                                             const std::vector<std::vector<int>>& input_shapes);

}  // namespace xbnn::tflite_delegate
