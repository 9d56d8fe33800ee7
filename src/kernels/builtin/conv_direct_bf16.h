// The direct convolution of conv_direct.h with bfloat16 products (InterpreterOptions::
// float_precision = kBF16, opt-in): inputs and weights rounded to bfloat16 (8 significant bits),
// products of tap pairs summed in float32 by AVX512-BF16's vdpbf16ps, which does 32
// multiply-adds per instruction where vfmadd231ps does 16. Same shapes as DirectConvF32 (7x7
// stems, 1x1 convolutions), on CPUs with AVX512-BF16 only; elsewhere the caller keeps float32.
// The input is converted once per invoke into a zero-padded bfloat16 copy, so every output pixel
// reads a full window and tap pairs never straddle a border.
//
// On CPUs with AMX-BF16 (and an OS that grants the tile state) the same products run on the
// tile unit instead (tdpbf16ps: 16 pixels x 16 channels x 32 taps per instruction): each
// output row of a filter row is one tile load from the padded copy, whose pixel stride is the
// tile's row stride, so no im2col copy is made. A tile reads whole 32-tap chunks, past a window's
// last tap into its neighbour's, with zero weights there; 0 x inf would make those outputs NaN, so
// an invoke whose input holds a non-finite value runs the AVX512-BF16 kernel instead (on CPUs
// with AMX that one is 2x slower than float32, hence the tiles).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/binary/optimized/aligned_buffer.h"
#include "kernels/builtin/conv_direct.h"

namespace xbnn::kernels::builtin {

class DirectConvBf16 {
 public:
  // DirectConvF32::Applies, and the CPU has AVX512-BF16.
  static bool Applies(const DirectConvGeometry& g, int groups, int dil_h, int dil_w);
  // allow_tiles = false keeps the AVX512-BF16 kernel on AMX CPUs (tests of both paths).
  void Prepare(const DirectConvGeometry& g, const float* filter_ohwi, const float* bias, float lo,
               float hi, bool allow_tiles = true);
  // Converts the float32 input into the padded bfloat16 copy; call once per invoke, before any
  // RunRows.
  void ConvertInput(const float* in);
  // Work items [begin, end) of rows(): output rows, or for 1x1 convolutions chunks of pixels.
  // The items depend on the input (tiles or not): call rows() and RunRows after ConvertInput.
  void RunRows(float* out, int begin, int end) const;
  bool prepared() const { return packed_.size() != 0; }
  // Whether the AMX tiles run this convolution (for inputs without inf or NaN).
  bool uses_tiles() const { return tile_packed_.size() != 0; }
  int rows() const;
  // What work item `item` writes (after ConvertInput, as rows()).
  direct_conv::Region ItemRegion(int item) const;
  // The work items are output rows (batch * out_h), not 1x1 chunks.
  bool by_rows() const { return !pointwise_; }
  // Bytes kept: the repacked weights and the padded input copy.
  size_t bytes() const;

 private:
  void RunPointwise(float* out, int begin, int end) const;
  void PrepareTiles(const std::vector<uint16_t>& rounded);
  // Tiles for this invoke: prepared, and the input is finite or the tiles read no tap of a
  // neighbouring window.
  bool TilesNow() const { return uses_tiles() && (finite_input_ || pair_taps_ % 32 == 0); }
  void RunTiles(float* out, int begin, int end) const;

  DirectConvGeometry g_;
  bool pointwise_ = false;
  int pair_taps_ = 0;                // taps per filter row (k_w * in_c) rounded up to even
  int padded_h_ = 0, padded_w_ = 0;  // the padded input copy (stems)
  int64_t padded_row_ = 0;           // elements per row of the padded copy
  // Cache-line aligned: a tile row that straddles two cache lines loads ~4x slower.
  optimized::AlignedBuffer<uint16_t> packed_;  // per 64-channel block: [k_h][pair_taps/2][block][2]
  optimized::AlignedBuffer<uint16_t> input_;   // the padded bfloat16 input
  std::vector<float> bias_;
  float lo_ = 0, hi_ = 0;
  // AMX: per 64-channel block [k_h][chunks][16 pairs][block][2], the taps of each filter row
  // padded with zeros to whole 32-tap chunks.
  int tile_chunks_ = 0;
  optimized::AlignedBuffer<uint16_t> tile_packed_;
  bool finite_input_ = true;  // the last ConvertInput saw no inf or NaN
};

}  // namespace xbnn::kernels::builtin
