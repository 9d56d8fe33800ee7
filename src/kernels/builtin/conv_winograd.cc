#include "kernels/builtin/conv_winograd.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#define XBNN_WINOGRAD_X86 1
#endif

namespace xbnn::kernels::builtin {
namespace {

constexpr int kN = 7;        // tile edge: 4 outputs + 4 taps - 1
constexpr int kPoints = 49;  // kN * kN
constexpr int kChunk = 6;    // tiles per matrix product (6 x 4 accumulator vectors)
constexpr int kBlock = direct_conv::kBlock;

// The filter transform G (7 x 4) for the points 1, -1, 2, -2, 1/2, -1/2, infinity: row j is
// f_j^k / prod_{l != j} (f_j - f_l) over the finite points; the last row picks the last tap.
constexpr double kG[kN][4] = {{-2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9},
                              {2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9},
                              {1.0 / 45, 2.0 / 45, 4.0 / 45, 8.0 / 45},
                              {-1.0 / 45, 2.0 / 45, -4.0 / 45, 8.0 / 45},
                              {16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45},
                              {-16.0 / 45, 8.0 / 45, -4.0 / 45, 2.0 / 45},
                              {0, 0, 0, 1}};

#if defined(XBNN_WINOGRAD_X86)

// B^T d for one 7-vector (lanes independent). B^T's rows for f and -f are E + O and E - O, E
// from the odd taps d1, d3, d5 and O from the even ones:
//   1, -1:     E = d1 - 17/4 d3 + d5       O = d0 - 17/4 d2 + d4
//   2, -2:     E = 1/4 d1 - 5/4 d3 + d5    O = 1/2 d0 - 5/2 d2 + 2 d4
//   1/2, -1/2: E = 4 d1 - 5 d3 + d5        O = 2 d0 - 5/2 d2 + 1/2 d4
//   infinity:  d6 - d0 + 21/4 (d2 - d4)
__attribute__((target("avx512f"))) inline void InputTransform(const __m512* d, __m512* u) {
  const __m512 c17_4 = _mm512_set1_ps(-4.25f), c5_4 = _mm512_set1_ps(-1.25f);
  const __m512 c5_2 = _mm512_set1_ps(-2.5f), c5 = _mm512_set1_ps(-5.0f);
  const __m512 half = _mm512_set1_ps(0.5f), quarter = _mm512_set1_ps(0.25f);
  const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f);
  const __m512 e1 = _mm512_add_ps(_mm512_fmadd_ps(c17_4, d[3], d[1]), d[5]);
  const __m512 o1 = _mm512_add_ps(_mm512_fmadd_ps(c17_4, d[2], d[0]), d[4]);
  const __m512 e2 = _mm512_fmadd_ps(c5_4, d[3], _mm512_fmadd_ps(quarter, d[1], d[5]));
  const __m512 o2 =
      _mm512_fmadd_ps(two, d[4], _mm512_fmadd_ps(c5_2, d[2], _mm512_mul_ps(half, d[0])));
  const __m512 e3 = _mm512_fmadd_ps(c5, d[3], _mm512_fmadd_ps(four, d[1], d[5]));
  const __m512 o3 =
      _mm512_fmadd_ps(half, d[4], _mm512_fmadd_ps(c5_2, d[2], _mm512_mul_ps(two, d[0])));
  u[0] = _mm512_add_ps(e1, o1);
  u[1] = _mm512_sub_ps(e1, o1);
  u[2] = _mm512_add_ps(e2, o2);
  u[3] = _mm512_sub_ps(e2, o2);
  u[4] = _mm512_add_ps(e3, o3);
  u[5] = _mm512_sub_ps(e3, o3);
  u[6] =
      _mm512_fmadd_ps(_mm512_set1_ps(5.25f), _mm512_sub_ps(d[2], d[4]), _mm512_sub_ps(d[6], d[0]));
}

// A^T m for one 7-vector: rows 1, f, f^2, f^3 over the point pairs, the last row adds m6.
__attribute__((target("avx512f"))) inline void OutputTransform(const __m512* m, __m512* y) {
  const __m512 s0 = _mm512_add_ps(m[0], m[1]), d0 = _mm512_sub_ps(m[0], m[1]);
  const __m512 s1 = _mm512_add_ps(m[2], m[3]), d1 = _mm512_sub_ps(m[2], m[3]);
  const __m512 s2 = _mm512_add_ps(m[4], m[5]), d2 = _mm512_sub_ps(m[4], m[5]);
  y[0] = _mm512_add_ps(_mm512_add_ps(s0, s1), s2);
  y[1] = _mm512_fmadd_ps(_mm512_set1_ps(0.5f), d2, _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d1, d0));
  y[2] = _mm512_fmadd_ps(_mm512_set1_ps(0.25f), s2, _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s1, s0));
  y[3] = _mm512_add_ps(
      _mm512_fmadd_ps(_mm512_set1_ps(0.125f), d2, _mm512_fmadd_ps(_mm512_set1_ps(8.0f), d1, d0)),
      m[6]);
}

// The 7x7 staged vectors of tile `tx` (row pitch `pitch` floats, 16 per column) -> its 49
// transformed vectors at u, `stride` floats apart.
__attribute__((target("avx512f"))) void TransformTile(const float* s, int64_t pitch, float* u,
                                                      int64_t stride) {
  __m512 t[kN][kN];
  for (int i = 0; i < kN; ++i) {
    __m512 d[kN];
    for (int j = 0; j < kN; ++j) d[j] = _mm512_load_ps(s + i * pitch + 16 * j);
    InputTransform(d, t[i]);
  }
  for (int j = 0; j < kN; ++j) {
    __m512 d[kN], r[kN];
    for (int i = 0; i < kN; ++i) d[i] = t[i][j];
    InputTransform(d, r);
    for (int i = 0; i < kN; ++i) _mm512_store_ps(u + (i * kN + j) * stride, r[i]);
  }
}

// For each of the 49 points: the sum over the lanes of U[point][t][lane] times V[point][lane]
// (NB vectors per tile t), then, per row of 7 points, the output transform along the row: M[row
// i][column v][t] = A^T over the row's points, v < 4. U: [49][kChunk][16]; V: [49][lanes][NB *
// 16]; M: [7 x 4][kChunk][NB * 16]; `row`: one row of products, [7][kChunk][NB * 16] (stays in
// L1, where the whole 49 points of products did not).
template <int NT, int NB>
__attribute__((target("avx512f"))) void Products(const float* u, const float* v, int lanes,
                                                 float* row, float* m) {
  constexpr int kPoint = kChunk * NB * 16;  // floats per point in `row` and M
  for (int i = 0; i < kN; ++i) {
    for (int jj = 0; jj < kN; ++jj) {
      const int p = i * kN + jj;
      const float* up = u + p * kChunk * 16;
      const float* vp = v + static_cast<int64_t>(p) * lanes * NB * 16;
      __m512 acc[NT][NB];
      for (int t = 0; t < NT; ++t)
        for (int j = 0; j < NB; ++j) acc[t][j] = _mm512_setzero_ps();
      for (int c = 0; c < lanes; ++c) {
        __m512 w[NB];
        for (int j = 0; j < NB; ++j) w[j] = _mm512_load_ps(vp + (c * NB + j) * 16);
        for (int t = 0; t < NT; ++t) {
          const __m512 x = _mm512_set1_ps(up[t * 16 + c]);
          for (int j = 0; j < NB; ++j) acc[t][j] = _mm512_fmadd_ps(w[j], x, acc[t][j]);
        }
      }
      float* rp = row + jj * kPoint;
      for (int t = 0; t < NT; ++t)
        for (int j = 0; j < NB; ++j) _mm512_store_ps(rp + (t * NB + j) * 16, acc[t][j]);
    }
    for (int k = 0; k < NT * NB; ++k) {
      __m512 r[kN], y[4];
      for (int jj = 0; jj < kN; ++jj) r[jj] = _mm512_load_ps(row + jj * kPoint + k * 16);
      OutputTransform(r, y);
      for (int x = 0; x < 4; ++x) _mm512_store_ps(m + (i * 4 + x) * kPoint + k * 16, y[x]);
    }
  }
}

using ProductsFn = void (*)(const float*, const float*, int, float*, float*);
template <int NB>
ProductsFn PickProducts(int nt) {
  switch (nt) {
    case 1:
      return Products<1, NB>;
    case 2:
      return Products<2, NB>;
    case 3:
      return Products<3, NB>;
    case 4:
      return Products<4, NB>;
    case 5:
      return Products<5, NB>;
    default:
      return Products<6, NB>;
  }
}
ProductsFn PickProducts(int nt, int nb) {
  switch (nb) {
    case 1:
      return PickProducts<1>(nt);
    case 2:
      return PickProducts<2>(nt);
    case 3:
      return PickProducts<3>(nt);
    default:
      return PickProducts<4>(nt);
  }
}

// The output transform down the columns of tile t's vector j (16 channels) from M ([7 x
// 4][kChunk][nb * 16], Products), plus the bias, clamped: rows [y_lo, y_hi) and the first `cols`
// columns of the 4x4 outputs, written at out (row pitch `row_floats`, pixel pitch out_c).
__attribute__((target("avx512f"))) void FinishTile(const float* m, int64_t point_stride,
                                                   const float* bias, float lo, float hi,
                                                   float* out, int64_t row_floats, int out_c,
                                                   int y_lo, int y_hi, int cols) {
  const __m512 b = _mm512_loadu_ps(bias), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const __mmask16 all = 0xFFFF;  // masked min/max: see ClampPs in conv_direct.cc
  for (int v = 0; v < cols; ++v) {
    __m512 c[kN], y[4];
    for (int i = 0; i < kN; ++i) c[i] = _mm512_load_ps(m + (i * 4 + v) * point_stride);
    OutputTransform(c, y);
    for (int u = y_lo; u < y_hi; ++u) {
      const __m512 x = _mm512_add_ps(y[u], b);
      _mm512_storeu_ps(out + u * row_floats + static_cast<int64_t>(v) * out_c,
                       _mm512_mask_min_ps(vhi, all, _mm512_mask_max_ps(vlo, all, x, vlo), vhi));
    }
  }
}

// Stages phase rows y0 .. y0 + 6 (stage_w columns of 16 floats each).
// Returns the largest magnitude staged (NaN if any value is NaN).
__attribute__((target("avx512f"))) float StageRows(const DirectConvGeometry& g, const float* image,
                                                   int y0, int stage_w, float* stage) {
  __m512 vmax = _mm512_setzero_ps();
  bool nan = false;
  // Staged phase row Y (= y0 + i), column X, lane (2p + q) * in_c + ci holds input pixel
  // (2Y + p - pad_top, 2X + q - pad_left), channel ci; zero outside the image. Per phase row p
  // the 2 * in_c lanes of q = 0, 1 are two neighbouring pixels, contiguous in NHWC.
  const int pair = 2 * g.in_c;
  const __mmask16 low = static_cast<__mmask16>((1u << pair) - 1);
  const __mmask16 high = static_cast<__mmask16>(low << pair);
  // Lane k takes lane k - pair: the odd phase row's pixels moved up beside the even row's (a
  // permute: the expanding load is microcoded on AMD).
  const __m512i up = _mm512_and_si512(
      _mm512_sub_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                       _mm512_set1_epi32(pair)),
      _mm512_set1_epi32(15));
  for (int i = 0; i < kN; ++i) {
    float* srow = stage + int64_t{i} * stage_w * 16;
    const float* rows[2] = {nullptr, nullptr};
    for (int p = 0; p < 2; ++p) {
      const int iy = 2 * (y0 + i) + p - g.pad_top;
      if (iy >= 0 && iy < g.in_h) rows[p] = image + static_cast<int64_t>(iy) * g.in_w * g.in_c;
    }
    for (int x = 0; x < stage_w; ++x) {
      const int ix = 2 * x - g.pad_left;
      __m512 v = _mm512_setzero_ps();
      if (ix >= 0 && ix + 1 < g.in_w) {
        if (rows[0]) v = _mm512_maskz_loadu_ps(low, rows[0] + int64_t{ix} * g.in_c);
        if (rows[1]) {
          v = _mm512_mask_permutexvar_ps(
              v, high, up, _mm512_maskz_loadu_ps(low, rows[1] + int64_t{ix} * g.in_c));
        }
      } else {
        alignas(64) float lanes[16] = {};
        for (int p = 0; p < 2; ++p)
          for (int q = 0; q < 2; ++q) {
            if (!rows[p] || ix + q < 0 || ix + q >= g.in_w) continue;
            for (int ci = 0; ci < g.in_c; ++ci)
              lanes[(2 * p + q) * g.in_c + ci] = rows[p][int64_t{ix + q} * g.in_c + ci];
          }
        v = _mm512_load_ps(lanes);
      }
      _mm512_store_ps(srow + 16 * x, v);
      vmax = _mm512_mask_max_ps(vmax, 0xFFFF, vmax, _mm512_abs_ps(v));  // (see FinishTile)
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0;
    }
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, vmax);
  return nan ? std::numeric_limits<float>::quiet_NaN() : *std::max_element(lanes, lanes + 16);
}

#endif  // XBNN_WINOGRAD_X86

}  // namespace

bool WinogradStemF32::Applies(const DirectConvGeometry& g, int groups, int dil_h, int dil_w) {
#if defined(XBNN_WINOGRAD_X86)
  if (groups != 1 || dil_h != 1 || dil_w != 1 || g.stride_h != 2 || g.stride_w != 2) return false;
  if (g.k_h < 6 || g.k_h > 8 || g.k_w < 6 || g.k_w > 8 || g.in_c < 1 || g.in_c > 4) return false;
  if (g.out_c < 16 || g.out_c % 16 != 0 || g.out_h < 1 || g.out_w < 1) return false;
  // The staged rows per thread grow with the width (7 x 64 bytes per output column): a hostile
  // model's huge image takes the direct kernel.
  if (g.out_w > 4096) return false;
  return __builtin_cpu_supports("avx512f");
#else
  (void)g, (void)groups, (void)dil_h, (void)dil_w;
  return false;
#endif
}

void WinogradStemF32::Prepare(const DirectConvGeometry& g, const float* filter_ohwi,
                              const float* bias, float lo, float hi, int threads) {
  g_ = g;
  lo_ = lo;
  hi_ = hi;
  lanes_ = 4 * g.in_c;
  tiles_w_ = (g.out_w + 3) / 4;
  stage_w_ = 4 * tiles_w_ + 3;
  // Per 64-channel block, per point, per lane (phase p, q, input channel ci at (2p + q) * in_c
  // + ci): G g G^T of the 4x4 phase kernel g[a][b] = w[2a + p][2b + q][ci], in double.
  v_ = optimized::AlignedBuffer<float>(static_cast<size_t>(kPoints) * lanes_ * g.out_c);
  float* dst = v_.data();
  for (int c0 = 0; c0 < g.out_c; c0 += kBlock) {
    const int bc = std::min(kBlock, g.out_c - c0);
    for (int i = 0; i < kN; ++i)
      for (int j = 0; j < kN; ++j)
        for (int lane = 0; lane < lanes_; ++lane) {
          const int p = lane / (2 * g.in_c), q = lane / g.in_c % 2, ci = lane % g.in_c;
          for (int o = 0; o < bc; ++o) {
            double s = 0;
            for (int a = 0; a < 4; ++a)
              for (int b = 0; b < 4; ++b) {
                const int ky = 2 * a + p, kx = 2 * b + q;
                if (ky >= g.k_h || kx >= g.k_w) continue;
                const double w =
                    filter_ohwi[((static_cast<int64_t>(c0 + o) * g.k_h + ky) * g.k_w + kx) *
                                    g.in_c +
                                ci];
                s += kG[i][a] * w * kG[j][b];
              }
            *dst++ = static_cast<float>(s);
          }
        }
  }
  bias_.assign(static_cast<size_t>(g.out_c), 0.0f);
  if (bias) std::copy(bias, bias + g.out_c, bias_.begin());
  direct_.Prepare(g, filter_ohwi, bias, lo, hi);
  double max_v = 0;
  for (size_t i = 0; i < v_.size(); ++i) max_v = std::max(max_v, std::abs(double{v_[i]}));
  // Inputs above this magnitude could overflow inside the transforms: the direct kernel.
  max_input_ = static_cast<float>(1e34 / (1 + max_v * 16 * 12 * 256));
  // Staged rows (7 x stage_w_ x 16), the transformed tiles (49 x kChunk x 16) and the products of
  // one channel block: 28 points after the row transform and one row of 7 (x kChunk x 64).
  scratch_floats_ =
      static_cast<size_t>(kN) * stage_w_ * 16 + kPoints * kChunk * 16 + (28 + kN) * kChunk * kBlock;
  scratch_.clear();
  for (int t = 0; t < std::max(1, threads); ++t) scratch_.emplace_back(scratch_floats_);
}

size_t WinogradStemF32::bytes() const {
  // (direct_ keeps the filter repacked, and its bias.)
  const size_t direct = static_cast<size_t>(g_.out_c) * (g_.k_h * g_.k_w * g_.in_c + 1);
  return (v_.size() + scratch_floats_ * scratch_.size() + bias_.size() + direct) * sizeof(float);
}

int WinogradStemF32::TileRowStart(int r) const {
  const int b = r / g_.out_h, oy = r % g_.out_h;
  return b * g_.out_h + oy / kTileRows * kTileRows;
}

void WinogradStemF32::RunRows(int thread, const float* in, float* out, int row_begin,
                              int row_end) const {
  float* scratch = scratch_[static_cast<size_t>(thread)].data();
  const int64_t in_image = static_cast<int64_t>(g_.in_h) * g_.in_w * g_.in_c;
  const int64_t out_image = static_cast<int64_t>(g_.out_h) * g_.out_w * g_.out_c;
  for (int r = row_begin; r < row_end;) {
    const int b = r / g_.out_h, oy = r % g_.out_h, ty = oy / kTileRows;
    const int y_hi = std::min({g_.out_h, (ty + 1) * kTileRows, row_end - b * g_.out_h});
    if (!RunTileRow(scratch, in + b * in_image, out + b * out_image, ty, oy - ty * kTileRows,
                    y_hi - ty * kTileRows)) {
      direct_.RunRows(in, out, r, b * g_.out_h + y_hi);
    }
    r = b * g_.out_h + y_hi;
  }
}

// Tile row ty of one image: output rows 4 ty + [y_lo, y_hi). False (nothing written) where the
// input holds NaN or values large enough to overflow in the transforms.
bool WinogradStemF32::RunTileRow(float* scratch, const float* image, float* out_image, int ty,
                                 int y_lo, int y_hi) const {
#if defined(XBNN_WINOGRAD_X86)
  const DirectConvGeometry& g = g_;
  const int64_t pitch = int64_t{stage_w_} * 16;
  float* stage = scratch;
  float* u = stage + kN * pitch;
  float* m = u + kPoints * kChunk * 16;
  const float max_x = StageRows(g, image, ty * kTileRows, stage_w_, stage);
  if (!(max_x <= max_input_)) return false;
  const int64_t row_floats = static_cast<int64_t>(g.out_w) * g.out_c;
  float* out_rows = out_image + static_cast<int64_t>(ty) * kTileRows * row_floats;
  for (int tx0 = 0; tx0 < tiles_w_; tx0 += kChunk) {
    const int nt = std::min(kChunk, tiles_w_ - tx0);
    for (int t = 0; t < nt; ++t)
      TransformTile(stage + (tx0 + t) * 4 * 16, pitch, u + t * 16, kChunk * 16);
    const float* v = v_.data();
    for (int c0 = 0; c0 < g.out_c; c0 += kBlock) {
      const int nb = std::min(kBlock, g.out_c - c0) / 16;
      PickProducts(nt, nb)(u, v, lanes_, m + 28 * kChunk * kBlock, m);
      v += static_cast<int64_t>(kPoints) * lanes_ * nb * 16;
      for (int t = 0; t < nt; ++t) {
        const int ox = (tx0 + t) * 4;
        const int cols = std::min(4, g.out_w - ox);
        for (int j = 0; j < nb; ++j) {
          FinishTile(m + (t * nb + j) * 16, int64_t{kChunk} * nb * 16, bias_.data() + c0 + 16 * j,
                     lo_, hi_, out_rows + static_cast<int64_t>(ox) * g.out_c + c0 + 16 * j,
                     row_floats, g.out_c, y_lo, y_hi, cols);
        }
      }
    }
  }
  return true;
#else
  (void)scratch, (void)image, (void)out_image, (void)ty, (void)y_lo, (void)y_hi;
  return false;
#endif
}

}  // namespace xbnn::kernels::builtin
