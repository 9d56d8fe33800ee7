// Float32 depthwise convolution in the arithmetic of TFLite's builtin kernel, which LCE's
// interpreter runs: per output the bias, then the taps inside the image row by row (ky, then kx),
// each product rounded and then added (no fused multiply-add), then std::max(lo, std::min(hi, .)).
// XNNPACK sums in another order with fused multiply-adds; a last-bit difference there can flip a
// binarized sign further on (QuickNetLarge did, on a CPU without AVX-512). 3x3 kernels with depth
// multiplier 1 (QuickNet's transition blocks) run a direct AVX-512 kernel that keeps one
// 16-channel block's 9 weight vectors and bias in registers and walks a row of output pixels;
// other depth-multiplier-1 convolutions run an AVX2 loop per output pixel, everything else a loop
// over whole output rows.
#pragma once

#include "kernels/binary/optimized/aligned_buffer.h"

namespace xbnn::kernels::builtin {

struct DepthwiseGeometry {
  int batch = 0, in_h = 0, in_w = 0, channels = 0;  // channels: the input's
  int out_h = 0, out_w = 0, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  int k_h = 3, k_w = 3, multiplier = 1, dil_h = 1, dil_w = 1;
};

class DirectDepthwiseF32 {
 public:
  // Whether the direct AVX-512 kernel runs `g` (3x3, depth multiplier 1, no dilation, strides
  // and padding of at most 16, a CPU with AVX-512F); any other geometry runs the row loop.
  static bool Direct3x3(const DepthwiseGeometry& g);
  // filter: TFLite's [1, k_h, k_w, channels * multiplier]; bias may be null; [lo, hi] the fused
  // activation.
  void Prepare(const DepthwiseGeometry& g, const float* filter, const float* bias, float lo,
               float hi);
  // Output rows [row_begin, row_end) of batch * out_h, NHWC in and out.
  void RunRows(const float* in, float* out, int row_begin, int row_end) const;
  // Where direct(): the input rows (of batch * in_h) that output row `row` reads, per filter row
  // (-1 outside the image), and output row `row` from those rows at rows[ky] (null outside the
  // image), e.g. pooled rows that exist only in a scratch buffer.
  void InputRows(int row, int rows[3]) const;
  void RunRowFrom(const float* const rows[3], float* out, int row) const;
  int rows() const { return g_.batch * g_.out_h; }
  size_t bytes() const { return weights_.size() * sizeof(float); }
  bool prepared() const { return weights_.size() != 0; }
  bool direct() const { return direct_; }

 private:
  void InputRows(const float* in, int row, const float* rows[3]) const;

  DepthwiseGeometry g_;
  bool direct_ = false;
  bool avx2_ = false;  // the row loop for depth multiplier 1 on a CPU with AVX2
  // Direct kernel: per 16-channel block, 9 tap vectors (tap ky * 3 + kx) then the bias; zeros past
  // the channels; cache-line aligned, so no vector load straddles two lines. Row loop: the filter
  // as TFLite stores it ([k_h * k_w][channels * multiplier]), then the bias.
  optimized::AlignedBuffer<float> weights_;
  float lo_ = 0, hi_ = 0;
};

}  // namespace xbnn::kernels::builtin
