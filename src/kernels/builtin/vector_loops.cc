#include "kernels/builtin/vector_loops.h"

#include <algorithm>

// target_clones needs ifunc support (x86-64 ELF); sanitizer builds keep one plain variant.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XBNN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define XBNN_ASAN 1
#endif
#if defined(__x86_64__) && defined(__ELF__) && !defined(XBNN_ASAN)
#define XBNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define XBNN_CLONES
#endif

namespace xbnn::kernels::builtin {
namespace {

template <typename F>
inline void Row(const float* __restrict a, int64_t sa, const float* __restrict b, int64_t sb, float* __restrict out,
                int64_t n, F f) {
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

XBNN_CLONES
void BinaryRowF32(FloatBinary op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n,
                  float lo, float hi) {
  auto clamp = [lo, hi](float v) { return std::min(std::max(v, lo), hi); };
  switch (op) {
    case FloatBinary::kAdd: Row(a, sa, b, sb, out, n, [&](float x, float y) { return clamp(x + y); }); break;
    case FloatBinary::kSub: Row(a, sa, b, sb, out, n, [&](float x, float y) { return clamp(x - y); }); break;
    case FloatBinary::kMul: Row(a, sa, b, sb, out, n, [&](float x, float y) { return clamp(x * y); }); break;
    case FloatBinary::kDiv: Row(a, sa, b, sb, out, n, [&](float x, float y) { return clamp(x / y); }); break;
    case FloatBinary::kMax: Row(a, sa, b, sb, out, n, [](float x, float y) { return x > y ? x : y; }); break;
    case FloatBinary::kMin: Row(a, sa, b, sb, out, n, [](float x, float y) { return x < y ? x : y; }); break;
  }
}

XBNN_CLONES
void MaxPoolRowF32(const MaxPoolGeometry& g, const float* in, float* out, int b, int oy) {
  const int y0 = oy * g.stride_h - g.pad_top;
  const int ky0 = std::max(0, -y0), ky1 = std::min(g.filter_h, g.in_h - y0);
  const int64_t c = g.channels;
  for (int ox = 0; ox < g.out_w; ++ox) {
    const int x0 = ox * g.stride_w - g.pad_left;
    const int kx0 = std::max(0, -x0), kx1 = std::min(g.filter_w, g.in_w - x0);
    float* __restrict po = out + ((static_cast<int64_t>(b) * g.out_h + oy) * g.out_w + ox) * c;
    // The window's first pixel is copied, the others folded in with max; channels innermost.
    bool first = true;
    for (int ky = ky0; ky < ky1; ++ky) {
      const float* row = in + ((static_cast<int64_t>(b) * g.in_h + y0 + ky) * g.in_w + x0) * c;
      for (int kx = kx0; kx < kx1; ++kx) {
        const float* __restrict px = row + kx * c;
        if (first) {
          for (int64_t i = 0; i < c; ++i) po[i] = px[i];
          first = false;
        } else {
          for (int64_t i = 0; i < c; ++i) po[i] = po[i] > px[i] ? po[i] : px[i];
        }
      }
    }
    if (g.clamp) {
      const float lo = g.lo, hi = g.hi;
      for (int64_t i = 0; i < c; ++i) po[i] = std::min(std::max(po[i], lo), hi);
    }
  }
}

}  // namespace xbnn::kernels::builtin
