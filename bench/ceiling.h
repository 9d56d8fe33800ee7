// The xor+popcount ceiling: the throughput of the best instruction sequence this CPU has for
// "xor two 512-bit (or 256/64-bit) blocks, count the ones, accumulate", with data in L1. Each bit
// xor-ed and counted is one binary multiply-accumulate (MAC). Kernels are reported as a fraction
// of this number.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace xbnn::bench {

// 16 KiB of operands: stays in L1.
inline constexpr int kCeilingWords = 4096;

// Each function runs `iters` passes over `a` (kCeilingWords int32 words) and returns a checksum;
// every pass is kCeilingWords * 32 binary MACs.
using CeilingFn = uint64_t (*)(const int32_t* a, int64_t iters);

inline uint64_t CeilingScalar(const int32_t* a, int64_t iters) {
  // 64-bit xor + popcnt + add, 4 independent accumulators.
  const uint64_t* p = reinterpret_cast<const uint64_t*>(a);
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const uint64_t k = 0x9E3779B97F4A7C15ull;
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kCeilingWords / 2; i += 4) {
      s0 += static_cast<uint64_t>(__builtin_popcountll(p[i] ^ k));
      s1 += static_cast<uint64_t>(__builtin_popcountll(p[i + 1] ^ k));
      s2 += static_cast<uint64_t>(__builtin_popcountll(p[i + 2] ^ k));
      s3 += static_cast<uint64_t>(__builtin_popcountll(p[i + 3] ^ k));
    }
    __asm__ volatile("" : "+r"(s0), "+r"(s1), "+r"(s2), "+r"(s3));
  }
  return s0 + s1 + s2 + s3;
}

#if defined(__x86_64__)
__attribute__((target("popcnt"))) inline uint64_t CeilingScalarPopcnt(const int32_t* a,
                                                                      int64_t iters) {
  const uint64_t* p = reinterpret_cast<const uint64_t*>(a);
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const uint64_t k = 0x9E3779B97F4A7C15ull;
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kCeilingWords / 2; i += 4) {
      s0 += static_cast<uint64_t>(__builtin_popcountll(p[i] ^ k));
      s1 += static_cast<uint64_t>(__builtin_popcountll(p[i + 1] ^ k));
      s2 += static_cast<uint64_t>(__builtin_popcountll(p[i + 2] ^ k));
      s3 += static_cast<uint64_t>(__builtin_popcountll(p[i + 3] ^ k));
    }
    __asm__ volatile("" : "+r"(s0), "+r"(s1), "+r"(s2), "+r"(s3));
  }
  return s0 + s1 + s2 + s3;
}

// GCC at -O3 unrolls the AVX2 loops below completely and reassociates the byte-counter adds
// into a tree whose partial sums spill to the stack: the planes form then read 400 G binary MAC/s
// on a Zen 3 core instead of 500 G (123 instead of 155 MACs per cycle). One step per loop
// iteration and an empty asm that takes the counters keep each counter a chain in a register.
#define XBNN_CEILING_KEEP(c0, c1, c2, c3) __asm__("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3))

// c + popcount(v ^ k) per byte: both nibbles looked up in `lut` (an AVX2 step of CeilingAvx2).
__attribute__((target("avx2"))) inline __m256i CountNibblePairs(__m256i c, __m256i v, __m256i k,
                                                                __m256i lut) {
  const __m256i nib = _mm256_set1_epi8(0x0F);
  const __m256i x = _mm256_xor_si256(v, k);
  const __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, nib));
  const __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
  return _mm256_add_epi8(_mm256_add_epi8(c, lo), hi);
}

// c + popcount(v ^ k) per byte of nibbles (a step of CeilingAvx2Planes).
__attribute__((target("avx2"))) inline __m256i CountNibbles(__m256i c, __m256i v, __m256i k,
                                                            __m256i lut) {
  return _mm256_add_epi8(c, _mm256_shuffle_epi8(lut, _mm256_xor_si256(v, k)));
}

// AVX2: vpxor, two vpshufb nibble lookups, vpaddb into byte counters (flushed with vpsadbw).
__attribute__((target("avx2"))) inline uint64_t CeilingAvx2(const int32_t* a, int64_t iters) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                       1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i k = _mm256_set1_epi32(0x5A3C96E1);
  __m256i total = _mm256_setzero_si256();
  for (int64_t it = 0; it < iters; ++it) {
    const __m256i* p = reinterpret_cast<const __m256i*>(a);
    for (int i = 0; i < kCeilingWords / 8; i += 16) {  // 16 blocks: 8 * 16 < 256 per byte
      __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256();
      __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
#pragma GCC unroll 1
      for (int j = 0; j < 16; j += 4) {
        const __m256i* q = p + i + j;
        c0 = CountNibblePairs(c0, _mm256_load_si256(q), k, lut);
        c1 = CountNibblePairs(c1, _mm256_load_si256(q + 1), k, lut);
        c2 = CountNibblePairs(c2, _mm256_load_si256(q + 2), k, lut);
        c3 = CountNibblePairs(c3, _mm256_load_si256(q + 3), k, lut);
        XBNN_CEILING_KEEP(c0, c1, c2, c3);
      }
      const __m256i c = _mm256_add_epi8(_mm256_add_epi8(c0, c1), _mm256_add_epi8(c2, c3));
      total = _mm256_add_epi64(total, _mm256_sad_epu8(c, _mm256_setzero_si256()));
    }
  }
  alignas(32) uint64_t t[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), total);
  return t[0] + t[1] + t[2] + t[3];
}

// AVX2 on operands stored as nibble planes (the AVX2 kernel's filter layout): a 256-bit block is
// two vectors of nibbles, so each costs 2 vpxor, 2 vpshufb and 2 vpaddb (no shift or masks).
__attribute__((target("avx2"))) inline uint64_t CeilingAvx2Planes(const int32_t* a, int64_t iters) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                       1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i k = _mm256_set1_epi32(0x0A0C0601);
  __m256i total = _mm256_setzero_si256();
  for (int64_t it = 0; it < iters; ++it) {
    const __m256i* p = reinterpret_cast<const __m256i*>(a);
    // The same data as one plane pair per 512 bits: kCeilingWords * 16 MACs per pass, so each
    // pass runs twice (32 blocks of 2 vectors: 8 * 32 < 256 per byte counter).
    for (int rep = 0; rep < 2; ++rep) {
      for (int i = 0; i < kCeilingWords / 8; i += 32) {
        __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256();
        __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
#pragma GCC unroll 1
        for (int j = 0; j < 32; j += 8) {
          const __m256i* q = p + i + j;
          c0 = CountNibbles(CountNibbles(c0, q[0], k, lut), q[4], k, lut);
          c1 = CountNibbles(CountNibbles(c1, q[1], k, lut), q[5], k, lut);
          c2 = CountNibbles(CountNibbles(c2, q[2], k, lut), q[6], k, lut);
          c3 = CountNibbles(CountNibbles(c3, q[3], k, lut), q[7], k, lut);
          XBNN_CEILING_KEEP(c0, c1, c2, c3);
        }
        const __m256i c = _mm256_add_epi8(_mm256_add_epi8(c0, c1), _mm256_add_epi8(c2, c3));
        total = _mm256_add_epi64(total, _mm256_sad_epu8(c, _mm256_setzero_si256()));
      }
    }
  }
  alignas(32) uint64_t t[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), total);
  return t[0] + t[1] + t[2] + t[3];
}
#undef XBNN_CEILING_KEEP

// AVX-512 VPOPCNTDQ: vpxord (memory operand), vpopcntd, vpaddd; 8 independent accumulators.
__attribute__((target("avx512f,avx512vpopcntdq"))) inline uint64_t CeilingAvx512Vpopcnt(
    const int32_t* a, int64_t iters) {
  const __m512i k = _mm512_set1_epi32(0x5A3C96E1);
  __m512i s[8];
  for (auto& v : s) v = _mm512_setzero_si512();
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kCeilingWords; i += 128) {
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const __m512i x = _mm512_xor_si512(_mm512_load_si512(a + i + 16 * j), k);
        s[j] = _mm512_add_epi32(s[j], _mm512_popcnt_epi32(x));
      }
    }
  }
  __m512i t = s[0];
  for (int j = 1; j < 8; ++j) t = _mm512_add_epi32(t, s[j]);
  alignas(64) uint32_t lanes[16];
  _mm512_store_si512(lanes, t);
  uint64_t sum = 0;
  for (uint32_t x : lanes) sum += x;
  return sum;
}
#endif

struct CeilingVariant {
  std::string name;
  CeilingFn fn;
};

inline std::vector<CeilingVariant> CeilingVariants() {
  std::vector<CeilingVariant> v;
  v.push_back({"scalar_swar_or_libgcc", &CeilingScalar});
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("popcnt")) v.push_back({"scalar_popcnt64", &CeilingScalarPopcnt});
  if (__builtin_cpu_supports("avx2")) {
    v.push_back({"avx2_pshufb", &CeilingAvx2});
    v.push_back({"avx2_pshufb_planes", &CeilingAvx2Planes});
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) {
    v.push_back({"avx512_vpopcntd", &CeilingAvx512Vpopcnt});
  }
#endif
  return v;
}

// Binary MACs per second of `fn`: the best of `reps` runs of 2000 passes (a ceiling; a pass
// of the AVX2 forms takes ~0.3-1 us).
inline double MeasureMacsPerSecond(CeilingFn fn, int reps = 20) {
  alignas(64) static int32_t data[kCeilingWords];
  for (int i = 0; i < kCeilingWords; ++i) data[i] = static_cast<int32_t>(i * 2654435761u);
  volatile uint64_t sink = fn(data, 100);  // warm up (clocks, caches)
  double best = 0;
  for (int rep = 0; rep < reps; ++rep) {
    const int64_t iters = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + fn(data, iters);
    const auto t1 = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    const double macs = static_cast<double>(iters) * kCeilingWords * 32;
    if (macs / s > best) best = macs / s;
  }
  (void)sink;
  return best;
}

// The ceiling: the best of every variant this CPU runs.
inline double CeilingMacsPerSecond(std::string* which = nullptr) {
  static double best = 0;
  static std::string best_name;
  if (best == 0) {
    for (const CeilingVariant& v : CeilingVariants()) {
      const double r = MeasureMacsPerSecond(v.fn);
      if (r > best) {
        best = r;
        best_name = v.name;
      }
    }
  }
  if (which != nullptr) *which = best_name;
  return best;
}

// The float multiply-accumulate ceiling: fused multiply-adds on registers only, in the widest form
// the CPU runs: 16 independent accumulators with AVX-512 (32 registers), 12 with AVX2 (16
// registers: 16 accumulators and the two operands would spill to the stack every round and
// measure the stores, a third of the rate on Zen 3); either is enough to hide FMA latency on any
// x86 core. Returns float MACs per second (one FMA lane = one MAC); `which` names the form.
#if defined(__x86_64__)
// The best of `reps` timed runs of `iters` rounds of ACCS independent FMAs, in MACs per second.
// Distinct start values and the asm barriers keep the compiler from merging accumulators or rounds.
#define XBNN_FMA_ROUNDS(V, FMA, SET1, LANES, ACCS)                                     \
  double best = 0;                                                                     \
  for (int rep = 0; rep < reps; ++rep) {                                               \
    V acc[ACCS];                                                                       \
    for (int i = 0; i < (ACCS); ++i) acc[i] = SET1(1e-3f * static_cast<float>(i + 1)); \
    const V mul = SET1(0.999f), add = SET1(1e-3f);                                     \
    const int64_t iters = 200000;                                                      \
    const auto t0 = std::chrono::steady_clock::now();                                  \
    for (int64_t it = 0; it < iters; ++it) {                                           \
      for (V & a : acc) a = FMA(a, mul, add);                                          \
      for (V & a : acc) __asm__ volatile("" : "+v"(a));                                \
    }                                                                                  \
    const auto t1 = std::chrono::steady_clock::now();                                  \
    V sum = acc[0];                                                                    \
    for (int i = 1; i < (ACCS); ++i) sum = FMA(sum, mul, acc[i]);                      \
    volatile V sink = sum;                                                             \
    (void)sink;                                                                        \
    const double s = std::chrono::duration<double>(t1 - t0).count();                   \
    const double macs = static_cast<double>(iters) * (ACCS) * (LANES);                 \
    if (macs / s > best) best = macs / s;                                              \
  }                                                                                    \
  return best;

__attribute__((target("avx512f"))) inline double FmaAvx512(int reps) {
  XBNN_FMA_ROUNDS(__m512, _mm512_fmadd_ps, _mm512_set1_ps, 16, 16)
}

__attribute__((target("avx2,fma"))) inline double FmaAvx2(int reps) {
  XBNN_FMA_ROUNDS(__m256, _mm256_fmadd_ps, _mm256_set1_ps, 8, 12)
}
#undef XBNN_FMA_ROUNDS
#endif

inline double FmaMacsPerSecond(std::string* which = nullptr, int reps = 20) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) {
    if (which != nullptr) *which = "avx512f vfmadd";
    return FmaAvx512(reps);
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    if (which != nullptr) *which = "avx2 vfmadd";
    return FmaAvx2(reps);
  }
#endif
  if (which != nullptr) *which = "none";
  return 0;
}

#if defined(__x86_64__)
// The AMX-INT8 ceiling: TDPBSSD on 2x2 accumulator tiles with operands from L1 (16x64 by 64x16
// bytes, 16384 byte products per instruction), in byte MACs per second; the amx bconv variant does
// one byte product per binary MAC. The caller checks xbnn::kernels::optimized::AmxUsable first.
__attribute__((target("amx-tile,amx-int8"))) inline double AmxInt8MacsPerSecond() {
  alignas(64) static int8_t a[2048], b[2048];
  alignas(64) static int32_t c[1024];
  alignas(64) uint8_t cfg[64] = {};
  cfg[0] = 1;
  for (int t = 0; t < 8; ++t) {
    cfg[16 + 2 * t] = 64;
    cfg[48 + t] = 16;
  }
  __asm__ volatile("ldtilecfg %0" ::"m"(cfg));
  double best = 0;
  for (int rep = 0; rep < 20; ++rep) {
    const int64_t iters = 20000;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t it = 0; it < iters; ++it) {
      _tile_loadd(4, a, 64);
      _tile_loadd(5, a + 1024, 64);
      _tile_loadd(6, b, 64);
      _tile_loadd(7, b + 1024, 64);
      _tile_dpbssd(0, 4, 6);
      _tile_dpbssd(1, 4, 7);
      _tile_dpbssd(2, 5, 6);
      _tile_dpbssd(3, 5, 7);
    }
    _tile_stored(0, c, 64);
    _tile_stored(1, c + 256, 64);
    const auto t1 = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    const double macs = static_cast<double>(iters) * 4 * 16 * 16 * 64;
    if (macs / s > best) best = macs / s;
  }
  _tile_release();
  return best;
}
#endif

}  // namespace xbnn::bench
