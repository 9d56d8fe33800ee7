// Direct float32 3x3 depthwise convolution (depth multiplier 1, no dilation, any stride and
// padding, any channel count) on CPUs with AVX-512F: QuickNet's transition blocks. XNNPACK runs
// them through an indirection buffer of tap pointers and reaches 12-40 G MAC/s on them; here one
// 16-channel block keeps its 9 weight vectors and bias in registers and walks a row of output
// pixels. Every output sums in XNNPACK's order (bias, then the taps column by column, a padded
// tap adding 0 x weight as XNNPACK's zero buffer does, the clamp turning a NaN into its lower
// bound), so the outputs are XNNPACK's bit for bit.
#pragma once

#include "kernels/binary/optimized/aligned_buffer.h"

namespace xbnn::kernels::builtin {

struct DepthwiseGeometry {
  int batch = 0, in_h = 0, in_w = 0, channels = 0;
  int out_h = 0, out_w = 0, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
};

class DirectDepthwiseF32 {
 public:
  // A 3x3 kernel, depth multiplier 1, no dilation, strides of at most 16, on a CPU with AVX-512F.
  static bool Applies(const DepthwiseGeometry& g, int k_h, int k_w, int multiplier, int dil_h,
                      int dil_w);
  // filter: TFLite's [1, 3, 3, channels]; bias may be null; [lo, hi] the fused activation.
  void Prepare(const DepthwiseGeometry& g, const float* filter, const float* bias, float lo,
               float hi);
  // Output rows [row_begin, row_end) of batch * out_h, NHWC in and out.
  void RunRows(const float* in, float* out, int row_begin, int row_end) const;
  int rows() const { return g_.batch * g_.out_h; }
  size_t bytes() const { return weights_.size() * sizeof(float); }
  bool prepared() const { return weights_.size() != 0; }

 private:
  DepthwiseGeometry g_;
  // Per 16-channel block: 9 tap vectors (tap ky * 3 + kx) then the bias; zeros past the channels.
  // Cache-line aligned: no vector load straddles two lines.
  optimized::AlignedBuffer<float> weights_;
  float lo_ = 0, hi_ = 0;
};

}  // namespace xbnn::kernels::builtin
