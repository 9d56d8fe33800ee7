// Bitpacking (LceQuantize) bandwidth against memcpy of the same input bytes.
// Arguments: source (0 float, 1 int8), element count, threads.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/binary/optimized/bitpack.h"

namespace {

using xbnn::kernels::optimized::PackKernel;
using xbnn::kernels::optimized::PackParams;
using xbnn::kernels::optimized::PackSource;

xbnn::kernels::TaskRunner* Runner(int threads) {
  static auto* one = new xbnn::kernels::SerialRunner();
  static auto* two = new xbnn::kernels::StdThreadRunner(2);
  return threads == 1 ? static_cast<xbnn::kernels::TaskRunner*>(one) : two;
}

void BM_Pack(benchmark::State& state) {
  const auto source = static_cast<PackSource>(state.range(0));
  const int64_t elements = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  const int channels = 64;
  PackParams params;
  params.source = source;
  params.outer = elements / channels;
  params.channels = channels;
  auto kernel = PackKernel::Create(params);
  if (!kernel.ok()) {
    state.SkipWithError(kernel.status().message().c_str());
    return;
  }
  const size_t bytes = elements * (source == PackSource::kFloat32 ? 4 : 1);
  std::vector<uint8_t> in(bytes);
  std::mt19937 rng(3);
  for (auto& b : in) b = static_cast<uint8_t>(rng());
  std::vector<int32_t> out(elements / 32);
  double fastest = 1e9;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    (*kernel)->Run(in.data(), out.data(), Runner(threads));
    benchmark::ClobberMemory();
    fastest = std::min(fastest, std::chrono::duration<double>(
                                    std::chrono::steady_clock::now() - t0).count());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  // The fastest single call: robust against other processes on a shared machine.
  state.counters["best_GB/s"] = static_cast<double>(bytes) / fastest * 1e-9;
  state.SetLabel(xbnn::kernels::optimized::IsaName((*kernel)->isa()));
}

void BM_Memcpy(benchmark::State& state) {
  const auto source = static_cast<PackSource>(state.range(0));
  const int64_t elements = state.range(1);
  const size_t bytes = elements * (source == PackSource::kFloat32 ? 4 : 1);
  std::vector<uint8_t> in(bytes, 1), out(bytes);
  double fastest = 1e9;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    std::memcpy(out.data(), in.data(), bytes);
    benchmark::ClobberMemory();
    fastest = std::min(fastest, std::chrono::duration<double>(
                                    std::chrono::steady_clock::now() - t0).count());
  }
  state.counters["best_GB/s"] = static_cast<double>(bytes) / fastest * 1e-9;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// 56x56x64 (QuickNet's first binary layer input) and 112x112x64, float and int8.
void PackArgs(benchmark::internal::Benchmark* b) {
  for (int source : {0, 1}) {
    for (int64_t n : {int64_t{56 * 56 * 64}, int64_t{112 * 112 * 64}}) {
      for (int threads : {1, 2}) b->Args({source, n, threads});
    }
  }
}
void CopyArgs(benchmark::internal::Benchmark* b) {
  for (int source : {0, 1}) {
    for (int64_t n : {int64_t{56 * 56 * 64}, int64_t{112 * 112 * 64}}) b->Args({source, n});
  }
}

BENCHMARK(BM_Pack)->Apply(PackArgs)->UseRealTime();
BENCHMARK(BM_Memcpy)->Apply(CopyArgs)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
