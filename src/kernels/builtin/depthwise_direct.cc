#include "kernels/builtin/depthwise_direct.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#define XBNN_DEPTHWISE_X86 1
#endif

namespace xbnn::kernels::builtin {
namespace {

constexpr int kTaps = 9;
constexpr int kBlockFloats = (kTaps + 1) * 16;  // 9 tap vectors and the bias

#if defined(XBNN_DEPTHWISE_X86)

// The 3x3 window's input: per filter row its input row (nullptr outside the image) at column 0
// of the block's channels.
struct Window {
  const float* row[3];
  int64_t c;     // floats per pixel
  int64_t step;  // floats from one output pixel's window to the next (stride_w * c)
  int in_w, pad_left, stride_w;
  // Filter row ky's input at the window of output column ox (inside the image).
  const float* At(int ky, int ox) const {
    return row[ky] + (int64_t{ox} * stride_w - pad_left) * c;
  }
};

template <bool Full>
__attribute__((target("avx512f"), always_inline)) inline __m512 Load(const float* p, __mmask16 m) {
  return Full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}

// acc + x * w, rounded twice as TFLite's kernel computes it (this file is built without
// multiply-add contraction).
__attribute__((target("avx512f"), always_inline)) inline __m512 MulAdd(__m512 acc, __m512 x,
                                                                       __m512 w) {
  return _mm512_add_ps(acc, _mm512_mul_ps(x, w));
}

template <bool Full>
__attribute__((target("avx512f"), always_inline)) inline void Store(float* p, __mmask16 m,
                                                                    __m512 acc, __m512 lo,
                                                                    __m512 hi) {
  // TFLite's std::max(lo, std::min(hi, acc)): vminps(acc, hi) then vmaxps(., lo), which turn a
  // NaN into lo. (The masked forms with a full mask: GCC 12 warns that the unmasked ones read an
  // uninitialized value.)
  const __m512 v = _mm512_mask_max_ps(acc, 0xFFFF, _mm512_mask_min_ps(acc, 0xFFFF, acc, hi), lo);
  if (Full) {
    _mm512_storeu_ps(p, v);
  } else {
    _mm512_mask_storeu_ps(p, m, v);
  }
}

// Four neighbouring output pixels of one 16-channel block whose windows lie inside the image
// (rows r0-r2 at the first pixel's window, `step` floats from one window to the next): 4 chains of
// multiplies and adds in flight, in Interior's order.
template <bool Full>
__attribute__((target("avx512f"), always_inline)) inline void FourPixels(
    const float* r0, const float* r1, const float* r2, int64_t step, int64_t c,
    const __m512 (&w)[kTaps], __m512 bias, __m512 lo, __m512 hi, __mmask16 m, float* o) {
  __m512 acc[4] = {bias, bias, bias, bias};
  const float* rows[3] = {r0, r1, r2};
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx)
      for (int p = 0; p < 4; ++p)
        acc[p] = MulAdd(acc[p], Load<Full>(rows[ky] + p * step + kx * c, m), w[ky * 3 + kx]);
  for (int p = 0; p < 4; ++p) Store<Full>(o + p * c, m, acc[p], lo, hi);
}

// Output columns [x0, x1) of one 16-channel block whose windows lie inside the image, 4 pixels at
// a time (4 chains in flight). TFLite's order: bias, then the taps row by row (ky, then kx), each
// product rounded and then added. `Full`: all 16 channels of the block
// exist (plain loads and stores; GCC reloads a mask register from the stack before every masked
// load).
template <bool Full>
__attribute__((target("avx512f"), always_inline)) inline void Interior(const Window& win,
                                                                       const __m512 (&w)[kTaps],
                                                                       __m512 bias, __m512 lo,
                                                                       __m512 hi, __mmask16 m,
                                                                       float* out, int x0, int x1) {
  if (x0 >= x1) return;  // (then a row may be missing: no pointer into it)
  const int64_t c = win.c, step = win.step;
  const float *r0 = win.At(0, x0), *r1 = win.At(1, x0), *r2 = win.At(2, x0);
  float* o = out + int64_t{x0} * c;
  int ox = x0;
  for (; ox + 4 <= x1; ox += 4, r0 += 4 * step, r1 += 4 * step, r2 += 4 * step, o += 4 * c) {
    FourPixels<Full>(r0, r1, r2, step, c, w, bias, lo, hi, m, o);
  }
  for (; ox < x1; ++ox, r0 += step, r1 += step, r2 += step, o += c) {
    __m512 acc = bias;
    const float* rows[3] = {r0, r1, r2};
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx)
        acc = MulAdd(acc, Load<Full>(rows[ky] + kx * c, m), w[ky * 3 + kx]);
    Store<Full>(o, m, acc, lo, hi);
  }
}

// One output pixel whose window crosses the image's border: taps outside the image are left out,
// as TFLite leaves them out; same order as Interior.
template <bool Full>
__attribute__((target("avx512f"), always_inline)) inline void Border(const Window& win,
                                                                     const __m512 (&w)[kTaps],
                                                                     __m512 bias, __m512 lo,
                                                                     __m512 hi, __mmask16 m,
                                                                     float* out, int ox) {
  const int ix0 = ox * win.stride_w - win.pad_left;
  __m512 acc = bias;
  for (int ky = 0; ky < 3; ++ky) {
    if (!win.row[ky]) continue;
    for (int kx = 0; kx < 3; ++kx) {
      const int ix = ix0 + kx;
      if (ix < 0 || ix >= win.in_w) continue;
      acc = MulAdd(acc, Load<Full>(win.row[ky] + ix * win.c, m), w[ky * 3 + kx]);
    }
  }
  Store<Full>(out + int64_t{ox} * win.c, m, acc, lo, hi);
}

// Interior columns [x0, x1) of the full blocks [0, blocks) of a row, 4 pixels at a time and every
// block for those 4 before the next 4: the input streams through once in memory order (one block
// at a time over the whole row touched every 4th line of 64 channels: 2x slower at 55x55x64),
// the weights come from L1. Same arithmetic as Interior.
__attribute__((target("avx512f"))) void InteriorAllBlocks(const Window& win, const float* weights,
                                                          float lo_f, float hi_f, int blocks,
                                                          float* out, int x0, int x1) {
  const __m512 lo = _mm512_set1_ps(lo_f), hi = _mm512_set1_ps(hi_f);
  const int64_t c = win.c, step = win.step;
  const float *r0 = win.At(0, x0), *r1 = win.At(1, x0), *r2 = win.At(2, x0);
  float* o = out + int64_t{x0} * c;
  int ox = x0;
  for (; ox + 4 <= x1; ox += 4, r0 += 4 * step, r1 += 4 * step, r2 += 4 * step, o += 4 * c) {
    for (int blk = 0; blk < blocks; ++blk) {
      const float* wb = weights + int64_t{blk} * kBlockFloats;
      const int64_t c0 = int64_t{blk} * 16;
      __m512 w[kTaps];
      for (int t = 0; t < kTaps; ++t) w[t] = _mm512_load_ps(wb + 16 * t);
      FourPixels<true>(r0 + c0, r1 + c0, r2 + c0, step, c, w, _mm512_load_ps(wb + 16 * kTaps), lo,
                       hi, 0xFFFF, o + c0);
    }
  }
  // The last columns (fewer than 4) block by block.
  if (ox < x1) {
    for (int blk = 0; blk < blocks; ++blk) {
      Window b = win;
      for (int ky = 0; ky < 3; ++ky) b.row[ky] = win.row[ky] + blk * 16;
      const float* wb = weights + int64_t{blk} * kBlockFloats;
      __m512 w[kTaps];
      for (int t = 0; t < kTaps; ++t) w[t] = _mm512_load_ps(wb + 16 * t);
      Interior<true>(b, w, _mm512_load_ps(wb + 16 * kTaps), lo, hi, 0xFFFF, out + blk * 16, ox, x1);
    }
  }
}

// Every column of one output row in one 16-channel block: interior columns [x_lo, x_hi).
// (`interior` false: the border columns only.)
template <bool Full>
__attribute__((target("avx512f"))) void BlockRow(const Window& win, const float* wb, float lo_f,
                                                 float hi_f, __mmask16 m, float* out, int out_w,
                                                 int x_lo, int x_hi, bool interior) {
  __m512 w[kTaps];
  for (int t = 0; t < kTaps; ++t) w[t] = _mm512_load_ps(wb + 16 * t);
  const __m512 bias = _mm512_load_ps(wb + 16 * kTaps);
  const __m512 lo = _mm512_set1_ps(lo_f), hi = _mm512_set1_ps(hi_f);
  for (int ox = 0; ox < x_lo; ++ox) Border<Full>(win, w, bias, lo, hi, m, out, ox);
  if (interior) Interior<Full>(win, w, bias, lo, hi, m, out, x_lo, x_hi);
  for (int ox = x_hi; ox < out_w; ++ox) Border<Full>(win, w, bias, lo, hi, m, out, ox);
}

// One output row (task = batch * out_h + y), block by block, its input rows at rows[ky] (null
// where outside the image).
__attribute__((target("avx512f"))) void Row(const DepthwiseGeometry& g, const float* weights,
                                            float lo, float hi, const float* const rows[3],
                                            float* out, int task) {
  const int b = task / g.out_h, oy = task % g.out_h;
  const int c = g.channels;
  Window win{
      {rows[0], rows[1], rows[2]}, c, int64_t{g.stride_w} * c, g.in_w, g.pad_left, g.stride_w};
  const bool all_rows = rows[0] && rows[1] && rows[2];
  // Columns whose taps ox * stride - pad_left + {0, 1, 2} are all inside the row.
  int x_lo = (g.pad_left + g.stride_w - 1) / g.stride_w;
  int x_hi = g.in_w + g.pad_left >= 3 ? (g.in_w + g.pad_left - 3) / g.stride_w + 1 : 0;
  x_hi = std::min(x_hi, g.out_w);
  x_lo = std::min(x_lo, x_hi);
  if (!all_rows) x_lo = x_hi = g.out_w;  // every pixel of the row checks its taps
  float* out_row = out + (int64_t{b} * g.out_h + oy) * g.out_w * c;
  // With several full blocks, their interiors run pixel-major (InteriorAllBlocks).
  const int full = c / 16;
  const bool pixel_major = full >= 2 && x_hi > x_lo;
  if (pixel_major) InteriorAllBlocks(win, weights, lo, hi, full, out_row, x_lo, x_hi);
  Window block = win;
  for (int c0 = 0; c0 < c; c0 += 16) {
    for (int ky = 0; ky < 3; ++ky) block.row[ky] = win.row[ky] ? win.row[ky] + c0 : nullptr;
    const float* wb = weights + int64_t{c0 / 16} * kBlockFloats;
    if (c - c0 >= 16) {
      BlockRow<true>(block, wb, lo, hi, 0xFFFF, out_row + c0, g.out_w, x_lo, x_hi, !pixel_major);
    } else {
      const auto m = static_cast<__mmask16>((1u << (c - c0)) - 1);
      BlockRow<false>(block, wb, lo, hi, m, out_row + c0, g.out_w, x_lo, x_hi, true);
    }
  }
}

#endif

#if defined(XBNN_DEPTHWISE_X86)
// 8 floats, or the lanes of `m` (the others 0) for a partial block.
template <bool Masked>
__attribute__((target("avx2"), always_inline)) inline __m256 Load8(const float* p, __m256i m) {
  return Masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}

// The taps of NP output pixels (stride_w input pixels apart, the same visible taps) for NB
// neighbouring 8-channel blocks (NP * NB chains of adds in flight): bias, then filter rows
// [ky_lo, ky_hi) and columns [kx_lo, kx_hi), each product rounded and then added; then
// std::max(lo, std::min(hi, acc)), which vminps(acc, hi) and vmaxps(., lo) compute operand for
// operand. `Masked`: one partial block of `m`'s lanes.
template <int NB, bool Masked, int NP = 1>
__attribute__((target("avx2"), always_inline)) inline void PixelBlocks(
    const DepthwiseGeometry& g, const float* x_pixel, const float* w, const float* bias, int ky_lo,
    int ky_hi, int kx_lo, int kx_hi, __m256 lo, __m256 hi, __m256i m, float* o) {
  const int64_t c = g.channels, x_step = int64_t{g.stride_w} * c;
  __m256 acc[NP][NB];
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < NB; ++j) acc[p][j] = Load8<Masked>(bias + 8 * j, m);
  for (int ky = ky_lo; ky < ky_hi; ++ky) {
    const float* x_row = x_pixel + int64_t{ky} * g.dil_h * g.in_w * c;
    const float* w_row = w + int64_t{ky} * g.k_w * c;
    for (int kx = kx_lo; kx < kx_hi; ++kx) {
      const float* xp = x_row + int64_t{kx} * g.dil_w * c;
      const float* wp = w_row + int64_t{kx} * c;
      for (int j = 0; j < NB; ++j) {
        const __m256 wv = Load8<Masked>(wp + 8 * j, m);
        for (int p = 0; p < NP; ++p)
          acc[p][j] = _mm256_add_ps(acc[p][j],
                                    _mm256_mul_ps(wv, Load8<Masked>(xp + p * x_step + 8 * j, m)));
      }
    }
  }
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < NB; ++j) {
      const __m256 v = _mm256_max_ps(_mm256_min_ps(acc[p][j], hi), lo);
      if (Masked) {
        _mm256_maskstore_ps(o + p * c + 8 * j, m, v);
      } else {
        _mm256_storeu_ps(o + p * c + 8 * j, v);
      }
    }
}

// One output row of a depth-multiplier-1 convolution of any kernel size, stride and dilation with
// AVX2, pixel by pixel, up to 4 blocks of 8 channels at a time: LoopRow's arithmetic without a
// pass over the row per tap.
__attribute__((target("avx2"))) void Multiplier1RowAvx2(const DepthwiseGeometry& g,
                                                        const float* weights, float lo_f,
                                                        float hi_f, const float* in, float* out,
                                                        int task) {
  const int b = task / g.out_h, oy = task % g.out_h;
  const int64_t c = g.channels;
  const float* bias = weights + int64_t{g.k_h} * g.k_w * c;
  float* const row = out + (int64_t{b} * g.out_h + oy) * g.out_w * c;
  const __m256 lo = _mm256_set1_ps(lo_f), hi = _mm256_set1_ps(hi_f);
  const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(c % 8)),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  // The filter rows whose input row is inside the image.
  const int64_t iy0 = int64_t{oy} * g.stride_h - g.pad_top;
  int ky_lo = 0;
  while (ky_lo < g.k_h && iy0 + int64_t{ky_lo} * g.dil_h < 0) ++ky_lo;
  int ky_hi = ky_lo;
  while (ky_hi < g.k_h && iy0 + int64_t{ky_hi} * g.dil_h < g.in_h) ++ky_hi;
  const float* in_image = in + int64_t{b} * g.in_h * g.in_w * c;
  for (int ox = 0; ox < g.out_w; ++ox) {
    const int64_t ix0 = int64_t{ox} * g.stride_w - g.pad_left;
    int kx_lo = 0;
    while (kx_lo < g.k_w && ix0 + int64_t{kx_lo} * g.dil_w < 0) ++kx_lo;
    int kx_hi = kx_lo;
    while (kx_hi < g.k_w && ix0 + int64_t{kx_hi} * g.dil_w < g.in_w) ++kx_hi;
    // Pointers of filter row / column 0, used only at rows and columns inside the image.
    const float* x_pixel = in_image + (iy0 * g.in_w + ix0) * c;
    float* o = row + ox * c;
    // 8 or 16 channels: two pixels with the same visible columns at a time (2-4 chains).
    if ((c == 8 || c == 16) && ox + 1 < g.out_w) {
      const int64_t ix1 = ix0 + g.stride_w;
      const bool same = (kx_lo == 0 || ix1 + int64_t{kx_lo - 1} * g.dil_w < 0) &&
                        ix1 + int64_t{kx_lo} * g.dil_w >= 0 &&
                        ix1 + int64_t{kx_hi - 1} * g.dil_w < g.in_w &&
                        (kx_hi == g.k_w || ix1 + int64_t{kx_hi} * g.dil_w >= g.in_w);
      if (same && kx_hi > kx_lo) {
        if (c == 16) {
          PixelBlocks<2, false, 2>(g, x_pixel, weights, bias, ky_lo, ky_hi, kx_lo, kx_hi, lo, hi,
                                   tail, o);
        } else {
          PixelBlocks<1, false, 2>(g, x_pixel, weights, bias, ky_lo, ky_hi, kx_lo, kx_hi, lo, hi,
                                   tail, o);
        }
        ++ox;
        continue;
      }
    }
    int64_t c0 = 0;
    for (; c0 + 32 <= c; c0 += 32)
      PixelBlocks<4, false>(g, x_pixel + c0, weights + c0, bias + c0, ky_lo, ky_hi, kx_lo, kx_hi,
                            lo, hi, tail, o + c0);
    if (c0 + 16 <= c) {
      PixelBlocks<2, false>(g, x_pixel + c0, weights + c0, bias + c0, ky_lo, ky_hi, kx_lo, kx_hi,
                            lo, hi, tail, o + c0);
      c0 += 16;
    }
    if (c0 + 8 <= c) {
      PixelBlocks<1, false>(g, x_pixel + c0, weights + c0, bias + c0, ky_lo, ky_hi, kx_lo, kx_hi,
                            lo, hi, tail, o + c0);
      c0 += 8;
    }
    if (c0 < c) {
      PixelBlocks<1, true>(g, x_pixel + c0, weights + c0, bias + c0, ky_lo, ky_hi, kx_lo, kx_hi, lo,
                           hi, tail, o + c0);
    }
  }
}
#endif

// One output row (task = batch * out_h + y) of any geometry: the row starts as the bias, then each
// tap inside the image adds its products to the output columns that see it (per output: the taps
// row by row, as TFLite orders them), then the clamp. The output row is the accumulator.
void LoopRow(const DepthwiseGeometry& g, const float* weights, float lo, float hi, const float* in,
             float* out, int task) {
  const int b = task / g.out_h, oy = task % g.out_h;
  const int64_t cin = g.channels, mult = g.multiplier, cout = cin * mult;
  const float* bias = weights + int64_t{g.k_h} * g.k_w * cout;
  float* const row = out + (int64_t{b} * g.out_h + oy) * g.out_w * cout;
  for (int ox = 0; ox < g.out_w; ++ox) std::copy(bias, bias + cout, row + ox * cout);
  for (int ky = 0; ky < g.k_h; ++ky) {
    const int64_t iy = int64_t{oy} * g.stride_h - g.pad_top + int64_t{ky} * g.dil_h;
    if (iy < 0 || iy >= g.in_h) continue;
    const float* in_row = in + (int64_t{b} * g.in_h + iy) * g.in_w * cin;
    for (int kx = 0; kx < g.k_w; ++kx) {
      const float* __restrict w = weights + (int64_t{ky} * g.k_w + kx) * cout;
      // Input column ox * stride_w + off: inside the row for ox in [ox0, ox1).
      const int64_t off = int64_t{kx} * g.dil_w - g.pad_left;
      const int64_t ox0 = off >= 0 ? 0 : (-off + g.stride_w - 1) / g.stride_w;
      const int64_t ox1 = std::min<int64_t>(
          g.out_w, g.in_w - off <= 0 ? 0 : (g.in_w - off + g.stride_w - 1) / g.stride_w);
      for (int64_t ox = ox0; ox < ox1; ++ox) {
        const float* __restrict x = in_row + (ox * g.stride_w + off) * cin;
        float* __restrict o = row + ox * cout;
        if (mult == 1) {
          for (int64_t c = 0; c < cout; ++c) o[c] = o[c] + w[c] * x[c];
        } else {
          for (int64_t ic = 0; ic < cin; ++ic)
            for (int64_t m = 0; m < mult; ++m)
              o[ic * mult + m] = o[ic * mult + m] + w[ic * mult + m] * x[ic];
        }
      }
    }
  }
  for (int64_t i = 0; i < int64_t{g.out_w} * cout; ++i) row[i] = std::max(lo, std::min(hi, row[i]));
}

}  // namespace

bool DirectDepthwiseF32::Direct3x3(const DepthwiseGeometry& g) {
#if defined(XBNN_DEPTHWISE_X86)
  if (g.k_h != 3 || g.k_w != 3 || g.multiplier != 1 || g.dil_h != 1 || g.dil_w != 1) return false;
  // Bounded strides and padding keep the index arithmetic in int for any model.
  if (g.channels < 1 || g.stride_h > 16 || g.stride_w > 16 || g.pad_top > 16 || g.pad_left > 16)
    return false;
  return __builtin_cpu_supports("avx512f");
#else
  (void)g;
  return false;
#endif
}

void DirectDepthwiseF32::Prepare(const DepthwiseGeometry& g, const float* filter, const float* bias,
                                 float lo, float hi) {
  g_ = g;
  lo_ = lo;
  hi_ = hi;
  direct_ = Direct3x3(g);
#if defined(XBNN_DEPTHWISE_X86)
  avx2_ = !direct_ && g.multiplier == 1 && __builtin_cpu_supports("avx2");
#endif
  if (!direct_) {
    const size_t out_c = static_cast<size_t>(g.channels) * g.multiplier;
    const size_t taps = static_cast<size_t>(g.k_h) * g.k_w * out_c;
    weights_ = optimized::AlignedBuffer<float>(taps + out_c);
    std::copy(filter, filter + taps, weights_.data());
    for (size_t c = 0; c < out_c; ++c) weights_[taps + c] = bias ? bias[c] : 0.0f;
    return;
  }
  const int blocks = (g.channels + 15) / 16;
  weights_ = optimized::AlignedBuffer<float>(static_cast<size_t>(blocks) * kBlockFloats);
  float* w = weights_.data();
  for (int ch = 0; ch < g.channels; ++ch) {
    float* wb = w + static_cast<size_t>(ch / 16) * kBlockFloats + ch % 16;
    for (int t = 0; t < kTaps; ++t) wb[16 * t] = filter[static_cast<size_t>(t) * g.channels + ch];
    wb[16 * kTaps] = bias ? bias[ch] : 0.0f;
  }
}

void DirectDepthwiseF32::InputRows(int row, int rows[3]) const {
  const int b = row / g_.out_h, oy = row % g_.out_h;
  for (int ky = 0; ky < 3; ++ky) {
    const int iy = oy * g_.stride_h - g_.pad_top + ky;
    rows[ky] = iy >= 0 && iy < g_.in_h ? b * g_.in_h + iy : -1;
  }
}

void DirectDepthwiseF32::InputRows(const float* in, int row, const float* rows[3]) const {
  int r[3];
  InputRows(row, r);
  for (int ky = 0; ky < 3; ++ky) {
    rows[ky] = r[ky] >= 0 ? in + int64_t{r[ky]} * g_.in_w * g_.channels : nullptr;
  }
}

void DirectDepthwiseF32::RunRowFrom(const float* const rows[3], float* out, int row) const {
#if defined(XBNN_DEPTHWISE_X86)
  Row(g_, weights_.data(), lo_, hi_, rows, out, row);
#else
  (void)rows, (void)out, (void)row;
#endif
}

void DirectDepthwiseF32::RunRows(const float* in, float* out, int row_begin, int row_end) const {
#if defined(XBNN_DEPTHWISE_X86)
  if (direct_) {
    for (int r = row_begin; r < row_end; ++r) {
      const float* rows[3];
      InputRows(in, r, rows);
      Row(g_, weights_.data(), lo_, hi_, rows, out, r);
    }
    return;
  }
  if (avx2_) {
    for (int r = row_begin; r < row_end; ++r)
      Multiplier1RowAvx2(g_, weights_.data(), lo_, hi_, in, out, r);
    return;
  }
#endif
  for (int r = row_begin; r < row_end; ++r) LoopRow(g_, weights_.data(), lo_, hi_, in, out, r);
}

}  // namespace xbnn::kernels::builtin
