// AMX-INT8 probes behind the AMX LceBconv2d kernel's design (docs/performance.md): TDPBSSD and
// TILELOADD rates, the 2x2-tile product loop the kernel runs, and what vector work between its
// steps costs. Prints one line per probe; on CPUs without usable AMX-INT8 it says so and exits 0.
//
//   build/bench/bench_amx
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

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

// The kernel's job loop: per K step two input and two weight tiles meet four accumulators; a job
// of 9 steps (a 3x3x64 layer) ends in four tile stores to `acc` (two buffers, alternating).
// With `vectors` > 0, every step also runs that many epilogue-like vectors (load, multiply-add,
// add a residual, clamp, store) whose first load reads `epi` (the other accumulator buffer when
// epi == nullptr: what the kernel's epilogue reads).
XBNN_AMX_TARGET void Jobs(const int8_t* a, const int8_t* b, int32_t* acc, const float* epi,
                          const float* res, float* sum, int vectors, int64_t jobs) {
  const __m512 m = _mm512_set1_ps(0.5f), c = _mm512_set1_ps(0.25f);
  int64_t off = 0;
  for (int64_t j = 0; j < jobs; ++j) {
    int32_t* store = acc + 1024 * (j & 1);
    const float* read =
        epi != nullptr ? epi : reinterpret_cast<const float*>(acc + 1024 * (~j & 1));
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int k = 0; k < 9; ++k) {
      const int8_t* x = a + 64 * k;
      const int8_t* w = b + 2048 * k;
      _tile_loadd(4, x, 64);
      _tile_loadd(6, w, 64);
      _tile_dpbssd(0, 4, 6);
      _tile_loadd(5, x + 1024, 64);
      _tile_dpbssd(2, 5, 6);
      _tile_loadd(7, w + 1024, 64);
      _tile_dpbssd(1, 4, 7);
      _tile_dpbssd(3, 5, 7);
      for (int v = 0; v < vectors; ++v, ++off) {
        __m512 t = _mm512_load_ps(read + 16 * (off & 63));
        t = _mm512_add_ps(_mm512_mul_ps(t, m), c);
        t = _mm512_add_ps(t, _mm512_load_ps(res + 16 * (off & 1023)));
        _mm512_store_ps(sum + 16 * (off & 1023), _mm512_min_ps(_mm512_max_ps(t, c), m));
      }
    }
    _tile_stored(0, store, 64);
    _tile_stored(1, store + 256, 64);
    _tile_stored(2, store + 512, 64);
    _tile_stored(3, store + 768, 64);
  }
}

template <class T>
std::unique_ptr<T, decltype(&std::free)> Aligned(size_t count) {
  auto* p = static_cast<T*>(std::aligned_alloc(4096, (count * sizeof(T) + 4095) / 4096 * 4096));
  for (size_t i = 0; i < count; ++i) p[i] = static_cast<T>(i % 97);
  return {p, &std::free};
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
  auto big = Aligned<int8_t>(int64_t{16} << 20);
  for (int64_t span : {int64_t{16} << 10, int64_t{1} << 20, int64_t{16} << 20}) {
    Loads(big.get(), span, n / 4);  // warm
    s = Best(kReps, [&] { Loads(big.get(), span, n); });
    std::printf("TILELOADD 1 KB, %5lld KB span: %6.2f ns each (%.0f GB/s)\n",
                static_cast<long long>(span >> 10), s / (2.0 * n) * 1e9, 2048.0 * n / s / 1e9);
  }
  auto a = Aligned<int8_t>(4096), b = Aligned<int8_t>(9 * 2048);
  auto acc = Aligned<int32_t>(2048);
  auto other = Aligned<float>(1024), res = Aligned<float>(16384), sum = Aligned<float>(16384);
  const int64_t jobs = 20000;
  const double macs = static_cast<double>(jobs) * 9 * 4 * 16 * 16 * 64;
  const double alone = Best(
      kReps, [&] { Jobs(a.get(), b.get(), acc.get(), nullptr, res.get(), sum.get(), 0, jobs); });
  std::printf("job loop (9 K steps, 2x2 tiles): %6.1f ns per step, %.2f T int8 MAC/s\n",
              alone / (9.0 * jobs) * 1e9, macs / alone / 1e12);
  for (int vectors : {4, 8}) {
    const double o = Best(kReps, [&] {
      Jobs(a.get(), b.get(), acc.get(), other.get(), res.get(), sum.get(), vectors, jobs);
    });
    const double t = Best(kReps, [&] {
      Jobs(a.get(), b.get(), acc.get(), nullptr, res.get(), sum.get(), vectors, jobs);
    });
    std::printf(
        "+ %d epilogue vectors per step: %6.1f ns per step reading other memory, %6.1f ns "
        "reading the tile-stored accumulators\n",
        vectors, o / (9.0 * jobs) * 1e9, t / (9.0 * jobs) * 1e9);
  }
  return 0;
}

#else

int main() {
  std::printf("the AMX probes need x86-64\n");
  return 0;
}

#endif
