// XNNPACK float operators split on the interpreter's pool. XNNPACK's own pthreadpool makes its
// caller wait until every worker has checked in, so one descheduled worker stalls the whole op on
// a busy machine. Instead, an op is created as several single-threaded XNNPACK operators, each
// computing one chunk of the output (a band of output rows, a range of images or of output
// channels), and the chunks run as tasks of the interpreter's pool. Each output value is computed
// by the same micro-kernel code on the same inputs either way, so results do not depend on the
// chunking.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/builtin/common.h"

namespace xbnn::kernels::builtin {

class XnnChunks {
 public:
  // Runs every chunk (xnn_run_operator without a thread pool), in parallel when estimated
  // single-thread time `seconds` makes that worthwhile.
  void Run(const OpContext& ctx) const;
  // Run, and after each chunk, in the same task, after(first, end) with the chunk's range of
  // output pixels (batch * height * width of an NHWC output; set by CreateXnnConv2D).
  template <class After>
  void Run(const OpContext& ctx, After after) const {
    auto run = [&](int, int i) {
      const size_t k = static_cast<size_t>(i);
      xnn_run_operator(ops_[k].get(), nullptr);
      after(pixels_[k].first, pixels_[k].second);
    };
    ParallelFor(ctx, static_cast<int>(ops_.size()), run, seconds_);
  }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  void Add(XnnOperator op, int64_t first_pixel = 0, int64_t end_pixel = 0) {
    ops_.push_back(std::move(op));
    pixels_.emplace_back(first_pixel, end_pixel);
  }
  void set_seconds(double seconds) { seconds_ = seconds; }

 private:
  std::vector<XnnOperator> ops_;
  std::vector<std::pair<int64_t, int64_t>> pixels_;  // per chunk: its output pixels
  double seconds_ = 0;
};

// How many chunks an op of `seconds` (estimated, one thread) is split into: one when it runs on one
// thread, else a few per thread (a preempted or slower thread's share is taken by the others),
// at most `limit`.
int XnnChunkCount(const OpContext& ctx, double seconds, int limit);

// A float NHWC convolution (grouped and depthwise included) as xnn_create_convolution2d_nhwc_f32
// takes it, with the interpreter's tensors bound.
struct XnnConvDesc {
  int batch = 1, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int groups = 1, group_in = 0, group_out = 0;
  const float* filter = nullptr;
  const float* bias = nullptr;
  float min = 0, max = 0;
  uint32_t flags = 0;
  const float* input = nullptr;
  float* output = nullptr;
  double seconds = 0;  // estimated single-thread time
  const char* what = "convolution";
};
// Batch 1: bands of output rows, each its own operator over the input rows it reads (with the
// padding of the band's position). Batch > 1: ranges of images. Each chunk packs its own copy of
// the weights, so the number of chunks is also limited by the weights' size.
Status CreateXnnConv2D(const OpContext& ctx, const XnnConvDesc& d, XnnChunks* out);

struct XnnFcDesc {
  int batch = 1, depth = 0, units = 0;
  const float* filter = nullptr;  // [units, depth]
  const float* bias = nullptr;
  float min = 0, max = 0;
  const float* input = nullptr;
  float* output = nullptr;
  double seconds = 0;
};
// Ranges of output units (rows of the weight matrix, so the weights are not duplicated).
Status CreateXnnFullyConnected(const OpContext& ctx, const XnnFcDesc& d, XnnChunks* out);

}  // namespace xbnn::kernels::builtin
