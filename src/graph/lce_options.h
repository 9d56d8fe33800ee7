// FlexBuffers custom options of the LCE operators: the typed structs every stage reads, and the
// parser the model reader runs once per op (src/format) and the writer's serializer.
#pragma once

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "xbnn/status.h"

namespace xbnn::graph {

inline constexpr const char* kLceQuantize = "LceQuantize";
inline constexpr const char* kLceDequantize = "LceDequantize";
inline constexpr const char* kLceBconv2d = "LceBconv2d";
inline constexpr const char* kLceBMaxPool2d = "LceBMaxPool2d";

// Option values as stored. Parsing is strict: every key present, an integer, within its range
// (padding and pad_values 0 or 1, activation 0..3, strides, dilations and windows >= 1); the
// kernels check how the values fit the shapes.
struct LceBconv2dOptions {
  int32_t channels_in = 0;
  int32_t stride_height = 1;
  int32_t stride_width = 1;
  int32_t dilation_height_factor = 1;
  int32_t dilation_width_factor = 1;
  int32_t padding = 0;  // SAME 0, VALID 1
  int32_t pad_values = 0;
  int32_t fused_activation_function = 0;
  bool operator==(const LceBconv2dOptions&) const = default;
};

struct LceBMaxPool2dOptions {
  int32_t padding = 0;
  int32_t stride_height = 1;
  int32_t stride_width = 1;
  int32_t filter_height = 1;
  int32_t filter_width = 1;
  bool operator==(const LceBMaxPool2dOptions&) const = default;
};

// An op's parsed custom options (graph::Operator::lce_options); monostate for ops without.
using LceOptions = std::variant<std::monostate, LceBconv2dOptions, LceBMaxPool2dOptions>;

// Which options an op takes (its OpSignature says): the LceOptions alternative's index.
enum class LceOptionsKind : uint8_t { kNone = 0, kBconv2d = 1, kBMaxPool2d = 2 };
inline bool HoldsKind(const LceOptions& o, LceOptionsKind kind) {
  return o.index() == static_cast<size_t>(kind);
}

// Parse after verifying the FlexBuffer. Errors name the key and the value found. Only the model
// reader calls these (src/format); everything else reads Operator::lce_options.
Result<LceBconv2dOptions> ParseLceBconv2dOptions(std::span<const uint8_t> bytes);
Result<LceBMaxPool2dOptions> ParseLceBMaxPool2dOptions(std::span<const uint8_t> bytes);
// The options of `kind` (monostate for kNone, whatever the bytes).
Result<LceOptions> ParseLceOptions(LceOptionsKind kind, std::span<const uint8_t> bytes);

std::vector<uint8_t> SerializeLceBconv2dOptions(const LceBconv2dOptions& o);
std::vector<uint8_t> SerializeLceBMaxPool2dOptions(const LceBMaxPool2dOptions& o);

}  // namespace xbnn::graph
