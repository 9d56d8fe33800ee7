// Shape inference: the shapes of activation tensors computed from the model's input shapes, op by
// op, before the arena is planned. TFLite recomputes shapes when it allocates tensors, so models
// whose files carry wrong shapes still run there: the stock converter writes batch 1 for the
// output of SPACE_TO_BATCH_ND (and the convolution after it) in dilated convolutions, where the
// real batch is block_h * block_w. xbnn plans its memory from these inferred shapes.
//
// Small integer tensors whose values follow from shapes alone (SHAPE of a tensor, and
// STRIDED_SLICE / PACK / CONCATENATION / RESHAPE of such values and constants) are evaluated here
// too, so a RESHAPE whose shape input is computed at run time from SHAPE gets a known shape; the
// ops that compute them are folded away (not run).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "xbnn/status.h"

namespace xbnn::runtime {

struct InferredShapes {
  // Per tensor: the inferred shape (the file's shape where the op is unknown or the inputs do
  // not determine it; constants always keep theirs).
  std::vector<std::vector<int32_t>> shapes;
  // Per tensor: the values of int32/int64 tensors known at load time (constants included).
  std::vector<std::optional<std::vector<int64_t>>> values;
  // Per tensor: its data comes from the file (a subgraph input never does: the caller writes it).
  std::vector<bool> constant;
  // Per op: true when every output is a known value computed here, so the op need not run.
  std::vector<bool> folded;
};

// Largest number of elements of a tensor whose values are tracked (shape-sized vectors).
inline constexpr int64_t kMaxKnownValues = 1024;

// InterpreterOptions::input_shapes against the subgraph's inputs: at most one shape per input (an
// empty one keeps the file's), each of the file's rank, every dimension positive, within 2^31
// elements. The message names the input.
Status CheckInputShapes(const graph::Subgraph& sg, const std::vector<std::vector<int32_t>>& shapes);

// Each LceBconv2d fed by an LceQuantize must take as many channels as that LceQuantize packs:
// its kernel sees only packed words, so other channels beyond channels_in (an input resized to
// more channels, up to the same word count) would change its result silently.
Status CheckPackedChannels(const graph::Graph& g, const graph::Subgraph& sg,
                           const InferredShapes& inferred);

// Infers shapes for subgraph `sg` of `g`. Fails only when an inferred shape exceeds the limits
// (rank 8, 2^31 elements), naming the op; inconsistent inputs leave the file's shape, so that the
// kernel's Prepare reports the problem with its own message. `input_shapes` (optional; entry i,
// when not empty, is subgraph input i's shape) replaces the file's, after CheckInputShapes.
Status InferShapes(const graph::Graph& g, const graph::Subgraph& sg, InferredShapes* out,
                   const std::vector<std::vector<int32_t>>* input_shapes = nullptr);

}  // namespace xbnn::runtime
