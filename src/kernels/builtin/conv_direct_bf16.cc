#include "kernels/builtin/conv_direct_bf16.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define XBNN_DIRECT_BF16_X86 1
#endif

#include "kernels/binary/optimized/bconv_amx.h"
#include "kernels/builtin/clamp_avx512.h"

namespace xbnn::kernels::builtin {
namespace {

using direct_conv::BlockChannels;
using direct_conv::kBlock;
using direct_conv::TilePixels;

// The AMX tiles' shape (16 rows of 64 bytes) and their work items.
constexpr int kTileRows = 16;
constexpr int kTileTaps = 32;        // taps per chunk: one 64-byte tile row of bfloat16
constexpr int kTileItemPixels = 64;  // pixels per work item of a 1x1 convolution

#if defined(XBNN_DIRECT_BF16_X86)

int EvenChannels(int c) { return c + (c & 1); }

#define XBNN_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// Where one tile of NP output pixels reads in the bfloat16 copy: `rows` filter rows of `pairs`
// tap pairs each; pixel p's first pair is at in + p * step.
struct Tile {
  const uint16_t* in;
  const uint16_t* w;   // [rows][pairs][NB * 16][2]
  int64_t row_stride;  // elements from one input row to the next
  int step;            // elements from one pixel's window to the next
  int rows, pairs;
};

// Per pixel: the bias, then filter rows, then tap pairs. As in the float32 kernel
// (conv_direct.cc), the accumulators start from loads of the bias and the loops run at least once
// (a tile without taps returns early), so that GCC keeps no stack copy of them.
template <int NP, int NB>
XBNN_BF16_TARGET void TileKernel(const Tile& t, const float* bias, float lo, float hi, float* out,
                                 int out_pixel_stride) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  if (t.rows <= 0 || t.pairs <= 0) {  // no tap: the bias
    for (int p = 0; p < NP; ++p)
      for (int j = 0; j < NB; ++j)
        _mm512_storeu_ps(out + p * out_pixel_stride + 16 * j,
                         ClampPs(_mm512_loadu_ps(bias + 16 * j), vlo, vhi));
    return;
  }
  __m512 acc[NP][NB];
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < NB; ++j) acc[p][j] = _mm512_loadu_ps(bias + 16 * j);
  const uint16_t* x = t.in;
  const uint16_t* wr = t.w;
  int ky = t.rows;
  do {
    const uint16_t* wk = wr;
    for (int k = 0, e = t.pairs; k < e; ++k) {
      __m512bh wv[NB];
      for (int j = 0; j < NB; ++j) wv[j] = (__m512bh)_mm512_loadu_si512(wk + j * 32);
      for (int p = 0; p < NP; ++p) {
        int32_t pair;
        std::memcpy(&pair, x + p * t.step + 2 * k, 4);
        const __m512bh xv = (__m512bh)_mm512_set1_epi32(pair);
        for (int j = 0; j < NB; ++j) acc[p][j] = _mm512_dpbf16_ps(acc[p][j], wv[j], xv);
      }
      wk += NB * 32;
    }
    x += t.row_stride;
    wr += static_cast<int64_t>(t.pairs) * NB * 32;
  } while (--ky != 0);
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < NB; ++j)
      _mm512_storeu_ps(out + p * out_pixel_stride + 16 * j, ClampPs(acc[p][j], vlo, vhi));
}

using TileFn = void (*)(const Tile&, const float*, float, float, float*, int);

TileFn PickTile(int nb, bool single) {
  switch (nb) {
    case 1:
      return single ? TileKernel<1, 1> : TileKernel<12, 1>;
    case 2:
      return single ? TileKernel<1, 2> : TileKernel<8, 2>;
    case 3:
      return single ? TileKernel<1, 3> : TileKernel<7, 3>;
    default:
      return single ? TileKernel<1, 4> : TileKernel<6, 4>;
  }
}

// Lanes of 16 bfloat16 values that are inf or NaN (all exponent bits set).
XBNN_BF16_TARGET inline __mmask16 NonFinite(__m256i h) {
  const __m256i e = _mm256_set1_epi16(0x7F80);
  return _mm256_cmpeq_epi16_mask(_mm256_and_si256(h, e), e);
}

// float32 -> bfloat16, round to nearest even, as vcvtneps2bf16 (which also flushes denormals).
// Returns whether every value was finite.
XBNN_BF16_TARGET bool ConvertContiguous(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  __mmask16 bad = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    bad |= NonFinite(h);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), h);
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
    bad |= NonFinite(h);
    _mm256_mask_storeu_epi16(dst + i, m, h);
  }
  return bad == 0;
}

// `pixels` pixels of in_c floats -> pixels of c2 = in_c + 1 bfloat16 values (the last one zero):
// 32 / c2 pixels per step, spread out by one 16-bit permute. c2 <= 32.
XBNN_BF16_TARGET bool ConvertOddChannels(const float* src, uint16_t* dst, int64_t pixels, int in_c,
                                         int c2) {
  const int group = 32 / c2;
  alignas(64) uint16_t idx[32];
  __mmask32 keep = 0;
  for (int l = 0; l < 32; ++l) {
    const int p = l / c2, c = l % c2;
    idx[l] = static_cast<uint16_t>(p < group && c < in_c ? p * in_c + c : 0);
    if (p < group && c < in_c) keep |= __mmask32{1} << l;
  }
  const __m512i vidx = _mm512_load_si512(idx);
  const __m512i exponent = _mm512_set1_epi16(0x7F80);
  __mmask32 bad = 0;
  for (int64_t p = 0; p < pixels; p += group) {
    const int n = static_cast<int>(std::min<int64_t>(group, pixels - p));
    const int nf = n * in_c;  // <= 32 floats
    const __mmask16 m0 = static_cast<__mmask16>(nf >= 16 ? 0xFFFF : (1u << nf) - 1);
    const __mmask16 m1 = static_cast<__mmask16>(nf <= 16   ? 0
                                                : nf >= 32 ? 0xFFFF
                                                           : (1u << (nf - 16)) - 1);
    const __m512 a = _mm512_maskz_loadu_ps(m0, src + p * in_c);
    const __m512 b = _mm512_maskz_loadu_ps(m1, src + p * in_c + 16);
    const __m512i h = (__m512i)_mm512_cvtne2ps_pbh(b, a);  // a in the low 16 lanes
    const __m512i r = _mm512_maskz_permutexvar_epi16(keep, vidx, h);
    bad |= _mm512_cmpeq_epi16_mask(_mm512_and_si512(r, exponent), exponent);
    const int lanes = n * c2;
    const __mmask32 store = lanes >= 32 ? ~__mmask32{0} : (__mmask32{1} << lanes) - 1;
    _mm512_mask_storeu_epi16(dst + p * c2, store, r);
  }
  return bad == 0;
}

// Returns whether every value was finite.
XBNN_BF16_TARGET bool ConvertPixels(const float* src, uint16_t* dst, int64_t pixels, int in_c,
                                    int c2) {
  if (in_c == c2) return ConvertContiguous(src, dst, pixels * in_c);
  if (c2 <= 32) return ConvertOddChannels(src, dst, pixels, in_c, c2);
  bool finite = true;
  for (int64_t p = 0; p < pixels; ++p) {
    finite &= ConvertContiguous(src + p * in_c, dst + p * c2, in_c);
    dst[p * c2 + in_c] = 0;
  }
  return finite;
}

// AMX. Tiles 0-3: accumulators of 16 pixels x 16 channels each (float32); tile 4: 16 pixels x 32
// taps of input; tiles 5-7: 16 tap pairs x 16 channels x 2 of weights. Every tile is 16 rows of
// 64 bytes.
#define XBNN_TILE_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))

XBNN_TILE_TARGET void ReleaseTiles() { _tile_release(); }

// One tile job: 16 output pixels x NB * 16 channels.
struct TileJob {
  const uint16_t* in;   // the first pixel's window, filter row 0
  int64_t pixel_bytes;  // tile row stride: from one pixel's window to the next
  int64_t row_stride;   // elements from one filter row's input to the next
  int rows, chunks;     // filter rows; 32-tap chunks per filter row
  const uint16_t* w;    // [rows][chunks][16 pairs][NB * 16][2]
};

template <int NB>
XBNN_TILE_TARGET void TileBlock(const TileJob& t, float* acc) {
  _tile_zero(0);
  if constexpr (NB > 1) _tile_zero(1);
  if constexpr (NB > 2) _tile_zero(2);
  if constexpr (NB > 3) _tile_zero(3);
  constexpr int64_t kWeightBytes = NB * 64;  // from one tap pair to the next
  const uint16_t* w = t.w;
  for (int ky = 0; ky < t.rows; ++ky) {
    for (int c = 0; c < t.chunks; ++c, w += kTileRows * NB * 32) {
      _tile_loadd(4, t.in + ky * t.row_stride + c * kTileTaps, t.pixel_bytes);
      _tile_loadd(5, w, kWeightBytes);
      _tile_dpbf16ps(0, 4, 5);
      if constexpr (NB > 1) {
        _tile_loadd(6, w + 32, kWeightBytes);
        _tile_dpbf16ps(1, 4, 6);
      }
      if constexpr (NB > 2) {
        _tile_loadd(7, w + 64, kWeightBytes);
        _tile_dpbf16ps(2, 4, 7);
      }
      if constexpr (NB > 3) {
        _tile_loadd(5, w + 96, kWeightBytes);
        _tile_dpbf16ps(3, 4, 5);
      }
    }
  }
  _tile_stored(0, acc, 64);
  if constexpr (NB > 1) _tile_stored(1, acc + 256, 64);
  if constexpr (NB > 2) _tile_stored(2, acc + 512, 64);
  if constexpr (NB > 3) _tile_stored(3, acc + 768, 64);
}

// The first `pixels` rows of the accumulator tiles plus the bias, clamped, to NHWC output.
XBNN_TILE_TARGET void StoreTile(const float* acc, const float* bias, int nb, int pixels, float lo,
                                float hi, float* out, int out_c) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  for (int p = 0; p < pixels; ++p)
    for (int j = 0; j < nb; ++j) {
      const __m512 v =
          _mm512_add_ps(_mm512_load_ps(acc + j * 256 + p * 16), _mm512_loadu_ps(bias + 16 * j));
      _mm512_storeu_ps(out + static_cast<int64_t>(p) * out_c + 16 * j, ClampPs(v, vlo, vhi));
    }
}

// 16 pixels x nb * 16 channels through the tiles; the first `pixels` of them go to `out`.
// (Storing one job's output while the tile unit computed the next measured no faster.)
void RunTileJob(int nb, const TileJob& t, const float* bias, int pixels, float lo, float hi,
                float* out, int out_c) {
  alignas(64) float acc[4 * 256];
  switch (nb) {
    case 1:
      TileBlock<1>(t, acc);
      break;
    case 2:
      TileBlock<2>(t, acc);
      break;
    case 3:
      TileBlock<3>(t, acc);
      break;
    default:
      TileBlock<4>(t, acc);
  }
  StoreTile(acc, bias, nb, pixels, lo, hi, out, out_c);
}

#endif  // XBNN_DIRECT_BF16_X86

}  // namespace

bool DirectConvBf16::Applies(const DirectConvGeometry& g, int groups, int dil_h, int dil_w) {
#if defined(XBNN_DIRECT_BF16_X86)
  // Multiples of 16 channels only (the 8-channel stem kernel is float32 only).
  return g.out_c % 16 == 0 && DirectConvF32::Applies(g, groups, dil_h, dil_w) &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bf16");
#else
  (void)g, (void)groups, (void)dil_h, (void)dil_w;
  return false;
#endif
}

void DirectConvBf16::Prepare(const DirectConvGeometry& g, const float* filter_ohwi,
                             const float* bias, float lo, float hi, bool allow_tiles) {
#if defined(XBNN_DIRECT_BF16_X86)
  g_ = g;
  lo_ = lo;
  hi_ = hi;
  pointwise_ = g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
               g.pad_left == 0;
  const int c2 = EvenChannels(g.in_c);
  pair_taps_ = g.k_w * c2;
  // The padded copy holds every window whole: the image at (pad_top, pad_left), zeros around.
  padded_h_ = std::max(g.pad_top + g.in_h, (g.out_h - 1) * g.stride_h + g.k_h);
  padded_w_ = std::max(g.pad_left + g.in_w, (g.out_w - 1) * g.stride_w + g.k_w);
  if (pointwise_) padded_h_ = g.in_h, padded_w_ = g.in_w;
  padded_row_ = static_cast<int64_t>(padded_w_) * c2;
  const bool tiles = allow_tiles && optimized::AmxUsable(optimized::kAmxBf16);
  tile_chunks_ = tiles ? (pair_taps_ + kTileTaps - 1) / kTileTaps : 0;
  // With tiles, slack after the copy: a tile reads 16 pixels' windows in whole chunks, past the
  // copy's last pixel.
  const int step = pointwise_ ? c2 : g.stride_w * c2;
  const size_t slack = tiles ? static_cast<size_t>(kTileRows) * step + tile_chunks_ * kTileTaps : 0;
  input_ = optimized::AlignedBuffer<uint16_t>(
      static_cast<size_t>(g.batch) * padded_h_ * padded_row_ + slack);

  // Weights in the tap order of the copy (channel c2 - 1 of an odd in_c is a zero tap), rounded
  // to bfloat16 by the same instruction as the inputs.
  std::vector<float> taps(static_cast<size_t>(g.out_c) * g.k_h * pair_taps_, 0.0f);
  for (int o = 0; o < g.out_c; ++o)
    for (int ky = 0; ky < g.k_h; ++ky)
      for (int kx = 0; kx < g.k_w; ++kx)
        for (int c = 0; c < g.in_c; ++c)
          taps[(static_cast<size_t>(o) * g.k_h + ky) * pair_taps_ + kx * c2 + c] =
              filter_ohwi[((static_cast<int64_t>(o) * g.k_h + ky) * g.k_w + kx) * g.in_c + c];
  std::vector<uint16_t> rounded(taps.size());
  ConvertContiguous(taps.data(), rounded.data(), static_cast<int64_t>(taps.size()));
  packed_ = optimized::AlignedBuffer<uint16_t>(rounded.size());
  uint16_t* dst = packed_.data();
  const int blocks = (g.out_c + kBlock - 1) / kBlock;
  for (int b = 0; b < blocks; ++b) {
    const int bc = BlockChannels(g.out_c, b);
    for (int ky = 0; ky < g.k_h; ++ky)
      for (int k = 0; k < pair_taps_; k += 2)
        for (int c = 0; c < bc; ++c) {
          const size_t at = (static_cast<size_t>(b * kBlock + c) * g.k_h + ky) * pair_taps_ + k;
          *dst++ = rounded[at];
          *dst++ = rounded[at + 1];
        }
  }
  bias_.assign(g.out_c, 0.0f);
  if (bias) std::copy(bias, bias + g.out_c, bias_.begin());
  tile_packed_ = optimized::AlignedBuffer<uint16_t>();
  if (tiles) PrepareTiles(rounded);
#else
  (void)g, (void)filter_ohwi, (void)bias, (void)lo, (void)hi, (void)allow_tiles;
#endif
}

void DirectConvBf16::PrepareTiles(const std::vector<uint16_t>& rounded) {
#if defined(XBNN_DIRECT_BF16_X86)
  const DirectConvGeometry& g = g_;
  const int blocks = (g.out_c + kBlock - 1) / kBlock;
  tile_packed_ = optimized::AlignedBuffer<uint16_t>(static_cast<size_t>(g.out_c) * g.k_h *
                                                    tile_chunks_ * kTileTaps);
  uint16_t* dst = tile_packed_.data();
  for (int b = 0; b < blocks; ++b) {
    const int bc = BlockChannels(g.out_c, b);
    for (int ky = 0; ky < g.k_h; ++ky)
      for (int k = 0; k < tile_chunks_ * kTileTaps; k += 2)
        for (int c = 0; c < bc; ++c, dst += 2) {
          if (k >= pair_taps_) continue;  // zero (the buffer's start) past the window's last tap
          const size_t at = (static_cast<size_t>(b * kBlock + c) * g.k_h + ky) * pair_taps_ + k;
          dst[0] = rounded[at];
          dst[1] = rounded[at + 1];
        }
  }
#endif
}

size_t DirectConvBf16::bytes() const {
  return (packed_.size() + input_.size() + tile_packed_.size()) * sizeof(uint16_t) +
         bias_.size() * sizeof(float);
}

int DirectConvBf16::rows() const {
  if (!pointwise_) return g_.batch * g_.out_h;
  const int64_t pixels = static_cast<int64_t>(g_.batch) * g_.out_h * g_.out_w;
  if (TilesNow()) {
    return static_cast<int>((pixels + kTileItemPixels - 1) / kTileItemPixels) *
           ((g_.out_c + kBlock - 1) / kBlock);
  }
  return direct_conv::SplitPointwise(pixels, g_.out_c).items();
}

direct_conv::Region DirectConvBf16::ItemRegion(int item) const {
  if (!pointwise_) return direct_conv::RowRegion(g_.out_w, g_.out_c, item);
  const int64_t pixels = static_cast<int64_t>(g_.batch) * g_.out_h * g_.out_w;
  if (TilesNow()) {
    return direct_conv::ItemRegion(kTileItemPixels, (g_.out_c + kBlock - 1) / kBlock, pixels,
                                   g_.out_c, item);
  }
  const direct_conv::PointwiseSplit s = direct_conv::SplitPointwise(pixels, g_.out_c);
  return direct_conv::ItemRegion(s, pixels, g_.out_c, item);
}

void DirectConvBf16::ConvertInput(const float* in) {
#if defined(XBNN_DIRECT_BF16_X86)
  const int c2 = EvenChannels(g_.in_c);
  if (pointwise_) {
    finite_input_ = ConvertPixels(in, input_.data(),
                                  static_cast<int64_t>(g_.batch) * g_.in_h * g_.in_w, g_.in_c, c2);
    return;
  }
  bool finite = true;
  for (int b = 0; b < g_.batch; ++b)
    for (int y = 0; y < g_.in_h; ++y) {
      const float* src = in + ((static_cast<int64_t>(b) * g_.in_h + y) * g_.in_w) * g_.in_c;
      uint16_t* dst = input_.data() +
                      (static_cast<int64_t>(b) * padded_h_ + y + g_.pad_top) * padded_row_ +
                      static_cast<int64_t>(g_.pad_left) * c2;
      finite &= ConvertPixels(src, dst, g_.in_w, g_.in_c, c2);
    }
  finite_input_ = finite;
#else
  (void)in;
#endif
}

void DirectConvBf16::RunPointwise(float* out, int begin, int end) const {
#if defined(XBNN_DIRECT_BF16_X86)
  const DirectConvGeometry& g = g_;
  const int64_t pixels = static_cast<int64_t>(g.batch) * g.out_h * g.out_w;
  const direct_conv::PointwiseSplit split = direct_conv::SplitPointwise(pixels, g.out_c);
  Tile t;
  t.row_stride = 0;
  t.step = pair_taps_;
  t.rows = 1;
  t.pairs = pair_taps_ / 2;
  for (int item = begin; item < end; ++item) {
    direct_conv::ForPointwiseItem(split, pixels, g.out_c, item, [&](int blk, int64_t p, int n) {
      const int nb = BlockChannels(g.out_c, blk) / 16;
      t.w = packed_.data() + static_cast<int64_t>(blk) * kBlock * pair_taps_;  // earlier full
      const bool full = n == TilePixels(nb);
      for (int64_t q = p; q < p + (full ? 1 : n); ++q) {  // a full tile, or n single pixels
        t.in = input_.data() + q * pair_taps_;
        PickTile(nb, !full)(t, bias_.data() + blk * kBlock, lo_, hi_,
                            out + q * g.out_c + blk * kBlock, g.out_c);
      }
    });
  }
#else
  (void)out, (void)begin, (void)end;
#endif
}

void DirectConvBf16::RunTiles(float* out, int begin, int end) const {
#if defined(XBNN_DIRECT_BF16_X86)
  const DirectConvGeometry& g = g_;
  const int c2 = EvenChannels(g.in_c);
  const int blocks = (g.out_c + kBlock - 1) / kBlock;
  // Weights per filter row and channel of a block.
  const int64_t tap_elems = static_cast<int64_t>(g.k_h) * tile_chunks_ * kTileTaps;
  optimized::LoadAmxTileConfig();
  TileJob t;
  t.chunks = tile_chunks_;
  if (pointwise_) {
    const int64_t pixels = static_cast<int64_t>(g.batch) * g.out_h * g.out_w;
    t.pixel_bytes = static_cast<int64_t>(c2) * 2;
    t.row_stride = 0;
    t.rows = 1;
    for (int item = begin; item < end; ++item) {
      const direct_conv::Region r =
          direct_conv::ItemRegion(kTileItemPixels, blocks, pixels, g.out_c, item);
      const int blk = r.c0 / kBlock, nb = r.channels / 16;
      const int64_t p0 = r.p0, p1 = r.p1;
      t.w = tile_packed_.data() + blk * kBlock * tap_elems;
      for (int64_t p = p0; p < p1; p += kTileRows) {
        t.in = input_.data() + p * c2;
        RunTileJob(nb, t, bias_.data() + blk * kBlock,
                   static_cast<int>(std::min<int64_t>(kTileRows, p1 - p)), lo_, hi_,
                   out + p * g.out_c + blk * kBlock, g.out_c);
      }
    }
  } else {
    const int step = g.stride_w * c2;
    t.pixel_bytes = static_cast<int64_t>(step) * 2;
    t.row_stride = padded_row_;
    t.rows = g.k_h;
    for (int row = begin; row < end; ++row) {
      const int b = row / g.out_h, oy = row % g.out_h;
      const uint16_t* in_row =
          input_.data() + (static_cast<int64_t>(b) * padded_h_ + oy * g.stride_h) * padded_row_;
      float* out_row = out + static_cast<int64_t>(row) * g.out_w * g.out_c;
      for (int blk = 0; blk < blocks; ++blk) {
        const int nb = BlockChannels(g.out_c, blk) / 16;
        t.w = tile_packed_.data() + blk * kBlock * tap_elems;
        for (int ox = 0; ox < g.out_w; ox += kTileRows) {
          t.in = in_row + static_cast<int64_t>(ox) * step;
          RunTileJob(nb, t, bias_.data() + blk * kBlock, std::min(kTileRows, g.out_w - ox), lo_,
                     hi_, out_row + static_cast<int64_t>(ox) * g.out_c + blk * kBlock, g.out_c);
        }
      }
    }
  }
  ReleaseTiles();
#else
  (void)out, (void)begin, (void)end;
#endif
}

void DirectConvBf16::RunRows(float* out, int begin, int end) const {
  if (TilesNow()) {
    RunTiles(out, begin, end);
    return;
  }
  if (pointwise_) {
    RunPointwise(out, begin, end);
    return;
  }
#if defined(XBNN_DIRECT_BF16_X86)
  const DirectConvGeometry& g = g_;
  const int c2 = EvenChannels(g.in_c);
  const int blocks = (g.out_c + kBlock - 1) / kBlock;
  Tile t;
  t.row_stride = padded_row_;
  t.step = g.stride_w * c2;
  t.rows = g.k_h;
  t.pairs = pair_taps_ / 2;
  for (int row = begin; row < end; ++row) {
    const int b = row / g.out_h, oy = row % g.out_h;
    const uint16_t* in_row =
        input_.data() + (static_cast<int64_t>(b) * padded_h_ + oy * g.stride_h) * padded_row_;
    float* out_row = out + static_cast<int64_t>(row) * g.out_w * g.out_c;
    const uint16_t* w = packed_.data();
    for (int blk = 0; blk < blocks; ++blk) {
      const int bc = BlockChannels(g.out_c, blk);
      const int np = TilePixels(bc / 16);
      const TileFn full = PickTile(bc / 16, false), one = PickTile(bc / 16, true);
      const float* bias = bias_.data() + blk * kBlock;
      float* o = out_row + blk * kBlock;
      t.w = w;
      int ox = 0;
      for (; ox + np <= g.out_w; ox += np) {
        t.in = in_row + static_cast<int64_t>(ox) * t.step;
        full(t, bias, lo_, hi_, o + static_cast<int64_t>(ox) * g.out_c, g.out_c);
      }
      for (; ox < g.out_w; ++ox) {
        t.in = in_row + static_cast<int64_t>(ox) * t.step;
        one(t, bias, lo_, hi_, o + static_cast<int64_t>(ox) * g.out_c, g.out_c);
      }
      w += static_cast<int64_t>(bc) * g.k_h * pair_taps_;
    }
  }
#else
  (void)out, (void)begin, (void)end;
#endif
}

}  // namespace xbnn::kernels::builtin
