// A float CONV_2D whose input is an LceDequantize's output (every value exactly +1 or -1) and
// whose constant filter holds +-s_c in output channel c (s_c > 0): then y_c = s_c * d + b_c with
// d the integer dot product of the input's and the filter's signs, which a binary convolution
// computes as xor-popcount on the sign bits. XNORNet's last convolution is one (Larq's
// magnitude-aware sign on the weights; LCE's converter leaves such layers float): a 6x6 filter
// of 151 MB of float weights read per invoke, memory-bound, becomes 4.7 MB of bits.
// The output is LceBconv2d's arithmetic (LCE's folded transform: float(K - d) * -s_c +
// float(b_c + K * s_c), K the taps): rounded twice where the float convolution rounds each
// partial sum, so outputs may differ from the float path in the last bits (as XNNPACK's and
// TFLite's summation orders differ from each other).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/binary/optimized/bconv2d.h"
#include "kernels/binary/optimized/bitpack.h"
#include "ops/op_kernel.h"

namespace xbnn::kernels::builtin {

struct BinaryValuedConvShape {
  int batch = 0, in_h = 0, in_w = 0, in_c = 0;
  int out_c = 0, k_h = 0, k_w = 0;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
};

class BinaryValuedConv {
 public:
  // Prepares the binary convolution when the op qualifies: no groups, no padding (VALID, or SAME
  // that pads nothing), no fused activation, the input written by an LceDequantize, and the
  // filter +-s per output channel with finite s > 0. Returns false (and keeps nothing) otherwise.
  bool Prepare(const runtime::OpContext& ctx, const BinaryValuedConvShape& shape,
               const float* filter_ohwi, const float* bias);
  bool prepared() const { return bconv_ != nullptr; }
  // in: the +-1 float input, NHWC; out: float NHWC.
  void Run(const runtime::OpContext& ctx, const float* in, float* out) const;
  int64_t prepared_bytes() const;

 private:
  std::unique_ptr<optimized::PackKernel> pack_;
  std::unique_ptr<optimized::BConv2DKernel> bconv_;
  mutable std::vector<int32_t> bits_;  // the input's sign bits (one Run at a time per kernel)
  double seconds_ = 0;                 // the single-thread estimate, for splitting
};

// Whether tensor `t` of the subgraph that holds ctx.op is written by an LceDequantize.
bool WrittenByLceDequantize(const runtime::OpContext& ctx, int32_t t);

}  // namespace xbnn::kernels::builtin
