#include "kernels/builtin/conv_direct.h"

#include <algorithm>

#include "kernels/builtin/clamp_avx512.h"
#include "kernels/builtin/conv_eight_pairs.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define XBNN_DIRECT_CONV_X86 1
#endif

namespace xbnn::kernels::builtin {
namespace {

using direct_conv::BlockChannels;
using direct_conv::kBlock;
using direct_conv::TilePixels;

#if defined(XBNN_DIRECT_CONV_X86)

// Where one tile of NP output pixels (stride `step` floats apart in the input row) reads.
// Only taps inside the image are visited: filter rows [ky_lo, ky_lo + rows) and, within a row,
// taps (kx * in_c + ci) [t_lo, t_lo + taps), the same for every pixel of the tile.
struct Tile {
  const float* in;     // the first pixel's first visited tap
  const float* w;      // the weights of that tap: [k_h][taps_per_row][NB * 16] from there
  int64_t row_stride;  // floats from one input row to the next
  int step;            // floats from one pixel's window to the next (stride_w * in_c)
  int rows, taps;      // visited filter rows and taps per row
  int taps_per_row;    // k_w * in_c
};

// The tile of output column `ox` in a row whose first visited filter row is w_rows (`width`
// floats per tap): the window's taps clipped at the image's left and right edges, all of them
// for a column inside the image.
Tile ColumnTile(const DirectConvGeometry& g, const Tile& row, const float* in_row,
                const float* w_rows, int width, int ox) {
  const int ix0 = ox * g.stride_w - g.pad_left;
  const int t_lo = std::max(0, -ix0) * g.in_c, t_hi = std::min(g.k_w, g.in_w - ix0) * g.in_c;
  Tile s = row;
  s.in = in_row + (static_cast<int64_t>(ix0) * g.in_c + t_lo);
  s.w = w_rows + static_cast<int64_t>(t_lo) * width;
  s.taps = std::max(0, t_hi - t_lo);
  return s;
}

// NP pixels x NB vectors of 16 output channels. Per pixel: the bias, then filter rows, then the
// taps of a row, one FMA each. The accumulators start from loads of the bias and the loops run at
// least once (a tile without taps returns early): written as plain loops, GCC kept a copy of the
// accumulators on the stack for the zero-trip case, ~5% of a 1x1 tile's time.
// With kStep > 0 the tile's pixel step, taps and filter rows are compile-time constants (the
// interior tiles of 3x3 stride-2 stems over 3 channels): GCC then unrolls the taps with immediate
// offsets instead of keeping NP pixel offsets in registers and spilling the loop state.
template <int NP, int NB, int kStep = 0, int kTaps = 0, int kRows = 0>
__attribute__((target("avx512f"))) void TileKernel(const Tile& t, const float* bias, float lo,
                                                   float hi, float* out, int out_pixel_stride) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const int step = kStep > 0 ? kStep : t.step;
  const int taps = kStep > 0 ? kTaps : t.taps;
  const int rows = kStep > 0 ? kRows : t.rows;
  if (rows <= 0 || taps <= 0) {  // no tap inside the image: the bias
    for (int p = 0; p < NP; ++p)
      for (int j = 0; j < NB; ++j)
        _mm512_storeu_ps(out + p * out_pixel_stride + 16 * j,
                         ClampPs(_mm512_loadu_ps(bias + 16 * j), vlo, vhi));
    return;
  }
  __m512 acc[NP][NB];
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < NB; ++j) acc[p][j] = _mm512_loadu_ps(bias + 16 * j);
  const float* x = t.in;
  const float* wr = t.w;
  const int64_t w_row = static_cast<int64_t>(kStep > 0 ? kTaps : t.taps_per_row) * NB * 16;
  int ky = rows;
  do {
    const float* xk = x;
    const float* const x_end = x + taps;
    const float* wk = wr;
    do {
      __m512 wv[NB];
      for (int j = 0; j < NB; ++j) wv[j] = _mm512_loadu_ps(wk + 16 * j);
      for (int p = 0; p < NP; ++p) {
        const __m512 xv = _mm512_set1_ps(xk[p * step]);
        for (int j = 0; j < NB; ++j) acc[p][j] = _mm512_fmadd_ps(wv[j], xv, acc[p][j]);
      }
      ++xk;
      wk += NB * 16;
    } while (xk != x_end);
    x += t.row_stride;
    wr += w_row;
  } while (--ky != 0);
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < NB; ++j)
      _mm512_storeu_ps(out + p * out_pixel_stride + 16 * j, ClampPs(acc[p][j], vlo, vhi));
}

// One pixel of 8 channels (the image's left and right edges, and an odd pixel at a row's end):
// the low 8 lanes of the 16-channel single-pixel kernel.
__attribute__((target("avx512f"))) void SingleKernel8(const Tile& t, const float* bias, float lo,
                                                      float hi, float* out, int) {
  const __mmask16 low = 0xFF;
  __m512 acc = _mm512_maskz_loadu_ps(low, bias);
  for (int ky = 0; ky < t.rows; ++ky) {
    const float* x = t.in + ky * t.row_stride;
    const float* wr = t.w + static_cast<int64_t>(ky) * t.taps_per_row * 16;
    for (int k = 0; k < t.taps; ++k) {
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(low, wr + k * 16), _mm512_set1_ps(x[k]), acc);
    }
  }
  _mm512_mask_storeu_ps(out, low, ClampPs(acc, _mm512_set1_ps(lo), _mm512_set1_ps(hi)));
}

// The AVX2 form of TileKernel: per 16-channel vector of the tile, pixels in chunks of up to 6
// (12 accumulators, 2 weight registers and a broadcast fill AVX2's 16 registers), each pixel's
// two 8-channel halves summed in TileKernel's order (bias, filter rows, the taps of a row, one FMA
// each): the same bits as the AVX-512 kernel. `w_tap`: floats from one tap's weights to the next.
template <int CP>
__attribute__((target("avx2,fma"))) inline void ChunkAvx2(const Tile& t, const float* in,
                                                          const float* w, int w_tap,
                                                          const float* bias, __m256 vlo, __m256 vhi,
                                                          float* out, int out_pixel_stride) {
  __m256 acc[CP][2];
  for (int p = 0; p < CP; ++p) {
    acc[p][0] = _mm256_loadu_ps(bias);
    acc[p][1] = _mm256_loadu_ps(bias + 8);
  }
  const float* x = in;
  const float* wr = w;
  const int64_t w_row = static_cast<int64_t>(t.taps_per_row) * w_tap;
  int ky = t.rows;
  do {
    const float* xk = x;
    const float* const x_end = x + t.taps;
    const float* wk = wr;
    do {
      const __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8);
      for (int p = 0; p < CP; ++p) {
        const __m256 xv = _mm256_broadcast_ss(xk + p * t.step);
        acc[p][0] = _mm256_fmadd_ps(w0, xv, acc[p][0]);
        acc[p][1] = _mm256_fmadd_ps(w1, xv, acc[p][1]);
      }
      ++xk;
      wk += w_tap;
    } while (xk != x_end);
    x += t.row_stride;
    wr += w_row;
  } while (--ky != 0);
  for (int p = 0; p < CP; ++p) {
    for (int h = 0; h < 2; ++h) {
      // min(max(v, lo), hi) in ClampPs's operand order.
      _mm256_storeu_ps(out + p * out_pixel_stride + 8 * h,
                       _mm256_min_ps(_mm256_max_ps(acc[p][h], vlo), vhi));
    }
  }
}

// Pixels [P0, NP) of the tile in chunks of up to 6, for the 16 channels at `w`, `bias`, `out`.
template <int NP, int P0 = 0>
__attribute__((target("avx2,fma"))) inline void ChunksAvx2(const Tile& t, const float* w, int w_tap,
                                                           const float* bias, __m256 vlo,
                                                           __m256 vhi, float* out,
                                                           int out_pixel_stride) {
  constexpr int kChunk = NP - P0 < 6 ? NP - P0 : 6;
  ChunkAvx2<kChunk>(t, t.in + P0 * t.step, w, w_tap, bias, vlo, vhi, out + P0 * out_pixel_stride,
                    out_pixel_stride);
  if constexpr (P0 + kChunk < NP) {
    ChunksAvx2<NP, P0 + kChunk>(t, w, w_tap, bias, vlo, vhi, out, out_pixel_stride);
  }
}

template <int NP, int NB>
__attribute__((target("avx2,fma"))) void TileKernelAvx2(const Tile& t, const float* bias, float lo,
                                                        float hi, float* out,
                                                        int out_pixel_stride) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  if (t.rows <= 0 || t.taps <= 0) {  // no tap inside the image: the bias
    for (int p = 0; p < NP; ++p)
      for (int h = 0; h < 2 * NB; ++h)
        _mm256_storeu_ps(out + p * out_pixel_stride + 8 * h,
                         _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(bias + 8 * h), vlo), vhi));
    return;
  }
  for (int j = 0; j < NB; ++j) {
    ChunksAvx2<NP>(t, t.w + 16 * j, NB * 16, bias + 16 * j, vlo, vhi, out + 16 * j,
                   out_pixel_stride);
  }
  // Callers are SSE code; GCC omits vzeroupper in ChunkAvx2 (vector parameters) and tail-called
  // it, leaving dirty upper halves: QuickNet's 3x3 stem took 2x its time on Zen 3.
  _mm256_zeroupper();
}

// The AVX2 form of the 8-channel stem kernels: NP pixels of one 8-channel vector each (`w`
// holds each tap's 8 weights twice, as SingleKernel8 reads them), summed in their order (bias,
// filter rows, the taps of a row, one FMA each): the same bits. Do-while loops, entered only with
// taps (as in TileKernelAvx2): as for loops, or behind a branch, GCC stored every accumulator after
// each FMA (QuickNetSmall's stem at 30% of the FMA rate).
template <int NP>
__attribute__((target("avx2,fma"))) void EightAvx2(const Tile& t, const float* bias, float lo,
                                                   float hi, float* out, int out_pixel_stride) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  if (t.rows <= 0 || t.taps <= 0) {  // no tap inside the image: the bias
    const __m256 b = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(bias), vlo), vhi);
    for (int p = 0; p < NP; ++p) _mm256_storeu_ps(out + int64_t{p} * out_pixel_stride, b);
    return;
  }
  __m256 acc[NP];
  for (int p = 0; p < NP; ++p) acc[p] = _mm256_loadu_ps(bias);
  const float* x = t.in;
  const float* wr = t.w;
  const int64_t w_row = static_cast<int64_t>(t.taps_per_row) * 16;
  const int step = t.step;
  int ky = t.rows;
  do {
    const float* xk = x;
    const float* const x_end = x + t.taps;
    const float* wk = wr;
    do {
      const __m256 wv = _mm256_loadu_ps(wk);
      for (int p = 0; p < NP; ++p)
        acc[p] = _mm256_fmadd_ps(wv, _mm256_broadcast_ss(xk + p * step), acc[p]);
      ++xk;
      wk += 16;
    } while (xk != x_end);
    x += t.row_stride;
    wr += w_row;
  } while (--ky != 0);
  for (int p = 0; p < NP; ++p) {
    _mm256_storeu_ps(out + int64_t{p} * out_pixel_stride,
                     _mm256_min_ps(_mm256_max_ps(acc[p], vlo), vhi));
  }
}

using TileFn = void (*)(const Tile&, const float*, float, float, float*, int);

// The AVX-512 tile kernel or its AVX2 form.
template <int NP, int NB>
TileFn TileKernelFor(bool avx512) {
  return avx512 ? TileKernel<NP, NB> : TileKernelAvx2<NP, NB>;
}

// The kernel for n pixels of nb vectors: n is TilePixels(nb) (a full tile) or a remainder tile's
// 4, 2 or 1 (direct_conv::RemainderPixels).
template <int NB>
TileFn PickTileOf(int n, bool avx512) {
  constexpr int kFull = TilePixels(NB);
  return n == 4   ? TileKernelFor<4, NB>(avx512)
         : n == 2 ? TileKernelFor<2, NB>(avx512)
         : n == 1 ? TileKernelFor<1, NB>(avx512)
                  : TileKernelFor<kFull, NB>(avx512);
}
TileFn PickTile(int nb, int n, bool avx512) {
  switch (nb) {
    case 1:
      return PickTileOf<1>(n, avx512);
    case 2:
      return PickTileOf<2>(n, avx512);
    case 3:
      return PickTileOf<3>(n, avx512);
    default:
      return PickTileOf<4>(n, avx512);
  }
}

// The interior tile kernel of a 3x3 stride-2 stem over 3 channels (QuickNet's and MeliusNet22's:
// 16 and 32 channels) on all three filter rows, or null: with the taps as constants the stem ran
// 1.33x (16 channels) and 1.10x (32) faster than on the general kernel, the same sums.
TileFn FixedStemTile(const DirectConvGeometry& g, int rows, int nb, bool avx512) {
  if (!avx512 || g.in_c != 3 || g.k_w != 3 || g.stride_w != 2 || rows != 3) return nullptr;
  if (nb == 1) return TileKernel<TilePixels(1), 1, 6, 9, 3>;
  if (nb == 2) return TileKernel<TilePixels(2), 2, 6, 9, 3>;
  return nullptr;
}

#endif  // XBNN_DIRECT_CONV_X86

}  // namespace

bool DirectConvF32::IsEightChannelStem(const DirectConvGeometry& g) {
  // Up to 16 input channels: MeliusNet22's grouped stem convolutions (8 -> 8, as SPLIT, CONV_2D
  // and CONCATENATION) ran at 9 G MAC/s on XNNPACK, 4x slower than here (Zen 3).
  return g.out_c == 8 && g.in_c <= 16 && g.k_h * g.k_w >= 9;
}

bool DirectConvF32::RunsEightChannelRows(int in_c, int out_c, int k_h, int k_w, int stride_h,
                                         int stride_w, int dil_h, int dil_w) {
  DirectConvGeometry g;
  g.in_c = in_c;
  g.out_c = out_c;
  g.k_h = k_h;
  g.k_w = k_w;
  g.stride_h = stride_h;
  g.stride_w = stride_w;
  return out_c == 8 && Applies(g, 1, dil_h, dil_w);
}

bool DirectConvF32::IsPointwise(const DirectConvGeometry& g) {
  return g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
}

bool DirectConvF32::Applies(const DirectConvGeometry& g, int groups, int dil_h, int dil_w) {
#if defined(XBNN_DIRECT_CONV_X86)
  if (groups != 1 || dil_h != 1 || dil_w != 1) return false;
  if (g.in_c < 1) return false;
  // Stems have small kernels and strides; bounding them keeps the index arithmetic in int and
  // the bf16 variant's padded input copy near the input's size (a hostile model can ask for any).
  if (g.k_h > 16 || g.k_w > 16 || g.stride_h > 16 || g.stride_w > 16) return false;
  const bool stem = g.in_c <= 4 && g.k_h * g.k_w >= 9;
  if (g.out_c == 8) {
    if (!IsEightChannelStem(g)) return false;
  } else if (g.out_c < 16 || g.out_c % 16 != 0 || (!stem && !IsPointwise(g))) {
    return false;
  }
  return direct_conv::CpuHasVectorFma();
#else
  (void)g, (void)groups, (void)dil_h, (void)dil_w;
  return false;
#endif
}

bool direct_conv::CpuHasVectorFma() {
#if defined(XBNN_DIRECT_CONV_X86)
  return __builtin_cpu_supports("avx512f") ||
         (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#else
  return false;
#endif
}

void DirectConvF32::Prepare(const DirectConvGeometry& g, const float* filter_ohwi,
                            const float* bias, float lo, float hi) {
  g_ = g;
  lo_ = lo;
  hi_ = hi;
#if defined(XBNN_DIRECT_CONV_X86)
  avx512_ = __builtin_cpu_supports("avx512f");
#endif
  const int taps = g.k_w * g.in_c;
  const int blocks = (g.out_c + kBlock - 1) / kBlock;
  packed_ = optimized::AlignedBuffer<float>(static_cast<size_t>(g.out_c) * g.k_h * taps);
  float* dst = packed_.data();
  for (int b = 0; b < blocks; ++b) {
    const int bc = BlockChannels(g.out_c, b);
    for (int ky = 0; ky < g.k_h; ++ky)
      for (int k = 0; k < taps; ++k)
        for (int c = 0; c < bc; ++c)
          *dst++ = filter_ohwi[(static_cast<int64_t>(b * kBlock + c) * g.k_h + ky) * taps + k];
  }
  bias_.assign(g.out_c, 0.0f);
  if (bias) std::copy(bias, bias + g.out_c, bias_.begin());
  pointwise_ = IsPointwise(g);
  if (g.out_c == 8) {  // each tap's 8 weights and the 8 biases twice (8-channel kernels)
    optimized::AlignedBuffer<float> twice(static_cast<size_t>(16) * g.k_h * taps);
    for (size_t i = 0; i < packed_.size(); ++i) {
      twice[i / 8 * 16 + i % 8] = twice[i / 8 * 16 + 8 + i % 8] = packed_[i];
    }
    packed_ = std::move(twice);
    bias_.resize(16);
    std::copy(bias_.begin(), bias_.begin() + 8, bias_.begin() + 8);
    if (avx512_) {  // eight_pairs' interleaved weights, then its biases
      pairs_ = optimized::AlignedBuffer<float>(packed_.size() + 16);
      eight_pairs::InterleaveTaps(packed_.data(), static_cast<int64_t>(packed_.size() / 16),
                                  pairs_.data());
      eight_pairs::InterleaveTaps(bias_.data(), 1, pairs_.data() + packed_.size());
    }
  }
}

direct_conv::Region DirectConvF32::ItemRegion(int item) const {
  if (!pointwise_) return direct_conv::RowRegion(g_.out_w, g_.out_c, item);
  const int64_t pixels = static_cast<int64_t>(g_.batch) * g_.out_h * g_.out_w;
  const direct_conv::PointwiseSplit s = direct_conv::SplitPointwise(pixels, g_.out_c);
  return direct_conv::ItemRegion(s, pixels, g_.out_c, item);
}

int DirectConvF32::rows() const {
  if (!pointwise_) return g_.batch * g_.out_h;
  return direct_conv::SplitPointwise(static_cast<int64_t>(g_.batch) * g_.out_h * g_.out_w, g_.out_c)
      .items();
}

// A 1x1 convolution is a matrix product over all pixels of the batch: an item is a chunk of
// pixels times a block of output channels, a run of full tiles (every tap is an input channel)
// and remainder tiles at its end.
void DirectConvF32::RunPointwise(const float* in, float* out, int item_begin, int item_end) const {
#if defined(XBNN_DIRECT_CONV_X86)
  const DirectConvGeometry& g = g_;
  const int64_t pixels = static_cast<int64_t>(g.batch) * g.out_h * g.out_w;
  const direct_conv::PointwiseSplit split = direct_conv::SplitPointwise(pixels, g.out_c);
  Tile t;
  t.row_stride = 0;
  t.step = g.in_c;
  t.rows = 1;
  t.taps = g.in_c;
  t.taps_per_row = g.in_c;
  for (int item = item_begin; item < item_end; ++item) {
    direct_conv::ForPointwiseItem(split, pixels, g.out_c, item, [&](int blk, int64_t p, int n) {
      const int nb = BlockChannels(g.out_c, blk) / 16;
      t.w = packed_.data() + static_cast<int64_t>(blk) * kBlock * g.in_c;  // earlier blocks full
      t.in = in + p * g.in_c;
      PickTile(nb, n, avx512_)(t, bias_.data() + blk * kBlock, lo_, hi_,
                               out + p * g.out_c + blk * kBlock, g.out_c);
    });
  }
#else
  (void)in, (void)out, (void)item_begin, (void)item_end;
#endif
}

// One output row of an 8-channel stem: on AVX-512 pairs of pixels inside the image from the pair
// rows (eight_pairs), single pixels at the edges and at the end; else (or rows too wide for the
// pair rows) one pixel per AVX2 vector.
void DirectConvF32::RowEight(const void* tile, const float* in_row, float* out_row, int ky_lo,
                             int x_lo, int x_hi, int out_pixel_stride,
                             eight_pairs::PairRows* rows) const {
#if defined(XBNN_DIRECT_CONV_X86)
  const DirectConvGeometry& g = g_;
  const Tile& t = *static_cast<const Tile*>(tile);
  const int taps = g.k_w * g.in_c;
  const float* w_rows = packed_.data() + static_cast<int64_t>(ky_lo) * taps * 16;
  auto run = [&](auto kernel, int ox) {
    kernel(ColumnTile(g, t, in_row, w_rows, 16, ox), bias_.data(), lo_, hi_,
           out_row + static_cast<int64_t>(ox) * out_pixel_stride, out_pixel_stride);
  };
  if (!avx512_ || rows == nullptr || t.rows <= 0) {  // (AVX-512 CPUs run AVX2 code too)
    for (int ox = 0; ox < x_lo; ++ox) run(EightAvx2<1>, ox);
    int ox = x_lo;
    // 10 pixels per call: with 12 GCC spilled accumulators (0.75x on QuickNetSmall's stem).
    for (; ox + 10 <= x_hi; ox += 10) run(EightAvx2<10>, ox);
    for (; ox + 4 <= x_hi; ox += 4) run(EightAvx2<4>, ox);
    for (; ox < g.out_w; ++ox) run(EightAvx2<1>, ox);
    return;
  }
  for (int ox = 0; ox < x_lo; ++ox) run(SingleKernel8, ox);
  const float* visited[16];  // k_h <= 16 (Applies)
  for (int r = 0; r < t.rows; ++r) visited[r] = rows->Get(in_row + r * t.row_stride);
  const eight_pairs::PairTile pt{visited,
                                 t.rows,
                                 int64_t{x_lo * g.stride_w - g.pad_left} * g.in_c,
                                 2 * t.step,
                                 taps,
                                 pairs_.data() + int64_t{ky_lo} * taps * 16,
                                 pairs_.data() + packed_.size(),
                                 lo_,
                                 hi_};
  const int pairs = (x_hi - x_lo) / 2;
  eight_pairs::RunPairs(pt, pairs, out_row + int64_t{x_lo} * out_pixel_stride, out_pixel_stride);
  for (int ox = x_lo + 2 * pairs; ox < g.out_w; ++ox) run(SingleKernel8, ox);
#else
  (void)tile, (void)in_row, (void)out_row, (void)ky_lo, (void)x_lo, (void)x_hi,
      (void)out_pixel_stride, (void)rows;
#endif
}

void DirectConvF32::RunRows(const float* in, float* out, int row_begin, int row_end) const {
  if (pointwise_) {
    RunPointwise(in, out, row_begin, row_end);
    return;
  }
  RunRowsAt(in, 0, out, g_.out_c, row_begin, row_end);
}

void DirectConvF32::RunRowsAt(const float* in, int64_t in_first_row, float* out,
                              int out_pixel_stride, int row_begin, int row_end) const {
#if defined(XBNN_DIRECT_CONV_X86)
  const DirectConvGeometry& g = g_;
  const int taps = g.k_w * g.in_c;
  const int blocks = (g.out_c + kBlock - 1) / kBlock;
  // Output columns whose window lies inside the image: [x_lo, x_hi).
  const int x_lo = std::min(g.out_w, (g.pad_left + g.stride_w - 1) / g.stride_w);
  const int last =
      g.in_w - g.k_w + g.pad_left;  // the last window start inside, from the padded left
  const int x_hi = last < 0 ? x_lo : std::max(x_lo, std::min(g.out_w, last / g.stride_w + 1));
  const int64_t row_stride = static_cast<int64_t>(g.in_w) * g.in_c;
  const int ops = out_pixel_stride;
  const int64_t out_row_floats = static_cast<int64_t>(g.out_w) * ops;
  // Output rows stride_h input rows apart whose windows visit the same filter rows read the same
  // taps of each input row: the columns outside the full tiles of up to kRowGroup such rows run
  // as one tile whose pixels are the rows (offsets in int, hence the bound).
  const int64_t row_step = g.stride_h * row_stride;
  const int max_group = std::max(row_step, out_row_floats) * direct_conv::kRowGroup < (1 << 30)
                            ? direct_conv::kRowGroup
                            : 1;
  // 64 KB on the stack, not cleared (a std::optional of it was zeroed on every call).
  const bool pairs =
      g.out_c == 8 && pairs_.size() != 0 && eight_pairs::PairRows::Fits(row_stride, g.k_h);
  eight_pairs::PairRows pair_rows(pairs ? static_cast<int>(row_stride) : 1, g.stride_w * g.in_c,
                                  pairs ? g.k_h : 1);
  auto filter_rows = [&](int oy, int* ky_lo, int* ky_hi) {
    const int iy0 = oy * g.stride_h - g.pad_top;
    *ky_lo = std::max(0, -iy0);
    *ky_hi = std::min(g.k_h, g.in_h - iy0);
    return iy0;
  };
  for (int row = row_begin, n = 1; row < row_end; row += n) {
    const int b = row / g.out_h, oy = row % g.out_h;
    int ky_lo = 0, ky_hi = 0;
    const int iy0 = filter_rows(oy, &ky_lo, &ky_hi);
    Tile t;
    t.row_stride = row_stride;
    t.step = g.stride_w * g.in_c;
    t.rows = std::max(0, ky_hi - ky_lo);
    t.taps_per_row = taps;
    // The first input row read (iy0 itself may lie above the image).
    const float* in_row =
        in + (static_cast<int64_t>(b) * g.in_h + iy0 + ky_lo - in_first_row) * row_stride;
    float* out_row = out + static_cast<int64_t>(row) * out_row_floats;
    n = 1;
    if (g.out_c == 8) {
      RowEight(&t, in_row, out_row, ky_lo, x_lo, x_hi, ops, pairs ? &pair_rows : nullptr);
      continue;
    }
    for (int lo = 0, hi = 0; n < max_group && row + n < row_end && oy + n < g.out_h; ++n) {
      filter_rows(oy + n, &lo, &hi);
      if (lo != ky_lo || hi != ky_hi) break;
    }
    const float* w = packed_.data();
    for (int blk = 0; blk < blocks; ++blk) {
      const int bc = BlockChannels(g.out_c, blk), nb = bc / 16;
      const int np = TilePixels(nb);
      const TileFn fixed = FixedStemTile(g, t.rows, nb, avx512_);
      const TileFn full = fixed != nullptr ? fixed : PickTile(nb, np, avx512_);
      const float* bias = bias_.data() + blk * kBlock;
      float* o = out_row + blk * kBlock;
      const float* w_rows = w + static_cast<int64_t>(ky_lo) * taps * bc;
      const int x_full = x_lo + (x_hi - x_lo) / np * np;
      for (int q = 0; q < n; ++q) {
        for (int ox = x_lo; ox < x_full; ox += np) {
          full(ColumnTile(g, t, in_row + q * row_step, w_rows, bc, ox), bias, lo_, hi_,
               o + q * out_row_floats + static_cast<int64_t>(ox) * ops, ops);
        }
      }
      auto column = [&](int ox) {  // column ox of the n rows
        for (int q = 0, m = 0; q < n; q += m) {
          m = direct_conv::RemainderPixels(n - q);
          Tile c = ColumnTile(g, t, in_row + q * row_step, w_rows, bc, ox);
          c.step = static_cast<int>(row_step);
          PickTile(nb, m, avx512_)(c, bias, lo_, hi_,
                                   o + q * out_row_floats + static_cast<int64_t>(ox) * ops,
                                   static_cast<int>(out_row_floats));
        }
      };
      for (int ox = 0; ox < x_lo; ++ox) column(ox);
      for (int ox = x_full; ox < g.out_w; ++ox) column(ox);
      w += static_cast<int64_t>(bc) * g.k_h * taps;
    }
  }
#else
  (void)in, (void)in_first_row, (void)out, (void)out_pixel_stride, (void)row_begin, (void)row_end;
#endif
}

}  // namespace xbnn::kernels::builtin
