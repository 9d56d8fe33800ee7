// Optimized LceBMaxPool2d: AND of the bitpacked words in each window (padding left out).
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/isa.h"
#include "kernels/binary/optimized/task_runner.h"
#include "kernels/binary/optimized/variants.h"
#include "xbnn/status.h"

namespace xbnn::kernels::optimized {

class BMaxPool2DKernel {
 public:
  static Result<std::unique_ptr<BMaxPool2DKernel>> Create(const BMaxPool2DParams& params,
                                                          Isa isa = Isa::kBest);
  // input: int32 [batch, in_h, in_w, packed_channels]; output: int32
  // [batch, out_h, out_w, packed_channels]. No allocation, no validation.
  void Run(const int32_t* input, int32_t* output, TaskRunner* runner) const;

  Isa isa() const { return isa_; }
  const BMaxPool2DGeometry& geometry() const { return geometry_; }

 private:
  BMaxPool2DKernel() = default;
  static void RunTask(void* ctx, int thread, int task);

  BMaxPool2DParams params_;
  BMaxPool2DGeometry geometry_;
  Isa isa_ = Isa::kPortable;
  const BMaxPoolVariant* variant_ = nullptr;
  BMaxPoolPlan plan_;
};

}  // namespace xbnn::kernels::optimized
