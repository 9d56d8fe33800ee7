// Optimized LceQuantize: float32 or int8 rows packed into bits (bit 1 for x < 0, resp.
// q < zero_point; unused bits of a row's last word 0), in the fastest variant the CPU runs.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/binary/optimized/isa.h"
#include "kernels/binary/optimized/task_runner.h"
#include "kernels/binary/optimized/variants.h"
#include "xbnn/status.h"

namespace xbnn::kernels::optimized {

enum class PackSource : int { kFloat32 = 0, kInt8 = 1 };

struct PackParams {
  PackSource source = PackSource::kFloat32;
  int64_t outer = 0;     // rows (product of all but the last dimension)
  int channels = 0;      // values per row; a packed row has PackedWords(channels) words
  int zero_point = 0;    // int8 only
};

class PackKernel {
 public:
  static Result<std::unique_ptr<PackKernel>> Create(const PackParams& params,
                                                    Isa isa = Isa::kBest);
  // input: float or int8 [outer, channels]; output: int32 [outer, PackedWords(channels)].
  void Run(const void* input, int32_t* output, TaskRunner* runner) const;
  // Rows [row_begin, row_end) of `outer` only, on the calling thread (a producer's task packing
  // what it just computed).
  void RunRows(const void* input, int32_t* output, int64_t row_begin, int64_t row_end) const;

  Isa isa() const { return isa_; }
  const PackParams& params() const { return params_; }

 private:
  PackKernel() = default;
  static void RunTask(void* ctx, int thread, int task);

  PackParams params_;
  Isa isa_ = Isa::kPortable;
  const PackVariant* variant_ = nullptr;
  // Rows as the variant sees them: with channels % 32 == 0 all rows are one long row.
  int64_t rows_ = 0;
  int64_t row_channels_ = 0;
};

}  // namespace xbnn::kernels::optimized
