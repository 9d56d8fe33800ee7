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

// The staged layout: phase row Y, column X, lane (2p + q) * in_c + ci holds input pixel
// (2Y + p - pad_top, 2X + q - pad_left), channel ci; zero outside the image. Per phase row p the
// 2 * in_c lanes of q = 0, 1 are two neighbouring pixels, contiguous in NHWC. rows[p]: input row
// 2Y + p - pad_top, or null outside the image.
void PhaseRows(const DirectConvGeometry& g, const float* image, int y, const float* rows[2]) {
  for (int p = 0; p < 2; ++p) {
    const int iy = 2 * y + p - g.pad_top;
    rows[p] = iy >= 0 && iy < g.in_h ? image + static_cast<int64_t>(iy) * g.in_w * g.in_c : nullptr;
  }
}

// One staged column (16 floats, zeroed by the caller) element by element; ix = 2X - pad_left.
void StageColumn(const DirectConvGeometry& g, const float* const rows[2], int ix, float* col) {
  for (int p = 0; p < 2; ++p)
    for (int q = 0; q < 2; ++q) {
      if (!rows[p] || ix + q < 0 || ix + q >= g.in_w) continue;
      const float* px = rows[p] + int64_t{ix + q} * g.in_c;
      std::copy(px, px + g.in_c, col + (2 * p + q) * g.in_c);
    }
}

namespace avx512 {
#define XBNN_WG_TARGET __attribute__((target("avx512f")))
using V = __m512;
constexpr int W = 16;
XBNN_WG_TARGET inline V Load(const float* p) { return _mm512_load_ps(p); }
XBNN_WG_TARGET inline V LoadU(const float* p) { return _mm512_loadu_ps(p); }
XBNN_WG_TARGET inline void Store(float* p, V v) { _mm512_store_ps(p, v); }
XBNN_WG_TARGET inline void StoreU(float* p, V v) { _mm512_storeu_ps(p, v); }
XBNN_WG_TARGET inline V Splat(float x) { return _mm512_set1_ps(x); }
XBNN_WG_TARGET inline V Zero() { return _mm512_setzero_ps(); }
XBNN_WG_TARGET inline V Add(V a, V b) { return _mm512_add_ps(a, b); }
XBNN_WG_TARGET inline V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
XBNN_WG_TARGET inline V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
XBNN_WG_TARGET inline V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
// The masked forms with a full mask: see ClampPs in conv_direct.cc.
XBNN_WG_TARGET inline V Max(V a, V b) { return _mm512_mask_max_ps(a, 0xFFFF, a, b); }
XBNN_WG_TARGET inline V Min(V a, V b) { return _mm512_mask_min_ps(a, 0xFFFF, a, b); }
#include "kernels/builtin/conv_winograd_simd.inc"

// The products of a block of nb 16-channel vectors, all in registers at once (6 x 4).
void RunProducts(int nt, int nb, const float* u, const float* v, int lanes, float* row, float* m) {
  const int bc = 16 * nb;
  switch (nb) {
    case 1:
      return PickProducts<1>(nt)(u, v, lanes, bc, 0, row, m);
    case 2:
      return PickProducts<2>(nt)(u, v, lanes, bc, 0, row, m);
    case 3:
      return PickProducts<3>(nt)(u, v, lanes, bc, 0, row, m);
    default:
      return PickProducts<4>(nt)(u, v, lanes, bc, 0, row, m);
  }
}

// Stages phase rows y0 .. y0 + 6 (stage_w columns of 16 floats each, PhaseRows's layout).
// Returns the largest magnitude staged (NaN if any value is NaN).
__attribute__((target("avx512f"))) float StageRows(const DirectConvGeometry& g, const float* image,
                                                   int y0, int stage_w, float* stage) {
  __m512 vmax = _mm512_setzero_ps();
  bool nan = false;
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
    const float* rows[2];
    PhaseRows(g, image, y0 + i, rows);
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
        StageColumn(g, rows, ix, lanes);
        v = _mm512_load_ps(lanes);
      }
      _mm512_store_ps(srow + 16 * x, v);
      vmax = Max(vmax, _mm512_abs_ps(v));
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0;
    }
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, vmax);
  return nan ? std::numeric_limits<float>::quiet_NaN() : *std::max_element(lanes, lanes + 16);
}

#undef XBNN_WG_TARGET
}  // namespace avx512

namespace avx2 {
#define XBNN_WG_TARGET __attribute__((target("avx2,fma")))
using V = __m256;
constexpr int W = 8;
XBNN_WG_TARGET inline V Load(const float* p) { return _mm256_load_ps(p); }
XBNN_WG_TARGET inline V LoadU(const float* p) { return _mm256_loadu_ps(p); }
XBNN_WG_TARGET inline void Store(float* p, V v) { _mm256_store_ps(p, v); }
XBNN_WG_TARGET inline void StoreU(float* p, V v) { _mm256_storeu_ps(p, v); }
XBNN_WG_TARGET inline V Splat(float x) { return _mm256_set1_ps(x); }
XBNN_WG_TARGET inline V Zero() { return _mm256_setzero_ps(); }
XBNN_WG_TARGET inline V Add(V a, V b) { return _mm256_add_ps(a, b); }
XBNN_WG_TARGET inline V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
XBNN_WG_TARGET inline V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
XBNN_WG_TARGET inline V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
XBNN_WG_TARGET inline V Max(V a, V b) { return _mm256_max_ps(a, b); }
XBNN_WG_TARGET inline V Min(V a, V b) { return _mm256_min_ps(a, b); }
#include "kernels/builtin/conv_winograd_simd.inc"

// AVX2's 16 registers hold 6 tiles x 2 vectors: the block in 16-channel parts.
void RunProducts(int nt, int nb, const float* u, const float* v, int lanes, float* row, float* m) {
  const ProductsFn f = PickProducts<2>(nt);
  for (int c0 = 0; c0 < 16 * nb; c0 += 16) f(u, v, lanes, 16 * nb, c0, row, m);
}

// StageRows's layout and result, the columns copied element by element.
XBNN_WG_TARGET float StageRows(const DirectConvGeometry& g, const float* image, int y0, int stage_w,
                               float* stage) {
  std::fill(stage, stage + int64_t{kN} * stage_w * 16, 0.0f);
  for (int i = 0; i < kN; ++i) {
    const float* rows[2];
    PhaseRows(g, image, y0 + i, rows);
    float* srow = stage + int64_t{i} * stage_w * 16;
    for (int x = 0; x < stage_w; ++x) StageColumn(g, rows, 2 * x - g.pad_left, srow + 16 * x);
  }
  V vmax = Zero(), nan = Zero();
  const V sign = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  for (int64_t k = 0; k < int64_t{kN} * stage_w * 16; k += W) {
    const V x = Load(stage + k);
    vmax = Max(vmax, _mm256_and_ps(x, sign));
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  }
  alignas(32) float lanes[W];
  Store(lanes, vmax);
  return _mm256_movemask_ps(nan) ? std::numeric_limits<float>::quiet_NaN()
                                 : *std::max_element(lanes, lanes + W);
}
#undef XBNN_WG_TARGET
}  // namespace avx2

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
  return direct_conv::CpuHasVectorFma();
#else
  (void)g, (void)groups, (void)dil_h, (void)dil_w;
  return false;
#endif
}

void WinogradStemF32::Prepare(const DirectConvGeometry& g, const float* filter_ohwi,
                              const float* bias, float lo, float hi, int threads,
                              bool allow_avx512) {
  g_ = g;
#if defined(XBNN_WINOGRAD_X86)
  avx512_ = allow_avx512 && __builtin_cpu_supports("avx512f");
#endif
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
  // One instruction set for all steps: both give the same bits (conv_winograd_simd.inc).
  const auto stage_rows = avx512_ ? avx512::StageRows : avx2::StageRows;
  const auto transform = avx512_ ? avx512::TransformTile : avx2::TransformTile;
  const auto products = avx512_ ? avx512::RunProducts : avx2::RunProducts;
  const auto finish = avx512_ ? avx512::FinishTile : avx2::FinishTile;
  const float max_x = stage_rows(g, image, ty * kTileRows, stage_w_, stage);
  if (!(max_x <= max_input_)) return false;
  const int64_t row_floats = static_cast<int64_t>(g.out_w) * g.out_c;
  float* out_rows = out_image + static_cast<int64_t>(ty) * kTileRows * row_floats;
  for (int tx0 = 0; tx0 < tiles_w_; tx0 += kChunk) {
    const int nt = std::min(kChunk, tiles_w_ - tx0);
    for (int t = 0; t < nt; ++t)
      transform(stage + (tx0 + t) * 4 * 16, pitch, u + t * 16, kChunk * 16);
    const float* v = v_.data();
    for (int c0 = 0; c0 < g.out_c; c0 += kBlock) {
      const int nb = std::min(kBlock, g.out_c - c0) / 16;
      products(nt, nb, u, v, lanes_, m + 28 * kChunk * kBlock, m);
      v += static_cast<int64_t>(kPoints) * lanes_ * nb * 16;
      for (int t = 0; t < nt; ++t) {
        const int ox = (tx0 + t) * 4;
        const int cols = std::min(4, g.out_w - ox);
        for (int j = 0; j < nb; ++j) {
          finish(m + (t * nb + j) * 16, int64_t{kChunk} * nb * 16, bias_.data() + c0 + 16 * j, lo_,
                 hi_, out_rows + static_cast<int64_t>(ox) * g.out_c + c0 + 16 * j, row_floats,
                 g.out_c, y_lo, y_hi, cols);
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
