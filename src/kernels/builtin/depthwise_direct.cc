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

template <bool Full>
__attribute__((target("avx512f"), always_inline)) inline void Store(float* p, __mmask16 m,
                                                                    __m512 acc, __m512 lo,
                                                                    __m512 hi) {
  // max(acc, lo) then min(., hi) as XNNPACK orders the operands: a NaN becomes lo. (The masked
  // forms with a full mask: GCC 12 warns that the unmasked ones read an uninitialized value.)
  const __m512 v = _mm512_mask_min_ps(acc, 0xFFFF, _mm512_mask_max_ps(acc, 0xFFFF, acc, lo), hi);
  if (Full) {
    _mm512_storeu_ps(p, v);
  } else {
    _mm512_mask_storeu_ps(p, m, v);
  }
}

// Four neighbouring output pixels of one 16-channel block whose windows lie inside the image
// (rows r0-r2 at the first pixel's window, `step` floats from one window to the next): 4 chains of
// multiply-adds in flight, in Interior's order.
template <bool Full>
__attribute__((target("avx512f"), always_inline)) inline void FourPixels(
    const float* r0, const float* r1, const float* r2, int64_t step, int64_t c,
    const __m512 (&w)[kTaps], __m512 bias, __m512 lo, __m512 hi, __mmask16 m, float* o) {
  __m512 acc[4] = {bias, bias, bias, bias};
  for (int kx = 0; kx < 3; ++kx) {
    const __m512 w0 = w[kx], w1 = w[3 + kx], w2 = w[6 + kx];
    for (int p = 0; p < 4; ++p)
      acc[p] = _mm512_fmadd_ps(Load<Full>(r0 + p * step + kx * c, m), w0, acc[p]);
    for (int p = 0; p < 4; ++p)
      acc[p] = _mm512_fmadd_ps(Load<Full>(r1 + p * step + kx * c, m), w1, acc[p]);
    for (int p = 0; p < 4; ++p)
      acc[p] = _mm512_fmadd_ps(Load<Full>(r2 + p * step + kx * c, m), w2, acc[p]);
  }
  for (int p = 0; p < 4; ++p) Store<Full>(o + p * c, m, acc[p], lo, hi);
}

// Output columns [x0, x1) of one 16-channel block whose windows lie inside the image, 4 pixels at
// a time (4 chains of multiply-adds in flight). XNNPACK's order: bias, then column kx = 0, 1, 2,
// each from the top row down, each a fused multiply-add. `Full`: all 16 channels of the block
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
    for (int kx = 0; kx < 3; ++kx) {
      acc = _mm512_fmadd_ps(Load<Full>(r0 + kx * c, m), w[kx], acc);
      acc = _mm512_fmadd_ps(Load<Full>(r1 + kx * c, m), w[3 + kx], acc);
      acc = _mm512_fmadd_ps(Load<Full>(r2 + kx * c, m), w[6 + kx], acc);
    }
    Store<Full>(o, m, acc, lo, hi);
  }
}

// One output pixel whose window crosses the image's border: a tap outside adds 0 x weight, as
// XNNPACK's zero buffer does; same order as Interior.
template <bool Full>
__attribute__((target("avx512f"), always_inline)) inline void Border(const Window& win,
                                                                     const __m512 (&w)[kTaps],
                                                                     __m512 bias, __m512 lo,
                                                                     __m512 hi, __mmask16 m,
                                                                     float* out, int ox) {
  const int ix0 = ox * win.stride_w - win.pad_left;
  __m512 acc = bias;
  for (int kx = 0; kx < 3; ++kx) {
    const int ix = ix0 + kx;
    const bool col = ix >= 0 && ix < win.in_w;
    for (int ky = 0; ky < 3; ++ky) {
      const __m512 x =
          col && win.row[ky] ? Load<Full>(win.row[ky] + ix * win.c, m) : _mm512_setzero_ps();
      acc = _mm512_fmadd_ps(x, w[ky * 3 + kx], acc);
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

// One output row (task = batch * out_h + y), block by block.
__attribute__((target("avx512f"))) void Row(const DepthwiseGeometry& g, const float* weights,
                                            float lo, float hi, const float* in, float* out,
                                            int task) {
  const int b = task / g.out_h, oy = task % g.out_h;
  const int c = g.channels;
  Window win{{}, c, int64_t{g.stride_w} * c, g.in_w, g.pad_left, g.stride_w};
  bool all_rows = true;
  for (int ky = 0; ky < 3; ++ky) {
    const int iy = oy * g.stride_h - g.pad_top + ky;
    const bool valid = iy >= 0 && iy < g.in_h;
    win.row[ky] = valid ? in + (int64_t{b} * g.in_h + iy) * g.in_w * c : nullptr;
    all_rows = all_rows && valid;
  }
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

}  // namespace

bool DirectDepthwiseF32::Applies(const DepthwiseGeometry& g, int k_h, int k_w, int multiplier,
                                 int dil_h, int dil_w) {
#if defined(XBNN_DEPTHWISE_X86)
  if (k_h != 3 || k_w != 3 || multiplier != 1 || dil_h != 1 || dil_w != 1) return false;
  // Bounded strides and padding keep the index arithmetic in int for any model.
  if (g.channels < 1 || g.stride_h > 16 || g.stride_w > 16 || g.pad_top > 16 || g.pad_left > 16)
    return false;
  return __builtin_cpu_supports("avx512f");
#else
  (void)g, (void)k_h, (void)k_w, (void)multiplier, (void)dil_h, (void)dil_w;
  return false;
#endif
}

void DirectDepthwiseF32::Prepare(const DepthwiseGeometry& g, const float* filter, const float* bias,
                                 float lo, float hi) {
  g_ = g;
  lo_ = lo;
  hi_ = hi;
  const int blocks = (g.channels + 15) / 16;
  weights_ = optimized::AlignedBuffer<float>(static_cast<size_t>(blocks) * kBlockFloats);
  float* w = weights_.data();
  for (int ch = 0; ch < g.channels; ++ch) {
    float* wb = w + static_cast<size_t>(ch / 16) * kBlockFloats + ch % 16;
    for (int t = 0; t < kTaps; ++t) wb[16 * t] = filter[static_cast<size_t>(t) * g.channels + ch];
    wb[16 * kTaps] = bias ? bias[ch] : 0.0f;
  }
}

void DirectDepthwiseF32::RunRows(const float* in, float* out, int row_begin, int row_end) const {
#if defined(XBNN_DEPTHWISE_X86)
  for (int r = row_begin; r < row_end; ++r) Row(g_, weights_.data(), lo_, hi_, in, out, r);
#else
  (void)in, (void)out, (void)row_begin, (void)row_end;
#endif
}

}  // namespace xbnn::kernels::builtin
