// Raw xor+popcount+accumulate throughput of each instruction sequence, data in L1.
#include <benchmark/benchmark.h>

#include "ceiling.h"

namespace {

void BM_Ceiling(benchmark::State& state, xbnn::bench::CeilingFn fn) {
  alignas(64) static int32_t data[xbnn::bench::kCeilingWords];
  for (int i = 0; i < xbnn::bench::kCeilingWords; ++i) {
    data[i] = static_cast<int32_t>(i * 2654435761u);
  }
  const int64_t iters = 64;
  for (auto _ : state) benchmark::DoNotOptimize(fn(data, iters));
  const double macs = static_cast<double>(iters) * xbnn::bench::kCeilingWords * 32;
  state.counters["binary_MACs/s"] =
      benchmark::Counter(macs, benchmark::Counter::kIsIterationInvariantRate);
}

int Register() {
  for (const auto& v : xbnn::bench::CeilingVariants()) {
    benchmark::RegisterBenchmark(("BM_Ceiling/" + v.name).c_str(), BM_Ceiling, v.fn);
  }
  return 0;
}
const int registered = Register();

}  // namespace

BENCHMARK_MAIN();
