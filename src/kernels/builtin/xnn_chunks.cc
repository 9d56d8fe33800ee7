#include "kernels/builtin/xnn_chunks.h"

#include <algorithm>
#include <string>

namespace xbnn::kernels::builtin {
namespace {

// Per-call overhead of an XNNPACK operator is a few microseconds: chunks stay well above it.
constexpr double kMinChunkSeconds = 10e-6;
// Chunks of a convolution each pack the weights; beyond this many bytes of copies, fewer chunks.
constexpr double kMaxWeightCopyBytes = 4 << 20;

}  // namespace

void XnnChunks::Run(const OpContext& ctx) const {
  auto run = [&](int, int i) { xnn_run_operator(ops_[static_cast<size_t>(i)].get(), nullptr); };
  ParallelFor(ctx, static_cast<int>(ops_.size()), run, seconds_);
}

int XnnChunkCount(const OpContext& ctx, double seconds, int limit) {
  const int threads = NumThreads(ctx);
  if (threads <= 1 || seconds < kMinParallelSeconds) return 1;
  const double by_time = std::max(1.0, seconds / kMinChunkSeconds);
  return std::max(1, std::min({2 * threads, limit, static_cast<int>(by_time)}));
}

Status CreateXnnConv2D(const OpContext& ctx, const XnnConvDesc& d, XnnChunks* out) {
  // XNNPACK's setup allocates an indirection buffer of one pointer per output pixel and kernel
  // tap (the 1x1 stride-1 GEMM path excepted): a hostile shape must not make it huge.
  const double taps = static_cast<double>(d.kernel_h) * d.kernel_w;
  const double indirection = 8.0 * d.batch * d.out_h * d.out_w * (taps > 1 ? taps : 0.0);
  if (ctx.memory_limit != 0 && indirection > static_cast<double>(ctx.memory_limit)) {
    return ctx.Error(std::string("the ") + d.what + " needs about " +
                     std::to_string(static_cast<int64_t>(indirection / (1 << 20))) +
                     " MiB of XNNPACK indirection buffers, over the memory limit of " +
                     std::to_string(ctx.memory_limit >> 20) +
                     " MiB (InterpreterOptions::max_arena_bytes)");
  }
  const double weight_bytes = 4.0 * d.out_c * d.kernel_h * d.kernel_w * d.group_in;
  const int by_memory =
      static_cast<int>(std::max(1.0, kMaxWeightCopyBytes / std::max(weight_bytes, 1.0)));
  const bool rows = d.batch == 1;
  const int chunks = XnnChunkCount(ctx, d.seconds, std::min(rows ? d.out_h : d.batch, by_memory));
  out->set_seconds(d.seconds);
  const int64_t in_image = int64_t{d.in_h} * d.in_w * d.in_c;
  const int64_t out_image = int64_t{d.out_h} * d.out_w * d.out_c;
  for (int k = 0; k < chunks; ++k) {
    // Chunk k: output rows [y0, y1) of every image, or images [b0, b1).
    const int total = rows ? d.out_h : d.batch;
    const int c0 = static_cast<int>(int64_t{total} * k / chunks);
    const int c1 = static_cast<int>(int64_t{total} * (k + 1) / chunks);
    int pad_top = d.pad_top, pad_bottom = d.pad_bottom, in_rows = d.in_h, batch = d.batch;
    const float* input = d.input;
    float* output = d.output;
    if (chunks > 1 && rows) {
      // Input rows [first, last) that output rows [c0, c1) read; what lies outside the image is
      // this band's padding.
      const int first = c0 * d.stride_h - d.pad_top;
      const int last = (c1 - 1) * d.stride_h - d.pad_top + (d.kernel_h - 1) * d.dilation_h + 1;
      const int r0 = std::max(first, 0), r1 = std::min(last, d.in_h);
      if (r1 <= r0) return ctx.Error(std::string("cannot split the ") + d.what + " by rows");
      pad_top = r0 - first;
      pad_bottom = last - r1;
      in_rows = r1 - r0;
      input += int64_t{r0} * d.in_w * d.in_c;
      output += int64_t{c0} * d.out_w * d.out_c;
    } else if (chunks > 1) {
      batch = c1 - c0;
      input += c0 * in_image;
      output += c0 * out_image;
    }
    xnn_operator_t op = nullptr;
    xnn_status s = xnn_create_convolution2d_nhwc_f32(
        pad_top, d.pad_right, pad_bottom, d.pad_left, d.kernel_h, d.kernel_w, d.stride_h,
        d.stride_w, d.dilation_h, d.dilation_w, d.groups, d.group_in, d.group_out, d.in_c, d.out_c,
        d.filter, d.bias, d.min, d.max, d.flags, &op);
    const int64_t image = int64_t{d.out_h} * d.out_w;
    const int64_t first = chunks == 1 ? 0 : rows ? int64_t{c0} * d.out_w : c0 * image;
    const int64_t end = chunks == 1 ? d.batch * image : rows ? int64_t{c1} * d.out_w : c1 * image;
    out->Add(XnnOperator(op), first, end);
    if (s != xnn_status_success) {
      return ctx.Error(std::string("XNNPACK cannot create the ") + d.what + ": " +
                       XnnStatusName(s));
    }
    s = xnn_setup_convolution2d_nhwc_f32(op, batch, in_rows, d.in_w, input, output, nullptr);
    if (s != xnn_status_success) {
      return ctx.Error(std::string("XNNPACK cannot set up the ") + d.what + ": " +
                       XnnStatusName(s));
    }
  }
  if (ctx.prepared_bytes) *ctx.prepared_bytes += static_cast<size_t>(weight_bytes * chunks);
  return Status::Ok();
}

Status CreateXnnFullyConnected(const OpContext& ctx, const XnnFcDesc& d, XnnChunks* out) {
  // Whole 16-unit blocks (the width of XNNPACK's AVX-512 GEMM tiles) per chunk.
  const int blocks = (d.units + 15) / 16;
  const int chunks = XnnChunkCount(ctx, d.seconds, blocks);
  out->set_seconds(d.seconds);
  for (int k = 0; k < chunks; ++k) {
    const int u0 = std::min(d.units, static_cast<int>(int64_t{blocks} * k / chunks) * 16);
    const int u1 = std::min(d.units, static_cast<int>(int64_t{blocks} * (k + 1) / chunks) * 16);
    if (u1 <= u0) continue;
    xnn_operator_t op = nullptr;
    xnn_status s = xnn_create_fully_connected_nc_f32(
        d.depth, u1 - u0, d.depth, d.units, d.filter + int64_t{u0} * d.depth,
        d.bias ? d.bias + u0 : nullptr, d.min, d.max, 0, &op);
    out->Add(XnnOperator(op));
    if (s != xnn_status_success) {
      return ctx.Error(std::string("XNNPACK cannot create the fully connected operator: ") +
                       XnnStatusName(s));
    }
    s = xnn_setup_fully_connected_nc_f32(op, d.batch, d.input, d.output + u0, nullptr);
    if (s != xnn_status_success) {
      return ctx.Error(std::string("XNNPACK cannot set up the fully connected operator: ") +
                       XnnStatusName(s));
    }
  }
  if (ctx.prepared_bytes) *ctx.prepared_bytes += static_cast<size_t>(4.0 * d.units * d.depth);
  return Status::Ok();
}

}  // namespace xbnn::kernels::builtin
