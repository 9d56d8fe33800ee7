// A grouped convolution run as one (CONV_2D's group fusion, runtime/fusion.h GroupConvFusion):
// a DirectConvF32 per part, all of one geometry, reading the parts of the whole input's channels
// and writing theirs of the whole output's, band by band of output rows.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/builtin/conv_direct.h"

namespace xbnn::kernels::builtin {

class GroupedDirectConv {
 public:
  // Output rows per chunk: each chunk packs the input rows it reads once per part.
  static constexpr int kChunkRows = 8;

  // `part`: one part's geometry (in_c, out_c its channels); scratch for `threads` threads
  // unless `allocate` is false (only shapes are checked).
  void Init(const DirectConvGeometry& part, int groups, int threads, bool allocate);
  // Part k's kernel: OHWI filter, bias (may be null), activation range [lo, hi].
  void PreparePart(int k, const float* filter_ohwi, const float* bias, float lo, float hi);
  // Output rows [r0, r1) (batch * out_h) of every part; `in` and `out` are the whole NHWC
  // tensors (groups * in_c and groups * out_c channels).
  void RunRows(int thread, const float* in, float* out, int r0, int r1) const;
  bool prepared() const { return !parts_.empty(); }

 private:
  DirectConvGeometry g_;  // one part's
  std::vector<DirectConvF32> parts_;
  int rows_ = 0;  // input rows per thread's scratch
  // Per thread, the input rows of one chunk in one part's channels (written in RunRows).
  mutable std::vector<float> scratch_;
};

}  // namespace xbnn::kernels::builtin
