#include "graph/op_signature.h"

#include <array>
#include <string_view>

namespace xbnn::graph {
namespace {

namespace t = options_type;

// TFLite builtin codes that graph::op does not name.
constexpr int32_t kBatchToSpaceND = 37, kSpaceToBatchND = 38, kTranspose = 39, kSplit = 49,
                  kShape = 77, kPack = 83, kAbs = 101, kSplitV = 102;
constexpr int kMany = 1 << 16;
constexpr uint32_t Slot(int k) { return 1u << k; }

constexpr OpSignature Builtin(int32_t code, int min_in, int max_in, uint8_t options,
                              uint32_t optional = 0, int min_out = 1, int max_out = 1) {
  return {code, nullptr, min_in, max_in, min_out, max_out, optional, options};
}

// Optional inputs follow TFLite: the bias of the convolutions and FULLY_CONNECTED, RESHAPE's shape
// tensor (the new_shape option stands in). LceBconv2d always has 5 inputs, like LCE's kernel
// requires; which of 2..4 are present depends on the output type (LCE_FORMAT.md), which the
// kernel checks.
constexpr std::array kSignatures = {
    OpSignature{op::kCustom, "LceQuantize", 1, 1, 1, 1, 0, t::kNone},
    OpSignature{op::kCustom, "LceDequantize", 1, 1, 1, 1, 0, t::kNone},
    OpSignature{op::kCustom, "LceBconv2d", 5, 5, 1, 1, Slot(2) | Slot(3) | Slot(4), t::kNone},
    OpSignature{op::kCustom, "LceBMaxPool2d", 1, 1, 1, 1, 0, t::kNone},
    Builtin(op::kAdd, 2, 2, t::kAdd),
    Builtin(op::kSub, 2, 2, t::kSub),
    Builtin(op::kMul, 2, 2, t::kMul),
    Builtin(op::kDiv, 2, 2, t::kDiv),
    Builtin(op::kAveragePool2D, 1, 1, t::kPool2D),
    Builtin(op::kMaxPool2D, 1, 1, t::kPool2D),
    Builtin(op::kConv2D, 2, 3, t::kConv2D, Slot(2)),
    Builtin(op::kDepthwiseConv2D, 2, 3, t::kDepthwiseConv2D, Slot(2)),
    Builtin(op::kFullyConnected, 2, 3, t::kFullyConnected, Slot(2)),
    Builtin(op::kConcatenation, 1, kMany, t::kConcatenation),
    Builtin(op::kDequantize, 1, 1, t::kDequantize),
    Builtin(op::kQuantize, 1, 1, t::kQuantize),
    Builtin(op::kLogistic, 1, 1, t::kNone),
    Builtin(op::kRelu, 1, 1, t::kNone),
    Builtin(op::kRelu6, 1, 1, t::kNone),
    Builtin(op::kReluN1To1, 1, 1, t::kNone),
    Builtin(op::kReshape, 1, 2, t::kReshape, Slot(1)),
    Builtin(op::kSoftmax, 1, 1, t::kSoftmax),
    Builtin(op::kPad, 2, 2, t::kPad),
    Builtin(op::kPadV2, 3, 3, t::kPadV2),
    Builtin(op::kMean, 2, 2, t::kReducer),
    Builtin(op::kPrelu, 2, 2, t::kNone),
    Builtin(op::kMaximum, 2, 2, t::kMaximumMinimum),
    Builtin(op::kMinimum, 2, 2, t::kMaximumMinimum),
    Builtin(op::kSign, 1, 1, t::kSign),
    Builtin(op::kSelect, 3, 3, t::kSelect),
    Builtin(op::kSelectV2, 3, 3, t::kSelectV2),
    Builtin(op::kGreaterEqual, 2, 2, t::kGreaterEqual),
    Builtin(op::kHardSwish, 1, 1, t::kHardSwish),
    Builtin(op::kLeakyRelu, 1, 1, t::kLeakyRelu),
    Builtin(op::kSqueeze, 1, 1, t::kSqueeze),
    Builtin(op::kStridedSlice, 4, 4, t::kStridedSlice),
    Builtin(kSpaceToBatchND, 3, 3, t::kSpaceToBatchND),
    Builtin(kBatchToSpaceND, 3, 3, t::kBatchToSpaceND),
    Builtin(kTranspose, 2, 2, t::kTranspose),
    Builtin(kSplit, 2, 2, t::kSplit, 0, 1, kMany),
    Builtin(kSplitV, 3, 3, t::kSplitV, 0, 1, kMany),
    Builtin(kPack, 1, kMany, t::kPack),
    Builtin(kShape, 1, 1, t::kShape),
    Builtin(kAbs, 1, 1, t::kAbs),
};

}  // namespace

const OpSignature* FindOpSignature(const OperatorCode& code) {
  for (const OpSignature& s : kSignatures) {
    if (s.builtin != code.builtin) continue;
    if (code.builtin != op::kCustom || code.custom_code == std::string_view(s.custom_code))
      return &s;
  }
  return nullptr;
}

}  // namespace xbnn::graph
