// What an AMX BConv2D keeps (bconv_amx.h): the plan's tables and each thread's scratch.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/aligned_buffer.h"
#include "kernels/binary/optimized/bconv_amx.h"
#include "kernels/binary/optimized/task_runner.h"

namespace xbnn::kernels::optimized {

class BConvAmxStorage {
 public:
  // Builds the plan for `plan` (the vpopcntd plan of the same layer; groups 1 only). False when
  // the layer is outside the AMX kernel's limits (it then runs on the vpopcntd path).
  bool Build(const BConv2DParams& p, const BConv2DGeometry& g, const BConvPlan& plan,
             const int32_t* filter);
  const BConvAmxPlan& plan() const { return plan_; }
  int64_t bytes() const;  // the tables (not the per-thread scratch)

  // Scratch for threads [0, threads): allocated on first use, then reused; the expanded input in
  // `runner`'s shared scratch when it reserved image_bytes() (else in buffers of its own). Not
  // thread-safe: one Run of the kernel at a time (as for every kernel).
  void ReserveThreads(int threads, TaskRunner* runner) const;
  int64_t image_bytes() const { return plan_.image_pixels * plan_.kc; }
  BConvAmxScratch& scratch(int thread) const { return threads_[static_cast<size_t>(thread)].view; }

 private:
  struct ThreadScratch {
    AlignedBuffer<int8_t> image, weights, ring;
    AlignedBuffer<int32_t> acc;
    std::vector<int> slot_tile;
    BConvAmxScratch view;
  };
  BConvAmxPlan plan_;
  AlignedBuffer<int64_t> tap_offset_, bits_offset_;
  AlignedBuffer<uint64_t> filter_bits_;
  AlignedBuffer<int32_t> popcount_;
  mutable std::vector<ThreadScratch> threads_;
};

}  // namespace xbnn::kernels::optimized
