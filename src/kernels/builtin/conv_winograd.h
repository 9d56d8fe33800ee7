// Float32 Winograd convolution for stride-2 stems with few input channels and a 6x6 to 8x8
// kernel (the 7x7 stride-2 stems of Bi-Real Net, BinaryResNetE18, BinaryDenseNet and
// Real-to-Binary Net). The direct kernel (conv_direct.h) runs them at the FMA units' ceiling;
// this one does a quarter of its multiplications:
//
// - The stride goes first: the four phases (even/odd input row x even/odd input column) of the
//   input are channels of a stride-1 convolution with a 4x4 kernel (4 * in_c <= 16 channels, the
//   taps a 7x7 kernel lacks are zeros), whose output is the stem's.
// - That convolution runs as F(4x4, 4x4) Winograd: per 7x7 input tile and output channel, 49
//   products give 4x4 outputs (147 for one output of the direct 7x7 x 3 form). Points 1, -1, 2,
//   -2, 1/2, -1/2 and infinity: the symmetric pairs halve the transforms' work.
// - Per tile row of the output: the phase rows are staged (zero outside the image), 6 tiles at a
//   time go through the input transform, a product of 49 small matrices (tiles x channels times
//   channels x 64 output channels in vector registers), and the output transform with the bias and
//   the fused activation.
//
// Rounding differs from the direct sum (the transforms add and scale): outputs are within ~2e-6
// of the sum of the products' magnitudes (tests/builtin/conv_winograd_test.cc), the same for any
// thread count; enough to flip a few bits after a binarization, so it is opt-in
// (FloatPrecision::kFloat32Winograd; docs/performance.md says why). AVX-512F, or AVX2 with FMA
// (one source for both, conv_winograd_simd.inc); elsewhere the caller keeps the direct kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/binary/optimized/aligned_buffer.h"
#include "kernels/builtin/conv_direct.h"

namespace xbnn::kernels::builtin {

class WinogradStemF32 {
 public:
  // Output rows per tile: RunRows ranges aligned to them compute no tile twice.
  static constexpr int kTileRows = 4;

  // No groups or dilation, stride 2 both ways, kernels of 6 to 8 rows and columns, 1 to 4 input
  // channels, out_c a multiple of 16, out_w at most 4096, on a CPU with AVX-512F or with AVX2
  // and FMA.
  static bool Applies(const DirectConvGeometry& g, int groups, int dil_h, int dil_w);
  // Transforms the OHWI filter; bias may be null; [lo, hi] is the fused activation's range;
  // `threads` scratch buffers (RunRows's thread index). AVX-512F where the CPU has it and
  // allow_avx512 (tests turn it off to run the AVX2 code, which gives the same bits).
  void Prepare(const DirectConvGeometry& g, const float* filter_ohwi, const float* bias, float lo,
               float hi, int threads, bool allow_avx512 = true);
  // Output rows [row_begin, row_end) of batch * out_h, NHWC in and out. Calls with different
  // `thread` (< the Prepare count) may run at once.
  void RunRows(int thread, const float* in, float* out, int row_begin, int row_end) const;
  bool prepared() const { return v_.size() != 0; }
  int rows() const { return g_.batch * g_.out_h; }
  // The first row of the tile row that holds row r (for splitting rows between threads).
  int TileRowStart(int r) const;
  // The transformed filter and the per-thread scratch.
  size_t bytes() const;

 private:
  bool RunTileRow(float* scratch, const float* image, float* out_image, int ty, int y_lo,
                  int y_hi) const;

  DirectConvGeometry g_;
  bool avx512_ = false;  // the AVX-512 code, else the AVX2 one
  int lanes_ = 0;        // 4 * in_c phase channels
  int tiles_w_ = 0;      // tiles per output row
  int stage_w_ = 0;      // staged phase columns per tile row: 4 * tiles_w_ + 3
  size_t scratch_floats_ = 0;
  // Per 64-channel block: [49 Winograd points][lanes_][block channels].
  optimized::AlignedBuffer<float> v_;
  std::vector<float> bias_;
  float max_input_ = 0;   // staged magnitudes above this: the direct kernel
  DirectConvF32 direct_;  // tile rows with NaN or huge inputs
  float lo_ = 0, hi_ = 0;
  // One buffer per thread: the staged rows, the transformed tiles, the products.
  mutable std::vector<optimized::AlignedBuffer<float>> scratch_;
};

}  // namespace xbnn::kernels::builtin
