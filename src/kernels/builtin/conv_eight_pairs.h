// Eight-output-channel convolutions (QuickNetSmall's 3x3 stride-2 stem) on AVX-512 with two
// output pixels per vector and no shuffle in the tap loop. The lanes hold (channel, pixel)
// interleaved, so what a pixel pair needs for one tap is the 64-bit pair (x[i], x[i + step]),
// which the load unit broadcasts (vbroadcastsd), times each channel's weight twice in a row.
// The input rows are rebuilt once as such pairs (PairRows). Each lane still sums the bias, then
// the filter rows, then the taps of a row, one FMA each: the bits of the other direct kernels.
#pragma once

#include <cstdint>

namespace xbnn::kernels::builtin::eight_pairs {

// The pair rows of the input rows that output rows read: built on first use and kept while the
// next output rows read them (the last k_h rows built stay), in fixed storage (64 KB, meant for
// the caller's stack).
class PairRows {
 public:
  static constexpr int kFloats = 16384;
  // Whether k_h rows of `row_floats` floats fit.
  static bool Fits(int64_t row_floats, int k_h) {
    return row_floats >= 1 && k_h >= 1 && k_h <= 16 && 2 * row_floats * k_h <= kFloats;
  }
  // Rows of `row_floats` floats, pairs `step` floats apart, k_h rows kept (Fits must hold).
  PairRows(int row_floats, int step, int k_h);
  PairRows(const PairRows&) = delete;
  PairRows& operator=(const PairRows&) = delete;
  // Input row `src` as pairs: pair i (two floats at 2 * i) holds src[i] and src[i + step], for i
  // in [0, row_floats - step).
  const float* Get(const float* src);

 private:
  const float* keys_[16] = {};
  int row_floats_, step_, slots_, next_ = 0;
  alignas(64) float buf_[kFloats];
};

// [taps][16] weights that hold each tap's 8 channels twice ([w0..w7, w0..w7]) as
// [w0, w0, w1, w1, ..., w7, w7]; the same for 16 biases.
void InterleaveTaps(const float* twice, int64_t taps, float* dst);

// Where the pairs of one output row read and what they compute.
struct PairTile {
  const float* const* rows;  // pair rows of the visited filter rows, `nrows` of them
  int nrows;
  int64_t col;        // pair index of the first pixel's first visited tap
  int pair_step;      // pair indices from one pixel pair to the next (2 * stride_w * in_c)
  int taps;           // taps per filter row (all of them: the pixels lie inside the image)
  const float* w;     // interleaved weights of the first visited filter row: [nrows][taps][16]
  const float* bias;  // 16 interleaved biases
  float lo, hi;       // the fused activation's clamp
};

// Output pixels [0, 2 * pairs) from `out`, pixels `out_pixel_stride` floats apart.
void RunPairs(const PairTile& t, int pairs, float* out, int out_pixel_stride);

}  // namespace xbnn::kernels::builtin::eight_pairs
