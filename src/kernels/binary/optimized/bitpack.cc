#include "kernels/binary/optimized/bitpack.h"

#include <algorithm>
#include <string>

namespace xbnn::kernels::optimized {

Result<std::unique_ptr<PackKernel>> PackKernel::Create(const PackParams& params, Isa isa) {
  if (params.outer < 0) return Status::Error("pack: outer size must be >= 0");
  if (params.channels <= 0) {
    return Status::Error("pack: channels must be positive, got " +
                         std::to_string(params.channels));
  }
  if (params.source == PackSource::kInt8 &&
      (params.zero_point < -128 || params.zero_point > 127)) {
    return Status::Error("pack: int8 zero point must be in [-128, 127], got " +
                         std::to_string(params.zero_point));
  }
  Result<Isa> resolved = ResolveIsa(isa);
  if (!resolved.ok()) return resolved.status().Prefixed("pack: ");
  std::unique_ptr<PackKernel> k(new PackKernel());
  k->params_ = params;
  k->isa_ = *resolved;
  k->variant_ = PackVariantFor(*resolved);
  if (k->variant_ == nullptr) return Status::Error("pack: variant not compiled");
  if (params.channels % 32 == 0) {
    k->rows_ = params.outer == 0 ? 0 : 1;
    k->row_channels_ = params.outer * params.channels;
  } else {
    k->rows_ = params.outer;
    k->row_channels_ = params.channels;
  }
  return k;
}

namespace {

// Work items of at least this much input, so that the task overhead (waking a worker, claiming a
// task: around a microsecond in all) stays small next to the work.
constexpr int64_t kMinInputBytesPerTask = 256 * 1024;

struct PackContext {
  const PackKernel* kernel;
  const PackVariant* variant;
  const void* input;
  int32_t* output;
  PackSource source;
  int zero_point;
  bool single_row;       // the whole tensor is one row of a multiple of 32 channels
  int64_t rows, row_channels;
  int64_t per_task;      // words (single row) or rows per task
};

void PackRange(const PackContext& c, int task) {
  const int64_t words_per_row = (c.row_channels + 31) / 32;
  int64_t in_offset, out_offset, outer, channels;
  if (c.single_row) {
    const int64_t w0 = task * c.per_task;
    const int64_t w1 = std::min(words_per_row, w0 + c.per_task);
    in_offset = w0 * 32;
    out_offset = w0;
    outer = 1;
    channels = (w1 - w0) * 32;
  } else {
    const int64_t r0 = task * c.per_task;
    const int64_t r1 = std::min(c.rows, r0 + c.per_task);
    in_offset = r0 * c.row_channels;
    out_offset = r0 * words_per_row;
    outer = r1 - r0;
    channels = c.row_channels;
  }
  if (outer <= 0 || channels <= 0) return;
  if (c.source == PackSource::kFloat32) {
    c.variant->pack_float(static_cast<const float*>(c.input) + in_offset, outer, channels,
                          c.output + out_offset);
  } else {
    c.variant->pack_int8(static_cast<const int8_t*>(c.input) + in_offset, outer, channels,
                         c.zero_point, c.output + out_offset);
  }
}

}  // namespace

void PackKernel::RunTask(void* ctx, int /*thread*/, int task) {
  PackRange(*static_cast<const PackContext*>(ctx), task);
}

void PackKernel::RunRows(const void* input, int32_t* output, int64_t row_begin,
                         int64_t row_end) const {
  row_begin = std::max<int64_t>(row_begin, 0);
  row_end = std::min(row_end, params_.outer);
  if (row_end <= row_begin) return;
  // Rows of whole 32-channel words are one long row (as in Run): one call, no row loop.
  const bool flat = params_.channels % 32 == 0;
  const int64_t outer = flat ? 1 : row_end - row_begin;
  const int64_t channels = flat ? (row_end - row_begin) * params_.channels : params_.channels;
  const int64_t in_offset = row_begin * params_.channels;
  int32_t* out = output + row_begin * ((params_.channels + 31) / 32);
  if (params_.source == PackSource::kFloat32) {
    variant_->pack_float(static_cast<const float*>(input) + in_offset, outer, channels, out);
  } else {
    variant_->pack_int8(static_cast<const int8_t*>(input) + in_offset, outer, channels,
                        params_.zero_point, out);
  }
}

void PackKernel::Run(const void* input, int32_t* output, TaskRunner* runner) const {
  if (rows_ == 0) return;
  const int threads = runner == nullptr ? 1 : runner->num_threads();
  PackContext c{this,  variant_,     input, output, params_.source, params_.zero_point,
                params_.channels % 32 == 0, rows_, row_channels_, 0};
  const int64_t words_per_row = (row_channels_ + 31) / 32;
  const int64_t total_words = rows_ * words_per_row;
  const int64_t bytes_per_word = params_.source == PackSource::kFloat32 ? 128 : 32;
  int64_t tasks = std::min<int64_t>(int64_t{threads} * 4,
                                    total_words * bytes_per_word / kMinInputBytesPerTask);
  if (threads <= 1 || tasks <= 1) {
    c.per_task = c.single_row ? words_per_row : rows_;
    PackRange(c, 0);
    return;
  }
  if (c.single_row) {
    c.per_task = (words_per_row + tasks - 1) / tasks;
    tasks = (words_per_row + c.per_task - 1) / c.per_task;
  } else {
    tasks = std::min(tasks, rows_);
    c.per_task = (rows_ + tasks - 1) / tasks;
    tasks = (rows_ + c.per_task - 1) / c.per_task;
  }
  RunParallel(runner, static_cast<int>(tasks), &PackKernel::RunTask, &c);
}

}  // namespace xbnn::kernels::optimized
