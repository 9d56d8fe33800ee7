// AMX-INT8 probes behind the AMX LceBconv2d kernel's design (docs/performance.md): TDPBSSD and
// TILELOADD rates, and a 56x56x64 layer's tile loop with and without epilogue work between its
// steps and with plain or streaming weight loads. Prints one line per probe; on CPUs without usable
// AMX-INT8 it says so and exits 0.
//
//   build/bench/bench_amx
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "kernels/binary/optimized/aligned_buffer.h"
#include "kernels/binary/optimized/bconv_amx.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on _mm512_undefined_* (GCC PR105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#define XBNN_AMX_TARGET __attribute__((target("amx-tile,amx-int8,avx512f"), noinline))

namespace {

using Clock = std::chrono::steady_clock;

// Best of `reps` timings of fn(), in seconds.
template <class F>
double Best(int reps, F fn) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    fn();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s < best) best = s;
  }
  return best;
}

XBNN_AMX_TARGET void Config() { xbnn::kernels::optimized::LoadAmxTileConfig(); }

// n rounds of four TDPBSSD into four independent accumulators.
XBNN_AMX_TARGET void Products(int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
}

// n pairs of 1 KB tile loads walking `span` bytes of `p`.
XBNN_AMX_TARGET void Loads(const int8_t* p, int64_t span, int64_t n) {
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    _tile_loadd(4, p + off, 64);
    _tile_loadd(5, p + off + 1024, 64);
    off = off + 2048 < span ? off + 2048 : 0;
  }
}

// A 56x56x64 layer as the kernel runs it: 102 jobs of 32 output pixels; per job two calls (32
// channels each) of 9 K steps, in which two input tiles (from a 58-pixel-wide byte image, at the
// tap's row and column) meet two weight tiles in four accumulators, then four tile stores (two
// accumulator buffers in turn). `weight_kb` of weights cycle through the calls (18: one call's,
// 36: the layer's); `vectors` epilogue-like vectors per K step read the other accumulator buffer
// (as int32, as the kernel does: read as floats, small sums are denormals, whose arithmetic takes
// microcode assists), convert, scale, add a residual row and store a sum row; kStream loads the
// weight tiles with the streaming hint.
template <bool kStream>
XBNN_AMX_TARGET void Layer(const int8_t* image, const int8_t* weights, int weight_kb, int32_t* acc,
                           const float* res, float* sum, int vectors) {
  constexpr int kJobs = 102, kPlaneW = 58;
  const __m512 m = _mm512_set1_ps(0.5f), c = _mm512_set1_ps(0.25f);
  int64_t off = 0;
  for (int j = 0; j < kJobs; ++j) {
    const int8_t* in = image + int64_t{j} * 32 * 64;
    const int32_t* read = acc + 2048 * (~j & 1);
    for (int call = 0; call < 2; ++call) {
      const int8_t* w = weights + (call * 18432) % (weight_kb * 1024);
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (int t = 0; t < 9; ++t) {
        const int8_t* x = in + ((t / 3) * kPlaneW + t % 3) * 64;
        const int8_t* b = w + 2048 * t;
        _tile_loadd(4, x, 64);
        if constexpr (kStream) {
          _tile_stream_loadd(6, b, 64);
        } else {
          _tile_loadd(6, b, 64);
        }
        _tile_dpbssd(0, 4, 6);
        _tile_loadd(5, x + 1024, 64);
        _tile_dpbssd(2, 5, 6);
        if constexpr (kStream) {
          _tile_stream_loadd(7, b + 1024, 64);
        } else {
          _tile_loadd(7, b + 1024, 64);
        }
        _tile_dpbssd(1, 4, 7);
        _tile_dpbssd(3, 5, 7);
        for (int v = 0; v < vectors; ++v, ++off) {
          __m512 y = _mm512_cvtepi32_ps(_mm512_load_si512(read + 16 * (off & 127)));
          y = _mm512_add_ps(_mm512_mul_ps(y, m), c);
          y = _mm512_add_ps(y, _mm512_load_ps(res + 16 * (off & 8191)));
          _mm512_store_ps(sum + 16 * (off & 8191), y);
        }
      }
      int32_t* store = acc + 2048 * (j & 1) + 1024 * call;
      _tile_stored(0, store, 64);
      _tile_stored(1, store + 256, 64);
      _tile_stored(2, store + 512, 64);
      _tile_stored(3, store + 768, 64);
    }
  }
}

// A 64-byte aligned buffer (tile rows must be: unaligned ones load ~6x slower) of small values.
template <class T>
xbnn::kernels::optimized::AlignedBuffer<T> Filled(size_t count) {
  xbnn::kernels::optimized::AlignedBuffer<T> b(count);
  for (size_t i = 0; i < count; ++i) b[i] = static_cast<T>(i % 97);
  return b;
}

}  // namespace

int main() {
  using xbnn::kernels::optimized::AmxUsable;
  using xbnn::kernels::optimized::kAmxInt8;
  if (!AmxUsable(kAmxInt8)) {
    std::printf("AMX-INT8 is not usable on this CPU (or the OS did not grant the tile state)\n");
    return 0;
  }
  Config();
  constexpr int kReps = 5;
  const int64_t n = 200000;
  double s = Best(kReps, [&] { Products(n); });
  std::printf("TDPBSSD, 4 accumulators:     %6.2f ns each, %.2f T int8 MAC/s\n",
              s / (4.0 * n) * 1e9, 4.0 * n * 16 * 16 * 64 / s / 1e12);
  auto big = Filled<int8_t>(int64_t{16} << 20);
  for (int64_t span : {int64_t{16} << 10, int64_t{1} << 20, int64_t{16} << 20}) {
    Loads(big.data(), span, n / 4);  // warm
    s = Best(kReps, [&] { Loads(big.data(), span, n); });
    std::printf("TILELOADD 1 KB, %5lld KB span: %6.2f ns each (%.0f GB/s)\n",
                static_cast<long long>(span >> 10), s / (2.0 * n) * 1e9, 2048.0 * n / s / 1e9);
  }
  auto image = Filled<int8_t>(60 * 58 * 64), weights = Filled<int8_t>(36 * 1024);
  auto acc = Filled<int32_t>(4096);
  auto res = Filled<float>(8192 * 16), sum = Filled<float>(8192 * 16);  // 512 KB rows each
  std::printf("56x56x64 layer loop (1836 K steps), ns per K step:\n");
  std::printf("  weights | epilogue vectors per K step | tile loads | weights stream-loaded\n");
  for (int weight_kb : {18, 36}) {
    for (int vectors : {0, 4, 8}) {
      constexpr int kLayers = 20;
      const double plain = Best(kReps, [&] {
        for (int l = 0; l < kLayers; ++l) {
          Layer<false>(image.data(), weights.data(), weight_kb, acc.data(), res.data(), sum.data(),
                       vectors);
        }
      });
      const double stream = Best(kReps, [&] {
        for (int l = 0; l < kLayers; ++l) {
          Layer<true>(image.data(), weights.data(), weight_kb, acc.data(), res.data(), sum.data(),
                      vectors);
        }
      });
      std::printf("  %2d KB | %d | %5.1f | %5.1f\n", weight_kb, vectors,
                  plain / (kLayers * 1836.0) * 1e9, stream / (kLayers * 1836.0) * 1e9);
    }
  }
  return 0;
}

#else

int main() {
  std::printf("the AMX probes need x86-64\n");
  return 0;
}

#endif
