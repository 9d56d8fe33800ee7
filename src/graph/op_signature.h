// Structural rules of an operator: how many inputs and outputs it takes, which inputs may be
// absent (tensor index -1), and which builtin options table it reads. Each op declares its own in
// its descriptor (src/ops/op_def.h); the validator (src/format) enforces them through a lookup it
// is handed, so later stages (shape inference, kernels, passes) may index every required input.
#pragma once

#include <cstdint>
#include <span>

#include "graph/graph.h"
#include "xbnn/status.h"

namespace xbnn::graph {

// TFLite BuiltinOptions union values of the tables the known ops take (checked against the schema
// in src/format).
namespace options_type {
inline constexpr uint8_t kNone = 0, kConv2D = 1, kDepthwiseConv2D = 2, kPool2D = 5,
                         kFullyConnected = 8, kSoftmax = 9, kConcatenation = 10, kAdd = 11,
                         kReshape = 17, kMul = 21, kPad = 22, kGather = 23, kBatchToSpaceND = 24,
                         kSpaceToBatchND = 25, kTranspose = 26, kReducer = 27, kSub = 28, kDiv = 29,
                         kSqueeze = 30, kStridedSlice = 32, kSplit = 35, kDequantize = 38,
                         kMaximumMinimum = 39, kPadV2 = 43, kGreaterEqual = 45, kSelect = 47,
                         kShape = 55, kPack = 59, kLeakyRelu = 75, kAbs = 78, kSplitV = 79,
                         kQuantize = 89, kHardSwish = 91, kSelectV2 = 98, kSign = 123;
}  // namespace options_type

// How many of an op's inputs or outputs may be "many" (CONCATENATION, PACK, SPLIT).
inline constexpr int kManyTensors = 1 << 16;

struct OpSignature {
  int32_t builtin;          // graph::op code; op::kCustom for custom ops
  const char* custom_code;  // custom ops only, else nullptr
  int min_inputs, max_inputs, min_outputs, max_outputs;
  uint32_t optional_inputs;  // bit k set: input k may be -1 (absent)
  uint8_t options_type;      // the BuiltinOptions table the op reads (kNone: it takes none)
  // Custom ops: the LCE options they take, which the model reader parses (strictly) into
  // Operator::lce_options.
  LceOptionsKind lce_options = LceOptionsKind::kNone;

  bool MayBeAbsent(size_t input) const {
    return input < 32 && ((optional_inputs >> input) & 1u) != 0;
  }
};

// A signature for a builtin op: inputs [min_in, max_in], outputs [min_out, max_out].
constexpr OpSignature BuiltinSignature(int32_t code, int min_in, int max_in, uint8_t options,
                                       uint32_t optional = 0, int min_out = 1, int max_out = 1) {
  return {code, nullptr, min_in, max_in, min_out, max_out, optional, options};
}
// The optional_inputs bit of input k.
constexpr uint32_t OptionalInput(int k) { return 1u << k; }

// Finds the rules of an op code; null for an op xbnn does not know (the runtime refuses those).
using OpSignatureLookup = const OpSignature* (*)(const OperatorCode& code);

// The lookup over every op xbnn implements. Declared here so the format layer can take it as its
// default without depending on the ops; defined by the op registry (src/ops/registry.cc), which
// lists the ops.
const OpSignature* FindOpSignature(const OperatorCode& code);

}  // namespace xbnn::graph
