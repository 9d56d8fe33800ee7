#include "kernels/builtin/vector_loops.h"

#include <algorithm>
#include <cstring>

#include "kernels/builtin/vector_ext.h"

namespace xbnn::kernels::builtin {
namespace {

template <typename F>
inline __attribute__((always_inline)) void Row(const float* __restrict a, int64_t sa,
                                               const float* __restrict b, int64_t sb,
                                               float* __restrict out, int64_t n, F f) {
  // Separate loops per stride pattern so each one is a plain contiguous loop to vectorize.
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (sa == 1) {
    const float y = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], y);
  } else if (sb == 1) {
    const float x = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = f(x, b[i]);
  } else {
    const float v = f(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

}  // namespace

namespace {

// The rows of BinaryRowsF32, instantiated once per target (kTarget) and always inlined into that
// target's function, lambdas included. (With target_clones, clang emitted each lambda once, with
// the AVX-512 clone's instructions, and called it from every clone: SIGILL on AVX2 CPUs.)
template <int kTarget>
inline __attribute__((always_inline)) void BinaryRows(FloatBinary op, const float* a, int64_t sa,
                                                      int64_t a_row, const float* b, int64_t sb,
                                                      int64_t b_row, float* out, int64_t out_row,
                                                      int64_t rows, int64_t n, float lo, float hi) {
  auto clamp = [ lo, hi ](float v) __attribute__((always_inline)) {
    return std::min(std::max(v, lo), hi);
  };
  auto each = [&](auto f) __attribute__((always_inline)) {
    for (int64_t r = 0; r < rows; ++r) {
      Row(a + r * a_row, sa, b + r * b_row, sb, out + r * out_row, n, f);
    }
  };
  switch (op) {
    case FloatBinary::kAdd:
      each([&](float x, float y) __attribute__((always_inline)) { return clamp(x + y); });
      break;
    case FloatBinary::kSub:
      each([&](float x, float y) __attribute__((always_inline)) { return clamp(x - y); });
      break;
    case FloatBinary::kMul:
      each([&](float x, float y) __attribute__((always_inline)) { return clamp(x * y); });
      break;
    case FloatBinary::kDiv:
      each([&](float x, float y) __attribute__((always_inline)) { return clamp(x / y); });
      break;
    case FloatBinary::kMax:
      each([](float x, float y) __attribute__((always_inline)) { return x > y ? x : y; });
      break;
    case FloatBinary::kMin:
      each([](float x, float y) __attribute__((always_inline)) { return x < y ? x : y; });
      break;
    case FloatBinary::kPrelu:
      // Written as a bit blend of x and x * y, so that the loop vectorizes: with `x >= 0 ? x :
      // x * y`, GCC moves the multiply under a branch and runs a scalar loop with a mispredict
      // per random sign (3.9 ms on RealToBinaryNet's 112x112x64 PRELU).
      each([](float x, float y) __attribute__((always_inline)) {
        const float m = x * y;
        uint32_t xb, mb;
        std::memcpy(&xb, &x, 4);
        std::memcpy(&mb, &m, 4);
        const uint32_t keep = x >= 0 ? ~0u : 0u;
        const uint32_t r = (xb & keep) | (mb & ~keep);
        float out;
        std::memcpy(&out, &r, 4);
        return out;
      });
      break;
  }
}

// BinaryRows where both operands run along the row (sa = sb = 1; b_row 0 for a per-channel
// vector) and n is a multiple of the vector width: explicit vector loops of the op's lane
// expressions (ApplyOp, the same float operations as Row, so the same bits). GCC's own
// vectorization of Row spent more on each 64-channel row's loop set-up and remainder test than
// on its four vectors (RealToBinaryNet's elementwise ops ran at ~1 cycle per element). Returns
// false where it does not apply.
template <typename V>
inline __attribute__((always_inline)) bool VectorBinaryRows(
    FloatBinary op, const float* a, int64_t sa, int64_t a_row, const float* b, int64_t sb,
    int64_t b_row, float* out, int64_t out_row, int64_t rows, int64_t n, float lo, float hi) {
  constexpr int L = sizeof(V) / sizeof(float);
  if (sa != 1 || sb != 1 || n % L != 0) return false;
  V vlo, vhi;
  SplatV(vlo, lo);
  SplatV(vhi, hi);
  WithOp(
      op, [&](auto k) __attribute__((always_inline)) {
        for (int64_t r = 0; r < rows; ++r) {
          const float* pa = a + r * a_row;
          const float* pb = b + r * b_row;
          float* po = out + r * out_row;
#pragma GCC unroll 4
          for (int64_t i = 0; i < n; i += L) {
            V x[1], y[1], v[1];
            LoadV(x[0], pa + i);
            LoadV(y[0], pb + i);
            ApplyOp<decltype(k)::value, V, 1>(x, y, vlo, vhi, v);
            StoreV(po + i, v[0]);
          }
        }
      });
  return true;
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void BinaryRowsAvx512(FloatBinary op, const float* a, int64_t sa,
                                                         int64_t a_row, const float* b, int64_t sb,
                                                         int64_t b_row, float* out, int64_t out_row,
                                                         int64_t rows, int64_t n, float lo,
                                                         float hi) {
  if (VectorBinaryRows<V16>(op, a, sa, a_row, b, sb, b_row, out, out_row, rows, n, lo, hi)) return;
  BinaryRows<2>(op, a, sa, a_row, b, sb, b_row, out, out_row, rows, n, lo, hi);
}
__attribute__((target("avx2"))) void BinaryRowsAvx2(FloatBinary op, const float* a, int64_t sa,
                                                    int64_t a_row, const float* b, int64_t sb,
                                                    int64_t b_row, float* out, int64_t out_row,
                                                    int64_t rows, int64_t n, float lo, float hi) {
  if (VectorBinaryRows<V8>(op, a, sa, a_row, b, sb, b_row, out, out_row, rows, n, lo, hi)) return;
  BinaryRows<1>(op, a, sa, a_row, b, sb, b_row, out, out_row, rows, n, lo, hi);
}
#endif

}  // namespace

void BinaryRowsStridedF32(FloatBinary op, const float* a, int64_t sa, int64_t a_row, const float* b,
                          int64_t sb, int64_t b_row, float* out, int64_t out_row, int64_t rows,
                          int64_t n, float lo, float hi) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) {
    return BinaryRowsAvx512(op, a, sa, a_row, b, sb, b_row, out, out_row, rows, n, lo, hi);
  }
  if (__builtin_cpu_supports("avx2")) {
    return BinaryRowsAvx2(op, a, sa, a_row, b, sb, b_row, out, out_row, rows, n, lo, hi);
  }
#endif
  BinaryRows<0>(op, a, sa, a_row, b, sb, b_row, out, out_row, rows, n, lo, hi);
}

void BinaryRowsF32(FloatBinary op, const float* a, int64_t sa, int64_t a_row, const float* b,
                   int64_t sb, int64_t b_row, float* out, int64_t rows, int64_t n, float lo,
                   float hi) {
  BinaryRowsStridedF32(op, a, sa, a_row, b, sb, b_row, out, n, rows, n, lo, hi);
}

namespace {

// Max over the window of channels [i, i + L * NV) (L floats per V) of one output pixel, kept in
// registers (folding into the output in memory made every tap wait for the previous tap's store).
// Same order and expressions as the scalar tail: the first pixel copied, then acc = acc > x ? acc :
// x. Always inlined, so that each target's caller compiles it for its own target.
template <typename V, int NV>
inline __attribute__((always_inline)) void WindowMax(const MaxPoolGeometry& g, const float* in,
                                                     int b, int y0, int ky0, int ky1, int x0,
                                                     int kx0, int kx1, int64_t i, float* po) {
  constexpr int L = sizeof(V) / sizeof(float);
  const int64_t c = g.channels;
  V acc[NV];
  bool first = true;
  for (int ky = ky0; ky < ky1; ++ky) {
    const float* row = in + ((static_cast<int64_t>(b) * g.in_h + y0 + ky) * g.in_w + x0) * c + i;
    for (int kx = kx0; kx < kx1; ++kx) {
      const float* px = row + kx * c;
      for (int v = 0; v < NV; ++v) {
        V x;
        LoadV(x, px + L * v);
        acc[v] = first ? x : (acc[v] > x ? acc[v] : x);
      }
      first = false;
    }
  }
  if (first) return;  // no pixel in the window: the output stays as it is
  if (g.clamp) {
    const V lo = V{} + g.lo, hi = V{} + g.hi;
    for (int v = 0; v < NV; ++v) ClampV(acc[v], lo, hi);
  }
  for (int v = 0; v < NV; ++v) StoreV(po + i + L * v, acc[v]);
}

// Average over the window of channels [i, i + L * NV) of one output pixel: the sum from zero in
// window order, divided by the number of pixels inside the input, then clamped; the expressions of
// the scalar tail (and of TFLite's reference kernel), lane by lane.
template <typename V, int NV>
inline __attribute__((always_inline)) void WindowAvg(const MaxPoolGeometry& g, const float* in,
                                                     int b, int y0, int ky0, int ky1, int x0,
                                                     int kx0, int kx1, int64_t i, float* po) {
  constexpr int L = sizeof(V) / sizeof(float);
  const int64_t c = g.channels;
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = V{};
  int count = 0;
  for (int ky = ky0; ky < ky1; ++ky) {
    const float* row = in + ((static_cast<int64_t>(b) * g.in_h + y0 + ky) * g.in_w + x0) * c + i;
    for (int kx = kx0; kx < kx1; ++kx, ++count) {
      const float* px = row + kx * c;
      for (int v = 0; v < NV; ++v) {
        V x;
        LoadV(x, px + L * v);
        acc[v] += x;
      }
    }
  }
  const V n = V{} + static_cast<float>(count), lo = V{} + g.lo, hi = V{} + g.hi;
  for (int v = 0; v < NV; ++v) {
    acc[v] = acc[v] / n;
    ClampV(acc[v], lo, hi);
    StoreV(po + i + L * v, acc[v]);
  }
}

// Calls f(po, y0, ky0, ky1, x0, kx0, kx1) for every output pixel of row `oy` of batch `b`: its
// output, and its window's rows [ky0, ky1) from y0 and columns [kx0, kx1) from x0 inside the input.
// f must be always_inline too, so that each target's caller compiles it for its own target.
// Output pixels [skip_lo, skip_hi) are left out.
template <typename F>
inline __attribute__((always_inline)) void ForPoolRow(const MaxPoolGeometry& g, float* out, int b,
                                                      int oy, F f, int skip_lo = 0,
                                                      int skip_hi = 0) {
  const int y0 = oy * g.stride_h - g.pad_top;
  const int ky0 = std::max(0, -y0), ky1 = std::min(g.filter_h, g.in_h - y0);
  for (int ox = 0; ox < g.out_w; ++ox) {
    if (ox == skip_lo && skip_hi > skip_lo) {
      ox = skip_hi - 1;
      continue;
    }
    const int x0 = ox * g.stride_w - g.pad_left;
    const int kx0 = std::max(0, -x0), kx1 = std::min(g.filter_w, g.in_w - x0);
    f(out + static_cast<int64_t>(ox) * g.channels, y0, ky0, ky1, x0, kx0, kx1);
  }
}

}  // namespace

namespace {

template <typename V>
inline __attribute__((always_inline)) void AvgPoolRow(const MaxPoolGeometry& g, const float* in,
                                                      float* out_row, int b, int oy, int c_begin,
                                                      int c_end) {
  // (g.channels is the pixel stride; channels [c_begin, c_end) are computed.)
  ForPoolRow(
      g, out_row, b, oy,
      [&](float* __restrict po, int y0, int ky0, int ky1, int x0, int kx0, int kx1)
          __attribute__((always_inline)) {
            constexpr int L = sizeof(V) / sizeof(float);
            const int64_t c = c_end;  // (as the loops below name the end)
            int64_t i = c_begin;
            for (; i + 4 * L <= c; i += 4 * L)
              WindowAvg<V, 4>(g, in, b, y0, ky0, ky1, x0, kx0, kx1, i, po);
            for (; i + L <= c; i += L) WindowAvg<V, 1>(g, in, b, y0, ky0, ky1, x0, kx0, kx1, i, po);
            for (; i < c; ++i) {
              float acc = 0;
              int count = 0;
              const int64_t stride = g.channels;
              for (int ky = ky0; ky < ky1; ++ky) {
                const float* row =
                    in + ((static_cast<int64_t>(b) * g.in_h + y0 + ky) * g.in_w + x0) * stride + i;
                for (int kx = kx0; kx < kx1; ++kx, ++count) acc += row[kx * stride];
              }
              po[i] = std::min(std::max(acc / static_cast<float>(count), g.lo), g.hi);
            }
          });
}

// Max over a window of `taps` pixels at offsets offs[0..taps) (offs[0] = 0: the first tap, copied)
// from p, channels [0, L * NV), then the clamp, to po: WindowMax's expressions in the same order.
// kTaps > 0: taps is kTaps (the loop unrolled).
// kTaps 9 (a 3x3 window, all its rows): tap t from the row stride offs[3] and the pixel stride
// offs[1] (its row t / 3, column t % 3), where eight offsets from memory took the registers the
// loop's pointers needed (GCC parked them in vector registers and moved them back per pixel).
template <typename V, int NV, int kTaps, bool kClamp>
inline __attribute__((always_inline)) void TapsMax(const float* p, const int64_t* offs, int taps,
                                                   const V& lo, const V& hi, float* po) {
  constexpr int L = sizeof(V) / sizeof(float);
  if constexpr (kTaps > 0) taps = kTaps;
  [[maybe_unused]] const int64_t row = kTaps == 9 ? offs[3] : 0, col = kTaps == 9 ? offs[1] : 0;
  V acc[NV];
  for (int v = 0; v < NV; ++v) LoadV(acc[v], p + L * v);
#pragma GCC unroll 16
  for (int t = 1; t < taps; ++t) {
    const float* px = kTaps == 9 ? p + (t / 3) * row + (t % 3) * col : p + offs[t];
    for (int v = 0; v < NV; ++v) {
      V x;
      LoadV(x, px + L * v);
      acc[v] = acc[v] > x ? acc[v] : x;
    }
  }
  for (int v = 0; v < NV; ++v) {
    if constexpr (kClamp) ClampV(acc[v], lo, hi);
    StoreV(po + L * v, acc[v]);
  }
}

// `n` neighbouring output pixels whose windows lie inside the input, the first one's window at p
// (`step` floats from one window to the next), channels a whole number of vectors.
template <typename V, int kTaps, bool kClamp>
inline __attribute__((always_inline)) void InteriorMax(const float* p, int64_t step, int n,
                                                       int64_t c, const int64_t* offs, int taps,
                                                       const V& lo, const V& hi, float* po) {
  constexpr int L = sizeof(V) / sizeof(float);
  for (int k = 0; k < n; ++k, p += step, po += c) {
    int64_t i = 0;
    for (; i + 4 * L <= c; i += 4 * L)
      TapsMax<V, 4, kTaps, kClamp>(p + i, offs, taps, lo, hi, po + i);
    for (; i < c; i += L) TapsMax<V, 1, kTaps, kClamp>(p + i, offs, taps, lo, hi, po + i);
  }
}

// `n` neighbouring output pixels of a 2x2 window at stride 1 (the first one's window at p, its
// second row `row` floats below): TapsMax's four taps in the same order (top left copied, then
// top right, bottom left, bottom right), with each input column loaded once: a window's right
// column is the next window's left one. Half the loads of TapsMax (QuickNet's 55x55x64 pooling).
template <typename V, int NV, bool kClamp>
inline __attribute__((always_inline)) void SlidingMax2x2(const float* p, int64_t row, int n,
                                                         int64_t c, const V& lo, const V& hi,
                                                         float* po) {
  constexpr int L = sizeof(V) / sizeof(float);
  V top[NV], bottom[NV];
  for (int v = 0; v < NV; ++v) {
    LoadV(top[v], p + L * v);
    LoadV(bottom[v], p + row + L * v);
  }
  for (int k = 0; k < n; ++k, p += c, po += c) {
    for (int v = 0; v < NV; ++v) {
      V top_right, bottom_right;
      LoadV(top_right, p + c + L * v);
      LoadV(bottom_right, p + row + c + L * v);
      V acc = top[v];
      acc = acc > top_right ? acc : top_right;
      acc = acc > bottom[v] ? acc : bottom[v];
      acc = acc > bottom_right ? acc : bottom_right;
      if constexpr (kClamp) ClampV(acc, lo, hi);
      StoreV(po + L * v, acc);
      top[v] = top_right;
      bottom[v] = bottom_right;
    }
  }
}

template <typename V, bool kClamp>
inline __attribute__((always_inline)) void SlidingMax2x2(const MaxPoolGeometry& g, const float* p,
                                                         int64_t row, int n, const V& lo,
                                                         const V& hi, float* po) {
  constexpr int L = sizeof(V) / sizeof(float);
  const int64_t c = g.channels;
  int64_t i = 0;
  for (; i + 4 * L <= c; i += 4 * L) SlidingMax2x2<V, 4, kClamp>(p + i, row, n, c, lo, hi, po + i);
  for (; i < c; i += L) SlidingMax2x2<V, 1, kClamp>(p + i, row, n, c, lo, hi, po + i);
}

template <typename V, int kTaps>
inline __attribute__((always_inline)) void InteriorMax(const MaxPoolGeometry& g, const float* p,
                                                       int n, const int64_t* offs, int taps,
                                                       float* po) {
  const int64_t c = g.channels, step = int64_t{g.stride_w} * c;
  const V lo = V{} + g.lo, hi = V{} + g.hi;
  if (g.clamp) {
    InteriorMax<V, kTaps, true>(p, step, n, c, offs, taps, lo, hi, po);
  } else {
    InteriorMax<V, kTaps, false>(p, step, n, c, offs, taps, lo, hi, po);
  }
}

// One output row. The pixels whose window has all its columns inside the input, when the channels
// fill whole vectors, run InteriorMax: the window's tap offsets once per row, no per-pixel bounds,
// 2x2 and 3x3 windows unrolled: ~29 cycles per 64-channel pixel of a 2x2 window (QuickNet's
// transition pooling) with the data in L1 on Zen 3, where the general loop below takes ~44 even
// with vector loads. The others run the general loop. Both take the window's taps in the same
// order.
template <typename V>
inline __attribute__((always_inline)) void MaxPoolRow(const MaxPoolGeometry& g, const float* in,
                                                      float* out_row, int b, int oy) {
  constexpr int L = sizeof(V) / sizeof(float);
  constexpr int kMaxTaps = 64;
  const int64_t c = g.channels;
  const int y0 = oy * g.stride_h - g.pad_top;
  const int ky0 = std::max(0, -y0), ky1 = std::min(g.filter_h, g.in_h - y0);
  // Interior columns [ox_lo, ox_hi): ox * stride_w - pad_left >= 0 and + filter_w <= in_w.
  int ox_lo = g.out_w, ox_hi = g.out_w;
  int64_t offs[kMaxTaps];
  int taps = 0;
  if (c % L == 0 && ky1 > ky0 && (ky1 - ky0) * g.filter_w <= kMaxTaps &&
      g.in_w - g.filter_w + g.pad_left >= 0) {
    ox_lo = std::min(g.out_w, (g.pad_left + g.stride_w - 1) / g.stride_w);
    ox_hi = std::max(ox_lo, std::min(g.out_w, (g.in_w - g.filter_w + g.pad_left) / g.stride_w + 1));
    for (int ky = ky0; ky < ky1; ++ky)
      for (int kx = 0; kx < g.filter_w; ++kx) offs[taps++] = (int64_t{ky - ky0} * g.in_w + kx) * c;
  }
  if (ox_hi > ox_lo) {
    const float* p = in + ((static_cast<int64_t>(b) * g.in_h + y0 + ky0) * g.in_w +
                           int64_t{ox_lo} * g.stride_w - g.pad_left) *
                              c;
    float* po = out_row + int64_t{ox_lo} * c;
    const int n = ox_hi - ox_lo;
    if (taps == 4 && g.filter_w == 2 && g.stride_w == 1) {
      const V lo = V{} + g.lo, hi = V{} + g.hi;
      if (g.clamp) {
        SlidingMax2x2<V, true>(g, p, offs[2], n, lo, hi, po);
      } else {
        SlidingMax2x2<V, false>(g, p, offs[2], n, lo, hi, po);
      }
    } else if (taps == 4) {
      InteriorMax<V, 4>(g, p, n, offs, taps, po);
    } else if (taps == 9 && g.filter_w == 3) {  // (a 3x3 window: TapsMax's grid form)
      InteriorMax<V, 9>(g, p, n, offs, taps, po);
    } else {
      InteriorMax<V, 0>(g, p, n, offs, taps, po);
    }
  }
  ForPoolRow(
      g, out_row, b, oy,
      [&](float* __restrict po, int y0, int ky0, int ky1, int x0, int kx0,
          int kx1) __attribute__((always_inline)) {
        int64_t i = 0;
        for (; i + 4 * L <= c; i += 4 * L)
          WindowMax<V, 4>(g, in, b, y0, ky0, ky1, x0, kx0, kx1, i, po);
        // (2 registers in one pass: QuickNetSmall's 55x55x32 pool 2x faster than two of 16.)
        for (; i + 2 * L <= c; i += 2 * L)
          WindowMax<V, 2>(g, in, b, y0, ky0, ky1, x0, kx0, kx1, i, po);
        for (; i + L <= c; i += L) WindowMax<V, 1>(g, in, b, y0, ky0, ky1, x0, kx0, kx1, i, po);
        if (i == c) return;
        // The last channels: the window's first pixel is copied, the others folded in with max.
        bool first = true;
        for (int ky = ky0; ky < ky1; ++ky) {
          const float* row = in + ((static_cast<int64_t>(b) * g.in_h + y0 + ky) * g.in_w + x0) * c;
          for (int kx = kx0; kx < kx1; ++kx) {
            const float* __restrict px = row + kx * c;
            if (first) {
              for (int64_t j = i; j < c; ++j) po[j] = px[j];
              first = false;
            } else {
              for (int64_t j = i; j < c; ++j) po[j] = po[j] > px[j] ? po[j] : px[j];
            }
          }
        }
        if (g.clamp && !first) {
          const float lo = g.lo, hi = g.hi;
          for (int64_t j = i; j < c; ++j) po[j] = std::min(std::max(po[j], lo), hi);
        }
      },
      ox_lo, ox_hi);
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void AvgPoolRowAvx512(const MaxPoolGeometry& g, const float* in,
                                                         float* out_row, int b, int oy, int c0,
                                                         int c1) {
  AvgPoolRow<V16>(g, in, out_row, b, oy, c0, c1);
}
__attribute__((target("avx2"))) void AvgPoolRowAvx2(const MaxPoolGeometry& g, const float* in,
                                                    float* out_row, int b, int oy, int c0, int c1) {
  AvgPoolRow<V8>(g, in, out_row, b, oy, c0, c1);
}
__attribute__((target("avx512f"))) void MaxPoolRowAvx512(const MaxPoolGeometry& g, const float* in,
                                                         float* out_row, int b, int oy) {
  MaxPoolRow<V16>(g, in, out_row, b, oy);
}
__attribute__((target("avx2"))) void MaxPoolRowAvx2(const MaxPoolGeometry& g, const float* in,
                                                    float* out_row, int b, int oy) {
  MaxPoolRow<V8>(g, in, out_row, b, oy);
}
#endif

}  // namespace

// Pooling rows in the widest registers the CPU has (one vector type per target, see V16).
void AvgPoolRowF32(const MaxPoolGeometry& g, const float* in, float* out_row, int b, int oy) {
  AvgPoolRowF32(g, in, out_row, b, oy, 0, g.channels);
}
void AvgPoolRowF32(const MaxPoolGeometry& g, const float* in, float* out_row, int b, int oy,
                   int c_begin, int c_end) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f"))
    return AvgPoolRowAvx512(g, in, out_row, b, oy, c_begin, c_end);
  if (__builtin_cpu_supports("avx2")) return AvgPoolRowAvx2(g, in, out_row, b, oy, c_begin, c_end);
#endif
  AvgPoolRow<V4>(g, in, out_row, b, oy, c_begin, c_end);
}

void MaxPoolRowF32(const MaxPoolGeometry& g, const float* in, float* out_row, int b, int oy) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return MaxPoolRowAvx512(g, in, out_row, b, oy);
  if (__builtin_cpu_supports("avx2")) return MaxPoolRowAvx2(g, in, out_row, b, oy);
#endif
  MaxPoolRow<V4>(g, in, out_row, b, oy);
}

}  // namespace xbnn::kernels::builtin
