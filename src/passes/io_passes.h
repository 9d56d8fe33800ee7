// Model-boundary rewrites that LCE users know from its Python utilities:
//  - StripLceDequantize (LCE's strip_lcedequantize_ops): bitpacked int32 model outputs;
//  - SetIoTypes (LCE's modify_integer_quantized_model_io_type): int8 model inputs/outputs.
// Both keep everything else (names, buffers, metadata, other subgraphs) and remap tensor indices
// after deleting the tensors they leave unused.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "xbnn/status.h"

namespace xbnn::passes {

// Metadata entry xbnn adds when it strips: "name=channels;name=channels" for each stripped output,
// so tools can unpack the int32 words later.
inline constexpr const char* kBitpackedChannelsMetadata = "xbnn_bitpacked_output_channels";

struct StripReport {
  int removed_dequantize = 0;      // DEQUANTIZE (int8 -> float32) ops removed
  int removed_lce_dequantize = 0;  // LceDequantize ops removed
  std::vector<std::pair<std::string, int>> bitpacked_outputs;  // output tensor name, channels
};

// In every subgraph, removes the DEQUANTIZE ops that feed subgraph outputs, then the
// LceDequantize ops that feed subgraph outputs, and re-points outputs and signature defs.
// Errors: no such op; an output DEQUANTIZE that is not int8 -> float32; an output LceDequantize
// whose input is not int32 or output not float32/int8.
Status StripLceDequantize(graph::Graph& g, StripReport* report = nullptr, bool add_metadata = true);
// The error of StripLceDequantizeOps and `xbnn strip-dequantize` when no op was removed.
inline constexpr const char* kNothingToStrip =
    "no LceDequantize or DEQUANTIZE op feeds a model output; nothing to strip";

// `input` / `output`: the wanted boundary type (float32 keeps the model as it is, int8 removes
// the QUANTIZE after float inputs / the DEQUANTIZE before float outputs). Errors when the model is
// not integer-quantized at that boundary.
Status SetIoTypes(graph::Graph& g, graph::DType input, graph::DType output);

// Deletes tensors no op, subgraph input/output or signature refers to, remapping every index:
// all of them, or only those among `candidates`.
void RemoveUnusedTensors(graph::Graph& g, graph::Subgraph& sg, size_t subgraph_index);
void RemoveTensors(graph::Graph& g, graph::Subgraph& sg, size_t subgraph_index,
                   const std::set<int32_t>& candidates);

// Bytes in, bytes out (read, rewrite, write), for the Python package and the tools.
Result<std::vector<uint8_t>> StripLceDequantizeOps(std::span<const uint8_t> model);
Result<std::vector<uint8_t>> ModifyIntegerQuantizedModelIoType(std::span<const uint8_t> model,
                                                               graph::DType input,
                                                               graph::DType output);

}  // namespace xbnn::passes
