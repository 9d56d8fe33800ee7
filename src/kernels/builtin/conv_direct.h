// Direct float32 convolution for convolutions with few input channels and a large kernel: the
// 7x7 stride-2 stems of ResNet-style models (3 input channels). XNNPACK runs those as an
// indirect GEMM whose reduction steps are only 3 floats wide; here each filter tap is a
// broadcast of one input value times a row of output channels, 6 pixels x 64 channels of
// accumulators in AVX-512 registers. The same tiles run 1x1 convolutions (the transition blocks
// of QuickNet and Bi-Real Net) as a matrix product over all pixels: 24 FMAs per 10 loads, where
// XNNPACK's 7x16 AVX-512 GEMM tile needs 8 loads per 7 FMAs. 8-channel convolutions
// (QuickNetSmall's 3x3 stride-2 stem; the parts of a grouped convolution that its pixel-lane
// kernel does not take) put two pixels in one AVX-512 vector (conv_eight_pairs.h), where XNNPACK
// leaves half of each vector empty, and one pixel per 8-channel vector in their AVX2 form.
// AVX-512F, or the AVX2 and FMA forms of
// the same sums, chosen at run time: where neither applies (shape, or a CPU without them) the
// caller keeps XNNPACK.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/binary/optimized/aligned_buffer.h"

namespace xbnn::kernels::builtin {

namespace eight_pairs {
class PairRows;  // conv_eight_pairs.h
}  // namespace eight_pairs

// The register blocking both direct kernels (float32 and bf16) share: output channels in blocks
// of up to 64 (4 AVX-512 vectors), and per block width the pixels of a tile that fit the 32
// registers beside the weight vectors and a broadcast (6 x 4 + 4 + 1 = 29 for a full block).
namespace direct_conv {
inline constexpr int kBlock = 64;
inline int BlockChannels(int out_c, int block) {
  return out_c - block * kBlock < kBlock ? out_c - block * kBlock : kBlock;
}
constexpr int TilePixels(int nb) { return nb == 1 ? 12 : nb == 2 ? 8 : nb == 3 ? 7 : 6; }

// Pixels of the next tile when `left` (< a full tile) remain: 4, 2 or 1. Tiles of at least 2
// pixels keep 8 or more accumulator chains in flight, enough for the FMA units' latency; one
// pixel of 4 vectors runs at half their rate.
inline int RemainderPixels(int64_t left) { return left >= 4 ? 4 : left >= 2 ? 2 : 1; }

// Stem rows per call worth passing together: RunRows runs the columns outside the full tiles of
// up to this many rows as tiles down the rows.
inline constexpr int kRowGroup = 4;

// Work items of a 1x1 convolution: chunks of about 48 pixels in whole 6-pixel tiles, their tile
// counts differing by at most one, times the 64-channel blocks. Splitting channels too keeps
// threads busy on small maps: a 7x7x512 output is 8 items of 49 pixels, where chunks of 48 alone
// made 2 items, 48 and 1. Even chunks keep two threads' halves even: 14x14 as 48, 48, 48, 52
// pixels, where chunks of 54 left 34 for the last, so one thread had 1.2x the other's work.
struct PointwiseSplit {
  int64_t tiles = 0;  // 6-pixel tiles over all pixels, the last one partial
  int chunks = 0, blocks = 0;
  int items() const { return chunks * blocks; }
  // The first pixel of chunk `c` (c == chunks: the end).
  int64_t ChunkBegin(int c, int64_t pixels) const {
    const int64_t p = tiles * c / chunks * 6;
    return p < pixels ? p : pixels;
  }
};
inline PointwiseSplit SplitPointwise(int64_t pixels, int out_c) {
  PointwiseSplit s;
  s.blocks = (out_c + kBlock - 1) / kBlock;
  s.tiles = (pixels + 5) / 6;
  // The nearest count of 48-pixel chunks (8 tiles), at most one per tile.
  const int64_t n = pixels >= 72 ? (pixels + 24) / 48 : 1;
  s.chunks = static_cast<int>(n < s.tiles ? n : s.tiles);
  return s;
}

// The part of the output a work item writes: channels [c0, c0 + channels) of pixels [p0, p1).
struct Region {
  int64_t p0 = 0, p1 = 0;
  int c0 = 0, channels = 0;
};
// Work item `item` of a 1x1 convolution over `pixels` pixels in chunks of `chunk_pixels`.
inline Region ItemRegion(int64_t chunk_pixels, int blocks, int64_t pixels, int out_c, int item) {
  const int blk = item % blocks;
  Region r;
  r.p0 = item / blocks * chunk_pixels;
  r.p1 = r.p0 + chunk_pixels < pixels ? r.p0 + chunk_pixels : pixels;
  r.c0 = blk * kBlock;
  r.channels = BlockChannels(out_c, blk);
  return r;
}
// Work item `item` of a 1x1 convolution over `pixels` pixels split as `s`.
inline Region ItemRegion(const PointwiseSplit& s, int64_t pixels, int out_c, int item) {
  const int blk = item % s.blocks, c = item / s.blocks;
  Region r;
  r.p0 = s.ChunkBegin(c, pixels);
  r.p1 = s.ChunkBegin(c + 1, pixels);
  r.c0 = blk * kBlock;
  r.channels = BlockChannels(out_c, blk);
  return r;
}
// The same for the output rows of a stem (each item one row of every channel).
inline Region RowRegion(int out_w, int out_c, int row) {
  return {int64_t{row} * out_w, int64_t{row + 1} * out_w, 0, out_c};
}

// Calls tile(block, first_pixel, n) over work item `item` of `pixels` pixels: runs of full tiles
// of n = TilePixels(block width) pixels, then remainder tiles (RemainderPixels) at the item's end.
template <class TileAt>
void ForPointwiseItem(const PointwiseSplit& s, int64_t pixels, int out_c, int item, TileAt tile) {
  const Region r = ItemRegion(s, pixels, out_c, item);
  const int blk = r.c0 / kBlock;
  const int np = TilePixels(r.channels / 16);
  int64_t p = r.p0;
  for (; p + np <= r.p1; p += np) tile(blk, p, np);
  for (int n = 0; p < r.p1; p += n) {
    n = RemainderPixels(r.p1 - p);
    tile(blk, p, n);
  }
}

// The CPU runs the float kernels of this file and conv_winograd.h: AVX-512F, or AVX2 and FMA.
bool CpuHasVectorFma();

// A fused LceQuantize of a region of an NHWC float32 output with out_c channels (AVX-512F; the
// direct kernels' CPUs): bit c % 32 of word c / 32 of a pixel's packed row is (x_c < 0). r.c0 is a
// multiple of 32; the words the region covers are written whole, bits past its channels 0.
void PackSigns(const float* out, int out_c, const Region& r, int32_t* packed);
}  // namespace direct_conv

struct DirectConvGeometry {
  int batch = 0, in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int k_h = 0, k_w = 0, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
};

class DirectConvF32 {
 public:
  // The shapes this kernel is meant for (no groups, no dilation, out_c a multiple of 16, kernel
  // and strides at most 16; in_c <= 4 and a kernel of at least 3x3, or a 1x1 stride-1 unpadded
  // kernel; or out_c 8, in_c <= 16 and a kernel of at least 3x3) on a CPU with AVX-512F or with
  // AVX2 and FMA. Both instruction sets give the same bits.
  static bool Applies(const DirectConvGeometry& g, int groups, int dil_h, int dil_w);
  // A convolution of this shape (groups 1) runs on the 8-channel kernels by rows in every float
  // precision (no bf16 or Winograd form takes it): what CONV_2D's group fusion needs.
  static bool RunsEightChannelRows(int in_c, int out_c, int k_h, int k_w, int stride_h,
                                   int stride_w, int dil_h, int dil_w);
  // Repacks the OHWI filter into 64-channel blocks; bias may be null; [lo, hi] is the fused
  // activation's range.
  void Prepare(const DirectConvGeometry& g, const float* filter_ohwi, const float* bias, float lo,
               float hi);
  // Work items [row_begin, row_end) of rows(), NHWC in and out: output rows (batch * out_h), or
  // for 1x1 convolutions chunks of pixels x channel blocks (direct_conv::SplitPointwise).
  void RunRows(const float* in, float* out, int row_begin, int row_end) const;
  // Output rows [row_begin, row_end) of a kernel by rows (by_rows()) with the input from image
  // row `in_first_row` (batch * in_h + y) at `in` (the rows these output rows read, NHWC) and
  // output pixels `out_pixel_stride` floats apart from `out` (output row 0): a grouped
  // convolution's parts of wider tensors (CONV_2D's group fusion, runtime/fusion.h).
  void RunRowsAt(const float* in, int64_t in_first_row, float* out, int out_pixel_stride,
                 int row_begin, int row_end) const;
  bool prepared() const { return packed_.size() != 0; }
  int rows() const;
  // What work item `item` writes.
  direct_conv::Region ItemRegion(int item) const;
  // The work items are output rows (batch * out_h), not 1x1 chunks.
  bool by_rows() const { return !pointwise_; }

 private:
  static bool IsPointwise(const DirectConvGeometry& g);
  static bool IsEightChannelStem(const DirectConvGeometry& g);
  // One output row of an 8-channel stem; `tile` is the row's Tile (conv_direct.cc).
  // `pair_rows`: the pair rows of this call's rows, or null.
  void RowEight(const void* tile, const float* in_row, float* out_row, int ky_lo, int x_lo,
                int x_hi, int out_pixel_stride, eight_pairs::PairRows* pair_rows) const;
  void RunPointwise(const float* in, float* out, int item_begin, int item_end) const;

  bool pointwise_ = false;
  bool avx512_ = false;  // the AVX-512 tile kernels; the AVX2 ones otherwise
  DirectConvGeometry g_;
  // Per 64-channel block: [k_h][k_w * in_c][block channels]; cache-line aligned, so that no
  // weight vector load straddles two lines.
  optimized::AlignedBuffer<float> packed_;
  std::vector<float> bias_;    // out_c values (zeros without a bias)
  // 8 channels on AVX-512: the weights and biases interleaved for eight_pairs (else empty).
  optimized::AlignedBuffer<float> pairs_;
  float lo_ = 0, hi_ = 0;
};

}  // namespace xbnn::kernels::builtin
