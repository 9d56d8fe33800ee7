// Parameter checks, output geometry and the output-transform folding shared by every binary
// kernel variant (reference and optimized). Semantics: shared/LCE_FORMAT.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "kernels/binary/binary_ops.h"

namespace xbnn::kernels {
namespace {

using std::to_string;

// Effective kernels beyond this cannot come from a sane model and would push padding and
// index arithmetic towards the int32 limit.
constexpr int64_t kMaxEffectiveKernel = int64_t{1} << 30;

Status CheckPositive(const char* name, int value) {
  if (value < 1) return Status::Error(std::string(name) + " must be >= 1, got " + to_string(value));
  return Status::Ok();
}

// Product of non-negative factors, saturated far above every limit (so it never overflows).
int64_t CappedProduct(std::initializer_list<int64_t> factors) {
  constexpr int64_t kCap = int64_t{1} << 62;
  int64_t product = 1;
  for (int64_t f : factors) {
    if (f != 0 && product > kCap / f) return kCap;
    product *= f;
  }
  return product;
}

Status CheckElements(const char* tensor, std::initializer_list<int64_t> dims) {
  if (CappedProduct(dims) > kMaxTensorElements) {
    std::string shape;
    for (int64_t d : dims) shape += (shape.empty() ? "" : ", ") + to_string(d);
    return Status::Error(std::string(tensor) + " shape [" + shape + "] has more than " +
                         to_string(kMaxTensorElements) + " elements");
  }
  return Status::Ok();
}

struct Axis {
  int out = 0;
  int pad_before = 0;
  int pad_after = 0;
  int effective_kernel = 0;
};

// TFLite's rules (tensorflow/lite/kernels/padding.h): SAME gives ceil(in / stride) outputs and
// total padding max((out - 1) * stride + k' - in, 0), the smaller half before; VALID gives
// (in - k') / stride + 1 outputs and no padding. `axis` is "height" or "width".
Result<Axis> ComputeAxis(const std::string& axis, int64_t in, int64_t kernel, int64_t stride,
                         int64_t dilation, Padding padding) {
  const int64_t effective = (kernel - 1) * dilation + 1;  // < 2^62: both factors are < 2^31
  if (effective > kMaxEffectiveKernel) {
    return Status::Error("effective kernel " + axis + " (kernel " + to_string(kernel) +
                         ", dilation " + to_string(dilation) + ") is " + to_string(effective) +
                         ", above the limit " + to_string(kMaxEffectiveKernel));
  }
  int64_t out = 0;
  if (padding == Padding::kSame) {
    out = (in + stride - 1) / stride;
  } else {
    if (effective > in) {
      return Status::Error("VALID padding needs the effective kernel " + axis + " " +
                           to_string(effective) + " (kernel " + to_string(kernel) + ", dilation " +
                           to_string(dilation) + ") to fit the input " + axis + " " +
                           to_string(in) + "; the output would be empty");
    }
    out = (in - effective) / stride + 1;
  }
  const int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
  Axis a;
  a.out = static_cast<int>(out);  // out <= in
  a.pad_before = static_cast<int>(total / 2);
  a.pad_after = static_cast<int>(total - total / 2);
  a.effective_kernel = static_cast<int>(effective);
  return a;
}

Status CheckPadding(Padding padding) {
  const int v = static_cast<int>(padding);
  if (v != static_cast<int>(Padding::kSame) && v != static_cast<int>(Padding::kValid)) {
    return Status::Error("padding must be SAME (0) or VALID (1), got " + to_string(v));
  }
  return Status::Ok();
}

Status CheckActivation(Activation activation) {
  const int v = static_cast<int>(activation);
  if (v >= 0 && v <= 3) return Status::Ok();
  std::string name;
  if (v == 4) name = " (TANH)";
  if (v == 5) name = " (SIGN_BIT)";
  return Status::Error("unsupported fused_activation_function " + to_string(v) + name +
                       "; supported: NONE (0), RELU (1), RELU_N1_TO_1 (2), RELU6 (3)");
}

}  // namespace

Status CheckInt8Quantization(float scale, int zero_point) {
  if (!(std::isfinite(scale) && scale > 0.0f)) {
    return Status::Error("int8 scale must be finite and > 0, got " + std::to_string(scale));
  }
  if (zero_point < -128 || zero_point > 127) {
    return Status::Error("int8 zero point must be in [-128, 127], got " + to_string(zero_point));
  }
  return Status::Ok();
}

Result<BConv2DGeometry> ComputeBConv2DGeometry(const BConv2DParams& p) {
  XBNN_RETURN_IF_ERROR(CheckPositive("batch", p.batch));
  XBNN_RETURN_IF_ERROR(CheckPositive("input height", p.in_h));
  XBNN_RETURN_IF_ERROR(CheckPositive("input width", p.in_w));
  XBNN_RETURN_IF_ERROR(CheckPositive("channels_in", p.channels_in));
  XBNN_RETURN_IF_ERROR(CheckPositive("out_channels", p.out_channels));
  XBNN_RETURN_IF_ERROR(CheckPositive("kernel height", p.kernel_h));
  XBNN_RETURN_IF_ERROR(CheckPositive("kernel width", p.kernel_w));
  XBNN_RETURN_IF_ERROR(CheckPositive("groups", p.groups));
  XBNN_RETURN_IF_ERROR(CheckPositive("stride_height", p.stride_h));
  XBNN_RETURN_IF_ERROR(CheckPositive("stride_width", p.stride_w));
  XBNN_RETURN_IF_ERROR(CheckPositive("dilation_height_factor", p.dilation_h));
  XBNN_RETURN_IF_ERROR(CheckPositive("dilation_width_factor", p.dilation_w));
  XBNN_RETURN_IF_ERROR(CheckPadding(p.padding));
  // LCE rejects other values even with VALID padding, where they would not matter.
  if (p.pad_values != 0 && p.pad_values != 1) {
    return Status::Error("pad_values must be 0 or 1, got " + to_string(p.pad_values));
  }
  XBNN_RETURN_IF_ERROR(CheckActivation(p.activation));
  const int output_type = static_cast<int>(p.output_type);
  if (output_type < 0 || output_type > 2) {
    return Status::Error("output type must be float32 (0), int8 (1) or bitpacked (2), got " +
                         to_string(output_type));
  }
  if (p.output_type == BOutputType::kInt8) {
    XBNN_RETURN_IF_ERROR(
        CheckInt8Quantization(p.output_scale, p.output_zero_point).Prefixed("output: "));
  }

  // Groups (LCE tflite/kernels/bconv2d.cc Prepare): each group reads whole words of the input,
  // so a grouped convolution needs a multiple of 32 channels per group.
  if (p.channels_in % p.groups != 0) {
    return Status::Error("channels_in " + to_string(p.channels_in) +
                         " is not divisible by groups " + to_string(p.groups));
  }
  const int channels_per_group = p.channels_in / p.groups;
  if (p.groups > 1 && channels_per_group % 32 != 0) {
    return Status::Error(
        "grouped convolution needs channels_in / groups to be a multiple of 32, "
        "got " +
        to_string(channels_per_group) + " (channels_in " + to_string(p.channels_in) + ", groups " +
        to_string(p.groups) + ")");
  }
  if (p.out_channels % p.groups != 0) {
    return Status::Error("out_channels " + to_string(p.out_channels) +
                         " is not divisible by groups " + to_string(p.groups));
  }
  const int packed_per_group = PackedWords(channels_per_group);

  const int64_t depth = CappedProduct({p.kernel_h, p.kernel_w, packed_per_group, 32});
  if (depth > kMaxBinaryDepth) {
    return Status::Error("kernel " + to_string(p.kernel_h) + "x" + to_string(p.kernel_w) +
                         " with " + to_string(channels_per_group) +
                         " channels per group sums more than " + to_string(kMaxBinaryDepth) +
                         " bits per output value");
  }

  auto h = ComputeAxis("height", p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.padding);
  if (!h.ok()) return h.status();
  auto w = ComputeAxis("width", p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.padding);
  if (!w.ok()) return w.status();

  XBNN_RETURN_IF_ERROR(
      CheckElements("input", {p.batch, p.in_h, p.in_w, PackedWords(p.channels_in)}));
  XBNN_RETURN_IF_ERROR(
      CheckElements("filter", {p.out_channels, p.kernel_h, p.kernel_w, packed_per_group}));
  XBNN_RETURN_IF_ERROR(CheckElements("output", {p.batch, h->out, w->out, p.out_channels}));

  BConv2DGeometry g;
  g.out_h = h->out;
  g.out_w = w->out;
  g.pad_top = h->pad_before;
  g.pad_bottom = h->pad_after;
  g.pad_left = w->pad_before;
  g.pad_right = w->pad_after;
  g.effective_kernel_h = h->effective_kernel;
  g.effective_kernel_w = w->effective_kernel;
  g.channels_per_group = channels_per_group;
  g.packed_channels_per_group = packed_per_group;
  g.out_channels_per_group = p.out_channels / p.groups;
  g.kernel_elements = p.kernel_h * p.kernel_w * channels_per_group;  // <= depth
  return g;
}

OutputClamp ComputeOutputClamp(const BConv2DParams& p, const BConv2DGeometry& g) {
  // TFLite's CalculateActivationRange<int32> gives the range on y; LCE
  // (tflite/kernels/bconv2d.cc OneTimeSetup) cuts it to [-K, K] and maps it onto x = K - y.
  const int32_t k = g.kernel_elements;
  int32_t lo = std::numeric_limits<int32_t>::lowest();
  int32_t hi = std::numeric_limits<int32_t>::max();
  switch (p.activation) {
    case Activation::kNone:
      break;
    case Activation::kRelu:
      lo = 0;
      break;
    case Activation::kReluN1To1:
      lo = -1;
      hi = 1;
      break;
    case Activation::kRelu6:
      lo = 0;
      hi = 6;
      break;
  }
  lo = std::max(lo, -k);
  hi = std::min(hi, k);
  return OutputClamp{k - hi, k - lo};
}

void FoldOutputTransform(const BConv2DParams& p, const BConv2DGeometry& g, const float* multiplier,
                         const float* bias, float* folded_multiplier, float* folded_bias) {
  // LCE (tflite/kernels/bconv2d.cc OneTimeSetup) folds in double and rounds to float once:
  //   mul' = -mul / scale,  bias' = (bias + K * mul) / scale + zero_point
  // with scale 1 and zero point 0 for float output. The same operations in the same order
  // (including the + 0.0, which turns a -0.0 bias into +0.0), one per statement so that no
  // compiler contracts them into a fused multiply-add.
  const bool int8 = p.output_type == BOutputType::kInt8;
  const double scale = int8 ? static_cast<double>(p.output_scale) : 1.0;
  const double zero_point = int8 ? static_cast<double>(p.output_zero_point) : 0.0;
  const double k = static_cast<double>(g.kernel_elements);
  for (int c = 0; c < p.out_channels; ++c) {
    const double mul = multiplier[c];
    const double negated = -1 * mul;
    folded_multiplier[c] = static_cast<float>(negated / scale);
    const double back_transform = k * mul;
    const double shifted = static_cast<double>(bias[c]) + back_transform;
    const double scaled = shifted / scale;
    folded_bias[c] = static_cast<float>(scaled + zero_point);
  }
}

Result<BMaxPool2DGeometry> ComputeBMaxPool2DGeometry(const BMaxPool2DParams& p) {
  XBNN_RETURN_IF_ERROR(CheckPositive("batch", p.batch));
  XBNN_RETURN_IF_ERROR(CheckPositive("input height", p.in_h));
  XBNN_RETURN_IF_ERROR(CheckPositive("input width", p.in_w));
  XBNN_RETURN_IF_ERROR(CheckPositive("packed channels", p.packed_channels));
  XBNN_RETURN_IF_ERROR(CheckPositive("filter_height", p.filter_h));
  XBNN_RETURN_IF_ERROR(CheckPositive("filter_width", p.filter_w));
  XBNN_RETURN_IF_ERROR(CheckPositive("stride_height", p.stride_h));
  XBNN_RETURN_IF_ERROR(CheckPositive("stride_width", p.stride_w));
  XBNN_RETURN_IF_ERROR(CheckPadding(p.padding));
  auto h = ComputeAxis("height", p.in_h, p.filter_h, p.stride_h, 1, p.padding);
  if (!h.ok()) return h.status();
  auto w = ComputeAxis("width", p.in_w, p.filter_w, p.stride_w, 1, p.padding);
  if (!w.ok()) return w.status();
  XBNN_RETURN_IF_ERROR(CheckElements("input", {p.batch, p.in_h, p.in_w, p.packed_channels}));
  // The output is never larger than the input (out <= in on both axes).
  BMaxPool2DGeometry g;
  g.out_h = h->out;
  g.out_w = w->out;
  g.pad_top = h->pad_before;
  g.pad_bottom = h->pad_after;
  g.pad_left = w->pad_before;
  g.pad_right = w->pad_after;
  return g;
}

}  // namespace xbnn::kernels
