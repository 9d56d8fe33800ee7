#include "kernels/builtin/conv_group.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define XBNN_GROUP_CONV_X86 1
#endif

namespace xbnn::kernels::builtin {
namespace {

#if defined(XBNN_GROUP_CONV_X86)

// Row of `w` pixels `in_pixel` floats apart, channels [0, cin), into cin planes of `w` floats
// (`plane` apart): 8x8 (8 channels) or 4x4 (4 channels) transposes in registers.
__attribute__((target("avx2"))) void ToPlanes(const float* src, int64_t in_pixel, int cin, int w,
                                              float* dst, int64_t plane) {
  int x = 0;
  if (cin == 8) {
    for (; x + 8 <= w; x += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + (x + i) * in_pixel);
      __m256 t[8], s[8];
      for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
      }
      for (int i = 0; i < 2; ++i) {  // pixels 4i..4i+3: channels (0, 4), (1, 5), (2, 6), (3, 7)
        s[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        s[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        s[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        s[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
      }
      for (int c = 0; c < 4; ++c) {
        _mm256_storeu_ps(dst + c * plane + x, _mm256_permute2f128_ps(s[c], s[c + 4], 0x20));
        _mm256_storeu_ps(dst + (c + 4) * plane + x, _mm256_permute2f128_ps(s[c], s[c + 4], 0x31));
      }
    }
  } else if (cin == 4) {
    for (; x + 4 <= w; x += 4) {
      __m128 a = _mm_loadu_ps(src + x * in_pixel), b = _mm_loadu_ps(src + (x + 1) * in_pixel);
      __m128 c = _mm_loadu_ps(src + (x + 2) * in_pixel), d = _mm_loadu_ps(src + (x + 3) * in_pixel);
      _MM_TRANSPOSE4_PS(a, b, c, d);
      _mm_storeu_ps(dst + x, a);
      _mm_storeu_ps(dst + plane + x, b);
      _mm_storeu_ps(dst + 2 * plane + x, c);
      _mm_storeu_ps(dst + 3 * plane + x, d);
    }
  }
  for (; x < w; ++x) {
    for (int c = 0; c < cin; ++c) dst[c * plane + x] = src[x * in_pixel + c];
  }
}

// min(max(v, lo), hi) as the 8-channel kernels clamp (a NaN becomes lo). The masked forms with a
// full mask: GCC 12 warns that the unmasked ones read an uninitialized value.
__attribute__((target("avx512f"))) inline __m512 Clamp(__m512 v, __m512 lo, __m512 hi) {
  const __mmask16 all = 0xFFFF;
  return _mm512_mask_min_ps(hi, all, _mm512_mask_max_ps(lo, all, v, lo), hi);
}

// Where a tile of NB x 16 output pixels reads: `x` is input plane 0 of the first visited filter
// row at the first pixel's window column; planes `plane` floats apart, rows `row` floats apart.
struct LaneTile {
  const float* x;
  int64_t plane, row;
  int rows, k_w, cin;
  const float* w;  // [rows][k_w][cin][8] from the first visited filter row
};

// NB x 16 neighbouring output pixels (vector lanes) x 8 output channels: per tap one load per 16
// pixels and one broadcast weight per channel. Then the accumulators are transposed into pixels
// of 8 channels and stored `out_pixel` floats apart.
template <int NB>
__attribute__((target("avx512f"))) void LaneKernel(const LaneTile& t, const float* bias, float lo,
                                                   float hi, float* out, int64_t out_pixel) {
  __m512 acc[NB][8];
  for (int c = 0; c < 8; ++c) {
    const __m512 b = _mm512_set1_ps(bias[c]);
    for (int j = 0; j < NB; ++j) acc[j][c] = b;
  }
  const float* w = t.w;
  for (int r = 0; r < t.rows; ++r) {
    for (int kx = 0; kx < t.k_w; ++kx) {
      const float* xr = t.x + r * t.row + kx;
      for (int ci = 0; ci < t.cin; ++ci) {
        __m512 xv[NB];
        for (int j = 0; j < NB; ++j) xv[j] = _mm512_loadu_ps(xr + ci * t.plane + 16 * j);
        for (int c = 0; c < 8; ++c) {
          const __m512 wv = _mm512_set1_ps(w[c]);
          for (int j = 0; j < NB; ++j) acc[j][c] = _mm512_fmadd_ps(xv[j], wv, acc[j][c]);
        }
        w += 8;
      }
    }
  }
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  // Lane indices: 128-bit lane a of the first source then lane a of the second.
  const __m512i lo_idx = _mm512_set_epi32(23, 22, 21, 20, 7, 6, 5, 4, 19, 18, 17, 16, 3, 2, 1, 0);
  const __m512i hi_idx =
      _mm512_set_epi32(31, 30, 29, 28, 15, 14, 13, 12, 27, 26, 25, 24, 11, 10, 9, 8);
  for (int j = 0; j < NB; ++j) {
    __m512 a[8], t4[8], u[8];
    for (int c = 0; c < 8; ++c) a[c] = Clamp(acc[j][c], vlo, vhi);
    for (int i = 0; i < 4; ++i) {
      // (Masked forms with a full mask, as in Clamp.)
      t4[2 * i] = _mm512_mask_unpacklo_ps(a[2 * i], 0xFFFF, a[2 * i], a[2 * i + 1]);
      t4[2 * i + 1] = _mm512_mask_unpackhi_ps(a[2 * i], 0xFFFF, a[2 * i], a[2 * i + 1]);
    }
    // Per 128-bit lane q (pixels 4q..4q+3): u[i] channels 0-3 and u[i + 4] channels 4-7 of
    // pixel 4q + i.
    for (int i = 0; i < 2; ++i) {
      u[4 * i] = _mm512_shuffle_ps(t4[4 * i], t4[4 * i + 2], 0x44);
      u[4 * i + 1] = _mm512_shuffle_ps(t4[4 * i], t4[4 * i + 2], 0xEE);
      u[4 * i + 2] = _mm512_shuffle_ps(t4[4 * i + 1], t4[4 * i + 3], 0x44);
      u[4 * i + 3] = _mm512_shuffle_ps(t4[4 * i + 1], t4[4 * i + 3], 0xEE);
    }
    float* o = out + int64_t{16 * j} * out_pixel;
    for (int i = 0; i < 4; ++i) {
      const __m512 p04 = _mm512_permutex2var_ps(u[i], lo_idx, u[i + 4]);  // pixels i, 4 + i
      const __m512 p8c = _mm512_permutex2var_ps(u[i], hi_idx, u[i + 4]);  // 8 + i, 12 + i
      _mm512_mask_storeu_ps(o + i * out_pixel, 0x00FF, p04);
      _mm512_mask_storeu_ps(o + (4 + i) * out_pixel - 8, 0xFF00, p04);
      _mm512_mask_storeu_ps(o + (8 + i) * out_pixel, 0x00FF, p8c);
      _mm512_mask_storeu_ps(o + (12 + i) * out_pixel - 8, 0xFF00, p8c);
    }
  }
}

// One output pixel of 8 channels from the planes (the image's edges): its taps inside the image,
// kx in [kx_lo, kx_hi); `x` as for LaneTile at window column 0, `w` likewise.
__attribute__((target("avx2,fma"))) void PixelKernel(const LaneTile& t, int kx_lo, int kx_hi,
                                                     const float* bias, float lo, float hi,
                                                     float* out) {
  __m256 acc = _mm256_loadu_ps(bias);
  for (int r = 0; r < t.rows; ++r) {
    for (int kx = kx_lo; kx < kx_hi; ++kx) {
      const float* xr = t.x + r * t.row + kx;
      const float* w = t.w + (static_cast<int64_t>(r) * t.k_w + kx) * t.cin * 8;
      for (int ci = 0; ci < t.cin; ++ci) {
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * ci), _mm256_set1_ps(xr[ci * t.plane]), acc);
      }
    }
  }
  _mm256_storeu_ps(out, _mm256_min_ps(_mm256_max_ps(acc, _mm256_set1_ps(lo)), _mm256_set1_ps(hi)));
}

#endif  // XBNN_GROUP_CONV_X86

}  // namespace

void GroupedDirectConv::Init(const DirectConvGeometry& part, int groups, int threads,
                             bool allocate) {
  g_ = part;
  groups_ = groups;
  parts_.clear();
  // Output columns whose windows lie inside the image.
  x_lo_ = std::min(g_.out_w, (g_.pad_left + g_.stride_w - 1) / g_.stride_w);
  const int last = g_.in_w - g_.k_w + g_.pad_left;
  x_hi_ = last < 0 ? x_lo_ : std::max(x_lo_, std::min(g_.out_w, last / g_.stride_w + 1));
#if defined(XBNN_GROUP_CONV_X86)
  lanes_ = g_.out_c == 8 && g_.stride_w == 1 && x_hi_ - x_lo_ >= 16 &&
           __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
#endif
  if (!lanes_) parts_.resize(static_cast<size_t>(groups));
  if (lanes_) {
    const size_t taps = static_cast<size_t>(g_.k_h) * g_.k_w * g_.in_c;
    lane_w_.assign(static_cast<size_t>(groups) * taps * 8, 0.0f);
    lane_bias_.assign(static_cast<size_t>(groups) * 8, 0.0f);
    lane_lo_.assign(static_cast<size_t>(groups), 0.0f);
    lane_hi_.assign(static_cast<size_t>(groups), 0.0f);
  }
  // A chunk's input rows lie in one image.
  rows_ = std::min(g_.in_h, (kChunkRows - 1) * g_.stride_h + g_.k_h);
  scratch_.clear();
  if (allocate) {
    scratch_.assign(static_cast<size_t>(threads) * rows_ * g_.in_w * g_.in_c, 0.0f);
  }
}

void GroupedDirectConv::PreparePart(int k, const float* filter_ohwi, const float* bias, float lo,
                                    float hi) {
  if (!lanes_) {
    parts_[static_cast<size_t>(k)].Prepare(g_, filter_ohwi, bias, lo, hi);
    return;
  }
  // [tap][channel], taps in (ky, kx, ci) order as in the filter.
  const int64_t taps = int64_t{g_.k_h} * g_.k_w * g_.in_c;
  float* w = lane_w_.data() + k * taps * 8;
  for (int64_t t = 0; t < taps; ++t) {
    for (int c = 0; c < 8; ++c) w[t * 8 + c] = filter_ohwi[c * taps + t];
  }
  for (int c = 0; c < 8; ++c) lane_bias_[static_cast<size_t>(k) * 8 + c] = bias ? bias[c] : 0.0f;
  lane_lo_[static_cast<size_t>(k)] = lo;
  lane_hi_[static_cast<size_t>(k)] = hi;
}

// Output rows [r, e) of one image from input rows [lo, hi) (image row `first` = batch * in_h +
// lo): per part, the rows into planes, then per output row tiles of 48 and 16 pixels between the
// edges (the last tile may overlap the one before: the same values written again) and the edge
// pixels one by one.
void GroupedDirectConv::RunLanes(float* buf, const float* in, float* out, int64_t first, int lo,
                                 int hi, int r, int e) const {
#if defined(XBNN_GROUP_CONV_X86)
  const int cin = g_.in_c, groups = groups_;
  const int64_t in_pixel = int64_t{cin} * groups, out_pixel = int64_t{8} * groups;
  const int64_t plane = g_.in_w, row = plane * cin;
  const int64_t taps = int64_t{g_.k_h} * g_.k_w * cin;
  for (int k = 0; k < groups; ++k) {
    const float* src = in + first * g_.in_w * in_pixel + int64_t{k} * cin;
    for (int y = lo; y < hi; ++y) {
      ToPlanes(src + (y - lo) * g_.in_w * in_pixel, in_pixel, cin, g_.in_w, buf + (y - lo) * row,
               plane);
    }
    const float* bias = lane_bias_.data() + k * 8;
    const float l = lane_lo_[static_cast<size_t>(k)], h = lane_hi_[static_cast<size_t>(k)];
    for (int q = r; q < e; ++q) {
      const int oy = q % g_.out_h;
      const int iy0 = oy * g_.stride_h - g_.pad_top;
      const int ky_lo = std::max(0, -iy0), ky_hi = std::min(g_.k_h, g_.in_h - iy0);
      LaneTile t;
      t.plane = plane;
      t.row = row;
      t.rows = std::max(0, ky_hi - ky_lo);
      t.k_w = g_.k_w;
      t.cin = cin;
      t.w = lane_w_.data() + k * taps * 8 + int64_t{ky_lo} * g_.k_w * cin * 8;
      // (Not read when no filter row lies inside the image.)
      const float* rows = buf + int64_t{t.rows > 0 ? iy0 + ky_lo - lo : 0} * row;
      float* o = out + int64_t{q} * g_.out_w * out_pixel + k * 8;
      auto at = [&](int ox) {  // the tile's window column: ox - pad_left
        LaneTile c = t;
        c.x = rows + (ox - g_.pad_left);
        return c;
      };
      int ox = x_lo_;
      for (; ox + 48 <= x_hi_; ox += 48)
        LaneKernel<3>(at(ox), bias, l, h, o + ox * out_pixel, out_pixel);
      for (; ox + 16 <= x_hi_; ox += 16)
        LaneKernel<1>(at(ox), bias, l, h, o + ox * out_pixel, out_pixel);
      if (ox < x_hi_) {
        ox = x_hi_ - 16;
        LaneKernel<1>(at(ox), bias, l, h, o + ox * out_pixel, out_pixel);
      }
      auto edge = [&](int x) {
        const int ix0 = x - g_.pad_left;
        LaneTile c = t;
        c.x = rows + ix0;
        PixelKernel(c, std::max(0, -ix0), std::min(g_.k_w, g_.in_w - ix0), bias, l, h,
                    o + x * out_pixel);
      };
      for (int x = 0; x < x_lo_; ++x) edge(x);
      for (int x = x_hi_; x < g_.out_w; ++x) edge(x);
    }
  }
#else
  (void)buf, (void)in, (void)out, (void)first, (void)lo, (void)hi, (void)r, (void)e;
#endif
}

// In chunks of up to kChunkRows rows of one image: per part, the input rows the chunk reads in
// the thread's scratch, in planes (pixel lanes) or packed as the separate SPLIT wrote them for the
// part's DirectConvF32, which writes its channels of the output pixels.
void GroupedDirectConv::RunRows(int thread, const float* in, float* out, int r0, int r1) const {
  const int h = g_.out_h, cin = g_.in_c;
  const int groups = groups_;
  const int64_t in_pixel = int64_t{cin} * groups, out_pixel = int64_t{g_.out_c} * groups;
  float* buf = scratch_.data() + static_cast<size_t>(thread) * rows_ * g_.in_w * cin;
  for (int r = r0; r < r1;) {
    const int b = r / h;
    const int e = std::min({r1, (b + 1) * h, r + kChunkRows});
    const int lo = std::max(0, (r % h) * g_.stride_h - g_.pad_top);
    const int hi = std::min(g_.in_h, ((e - 1) % h) * g_.stride_h - g_.pad_top + g_.k_h);
    const int64_t first = int64_t{b} * g_.in_h + lo;
    if (lanes_) {
      RunLanes(buf, in, out, first, lo, std::max(lo, hi), r, e);
      r = e;
      continue;
    }
    const int64_t pixels = int64_t{std::max(0, hi - lo)} * g_.in_w;
    for (int k = 0; k < groups; ++k) {
      const float* src = in + first * g_.in_w * in_pixel + int64_t{k} * cin;
      // (Fixed-size copies for 8 and 4 channels: one vector move each.)
      if (cin == 8) {
        for (int64_t p = 0; p < pixels; ++p)
          std::memcpy(buf + p * 8, src + p * in_pixel, 8 * sizeof(float));
      } else if (cin == 4) {
        for (int64_t p = 0; p < pixels; ++p)
          std::memcpy(buf + p * 4, src + p * in_pixel, 4 * sizeof(float));
      } else {
        for (int64_t p = 0; p < pixels; ++p) std::copy_n(src + p * in_pixel, cin, buf + p * cin);
      }
      parts_[static_cast<size_t>(k)].RunRowsAt(buf, first, out + int64_t{k} * g_.out_c,
                                               static_cast<int>(out_pixel), r, e);
    }
    r = e;
  }
}

}  // namespace xbnn::kernels::builtin
