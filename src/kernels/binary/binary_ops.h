// Parameters and entry points of the binary (LCE) operators, independent of any model format.
// Semantics: ../shared/LCE_FORMAT.md. The reference kernels (reference/) are the oracle that every
// optimized variant is tested against bit-exactly.
#pragma once

#include <cstdint>

#include "xbnn/status.h"

namespace xbnn::kernels {

enum class Padding : int { kSame = 0, kValid = 1 };
enum class Activation : int { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3 };
enum class BOutputType : int { kFloat32 = 0, kInt8 = 1, kBitpacked = 2 };

// Number of int32 words holding `channels` packed bits.
constexpr int PackedWords(int channels) { return (channels + 31) / 32; }

struct BConv2DParams {
  // Input, NHWC; the input tensor is bitpacked [batch, in_h, in_w, PackedWords(channels_in)].
  int batch = 1;
  int in_h = 0;
  int in_w = 0;
  int channels_in = 0;  // unpacked
  // Filter, OHWI; bitpacked [out_channels, kernel_h, kernel_w, PackedWords(channels_in / groups)].
  int out_channels = 0;
  int kernel_h = 0;
  int kernel_w = 0;
  int groups = 1;
  int stride_h = 1;
  int stride_w = 1;
  int dilation_h = 1;
  int dilation_w = 1;
  Padding padding = Padding::kValid;
  int pad_values = 0;  // 0 or 1; only meaningful with SAME
  Activation activation = Activation::kNone;
  BOutputType output_type = BOutputType::kFloat32;
  // Int8 output quantization.
  float output_scale = 1.0f;
  int output_zero_point = 0;
};

// Output geometry and padding derived from the parameters (TFLite rules).
struct BConv2DGeometry {
  int out_h = 0;
  int out_w = 0;
  int pad_top = 0;
  int pad_left = 0;
  int channels_per_group = 0;        // unpacked input channels per group
  int packed_channels_per_group = 0; // words per group (the filter's last dimension)
  int out_channels_per_group = 0;
};

// Checks every parameter (ranks, positive sizes, group split, option values) and computes the
// geometry. Errors name the offending value, e.g. "pad_values must be 0 or 1, got 2".
Result<BConv2DGeometry> ComputeBConv2DGeometry(const BConv2DParams& p);

// Tensors of one LceBconv2d call. Unused pointers are null:
//  - float/int8 output: multiplier and bias ([out_channels] float), thresholds null;
//  - bitpacked output: thresholds ([out_channels] int32), multiplier and bias null.
// output: float [N,OH,OW,Cout], int8 [N,OH,OW,Cout] or int32 [N,OH,OW,PackedWords(Cout)].
struct BConv2DArgs {
  const int32_t* input = nullptr;
  const int32_t* filter = nullptr;
  const float* multiplier = nullptr;
  const float* bias = nullptr;
  const int32_t* thresholds = nullptr;
  void* output = nullptr;
};

struct BMaxPool2DParams {
  int batch = 1;
  int in_h = 0;
  int in_w = 0;
  int packed_channels = 0;  // words in the last dimension
  int filter_h = 1;
  int filter_w = 1;
  int stride_h = 1;
  int stride_w = 1;
  Padding padding = Padding::kValid;
};

struct BMaxPool2DGeometry {
  int out_h = 0;
  int out_w = 0;
  int pad_top = 0;
  int pad_left = 0;
};

Result<BMaxPool2DGeometry> ComputeBMaxPool2DGeometry(const BMaxPool2DParams& p);

namespace reference {

// Packs `outer` rows of `channels` values each into rows of PackedWords(channels) words.
// Bit 1 exactly when x < 0 (float), q < zero_point (int8), !b (bool). Unused bits are 0.
void PackFloat(const float* in, int64_t outer, int channels, int32_t* out);
void PackInt8(const int8_t* in, int64_t outer, int channels, int zero_point, int32_t* out);
void PackBool(const bool* in, int64_t outer, int channels, int32_t* out);

// Unpacks to +1/-1 (float), to min(127, zp + round(1/scale)) / max(-128, zp - round(1/scale))
// (int8), or to true/false (bool: bit 0 gives true).
void UnpackFloat(const int32_t* in, int64_t outer, int channels, float* out);
void UnpackInt8(const int32_t* in, int64_t outer, int channels, float scale, int zero_point,
                int8_t* out);
void UnpackBool(const int32_t* in, int64_t outer, int channels, bool* out);

// LceBconv2d. `geometry` must come from ComputeBConv2DGeometry(p).
void BConv2D(const BConv2DParams& p, const BConv2DGeometry& geometry, const BConv2DArgs& args);

// LceBMaxPool2d: AND of the words in each window (padding left out).
void BMaxPool2D(const BMaxPool2DParams& p, const BMaxPool2DGeometry& geometry,
                const int32_t* input, int32_t* output);

}  // namespace reference
}  // namespace xbnn::kernels
