// Portable BConv2D variant: the same tiled driver as the SIMD variants on plain arrays of 16
// lanes, which compilers vectorize with whatever the baseline ISA offers (SSE2, NEON).
#include <cmath>
#include <cstdint>

#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {
namespace {

inline uint32_t Popcount32(uint32_t x) {
#if defined(__POPCNT__) || defined(__aarch64__) || defined(__ARM_NEON)
  return static_cast<uint32_t>(__builtin_popcount(x));
#else
  // SWAR count: vectorizes on SSE2, unlike a call to libgcc's __popcountdi2.
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0Fu;
  x = x + (x >> 8);
  x = x + (x >> 16);
  return x & 0x3Fu;
#endif
}

struct Traits {
  static constexpr int kLanes = 16;
  static constexpr int kMaxVectors = 2;
  static constexpr int kRows = 4;
  struct VI {
    int32_t v[kLanes];
  };
  struct VF {
    float v[kLanes];
  };

  template <int MR, int NV>
  static void Gemm(const int32_t* const* img, const int32_t* const* ind, const int32_t* zero,
                   int taps, int cw, const int32_t* f, VI (&acc)[MR][NV]) {
    uint32_t sum[MR][NV * kLanes] = {};
    for (int t = 0; t < taps; ++t) {
      const int32_t* a[MR];
      for (int i = 0; i < MR; ++i) {
        const int32_t off = ind[i][t];
        a[i] = off >= 0 ? img[i] + off : zero;
      }
      for (int w = 0; w < cw; ++w) {
        for (int i = 0; i < MR; ++i) {
          const uint32_t b = static_cast<uint32_t>(a[i][w]);
          for (int l = 0; l < NV * kLanes; ++l) {
            sum[i][l] += Popcount32(static_cast<uint32_t>(f[l]) ^ b);
          }
        }
        f += NV * kLanes;
      }
    }
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NV; ++j) {
        for (int l = 0; l < kLanes; ++l) {
          acc[i][j].v[l] = static_cast<int32_t>(sum[i][j * kLanes + l]);
        }
      }
    }
  }

  static VI LoadI(const int32_t* p) {
    VI r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = p[l];
    return r;
  }
  static VI Set1I(int32_t x) {
    VI r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = x;
    return r;
  }
  static VI AddI(VI a, VI b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] += b.v[l];
    return a;
  }
  static VI SubI(VI a, VI b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] -= b.v[l];
    return a;
  }
  static VF ToF(VI a) {
    VF r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = static_cast<float>(a.v[l]);
    return r;
  }
  static VF LoadF(const float* p) {
    VF r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = p[l];
    return r;
  }
  static VF Set1F(float x) {
    VF r;
    for (int l = 0; l < kLanes; ++l) r.v[l] = x;
    return r;
  }
  // Same results as the SIMD min/max for every non-NaN input.
  static VF MinF(VF a, VF b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] = a.v[l] < b.v[l] ? a.v[l] : b.v[l];
    return a;
  }
  static VF MaxF(VF a, VF b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] = a.v[l] > b.v[l] ? a.v[l] : b.v[l];
    return a;
  }
  static VF MulF(VF a, VF b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] *= b.v[l];
    return a;
  }
  static VF AddF(VF a, VF b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] += b.v[l];
    return a;
  }
  static void StoreF(float* p, const VF& v, int n) {
    for (int l = 0; l < n; ++l) p[l] = v.v[l];
  }
  static VI MinI(VI a, VI b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] = a.v[l] < b.v[l] ? a.v[l] : b.v[l];
    return a;
  }
  static VI MaxI(VI a, VI b) {
    for (int l = 0; l < kLanes; ++l) a.v[l] = a.v[l] > b.v[l] ? a.v[l] : b.v[l];
    return a;
  }
  // Rounded half away from zero, saturated; NaN gives -128.
  static void StoreI8(int8_t* p, const VF& v, int n) {
    for (int l = 0; l < n; ++l) {
      const float x = v.v[l];
      p[l] = !(x >= -128.0f) ? int8_t{-128}
             : x > 127.0f    ? int8_t{127}
                             : static_cast<int8_t>(std::round(x));
    }
  }
  static uint32_t GtBits(const VI& a, const VI& b) {
    uint32_t bits = 0;
    for (int l = 0; l < kLanes; ++l) bits |= uint32_t{a.v[l] > b.v[l]} << l;
    return bits;
  }
};

#define XBNN_INLINE inline
#include "kernels/binary/optimized/bconv_driver.inc"

constexpr BConvVariant kVariant = {Traits::kLanes, Traits::kMaxVectors,      Traits::kRows, false,
                                   false,          &BConvDriver<Traits>::Run};

}  // namespace

const BConvVariant* BConvVariantPortable() { return &kVariant; }

}  // namespace xbnn::kernels::optimized
