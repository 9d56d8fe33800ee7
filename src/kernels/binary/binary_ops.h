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

// Number of int32 words holding `channels` packed bits (no overflow near INT_MAX).
constexpr int PackedWords(int channels) { return channels / 32 + (channels % 32 != 0 ? 1 : 0); }

// Size limits checked by the Compute*Geometry functions, so that a hostile shape cannot overflow
// index arithmetic: every tensor of an op has at most kMaxTensorElements elements, and the bits
// summed for one output value (kernel_h * kernel_w * 32 * packed words per group) are at most
// kMaxBinaryDepth, so 2 * acc always fits an int32.
inline constexpr int64_t kMaxTensorElements = (int64_t{1} << 31) - 1;
inline constexpr int64_t kMaxBinaryDepth = int64_t{1} << 28;

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
  // Int8 output quantization (scale > 0, zero point in [-128, 127]); ignored for other outputs.
  float output_scale = 1.0f;
  int output_zero_point = 0;
};

// Output geometry and padding derived from the parameters (TFLite rules).
struct BConv2DGeometry {
  int out_h = 0;
  int out_w = 0;
  int pad_top = 0;  // TFLite: the smaller half of the total padding goes before
  int pad_left = 0;
  int pad_bottom = 0;
  int pad_right = 0;
  int effective_kernel_h = 0;  // (kernel_h - 1) * dilation_h + 1
  int effective_kernel_w = 0;
  int channels_per_group = 0;        // unpacked input channels per group
  int packed_channels_per_group = 0; // words per group (the filter's last dimension)
  int out_channels_per_group = 0;
  int kernel_elements = 0;  // K = kernel_h * kernel_w * channels_per_group, as in y = K - 2*acc
};

// Checks every parameter (ranks, positive sizes, group split, option values) and computes the
// geometry. Errors name the offending value, e.g. "pad_values must be 0 or 1, got 2".
Result<BConv2DGeometry> ComputeBConv2DGeometry(const BConv2DParams& p);

// Int8 tensor quantization as the binary ops accept it: finite scale > 0, zero point in
// [-128, 127]. Used for the bconv int8 output and for LceDequantize's int8 output.
Status CheckInt8Quantization(float scale, int zero_point);

// LCE's output transform for float and int8 output, which every variant must reproduce bit for
// bit. Let x = K - y, where y is the true sum of products (for a one-padded or VALID convolution
// x = 2*acc). LCE moves the activation clamp onto x and folds the back-transformation and, for
// int8, the output scale and zero point into a per-channel multiplier and bias (in double, once):
//   value = float(clamp(x, clamp.min, clamp.max)) * folded_multiplier[c]   (float product, rounded)
//           + folded_bias[c]                                               (float sum, rounded)
// never as a fused multiply-add. Float output is `value`; int8 output is `value` rounded half
// away from zero and saturated to [-128, 127] (NaN gives -128). One exception, see BConv2D below:
// SAME zero-padding with float output and no activation adds LCE's border correction.
struct OutputClamp {
  int32_t min = 0;
  int32_t max = 0;
};
// Requires a geometry from ComputeBConv2DGeometry(p).
OutputClamp ComputeOutputClamp(const BConv2DParams& p, const BConv2DGeometry& g);
// multiplier and bias: the op's [out_channels] inputs; writes [out_channels] folded values.
void FoldOutputTransform(const BConv2DParams& p, const BConv2DGeometry& g, const float* multiplier,
                         const float* bias, float* folded_multiplier, float* folded_bias);

// Tensors of one LceBconv2d call. Unused bits of the packed input and filter must be 0 (LCE
// counts them if they are not; so do we). Unused pointers are null:
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
  int pad_bottom = 0;
  int pad_right = 0;
};

Result<BMaxPool2DGeometry> ComputeBMaxPool2DGeometry(const BMaxPool2DParams& p);

namespace reference {

// Packs `outer` rows of `channels` values each into rows of PackedWords(channels) words.
// Bit 1 exactly when x < 0 (float: -0.0 and NaN give 0), q < zero_point (int8; any int32 zero
// point), !b (bool). Unused bits are 0.
void PackFloat(const float* in, int64_t outer, int channels, int32_t* out);
void PackInt8(const int8_t* in, int64_t outer, int channels, int zero_point, int32_t* out);
void PackBool(const bool* in, int64_t outer, int channels, int32_t* out);

// Unpacks to +1/-1 (float), to min(127, zp + round(1/scale)) / max(-128, zp - round(1/scale))
// (int8; 1/scale in float, rounded half away from zero; scale and zp as CheckInt8Quantization
// accepts), or to true/false (bool: bit 0 gives true). Unused bits of the input are ignored.
void UnpackFloat(const int32_t* in, int64_t outer, int channels, float* out);
void UnpackInt8(const int32_t* in, int64_t outer, int channels, float scale, int zero_point,
                int8_t* out);
void UnpackBool(const int32_t* in, int64_t outer, int channels, bool* out);

// LceBconv2d. `geometry` must come from ComputeBConv2DGeometry(p).
// Padding positions read as bit 0 (+1) for one-padding, and contribute nothing to y for SAME
// zero-padding (pad_values 0), for every output type:
//  - float/int8: the output transform above on x = K - y (LCE's reference kernel). Exception,
//    SAME zero-padding with float output and activation NONE (the only zero-padded case LCE's
//    default optimized kernels run): the output pixels whose window sticks out get
//    value(x one-padded) + float(-multiplier[c]) * c_pad, two rounded float ops, where c_pad is
//    the float sum, over the outside taps in (ky, kx) order, of each tap's +1/-1 filter sum.
//    (LCE's correction is only right while the effective kernel fits the input; beyond that LCE
//    skips it and we apply the exact one.)
//  - bitpacked: bit 1 exactly when x > 2 * threshold[c], i.e. acc > threshold with the one-padded
//    acc; with zero-padding x is K - y of the zero-padded y, which is what LCE's reference kernel
//    compares (each outside tap counts channels_per_group / 2 into acc).
void BConv2D(const BConv2DParams& p, const BConv2DGeometry& geometry, const BConv2DArgs& args);

// LceBMaxPool2d: AND of the words in each window (padding left out).
void BMaxPool2D(const BMaxPool2DParams& p, const BMaxPool2DGeometry& geometry,
                const int32_t* input, int32_t* output);

}  // namespace reference
}  // namespace xbnn::kernels
