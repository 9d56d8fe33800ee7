#include "graph/lce_options.h"

#include <flatbuffers/flexbuffers.h>

#include <limits>
#include <string>

namespace xbnn::graph {
namespace {

Result<flexbuffers::Map> RootMap(std::span<const uint8_t> bytes, const char* op) {
  if (bytes.empty()) return Status::Error(std::string(op) + ": custom options are empty");
  if (!flexbuffers::VerifyBuffer(bytes.data(), bytes.size())) {
    return Status::Error(std::string(op) + ": custom options are not a valid FlexBuffer");
  }
  flexbuffers::Reference root = flexbuffers::GetRoot(bytes.data(), bytes.size());
  if (!root.IsMap()) return Status::Error(std::string(op) + ": custom options are not a map");
  return root.AsMap();
}

// Reads an integer key; `required` keys must be present. Padding may be stored as a string.
Status ReadInt(const flexbuffers::Map& m, const char* op, const char* key, bool required,
               int32_t* out) {
  flexbuffers::Reference r = m[key];
  if (r.IsNull()) {
    if (required) return Status::Error(std::string(op) + ": missing option '" + key + "'");
    return Status::Ok();
  }
  if (r.IsString()) {
    std::string s = r.AsString().str();
    if (s == "SAME") { *out = 0; return Status::Ok(); }
    if (s == "VALID") { *out = 1; return Status::Ok(); }
    return Status::Error(std::string(op) + ": option '" + key + "' has unknown value '" + s + "'");
  }
  if (!r.IsNumeric() && !r.IsBool()) {
    return Status::Error(std::string(op) + ": option '" + key + "' is not a number");
  }
  int64_t v = r.AsInt64();
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return Status::Error(std::string(op) + ": option '" + key + "' out of range: " + std::to_string(v));
  }
  *out = static_cast<int32_t>(v);
  return Status::Ok();
}

}  // namespace

Result<LceBconv2dOptions> ParseLceBconv2dOptions(std::span<const uint8_t> bytes) {
  auto map = RootMap(bytes, kLceBconv2d);
  if (!map.ok()) return map.status();
  LceBconv2dOptions o;
  const flexbuffers::Map& m = *map;
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBconv2d, "channels_in", true, &o.channels_in));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBconv2d, "stride_height", false, &o.stride_height));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBconv2d, "stride_width", false, &o.stride_width));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBconv2d, "dilation_height_factor", false, &o.dilation_height_factor));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBconv2d, "dilation_width_factor", false, &o.dilation_width_factor));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBconv2d, "padding", false, &o.padding));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBconv2d, "pad_values", false, &o.pad_values));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBconv2d, "fused_activation_function", false, &o.fused_activation_function));
  return o;
}

Result<LceBMaxPool2dOptions> ParseLceBMaxPool2dOptions(std::span<const uint8_t> bytes) {
  auto map = RootMap(bytes, kLceBMaxPool2d);
  if (!map.ok()) return map.status();
  LceBMaxPool2dOptions o;
  const flexbuffers::Map& m = *map;
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBMaxPool2d, "padding", false, &o.padding));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBMaxPool2d, "stride_height", false, &o.stride_height));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBMaxPool2d, "stride_width", false, &o.stride_width));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBMaxPool2d, "filter_height", true, &o.filter_height));
  XBNN_RETURN_IF_ERROR(ReadInt(m, kLceBMaxPool2d, "filter_width", true, &o.filter_width));
  return o;
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

}  // namespace xbnn::graph
