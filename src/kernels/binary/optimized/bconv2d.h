// Optimized LceBconv2d: weights repacked once at Create, an xor-popcount GEMM with a fused
// epilogue at Run, in the fastest instruction-set variant the CPU supports.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/aligned_buffer.h"
#include "kernels/binary/optimized/bconv_amx_plan.h"
#include "kernels/binary/optimized/isa.h"
#include "kernels/binary/optimized/task_runner.h"
#include "kernels/binary/optimized/tile_choice.h"
#include "kernels/binary/optimized/variants.h"
#include "xbnn/status.h"

namespace xbnn::kernels::optimized {

class BConv2DKernel {
 public:
  // Validates `params` (as ComputeBConv2DGeometry does) and the tensors the output type needs
  // (multiplier and bias for float/int8 output, thresholds for bitpacked output; the others may
  // be null), then repacks them. Tensors follow binary_ops.h / BConv2DArgs; they are copied, so
  // the caller may free them afterwards. `isa` picks a variant (kBest: the CPU's fastest, or the
  // one named by the XBNN_ISA environment variable). The amx variant runs the layers with at
  // least kAmxMinKBits per output on the tiles (the others on its vpopcntd kernel, as fast or
  // faster there); `amx_every_layer` takes every layer within its limits and keeps it on the tiles
  // (tests; otherwise a layer whose tiles run slower than its vpopcntd kernel moves there for a
  // while, tile_choice.h).
  static Result<std::unique_ptr<BConv2DKernel>> Create(const BConv2DParams& params,
                                                       const int32_t* filter,
                                                       const float* multiplier, const float* bias,
                                                       const int32_t* thresholds,
                                                       Isa isa = Isa::kBest,
                                                       bool amx_every_layer = false);

  // input: bitpacked [batch, in_h, in_w, PackedWords(channels_in)];
  // output: float or int8 [batch, out_h, out_w, out_channels], or int32
  // [batch, out_h, out_w, PackedWords(out_channels)]. No validation; no allocation except the AMX
  // variant's per-thread scratch on the first run with more threads than before. `runner` may be
  // null (runs on the calling thread); results do not depend on the thread count. One Run at a
  // time per kernel.
  // With `fused` (only where SupportsFused()), the float output is not written (`output` may be
  // null) and the fused residual ADD + LceQuantize outputs are (variants.h, BConvFused).
  void Run(const int32_t* input, void* output, TaskRunner* runner,
           const BConvFused* fused = nullptr) const;
  // Float output, whole output words per tile, and not the reference fallback.
  bool SupportsFused() const {
    return !fallback_ && params_.output_type == BOutputType::kFloat32 && plan_.bitpacked_aligned;
  }
  // SupportsFused() with BConvFused::chain: not on the pixel-lane layout.
  bool SupportsChain() const { return SupportsFused() && plan_.lane_pitch == 0; }

  Isa isa() const { return isa_; }
  // Whether this layer runs on the AMX tiles (the amx variant, within its limits) ...
  bool uses_amx() const { return amx_ != nullptr; }
  // ... and whether a Run with `threads` threads may (unless tile_choice() moved the layer to the
  // vpopcntd kernel for now): not with more than kAmxMaxThreads, nor strided layers with few jobs
  // at more than one (the vpopcntd kernel is faster there).
  bool RunsOnTiles(int threads) const;
  // Per-thread scratch that Run takes from a runner that reserved this much for at least its
  // threads (TaskRunner::ReserveScratch; else the kernel allocates its own): 0 without AMX; and
  // the threads that use it on a runner of `threads` (runs with more take no scratch).
  int64_t scratch_bytes() const { return amx_ ? amx_->image_bytes() : 0; }
  // The choice between the tiles and the vpopcntd kernel for the next Run (tests steer it).
  TileChoice& tile_choice() const { return tile_choice_; }
  // Runs so far on the tiles.
  int64_t tile_runs() const { return runs_; }
  int scratch_threads(int threads) const;
  const BConv2DParams& params() const { return params_; }
  const BConv2DGeometry& geometry() const { return geometry_; }
  // Bytes held for packed weights, indirection and epilogue tables.
  int64_t packed_bytes() const;

  BConv2DKernel(const BConv2DKernel&) = delete;
  BConv2DKernel& operator=(const BConv2DKernel&) = delete;

 private:
  BConv2DKernel() = default;
  static void RunTask(void* ctx, int thread, int task);
  // Run's work after the input's preparation, on the tiles or not.
  void RunOn(const int32_t* input, void* output, TaskRunner* runner, const BConvFused* fused,
             int threads, bool amx) const;

  BConv2DParams params_;
  BConv2DGeometry geometry_;
  Isa isa_ = Isa::kPortable;
  const BConvVariant* variant_ = nullptr;
  BConvPlan plan_;
  int total_pixels_ = 0;
  AlignedBuffer<int32_t> filter_;
  AlignedBuffer<int64_t> tile_offset_;
  AlignedBuffer<int32_t> indirection_;
  AlignedBuffer<int32_t> zero_row_;
  AlignedBuffer<float> multiplier_;
  AlignedBuffer<float> bias_;
  AlignedBuffer<int32_t> threshold_;
  AlignedBuffer<int32_t> threshold_x2_;
  AlignedBuffer<int32_t> border_;  // BConvPlan::border (zero padding without lce_border)
  AlignedBuffer<float> border_f_;  // BConvPlan::border_f (lce_border)
  AlignedBuffer<int32_t> border_row_;
  AlignedBuffer<int32_t> border_col_;
  // Kernels whose LCE border correction could round differently (kernel_elements >= 2^24, far
  // beyond real models) run the reference kernel on these copies.
  bool fallback_ = false;
  std::unique_ptr<BConvAmxStorage> amx_;  // the amx variant's plan, where it applies
  mutable int64_t runs_ = 0;              // numbers the runs for the AMX scratch
  bool pin_tiles_ = false;                // amx_every_layer: no TileChoice
  mutable TileChoice tile_choice_;        // (one Run at a time)
  // Nibble-plane variants: the input split into its planes at each Run (one Run at a time).
  mutable AlignedBuffer<int32_t> input_planes_;
  // The pixel-lane layout's padded input (BConvPlan::lane_pitch), copied at each Run.
  mutable AlignedBuffer<int32_t> lane_input_;
  std::vector<int32_t> filter_copy_;
  std::vector<float> multiplier_copy_;
  std::vector<float> bias_copy_;
};

}  // namespace xbnn::kernels::optimized
