// Reading and writing .tflite files (TFLite schema v3 with LCE custom ops) to and from the graph.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/op_signature.h"
#include "xbnn/status.h"

namespace xbnn::format {

struct ReadLimits {
  int64_t max_file_bytes = int64_t{2} << 30;       // flatbuffers' own 2 GiB limit
  int64_t max_tensor_elements = int64_t{1} << 31;  // per tensor
  int max_rank = 8;
  // The ops' structural rules (arity, optional inputs, options table) the validator enforces;
  // unknown ops are left to the runtime, which refuses them by name.
  graph::OpSignatureLookup op_signatures = graph::FindOpSignature;
};

// Verifies the flatbuffer, converts it and validates it (ValidateGraph). Constant buffers in the
// result are views into `bytes`, which must outlive the graph.
Result<graph::Graph> ReadModel(std::span<const uint8_t> bytes, const ReadLimits& limits = {});

// Converts the verified flatbuffer without the semantic checks. Only for tools that must see
// invalid models (the fuzzers' mutator); everything else uses ReadModel.
Result<graph::Graph> ReadModelUnvalidated(std::span<const uint8_t> bytes, const ReadLimits& limits = {});

// Semantic checks: indices in range, shapes and buffer sizes consistent, op arity, LCE options
// (the bytes parse strictly, and Operator::lce_options holds what they say). Messages name the
// subgraph, op index and name, tensor index and name, expected vs found.
Status ValidateGraph(const graph::Graph& g, const ReadLimits& limits = {});

// Parses the custom options of every LCE op into Operator::lce_options, as the reader does (once,
// at read time; nothing later parses them). Ops whose bytes do not parse are left without, and
// ValidateGraph names the problem. For graphs assembled from option bytes outside the reader
// (the TFLite delegate); passes that make LCE ops use graph::SetLceOptions instead.
void ReadLceOptions(graph::Graph& g, const ReadLimits& limits = {});

// Serializes a graph; fails when it holds something xbnn cannot write faithfully.
Result<std::vector<uint8_t>> WriteModel(const graph::Graph& g);

// Serializes without validating first. Only for tests that need malformed models on purpose.
Result<std::vector<uint8_t>> WriteModelUnvalidated(const graph::Graph& g);

// File helpers with clear errors (missing file, directory, unreadable, too large).
Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path, int64_t max_bytes = int64_t{2} << 30);
// Writes via a temporary file then rename, so a failure never leaves half a file behind.
Status WriteFileBytes(const std::string& path, std::span<const uint8_t> bytes);

// A model file with its bytes kept alive beside the graph that views them.
struct ModelFile {
  std::shared_ptr<const std::vector<uint8_t>> bytes;
  graph::Graph graph;
};
Result<ModelFile> LoadModelFile(const std::string& path, const ReadLimits& limits = {});

}  // namespace xbnn::format
