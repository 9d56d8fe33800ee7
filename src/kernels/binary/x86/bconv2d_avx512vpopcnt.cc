// BConv2D micro-kernel for AVX-512 VPOPCNTDQ (Ice Lake, Zen 4 and later): per 32-bit K word and
// output pixel, one broadcast input word is xor-ed with 16 output channels' filter words, vpopcntd
// counts the disagreements and vpaddd accumulates: three vector ops per 512 bit-MACs. A 6 pixel x
// 64 channel tile keeps 24 accumulators in zmm registers; no horizontal sums are needed since the
// lanes are output channels.
#include "kernels/binary/optimized/variants.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on _mm512_undefined_* (GCC PR105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

// AVX-512 VPOPCNTDQ for this file only: the library runs on any x86-64 and isa_table.inc picks this
// variant at run time. (The intrinsics header comes first: its functions carry their own targets.)
#if defined(__clang__)
#pragma clang attribute push(                                                                    \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2,avx512vpopcntdq"))), \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2,avx512vpopcntdq")
// GCC's tree PRE hoists the broadcast loads of the 6x4 micro-kernel and spills accumulators
// (34 stack accesses per K step instead of 0).
#pragma GCC optimize("no-tree-pre")
#endif

#include "kernels/binary/x86/avx512_epilogue.h"

namespace xbnn::kernels::optimized {
namespace {

struct Traits : Avx512Epilogue {
  static constexpr int kLanes = 16;
  static constexpr int kMaxVectors = 4;
  static constexpr int kRows = 6;
  // Zero-padded layers' inner pixels without the padding code: BinaryResNetE18's 56x56 layers
  // 1.09-1.11x, Bi-Real Net's 1.03-1.07x faster (Zen 5).
  static constexpr bool kSplitByPadding = true;

  template <int MR, int NV>
  static inline __attribute__((always_inline)) void Gemm(const int32_t* const* img,
                                                         const int32_t* const* ind,
                                                         const int32_t* zero, int taps, int cw,
                                                         const int32_t* f, __m512i (&acc)[MR][NV]) {
    // Local accumulators (not the caller's array) so that GCC keeps them in registers for the
    // whole K loop.
    __m512i r[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) r[i][j] = _mm512_setzero_si512();
    }
    for (int t = 0; t < taps; ++t) {
      const int32_t* a[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const int32_t off = ind[i][t];
        a[i] = off >= 0 ? img[i] + off : zero;
      }
      for (int w = 0; w < cw; ++w) {
        __m512i fv[NV];
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) fv[j] = _mm512_loadu_si512(f + 16 * j);
        f += 16 * NV;
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
          const __m512i b = _mm512_set1_epi32(a[i][w]);
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) {
            r[i][j] = _mm512_add_epi32(r[i][j], _mm512_popcnt_epi32(_mm512_xor_si512(fv[j], b)));
          }
        }
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = r[i][j];
    }
  }
};

#include "kernels/binary/optimized/bconv_driver.inc"

// The pixel-lane layout (BConvPlan::lane_pitch): lanes are 16 neighbouring output positions of a
// padded row, so each tap is one vector load for 16 pixels, xor-ed with one output channel's
// broadcast filter word per accumulator. On QuickNetSmall's 56x56x32 layers (one input word per
// pixel) the indirection layout spends more on each pixel's offset load, test and broadcast than
// on the three vector ops per 512 bit-MACs.
struct Lanes {
  using Driver = BConvDriver<Traits>;

  // r[o] (lane l) = sum over taps of popcount(input word of position l ^ filter word of channel
  // o); `f` is the tile's filter from vector v's first channel, `width` its words per tap.
  static XBNN_INLINE void Gemm(const int32_t* in, int pitch, int kernel_h, int kernel_w,
                               const int32_t* f, int width, __m512i (&out)[16]) {
    __m512i r[16];
#pragma GCC unroll 16
    for (int o = 0; o < 16; ++o) r[o] = _mm512_setzero_si512();
    for (int ky = 0; ky < kernel_h; ++ky) {
      const int32_t* row = in + ky * pitch;
      for (int kx = 0; kx < kernel_w; ++kx) {
        const __m512i a = _mm512_loadu_si512(row + kx);
#pragma GCC unroll 16
        for (int o = 0; o < 16; ++o) {
          r[o] = _mm512_add_epi32(
              r[o], _mm512_popcnt_epi32(_mm512_xor_si512(a, _mm512_set1_epi32(f[o]))));
        }
        f += width;
      }
    }
#pragma GCC unroll 16
    for (int o = 0; o < 16; ++o) out[o] = r[o];
  }

  // 16 x 16 int32 transpose: r[i] lane j becomes r[j] lane i.
  static XBNN_INLINE void Transpose(__m512i (&r)[16]) {
    __m512i t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
      r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
      r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
      r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    // r[4i + k] lane 4q + m (128-bit block q) = input row 4i + m, column 4q + k.
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        t[8 * i + k] = _mm512_shuffle_i32x4(r[8 * i + k], r[8 * i + 4 + k], 0x88);
        t[8 * i + 4 + k] = _mm512_shuffle_i32x4(r[8 * i + k], r[8 * i + 4 + k], 0xDD);
      }
    }
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      r[k] = _mm512_shuffle_i32x4(t[k], t[8 + k], 0x88);
      r[8 + k] = _mm512_shuffle_i32x4(t[k], t[8 + k], 0xDD);
    }
  }

  template <int NV, BOutputType OT, bool kFull, bool kPad, EpilogueKind kKind>
  static void Tile(const BConvPlan& plan, const int32_t* input, void* output,
                   const BConvFused* fused_in, int pixel_begin, int pixel_end, int tile) {
    const BConvPlan p = plan;  // local copies, as in BConvDriver::Tile
    const bool has_fused = fused_in != nullptr;
    const BConvFused f = Driver::FusedCopy(fused_in);
    const int c0 = tile * p.tile_channels;  // one group: padded and real indices agree
    const int real = kFull ? NV * 16 : Driver::MinInt(p.tile_channels, p.out_channels - c0);
    const int width = NV * 16;
    const int32_t* filter = p.filter + p.tile_offset[tile];
    const int image_pixels = p.out_h * p.out_w;
    const int64_t image_words = int64_t{p.lane_rows} * p.lane_pitch;
    alignas(64) int32_t acc[16][NV * 16];  // [position][channel]
    int pix = pixel_begin;
    while (pix < pixel_end) {
      const int n = pix / image_pixels;
      const int q = pix - n * image_pixels;
      int y = q / p.out_w;
      int x = q - y * p.out_w;
      int left = Driver::MinInt(pixel_end, (n + 1) * image_pixels) - pix;  // in this image
      const int32_t* in = input + n * image_words + int64_t{y} * p.lane_pitch + x;
      while (left > 0) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          __m512i r[16];
          Gemm(in, p.lane_pitch, p.kernel_h, p.kernel_w, filter + 16 * v, width, r);
          Transpose(r);
#pragma GCC unroll 16
          for (int l = 0; l < 16; ++l) _mm512_store_si512(&acc[l][16 * v], r[l]);
        }
        // Positions x >= out_w (the row's last kernel_w - 1) are no pixels.
        for (int l = 0; l < 16 && left > 0; ++l) {
          if (x < p.out_w) {
            __m512i a[1][NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) a[0][v] = _mm512_load_si512(&acc[l][16 * v]);
            const int border[1] = {BorderOffset(p, y, x)};
            Driver::template Epilogue<1, NV, OT, kFull, kPad, kKind>(p, output, has_fused, f, pix,
                                                                     border, c0, c0, real, a);
            ++pix;
            --left;
          }
          if (++x == p.lane_pitch) {
            x = 0;
            ++y;
          }
        }
        in += 16;
      }
    }
  }

  template <int NV, BOutputType OT>
  static void Dispatch(int nv, bool full, const BConvPlan& p, const int32_t* input, void* output,
                       const BConvFused* fused, int pixel_begin, int pixel_end, int tile) {
    if constexpr (NV > 0) {
      if (nv != NV) {
        Dispatch<NV - 1, OT>(nv, full, p, input, output, fused, pixel_begin, pixel_end, tile);
      } else if (!full) {
        if (p.zero_padding) {
          Tile<NV, OT, false, true, EpilogueKind{}>(p, input, output, fused, pixel_begin, pixel_end,
                                                    tile);
        } else {
          Tile<NV, OT, false, false, EpilogueKind{}>(p, input, output, fused, pixel_begin,
                                                     pixel_end, tile);
        }
      } else {
        constexpr bool kFused = Driver::template kFusedKinds<OT, NV>;
        Driver::template WithEpilogueKind<kFused>(p, fused, [&]<EpilogueKind K>() {
          if (p.zero_padding) {
            Tile<NV, OT, true, true, K>(p, input, output, fused, pixel_begin, pixel_end, tile);
          } else {
            Tile<NV, OT, true, false, K>(p, input, output, fused, pixel_begin, pixel_end, tile);
          }
        });
      }
    }
  }

  template <BOutputType OT>
  static void RunTyped(const BConvPlan& p, const int32_t* input, void* output,
                       const BConvFused* fused, int pixel_begin, int pixel_end, int tile_begin,
                       int tile_end) {
    for (int tile = tile_begin; tile < tile_end; ++tile) {
      const int real = Driver::MinInt(p.tile_channels, p.out_channels - tile * p.tile_channels);
      const int nv = (real + 15) / 16;
      Dispatch<Traits::kMaxVectors, OT>(nv, real == 16 * nv, p, input, output, fused, pixel_begin,
                                        pixel_end, tile);
    }
  }
};

void Run(const BConvPlan& p, const int32_t* input, void* output, const BConvFused* fused,
         int pixel_begin, int pixel_end, int tile_begin, int tile_end) {
  if (p.lane_pitch == 0) {
    BConvDriver<Traits>::Run(p, input, output, fused, pixel_begin, pixel_end, tile_begin, tile_end);
    return;
  }
  switch (p.output_type) {
    case BOutputType::kFloat32:
      Lanes::RunTyped<BOutputType::kFloat32>(p, input, output, fused, pixel_begin, pixel_end,
                                             tile_begin, tile_end);
      break;
    case BOutputType::kInt8:
      Lanes::RunTyped<BOutputType::kInt8>(p, input, output, nullptr, pixel_begin, pixel_end,
                                          tile_begin, tile_end);
      break;
    case BOutputType::kBitpacked:
      Lanes::RunTyped<BOutputType::kBitpacked>(p, input, output, nullptr, pixel_begin, pixel_end,
                                               tile_begin, tile_end);
      break;
  }
}

constexpr BConvVariant kVariant = {
    Traits::kLanes, Traits::kMaxVectors, Traits::kRows, false, true, &Run};

}  // namespace

}  // namespace xbnn::kernels::optimized

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace xbnn::kernels::optimized {
// Baseline code: the variant table calls it on any CPU.
const BConvVariant* BConvVariantAvx512Vpopcnt() { return &kVariant; }
}  // namespace xbnn::kernels::optimized

#endif  // __x86_64__
