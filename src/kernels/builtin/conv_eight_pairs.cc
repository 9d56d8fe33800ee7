#include "kernels/builtin/conv_eight_pairs.h"

#include <cstring>

#include "kernels/builtin/clamp_avx512.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define XBNN_EIGHT_PAIRS_X86 1
#endif

namespace xbnn::kernels::builtin::eight_pairs {
namespace {

#if defined(XBNN_EIGHT_PAIRS_X86)

// Pairs i in [0, n): dst[2i] = src[i], dst[2i + 1] = src[i + step].
__attribute__((target("avx512f"))) void Build(const float* src, int n, int step, float* dst) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 a = _mm512_loadu_ps(src + i), b = _mm512_loadu_ps(src + i + step);
    _mm512_storeu_ps(dst + 2 * i, _mm512_permutex2var_ps(a, lo, b));
    _mm512_storeu_ps(dst + 2 * i + 16, _mm512_permutex2var_ps(a, hi, b));
  }
  for (; i < n; ++i) {
    dst[2 * i] = src[i];
    dst[2 * i + 1] = src[i + step];
  }
}

// The pair at `p` in all eight 64-bit lanes (a broadcast load).
__attribute__((target("avx512f"))) inline __m512 PairAt(const float* p) {
  double d;
  std::memcpy(&d, p, sizeof d);
  return _mm512_castpd_ps(_mm512_set1_pd(d));
}

// NP pixel pairs from pair index `col`. kPairStep > 0: the pair step and the taps as constants
// (QuickNetSmall's stem: GCC then addresses the pairs by immediate offsets, as in TileKernel).
// Do-while loops (entered with rows and taps), as in the other direct kernels.
template <int NP, int kPairStep, int kTaps>
__attribute__((target("avx512f"))) void Pairs(const PairTile& t, int64_t col, float* out,
                                              int out_pixel_stride) {
  const int pair_step = kPairStep > 0 ? kPairStep : t.pair_step;
  const int taps = kPairStep > 0 ? kTaps : t.taps;
  __m512 acc[NP];
  const __m512 b = _mm512_loadu_ps(t.bias);
  for (int p = 0; p < NP; ++p) acc[p] = b;
  const float* const* row = t.rows;
  const float* const* const rows_end = t.rows + t.nrows;
  const float* wr = t.w;
  do {
    const float* x = *row + 2 * col;
    const float* const x_end = x + 2 * taps;
    const float* wk = wr;
    do {
      const __m512 wv = _mm512_loadu_ps(wk);
      for (int p = 0; p < NP; ++p) {
        acc[p] = _mm512_fmadd_ps(wv, PairAt(x + 2 * p * pair_step), acc[p]);
      }
      x += 2;
      wk += 16;
    } while (x != x_end);
    wr += static_cast<int64_t>(taps) * 16;
  } while (++row != rows_end);
  // The clamp, then each pair's lanes (c0 p0, c0 p1, c1 p0, ...) as the two pixels' 8 channels.
  const __m512 vlo = _mm512_set1_ps(t.lo), vhi = _mm512_set1_ps(t.hi);
  const __mmask16 all = 0xFFFF;
  const __m512i order = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (int p = 0; p < NP; ++p) {
    const __m512 v = ClampPs(acc[p], vlo, vhi);
    const __m512 pixels = _mm512_mask_permutexvar_ps(v, all, order, v);
    if (out_pixel_stride == 8) {
      _mm512_storeu_ps(out + 16 * p, pixels);
    } else {  // the pair's pixels apart (a grouped convolution's part of wider output pixels)
      float* o = out + int64_t{2 * p} * out_pixel_stride;
      _mm512_mask_storeu_ps(o, 0x00FF, pixels);
      _mm512_mask_storeu_ps(o + out_pixel_stride - 8, 0xFF00, pixels);
    }
  }
}

#endif  // XBNN_EIGHT_PAIRS_X86

}  // namespace

PairRows::PairRows(int row_floats, int step, int k_h)
    : row_floats_(row_floats), step_(step), slots_(k_h) {}

// Output rows read their input rows in increasing order, so the slot built longest ago holds a
// row that no output row from here on reads (at most k_h rows per output row).
const float* PairRows::Get(const float* src) {
  for (int s = 0; s < slots_; ++s) {
    if (keys_[s] == src) return buf_ + int64_t{2} * s * row_floats_;
  }
  const int s = next_;
  next_ = next_ + 1 == slots_ ? 0 : next_ + 1;
  keys_[s] = src;
  float* dst = buf_ + int64_t{2} * s * row_floats_;
#if defined(XBNN_EIGHT_PAIRS_X86)
  Build(src, row_floats_ - step_, step_, dst);
#endif
  return dst;
}

void InterleaveTaps(const float* twice, int64_t taps, float* dst) {
  for (int64_t k = 0; k < taps; ++k) {
    for (int c = 0; c < 16; ++c) dst[16 * k + c] = twice[16 * k + c / 2];
  }
}

void RunPairs(const PairTile& t, int pairs, float* out, int out_pixel_stride) {
#if defined(XBNN_EIGHT_PAIRS_X86)
  if (t.nrows <= 0 || t.taps <= 0 || pairs <= 0) return;  // (callers pass pixels in the image)
  // Tiles of as equal sizes as 12 at most allow (a row's 55 pairs as 5 x 11): a tile of one or
  // two pairs waits on the multiply-adds' latency.
  using Fn = void (*)(const PairTile&, int64_t, float*, int);
  static constexpr Fn kGeneral[12] = {Pairs<1, 0, 0>,  Pairs<2, 0, 0>,  Pairs<3, 0, 0>,
                                      Pairs<4, 0, 0>,  Pairs<5, 0, 0>,  Pairs<6, 0, 0>,
                                      Pairs<7, 0, 0>,  Pairs<8, 0, 0>,  Pairs<9, 0, 0>,
                                      Pairs<10, 0, 0>, Pairs<11, 0, 0>, Pairs<12, 0, 0>};
  static constexpr Fn kStem[12] = {Pairs<1, 12, 9>,  Pairs<2, 12, 9>,  Pairs<3, 12, 9>,
                                   Pairs<4, 12, 9>,  Pairs<5, 12, 9>,  Pairs<6, 12, 9>,
                                   Pairs<7, 12, 9>,  Pairs<8, 12, 9>,  Pairs<9, 12, 9>,
                                   Pairs<10, 12, 9>, Pairs<11, 12, 9>, Pairs<12, 12, 9>};
  const Fn* fns = t.pair_step == 12 && t.taps == 9 ? kStem : kGeneral;  // 3x3 s2, 3 channels
  const int tiles = (pairs + 11) / 12, base = pairs / tiles, larger = pairs % tiles;
  for (int i = 0, p = 0; i < tiles; ++i) {
    const int n = base + (i < larger ? 1 : 0);
    fns[n - 1](t, t.col + int64_t{p} * t.pair_step, out + int64_t{2 * p} * out_pixel_stride,
               out_pixel_stride);
    p += n;
  }
#else
  (void)t, (void)pairs, (void)out, (void)out_pixel_stride;
#endif
}

}  // namespace xbnn::kernels::builtin::eight_pairs
