#include "graph/lce_options.h"

#include <flatbuffers/flexbuffers.h>

#include <cstring>
#include <limits>
#include <string>

#include "graph/graph.h"

namespace xbnn::graph {
namespace {

Result<flexbuffers::Map> RootMap(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return Status::Error("custom options are empty");
  if (!flexbuffers::VerifyBuffer(bytes.data(), bytes.size())) {
    return Status::Error("custom options are not a valid FlexBuffer");
  }
  flexbuffers::Reference root = flexbuffers::GetRoot(bytes.data(), bytes.size());
  if (!root.IsMap()) return Status::Error("custom options are not a map");
  flexbuffers::Map map = root.AsMap();
  // The verifier (flatbuffers 2.0) does not check that every key ends inside the buffer; a key
  // lookup compares keys with strcmp, so check them before any lookup.
  const auto begin = reinterpret_cast<uintptr_t>(bytes.data()), end = begin + bytes.size();
  flexbuffers::TypedVector keys = map.Keys();
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto key = reinterpret_cast<uintptr_t>(keys[i].AsKey());
    if (key < begin || key >= end || !std::memchr(keys[i].AsKey(), 0, end - key)) {
      return Status::Error("custom options are not a valid FlexBuffer (key " + std::to_string(i) +
                           " is not a string inside the buffer)");
    }
  }
  return map;
}

// One option key: always an integer (LCE's converter writes them so and its kernels read them
// with AsInt32, which turns anything else into a silent 0), always present (LCE refuses models
// without them), within [min, max].
struct Key {
  const char* name;
  int32_t min, max;
  const char* meaning;  // what the values mean, for the message; null when plain numbers
};

constexpr int32_t kMaxWindow = 1 << 16;  // strides, dilations and pool windows
constexpr Key kChannelsIn{"channels_in", 1, std::numeric_limits<int32_t>::max(), nullptr};
constexpr Key kStrideH{"stride_height", 1, kMaxWindow, nullptr};
constexpr Key kStrideW{"stride_width", 1, kMaxWindow, nullptr};
constexpr Key kDilationH{"dilation_height_factor", 1, kMaxWindow, nullptr};
constexpr Key kDilationW{"dilation_width_factor", 1, kMaxWindow, nullptr};
constexpr Key kPadding{"padding", 0, 1, "0 (SAME) or 1 (VALID)"};
constexpr Key kPadValues{"pad_values", 0, 1, "0 or 1"};
constexpr Key kActivation{"fused_activation_function", 0, 3, "0 (NONE), 1 (RELU), 2 (RELU_N1_TO_1) or 3 (RELU6)"};
constexpr Key kFilterH{"filter_height", 1, kMaxWindow, nullptr};
constexpr Key kFilterW{"filter_width", 1, kMaxWindow, nullptr};

std::string Describe(const flexbuffers::Reference& r) {
  if (r.IsString()) return "the string '" + r.AsString().str() + "'";
  if (r.IsBool()) return std::string("the bool ") + (r.AsBool() ? "true" : "false");
  if (r.IsFloat()) return "the float " + r.ToString();
  if (r.IsMap()) return "a map";
  if (r.IsVector() || r.IsTypedVector() || r.IsFixedTypedVector()) return "a vector";
  if (r.IsBlob()) return "a blob";
  return "a value of FlexBuffer type " + std::to_string(static_cast<int>(r.GetType()));
}

Status ReadInt(const flexbuffers::Map& m, const Key& key, int32_t* out) {
  flexbuffers::Reference r = m[key.name];
  const std::string name = std::string("option '") + key.name + "'";
  if (r.IsNull()) return Status::Error("missing " + name);
  int64_t v = 0;
  if (r.IsInt()) {
    v = r.AsInt64();
  } else if (r.IsUInt()) {
    const uint64_t u = r.AsUInt64();
    v = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                        : static_cast<int64_t>(u);
  } else {
    return Status::Error(name + " must be an integer, found " + Describe(r));
  }
  if (v < key.min || v > key.max) {
    std::string expected = key.meaning ? std::string(key.meaning)
                                       : "in [" + std::to_string(key.min) + ", " + std::to_string(key.max) + "]";
    return Status::Error(name + " has value " + std::to_string(v) + ", expected " + expected);
  }
  *out = static_cast<int32_t>(v);
  return Status::Ok();
}

}  // namespace

Result<LceBconv2dOptions> ParseLceBconv2dOptions(std::span<const uint8_t> bytes) {
  auto map = RootMap(bytes);
  if (!map.ok()) return map.status();
  LceBconv2dOptions o;
  const flexbuffers::Map& m = *map;
  XBNN_RETURN_IF_ERROR(ReadInt(m, kChannelsIn, &o.channels_in));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kStrideH, &o.stride_height));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kStrideW, &o.stride_width));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kDilationH, &o.dilation_height_factor));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kDilationW, &o.dilation_width_factor));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kPadding, &o.padding));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kPadValues, &o.pad_values));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kActivation, &o.fused_activation_function));
  return o;
}

Result<LceBMaxPool2dOptions> ParseLceBMaxPool2dOptions(std::span<const uint8_t> bytes) {
  auto map = RootMap(bytes);
  if (!map.ok()) return map.status();
  LceBMaxPool2dOptions o;
  const flexbuffers::Map& m = *map;
  XBNN_RETURN_IF_ERROR(ReadInt(m, kPadding, &o.padding));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kStrideH, &o.stride_height));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kStrideW, &o.stride_width));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kFilterH, &o.filter_height));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kFilterW, &o.filter_width));
  return o;
}

Result<LceOptions> ParseLceOptions(LceOptionsKind kind, std::span<const uint8_t> bytes) {
  switch (kind) {
    case LceOptionsKind::kBconv2d: {
      auto o = ParseLceBconv2dOptions(bytes);
      if (!o.ok()) return o.status();
      return LceOptions(*o);
    }
    case LceOptionsKind::kBMaxPool2d: {
      auto o = ParseLceBMaxPool2dOptions(bytes);
      if (!o.ok()) return o.status();
      return LceOptions(*o);
    }
    case LceOptionsKind::kNone:
      break;
  }
  return LceOptions();
}

std::vector<uint8_t> SerializeLceBconv2dOptions(const LceBconv2dOptions& o) {
  flexbuffers::Builder fbb;
  fbb.Map([&]() {
    fbb.Int("channels_in", o.channels_in);
    fbb.Int("dilation_height_factor", o.dilation_height_factor);
    fbb.Int("dilation_width_factor", o.dilation_width_factor);
    fbb.Int("fused_activation_function", o.fused_activation_function);
    fbb.Int("pad_values", o.pad_values);
    fbb.Int("padding", o.padding);
    fbb.Int("stride_height", o.stride_height);
    fbb.Int("stride_width", o.stride_width);
  });
  fbb.Finish();
  return fbb.GetBuffer();
}

std::vector<uint8_t> SerializeLceBMaxPool2dOptions(const LceBMaxPool2dOptions& o) {
  flexbuffers::Builder fbb;
  fbb.Map([&]() {
    fbb.Int("filter_height", o.filter_height);
    fbb.Int("filter_width", o.filter_width);
    fbb.Int("padding", o.padding);
    fbb.Int("stride_height", o.stride_height);
    fbb.Int("stride_width", o.stride_width);
  });
  fbb.Finish();
  return fbb.GetBuffer();
}

void SetLceOptions(Operator& op, const LceBconv2dOptions& options) {
  op.custom_options = SerializeLceBconv2dOptions(options);
  op.lce_options = options;
}

void SetLceOptions(Operator& op, const LceBMaxPool2dOptions& options) {
  op.custom_options = SerializeLceBMaxPool2dOptions(options);
  op.lce_options = options;
}

}  // namespace xbnn::graph
