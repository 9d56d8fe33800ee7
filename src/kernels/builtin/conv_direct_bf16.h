// The direct convolution of conv_direct.h with bfloat16 products (InterpreterOptions::
// float_precision = kBF16, opt-in): inputs and weights rounded to bfloat16 (8 significant bits),
// products of tap pairs summed in float32 by AVX512-BF16's vdpbf16ps, which does 32
// multiply-adds per instruction where vfmadd231ps does 16. Same shapes as DirectConvF32 (7x7
// stems, 1x1 convolutions), on CPUs with AVX512-BF16 only; elsewhere the caller keeps float32.
// The input is converted once per invoke into a zero-padded bfloat16 copy, so every output pixel
// reads a full window and tap pairs never straddle a border.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/builtin/conv_direct.h"

namespace xbnn::kernels::builtin {

class DirectConvBf16 {
 public:
  // DirectConvF32::Applies, and the CPU has AVX512-BF16.
  static bool Applies(const DirectConvGeometry& g, int groups, int dil_h, int dil_w);
  void Prepare(const DirectConvGeometry& g, const float* filter_ohwi, const float* bias, float lo,
               float hi);
  // Converts the float32 input into the padded bfloat16 copy; call once per invoke, before any
  // RunRows.
  void ConvertInput(const float* in);
  // Work items [begin, end) of rows(): output rows, or for 1x1 convolutions chunks of pixels.
  void RunRows(float* out, int begin, int end) const;
  bool prepared() const { return !packed_.empty(); }
  int rows() const;
  // Bytes kept: the repacked weights and the padded input copy.
  size_t bytes() const;

 private:
  void RunPointwise(float* out, int begin, int end) const;

  DirectConvGeometry g_;
  bool pointwise_ = false;
  int pair_taps_ = 0;                // taps per filter row (k_w * in_c) rounded up to even
  int padded_h_ = 0, padded_w_ = 0;  // the padded input copy (stems)
  int64_t padded_row_ = 0;           // elements per row of the padded copy
  std::vector<uint16_t> packed_;     // per 64-channel block: [k_h][pair_taps / 2][block][2]
  std::vector<uint16_t> input_;      // the padded bfloat16 input
  std::vector<float> bias_;
  float lo_ = 0, hi_ = 0;
};

}  // namespace xbnn::kernels::builtin
