// A grouped convolution run as one (CONV_2D's group fusion, runtime/fusion.h GroupConvFusion):
// the parts of the whole input's channels in, theirs of the whole output's out, band by band of
// output rows. 8 output channels per part: on AVX-512 CPUs with stride 1 along the width, each
// chunk's input rows are deinterleaved into one plane per channel and 16 neighbouring output
// pixels share a vector (8 channels x up to 3 such vectors of accumulators), where the NHWC
// kernels hold one or two pixels' 8 channels per vector; elsewhere a DirectConvF32 per part on
// the chunk's rows of its channels. Both sum each output as the separate CONV_2D does (bias, then
// filter rows, then the taps of a row in (kx, channel) order, one FMA each): the same bits.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/builtin/conv_direct.h"

namespace xbnn::kernels::builtin {

class GroupedDirectConv {
 public:
  // Output rows per chunk: each chunk deinterleaves or packs the input rows it reads once per part.
  static constexpr int kChunkRows = 8;

  // `part`: one part's geometry (in_c, out_c its channels); scratch for `threads` threads unless
  // `allocate` is false (only shapes are checked).
  void Init(const DirectConvGeometry& part, int groups, int threads, bool allocate);
  // Part k's kernel: OHWI filter, bias (may be null), activation range [lo, hi].
  void PreparePart(int k, const float* filter_ohwi, const float* bias, float lo, float hi);
  // Output rows [r0, r1) (batch * out_h) of every part; `in` and `out` are the whole NHWC
  // tensors (groups * in_c and groups * out_c channels).
  void RunRows(int thread, const float* in, float* out, int r0, int r1) const;
  bool prepared() const { return groups_ > 0; }
  // Whether the pixel-lane kernels run (else the DirectConvF32 per part).
  bool lanes() const { return lanes_; }

 private:
  void RunLanes(float* buf, const float* in, float* out, int64_t first, int lo, int hi, int r,
                int e) const;

  DirectConvGeometry g_;  // one part's
  int groups_ = 0;
  std::vector<DirectConvF32> parts_;  // per part, without the pixel lanes
  bool lanes_ = false;
  // Pixel lanes: per part the filter as [k_h][k_w][in_c][8], the bias and the range.
  std::vector<float> lane_w_, lane_bias_, lane_lo_, lane_hi_;
  int x_lo_ = 0, x_hi_ = 0;  // output columns whose windows lie inside the image
  int rows_ = 0;             // input rows per thread's scratch
  // Per thread, the input rows of one chunk in one part's channels (written in RunRows).
  mutable std::vector<float> scratch_;
};

}  // namespace xbnn::kernels::builtin
