// BConv2D on AMX-INT8 tiles (optimized/bconv_amx.h): input rows and weights expanded from bits to
// bytes, TDPBSSD products, then the epilogue every x86 variant shares.
#include "kernels/binary/optimized/bconv_amx.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on _mm512_undefined_* (GCC PR105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <utility>

// AMX and AVX-512 for this file only: BConv2DKernel calls it where AmxUsable(kAmxInt8) said so.
#if defined(__clang__)
#pragma clang attribute push(                                                 \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2," \
                          "avx512vpopcntdq,amx-tile,amx-int8"))),             \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target( \
    "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2,avx512vpopcntdq,amx-tile,amx-int8")
#endif

#include "kernels/binary/x86/avx512_epilogue.h"

namespace xbnn::kernels::optimized {
namespace {

// The driver's epilogue only (no Gemm: Block is never instantiated here).
struct Traits : Avx512Epilogue {
  static constexpr int kLanes = 16;
  static constexpr int kMaxVectors = 4;
};

#include "kernels/binary/optimized/bconv_driver.inc"

using Driver = BConvDriver<Traits>;

// Padded image row y into its phase planes: the input pixels' bits as 0 / -1 bytes, zeros around.
void ExpandRow(const BConvPlan& p, const BConvAmxPlan& a, const int32_t* image, int y,
               int8_t* out) {
  // Locals: the byte stores may alias the plans, whose fields the compiler would otherwise reload
  // per pixel (with the index arithmetic, a third of this function's time).
  const int iy = y - a.pad_top, in_h = p.in_h, in_w = p.in_w;
  const int stride_w = a.stride_w, pad_left = a.pad_left, plane_w = a.plane_w;
  const int words = p.in_words;
  const int pairs = words / 2;  // whole 64-byte chunks; an odd last word fills half of one more
  const int64_t kc = a.kc;
  const int64_t row =
      (y % a.stride_h) * stride_w * a.plane_pixels + int64_t{y / a.stride_h} * plane_w;
  for (int rx = 0; rx < stride_w; ++rx) {
    int8_t* dst = out + (row + rx * a.plane_pixels) * kc;
    // Plane columns xi hold input column xi * stride_w + rx - pad_left: [xa, xb) are inside.
    int xa = 0, xb = 0;
    if (iy >= 0 && iy < in_h) {
      const int first = pad_left - rx;  // xi * stride_w >= first
      xa = first > 0 ? (first + stride_w - 1) / stride_w : 0;
      xb = (in_w + pad_left - rx + stride_w - 1) / stride_w;
      if (xb > plane_w) xb = plane_w;
      if (xa > xb) xa = xb;
    }
    __builtin_memset(dst, 0, static_cast<size_t>(xa * kc));
    const int32_t* src = image + (int64_t{iy} * in_w + xa * stride_w + rx - pad_left) * words;
    const int64_t src_step = int64_t{stride_w} * words;
    int8_t* d = dst + xa * kc;
    for (int xi = xa; xi < xb; ++xi, src += src_step, d += kc) {
      for (int c = 0; c < pairs; ++c) {
        uint64_t bits;
        __builtin_memcpy(&bits, src + 2 * c, 8);
        _mm512_storeu_si512(d + 64 * c, _mm512_movm_epi8(static_cast<__mmask64>(bits)));
      }
      if (words & 1) {
        const uint64_t bits = static_cast<uint32_t>(src[words - 1]);
        _mm512_storeu_si512(d + 64 * pairs, _mm512_movm_epi8(static_cast<__mmask64>(bits)));
      }
    }
    __builtin_memset(dst + xb * kc, 0, static_cast<size_t>((plane_w - xb) * kc));
  }
}

// Expands padded rows [lo, hi] of image `n` unless this run already did.
void ExpandRows(const BConvPlan& p, const BConvAmxPlan& a, const int32_t* input, int n, int lo,
                int hi, int64_t run, BConvAmxScratch& s) {
  if (s.run == run && s.image_n == n && lo >= s.row_lo && lo <= s.row_hi + 1) {
    if (hi <= s.row_hi) return;
    lo = s.row_hi + 1;  // continue the rows this thread expanded last
  } else {
    s.row_lo = lo;
  }
  const int32_t* image = input + int64_t{n} * p.in_h * p.in_w * p.in_words;
  for (int y = lo; y <= hi; ++y) ExpandRow(p, a, image, y, s.image);
  s.run = run;
  s.image_n = n;
  s.row_hi = hi;
}

// B rows of weights from their bits: -1 where a bit is set, +1 elsewhere (w' = 1 - 2w).
__attribute__((always_inline)) inline void BlendRows(const uint64_t* bits, int64_t rows,
                                                     int8_t* dst) {
  const __m512i plus = _mm512_set1_epi8(1), minus = _mm512_set1_epi8(-1);
  // Unrolled: in the K-step loop (32 rows) a rolled loop cost QuickNet 4% at one thread.
#pragma GCC unroll 32
  for (int64_t r = 0; r < rows; ++r) {
    _mm512_store_si512(dst + 64 * r,
                       _mm512_mask_blend_epi8(static_cast<__mmask64>(bits[r]), plus, minus));
  }
}

// The tile's weights as +1 / -1 bytes, B rows in [tap][chunk][vector] order; a slot keeps them
// (they never change).
const int8_t* ExpandWeights(const BConvAmxPlan& a, int tile, int vectors, BConvAmxScratch& s) {
  const int slot = tile % a.weight_slots;
  int8_t* dst = s.weights + slot * a.tile_weight_bytes;
  if (s.slot_tile[slot] == tile) return dst;
  BlendRows(a.filter_bits + a.bits_offset[tile], a.tile_weight_bytes / (64 * 4) * vectors, dst);
  s.slot_tile[slot] = tile;
  return dst;
}

// A job whose sums wait in `acc` for their epilogue, which runs in slices between the next job's
// tile instructions, so that the vector units may work while the tile unit does (measured: it hid
// little of the epilogue, but cost nothing).
struct Pending {
  void (*rows)(Pending& e, int count) = nullptr;  // the epilogue of the next `count` rows
  const BConvPlan* plan = nullptr;
  const BConvAmxPlan* amx = nullptr;
  void* output = nullptr;
  const BConvFused* fused = nullptr;  // clamp bounds set
  bool has_fused = false;
  int base = 0;         // the image's first output pixel
  int oy = 0, ox = 0;   // the next row's position on the plane grid
  int r = kAmxJobRows;  // the next row; kAmxJobRows: nothing pending
  int cp = 0, real = 0;
  const __m512i* pop = nullptr;
  const int32_t* acc = nullptr;  // [vector][32 pixels][16]

  void Run(int count) {
    if (r < kAmxJobRows) rows(*this, count);
  }
};

// Expands K step k's B tiles of NV vectors (16 rows each, `step` rows apart) into dst.
template <int NV>
inline void ExpandStep(const uint64_t* bits, int64_t k, int64_t bits_step, int8_t* dst) {
  BlendRows(bits + k * bits_step, NV * kAmxRows, dst);
}

// 32 pixels (from `in`) x NV * 16 channels: the sums of a' * w' over all taps and chunks, to acc
// as [vector][32 pixels][16]. Tiles: 0-3 accumulators (pixels 0-15 / 16-31 x vector 0 / 1),
// 4-5 input, 6-7 weights. The weights are expanded (`w`, K step k's NV tiles at k * step bytes)
// or, with kFromBits, expanded here from `bits` one K step ahead into `ring`: for weights used by
// few jobs, 8x less traffic than stored bytes, overlapping the tile unit's work.
template <int NV, bool kFromBits>
void Products(const BConvAmxPlan& a, const int8_t* in, int taps, const int8_t* w,
              const uint64_t* bits, int64_t step, int8_t* ring, int32_t* acc, Pending& pending) {
  _tile_zero(0);
  _tile_zero(2);
  if constexpr (NV > 1) {
    _tile_zero(1);
    _tile_zero(3);
  }
  const int64_t half = int64_t{kAmxRows} * a.kc;  // from pixel 0 to pixel 16
  constexpr int64_t kRing = int64_t{NV} * kAmxTileBytes;
  const int64_t steps = int64_t{taps} * a.chunks;
  if constexpr (kFromBits) ExpandStep<NV>(bits, 0, step, ring);
  // The pending epilogue in 8-row slices, spread over the K steps.
  const int64_t every = steps >= 4 ? steps / 4 : 1;
  int64_t k = 0;
  for (int t = 0; t < taps; ++t) {
    const int8_t* x = in + a.tap_offset[t] * a.kc;
    for (int c = 0; c < a.chunks; ++c, x += 64, ++k) {
      const int8_t* b;
      if constexpr (kFromBits) {
        if (k + 1 < steps) ExpandStep<NV>(bits, k + 1, step, ring + ((k + 1) & 1) * kRing);
        b = ring + (k & 1) * kRing;
      } else {
        b = w + k * step;
      }
      _tile_loadd(4, x, a.kc);
      // Kept weights (36 KB and more per tile) are reloaded for every job; with the input rows,
      // accumulators and the epilogue's rows they overflow L1, so they are read with the
      // streaming hint and leave L1 to the rest: 56x56x64 and 28x28x128 layers 4-10% faster
      // (bench_bconv and per-op profiles, 2-vCPU Xeon). The ring of per-step weights stays in L1.
      if constexpr (kFromBits) {
        _tile_loadd(6, b, 64);
      } else {
        _tile_stream_loadd(6, b, 64);
      }
      _tile_dpbssd(0, 4, 6);
      _tile_loadd(5, x + half, a.kc);
      _tile_dpbssd(2, 5, 6);
      if constexpr (NV > 1) {
        if constexpr (kFromBits) {
          _tile_loadd(7, b + kAmxTileBytes, 64);
        } else {
          _tile_stream_loadd(7, b + kAmxTileBytes, 64);
        }
        _tile_dpbssd(1, 4, 7);
        _tile_dpbssd(3, 5, 7);
      }
      if (k % every == 0) pending.Run(kAmxJobRows / 4);
    }
  }
  pending.Run(kAmxJobRows);
  _tile_stored(0, acc, 64);
  _tile_stored(2, acc + 256, 64);
  if constexpr (NV > 1) {
    _tile_stored(1, acc + 512, 64);
    _tile_stored(3, acc + 768, 64);
  }
}

template <int NV, BOutputType OT, bool kFull, EpilogueKind kKind = EpilogueKind{}>
void EpilogueRows(Pending& e, int count) {
  // Local copies: the epilogue's stores may alias anything, so without them the compiler reloads
  // every plan field after each store.
  const BConvPlan p = *e.plan;
  const BConvFused f = *e.fused;
  const int plane_w = e.amx->plane_w;
  const int end = e.r + count < kAmxJobRows ? e.r + count : kAmxJobRows;
  int oy = e.oy, ox = e.ox, r = e.r;
  for (; r < end && oy < p.out_h; ++r) {
    if (ox < p.out_w) {
      __m512i sums[1][NV];
      for (int j = 0; j < NV; ++j) {
        sums[0][j] = _mm512_sub_epi32(e.pop[j], _mm512_load_si512(e.acc + 512 * j + 16 * r));
      }
      const int border[1] = {BorderOffset(p, oy, ox)};
      Driver::Epilogue<1, NV, OT, kFull, true, kKind>(p, e.output, e.has_fused, f,
                                                      e.base + oy * p.out_w + ox, border, e.cp,
                                                      e.cp, e.real, sums);
    }
    if (++ox == plane_w) {
      ox = 0;
      ++oy;
    }
  }
  e.oy = oy;
  e.ox = ox;
  e.r = oy < p.out_h ? r : kAmxJobRows;
}

// EpilogueRows for the common fused case (a whole 64-channel tile, float output feeding a residual
// ADD whose sum is read, and its packed bits where kBits: QuickNet's last block of a stage feeds
// a pool, and took 1.5x the time per layer in the general epilogue): the same operations in the
// same order as Driver::Epilogue / FuseResidual, with the tile's multipliers, biases and bounds
// held in registers and no per-vector tests of the fused outputs (the general epilogue's branches
// and reloads took 10 cycles per 16 outputs on 56x56x64). With zero padding (kZeroPadding) the
// pixels with taps in the padding take the driver's epilogue (its correction; its fused kind); the
// others need none.
// The ADD's clamp (kZ) as kZClamp, for TFLite's bounds without an activation [lowest, max]
// (kZFinite) as Traits::ClampFinite, and none for +-infinity bounds (kZNone: the identity).
// kDoubled (EpilogueKind::doubled): x = 2 * s not formed, s meets BConvPlan::multiplier2.
enum ZClamp { kZClamp, kZFinite, kZNone };
template <bool kResidualFirst, bool kZeroPadding, bool kDoubled, bool kBits, ZClamp kZ>
void FusedTileRows(Pending& e, int count) {
  const BConvPlan& p = *e.plan;
  const BConvFused& f = *e.fused;
  const int plane_w = e.amx->plane_w, out_w = p.out_w, out_h = p.out_h;
  const int channels = p.out_channels, out_words = p.out_words;
  const float* residual = f.residual + e.cp;
  float* sum = f.sum + e.cp;
  int32_t* packed = kBits ? f.packed + e.cp / 32 : nullptr;
  const int32_t* acc = e.acc;
  const __m512i cmin = _mm512_set1_epi32(p.clamp_min), cmax = _mm512_set1_epi32(p.clamp_max);
  const __m512 lo = _mm512_set1_ps(f.min), hi = _mm512_set1_ps(f.max);
  __m512i pop[4];
  __m512 mul[4], add[4];
  for (int j = 0; j < 4; ++j) {
    pop[j] = e.pop[j];
    mul[j] = _mm512_loadu_ps((kDoubled ? p.multiplier2 : p.multiplier) + e.cp + 16 * j);
    add[j] = _mm512_loadu_ps(p.bias + e.cp + 16 * j);
  }
  const int end = e.r + count < kAmxJobRows ? e.r + count : kAmxJobRows;
  int oy = e.oy, ox = e.ox, r = e.r;
  // The pixel's rows by pointers stepped per output pixel (NHWC: (oy + 1, 0) follows
  // (oy, out_w - 1), and a slice starting on a padding column starts at the next row's first
  // pixel). Recomputed from oy and ox per pixel, the index arithmetic and the registers it took
  // (GCC kept pointers in vector registers) made LceBconv2d 1.03-1.05x slower.
  int64_t pix = e.base + int64_t{oy} * out_w + (ox < out_w ? ox : out_w);
  const float* res = residual + pix * channels;
  float* out = sum + pix * channels;
  int32_t* bits_out = kBits ? packed + pix * out_words : nullptr;
  const int32_t* a = acc + 16 * r;
  for (; r < end && oy < out_h; ++r, a += 16) {
    if (ox < out_w) {
      const int border[1] = {kZeroPadding ? BorderOffset(p, oy, ox) : 0};
      if (border[0] != 0) {
        __m512i sums[1][4];
        for (int j = 0; j < 4; ++j) {
          sums[0][j] = _mm512_sub_epi32(pop[j], _mm512_load_si512(a + 512 * j));
        }
        // (The driver's fused kind: the general one's run-time tests cost the 14x14 and 7x7 maps,
        // a quarter to half of whose pixels have padding taps.)
        constexpr EpilogueKind kBorder{
            .fused = true, .bits = kBits, .clamp_x = !kDoubled, .finite_z = kZ == kZFinite};
        Driver::Epilogue<1, 4, BOutputType::kFloat32, true, true, kBorder>(
            p, e.output, true, f, static_cast<int>(pix), border, e.cp, e.cp, 64, sums);
      } else {
        __m512 z4[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          __m512i x = _mm512_sub_epi32(pop[j], _mm512_load_si512(a + 512 * j));
          if constexpr (!kDoubled) {
            x = _mm512_add_epi32(x, x);
            x = _mm512_max_epi32(_mm512_min_epi32(x, cmax), cmin);
          }
          const __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(x), mul[j]), add[j]);
          const __m512 rv = _mm512_loadu_ps(res + 16 * j);
          __m512 z = kResidualFirst ? _mm512_add_ps(rv, v) : _mm512_add_ps(v, rv);
          if constexpr (kZ == kZClamp) {
            z = _mm512_min_ps(hi, _mm512_max_ps(lo, z));
          } else if constexpr (kZ == kZFinite) {
            z = Traits::ClampFinite(z);
          }
          _mm512_storeu_ps(out + 16 * j, z);
          z4[j] = z;
        }
        if constexpr (kBits) {
          const uint64_t bits = Traits::NegBitsAll<4>(z4);
          __builtin_memcpy(bits_out, &bits, 8);
        }
      }
      ++pix;
      res += channels;
      out += channels;
      if constexpr (kBits) bits_out += out_words;
    }
    if (++ox == plane_w) {
      ox = 0;
      ++oy;
    }
  }
  e.oy = oy;
  e.ox = ox;
  e.r = oy < out_h ? r : kAmxJobRows;
}

using FusedRowsFn = void (*)(Pending& e, int count);

// FusedTileRows for index (residual first) + 2 (zero padding) + 4 (doubled) + 8 (bits) + 16 ZClamp.
template <size_t... I>
constexpr std::array<FusedRowsFn, sizeof...(I)> FusedRowsTable(std::index_sequence<I...>) {
  return {&FusedTileRows<(I & 1) != 0, (I & 2) != 0, (I & 4) != 0, (I & 8) != 0,
                         static_cast<ZClamp>(I / 16)>...};
}
constexpr auto kFusedRows = FusedRowsTable(std::make_index_sequence<48>());

template <BOutputType OT>
void TileJobs(const BConvPlan& p, const BConvAmxPlan& a, const int32_t* input, void* output,
              const BConvFused* fused_in, int job_begin, int job_end, int tile, int64_t run,
              BConvAmxScratch& s) {
  const bool has_fused = fused_in != nullptr;
  const BConvFused f = Driver::FusedCopy(fused_in);
  const int real = p.out_channels - tile * p.tile_channels;  // channels left from this tile on
  const int vectors = real >= 64 ? 4 : (real + 15) / 16;
  // Expanded once and kept when all the layer's tiles fit the thread's slots; else expanded per
  // job and K step.
  const bool keep = a.weight_slots > 1 || p.total_tiles == 1;
  const int8_t* w = keep ? ExpandWeights(a, tile, vectors, s) : nullptr;
  const uint64_t* bits = a.filter_bits + a.bits_offset[tile];
  __m512i pop[4];
  for (int j = 0; j < 4; ++j) {
    pop[j] = _mm512_loadu_si512(a.popcount + tile * p.tile_channels + 16 * j);
  }
  // A job's epilogue (all the tile's channels) runs during the next job's products (accumulators
  // double-buffered).
  Pending pending;
  pending.plan = &p;
  pending.amx = &a;
  pending.output = output;
  pending.fused = &f;
  pending.has_fused = has_fused;
  int parity = 0;
  // An epilogue chain (whole tiles) runs step by step on each pixel's 4 vectors in registers
  // (Driver::ChainSteps); on a partial tile, lane by lane in the general epilogue.
  const bool chain = OT == BOutputType::kFloat32 && has_fused && real >= 64 && f.chain != nullptr;
  const bool fast_fused = OT == BOutputType::kFloat32 && has_fused && real >= 64 &&
                          f.chain == nullptr && f.sum != nullptr;
  const bool doubled = !p.clamp_x && p.multiplier2 != nullptr;
  // (FusedCopy gives an ADD without a clamp +-infinity bounds.)
  const ZClamp zc = f.min == -__builtin_inff() && f.max == __builtin_inff() ? kZNone
                    : Driver::FiniteBounds(f)                               ? kZFinite
                                                                            : kZClamp;
  FusedRowsFn fused_rows = kFusedRows[(f.residual_first ? 1 : 0) | (p.zero_padding ? 2 : 0) |
                                      (doubled ? 4 : 0) | (f.packed != nullptr ? 8 : 0) | 16 * zc];
  if constexpr (OT == BOutputType::kFloat32) {
    if (chain) {
      fused_rows = doubled
                       ? &EpilogueRows<4, OT, true, EpilogueKind{.chain = true, .doubled = true}>
                       : &EpilogueRows<4, OT, true, EpilogueKind{.clamp_x = true, .chain = true}>;
    }
  }
  for (int job = job_begin; job < job_end; ++job) {
    const int n = job / a.jobs_per_image;
    const int q = (job - n * a.jobs_per_image) * kAmxJobRows;
    const int oy_lo = q / a.plane_w;
    const int oy_hi = (q + kAmxJobRows - 1) / a.plane_w;
    const int lo = oy_lo * a.stride_h;
    int hi = (oy_hi < p.out_h ? oy_hi : p.out_h - 1) * a.stride_h + (a.kernel_h - 1) * a.dilation_h;
    if (hi > a.rows - 1) hi = a.rows - 1;
    ExpandRows(p, a, input, n, lo, hi, run, s);
    const int8_t* in = s.image + int64_t{q} * a.kc;
    int32_t* acc = s.acc + 2048 * parity;
    parity ^= 1;
    const int64_t wstep = int64_t{vectors} * kAmxTileBytes;
    const int64_t bstep = int64_t{vectors} * kAmxRows;
    for (int v = 0; v < vectors; v += 2) {
      const int8_t* wv = keep ? w + v * kAmxTileBytes : nullptr;
      const uint64_t* bv = bits + v * kAmxRows;
      int32_t* av = acc + 512 * v;
      if (v + 1 < vectors) {
        if (keep) {
          Products<2, false>(a, in, p.taps, wv, nullptr, wstep, nullptr, av, pending);
        } else {
          Products<2, true>(a, in, p.taps, nullptr, bv, bstep, s.ring, av, pending);
        }
      } else if (keep) {
        Products<1, false>(a, in, p.taps, wv, nullptr, wstep, nullptr, av, pending);
      } else {
        Products<1, true>(a, in, p.taps, nullptr, bv, bstep, s.ring, av, pending);
      }
    }
    pending.Run(kAmxJobRows);  // what the products' K steps left
    pending.rows = fast_fused || chain ? fused_rows
                   : real >= 64        ? &EpilogueRows<4, OT, true>
                   : real > 48         ? &EpilogueRows<4, OT, false>
                   : real > 32         ? &EpilogueRows<3, OT, false>
                   : real > 16         ? &EpilogueRows<2, OT, false>
                                       : &EpilogueRows<1, OT, false>;
    pending.base = n * p.out_h * p.out_w;
    pending.oy = q / a.plane_w;
    pending.ox = q - pending.oy * a.plane_w;
    pending.r = 0;
    pending.cp = tile * p.tile_channels;
    pending.real = real >= 64 ? 64 : real;
    pending.pop = pop;
    pending.acc = acc;
  }
  pending.Run(kAmxJobRows);
}

template <BOutputType OT>
void RunTyped(const BConvPlan& plan, const BConvAmxPlan& amx, const int32_t* input, void* output,
              const BConvFused* fused, int job_begin, int job_end, int tile_begin, int tile_end,
              int64_t run, BConvAmxScratch& scratch) {
  // Local copies: the epilogue's stores may alias anything, so without them the compiler reloads
  // every plan field after each store.
  const BConvPlan p = plan;
  const BConvAmxPlan a = amx;
  BConvAmxScratch s = scratch;
  for (int tile = tile_begin; tile < tile_end; ++tile) {
    TileJobs<OT>(p, a, input, output, fused, job_begin, job_end, tile, run, s);
  }
  scratch = s;
}

}  // namespace

void BConvAmxRun(const BConvPlan& p, const BConvAmxPlan& a, const int32_t* input, void* output,
                 const BConvFused* fused, int job_begin, int job_end, int tile_begin, int tile_end,
                 int64_t run, BConvAmxScratch& s) {
  LoadAmxTileConfig();
  // The tile unit sleeps after a few microseconds without products, and the first product then
  // waits ~3 us for it while other instructions go on: one on the zeroed tiles (tile 0 is zeroed
  // again before use) wakes it while the task expands its weights and first rows. QuickNet's
  // tasks that met a sleeping unit at their first product: 25% -> 0.2% (docs/performance.md).
  _tile_dpbssd(0, 4, 6);
  switch (p.output_type) {
    case BOutputType::kFloat32:
      RunTyped<BOutputType::kFloat32>(p, a, input, output, fused, job_begin, job_end, tile_begin,
                                      tile_end, run, s);
      break;
    case BOutputType::kInt8:
      RunTyped<BOutputType::kInt8>(p, a, input, output, nullptr, job_begin, job_end, tile_begin,
                                   tile_end, run, s);
      break;
    case BOutputType::kBitpacked:
      RunTyped<BOutputType::kBitpacked>(p, a, input, output, nullptr, job_begin, job_end,
                                        tile_begin, tile_end, run, s);
      break;
  }
  _tile_release();
}

}  // namespace xbnn::kernels::optimized

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // __x86_64__
