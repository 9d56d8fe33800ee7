// Binary convolution throughput on QuickNet's binary conv shapes, in binary MACs/s
// (out_channels * out_h * out_w * kernel_h * kernel_w * channels_in per image) and as a fraction
// of this CPU's xor+popcount ceiling (ceiling.h).
//
// Arguments: shape index, output type (0 float, 2 bitpacked), threads, ISA (Isa enum; 0 = best).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ceiling.h"
#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bconv2d.h"
#include "kernels/binary/optimized/bitpack.h"

namespace {

using xbnn::kernels::BConv2DParams;
using xbnn::kernels::BOutputType;
using xbnn::kernels::Padding;
using xbnn::kernels::optimized::BConv2DKernel;
using xbnn::kernels::optimized::Isa;

struct Shape {
  const char* name;
  int in_hw, cin, cout, k, stride;
};

// QuickNet's binary 3x3 convolutions, its stride-2 transitions and 1x1 shapes; QuickNetSmall's
// first 3x3 shape last.
const Shape kShapes[] = {
    {"56x56x64->64_3x3", 56, 64, 64, 3, 1},       {"28x28x128->128_3x3", 28, 128, 128, 3, 1},
    {"14x14x256->256_3x3", 14, 256, 256, 3, 1},   {"7x7x512->512_3x3", 7, 512, 512, 3, 1},
    {"56x56x64->128_3x3s2", 56, 64, 128, 3, 2},   {"28x28x128->256_3x3s2", 28, 128, 256, 3, 2},
    {"14x14x256->512_3x3s2", 14, 256, 512, 3, 2}, {"28x28x128->256_1x1", 28, 128, 256, 1, 1},
    {"14x14x256->512_1x1", 14, 256, 512, 1, 1},   {"56x56x32->32_3x3", 56, 32, 32, 3, 1},
};

xbnn::kernels::TaskRunner* Runner(int threads) {
  static auto* one = new xbnn::kernels::SerialRunner();
  static auto* two = new xbnn::kernels::StdThreadRunner(2);
  static auto* four = new xbnn::kernels::StdThreadRunner(4);
  return threads == 1 ? static_cast<xbnn::kernels::TaskRunner*>(one)
         : threads == 2 ? static_cast<xbnn::kernels::TaskRunner*>(two)
                        : four;
}

void BM_BConv2D(benchmark::State& state) {
  const Shape& s = kShapes[state.range(0)];
  const auto out_type = static_cast<BOutputType>(state.range(1));
  const int threads = static_cast<int>(state.range(2));
  const auto isa = static_cast<Isa>(state.range(3));

  BConv2DParams p;
  p.in_h = p.in_w = s.in_hw;
  p.channels_in = s.cin;
  p.out_channels = s.cout;
  p.kernel_h = p.kernel_w = s.k;
  p.stride_h = p.stride_w = s.stride;
  p.padding = Padding::kSame;
  p.pad_values = 1;  // QuickNet / Larq default for binary convs
  p.output_type = out_type;
  std::mt19937 rng(1);
  const int in_words = xbnn::kernels::PackedWords(s.cin);
  std::vector<int32_t> input(int64_t{s.in_hw} * s.in_hw * in_words);
  for (auto& w : input) w = static_cast<int32_t>(rng());
  std::vector<int32_t> filter(int64_t{s.cout} * s.k * s.k * in_words);
  for (auto& w : filter) w = static_cast<int32_t>(rng());
  std::vector<float> mult(s.cout, 0.01f), bias(s.cout, 0.5f);
  std::vector<int32_t> thr(s.cout, s.k * s.k * s.cin / 2);
  const bool bits = out_type == BOutputType::kBitpacked;
  auto kernel = BConv2DKernel::Create(p, filter.data(), bits ? nullptr : mult.data(),
                                      bits ? nullptr : bias.data(), bits ? thr.data() : nullptr,
                                      isa);
  if (!kernel.ok()) {
    state.SkipWithError(kernel.status().message().c_str());
    return;
  }
  const auto& g = (*kernel)->geometry();
  const int64_t pixels = int64_t{g.out_h} * g.out_w;
  std::vector<float> output(pixels * s.cout);  // large enough for every output type
  xbnn::kernels::TaskRunner* runner = Runner(threads);

  const double macs = static_cast<double>(pixels) * s.cout * s.k * s.k * s.cin;
  (*kernel)->Run(input.data(), output.data(), runner);  // warm up
  double seconds = 0, fastest = 1e9;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    (*kernel)->Run(input.data(), output.data(), runner);
    const auto t1 = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    seconds += s;
    fastest = std::min(fastest, s);
    benchmark::ClobberMemory();
  }
  const double rate = macs * static_cast<double>(state.iterations()) / seconds;
  const double ceiling = xbnn::bench::CeilingMacsPerSecond();
  state.counters["GMAC/s"] = rate * 1e-9;
  // Fraction of the single-core ceiling times the thread count.
  state.counters["ceiling_frac"] = rate / (ceiling * threads);
  // The fastest single call: robust against other processes on a shared machine.
  state.counters["best_GMAC/s"] = macs / fastest * 1e-9;
  state.counters["best_frac"] = macs / fastest / (ceiling * threads);
  state.SetLabel(std::string(s.name) + (bits ? " bitpacked" : " float") + " " +
                 xbnn::kernels::optimized::IsaName((*kernel)->isa()) + " t" +
                 std::to_string(threads));
}

void Args(benchmark::internal::Benchmark* b) {
  const int n = static_cast<int>(sizeof(kShapes) / sizeof(kShapes[0]));
  for (int shape = 0; shape < n; ++shape) {
    for (int out : {0, 2}) {
      for (int threads : {1, 2}) b->Args({shape, out, threads, 0});
    }
  }
  // Every variant this CPU runs on the 3x3 shapes, one thread, float output.
  for (int shape = 0; shape < 4; ++shape) {
    for (Isa isa : xbnn::kernels::optimized::kAllIsas) {
      if (xbnn::kernels::optimized::IsaAvailable(isa)) {
        b->Args({shape, 0, 1, static_cast<int>(isa)});
      }
    }
  }
}

BENCHMARK(BM_BConv2D)->Apply(Args)->UseRealTime()->Unit(benchmark::kMicrosecond);

// A QuickNet residual block's tail on the 3x3 stride-1 shapes, one thread: the float LceBconv2d
// (ReLU), the residual ADD and the LceQuantize of the sum, as separate passes (mode 0; the ADD as
// a plain loop, the quantize with the optimized pack kernel) or fused into the convolution's
// epilogue (mode 1); mode 2 is mode 1 in Bi-Real Net's form: no activation on the convolution
// (LCE's zero padding, so its border correction) nor on the ADD; mode 3 is mode 2 with the sum
// written over the residual, as the interpreter lays it out; mode 4 is mode 1 with the sum in
// place (QuickNet's form). Counter best_us: the fastest call.
void BM_ResidualBlock(benchmark::State& state) {
  const Shape& s = kShapes[state.range(0)];
  const bool fused = state.range(1) >= 1;
  const bool plain = state.range(1) == 2 || state.range(1) == 3;
  const bool inplace = state.range(1) >= 3;
  BConv2DParams p;
  p.in_h = p.in_w = s.in_hw;
  p.channels_in = s.cin;
  p.out_channels = s.cout;
  p.kernel_h = p.kernel_w = s.k;
  p.padding = Padding::kSame;
  p.pad_values = plain ? 0 : 1;
  p.activation = plain ? xbnn::kernels::Activation::kNone : xbnn::kernels::Activation::kRelu;
  p.output_type = BOutputType::kFloat32;
  std::mt19937 rng(1);
  const int words = xbnn::kernels::PackedWords(s.cin);
  std::vector<int32_t> input(int64_t{s.in_hw} * s.in_hw * words);
  for (auto& w : input) w = static_cast<int32_t>(rng());
  std::vector<int32_t> filter(int64_t{s.cout} * s.k * s.k * words);
  for (auto& w : filter) w = static_cast<int32_t>(rng());
  std::vector<float> mult(s.cout, 0.01f), bias(s.cout, -0.1f);
  auto kernel = BConv2DKernel::Create(p, filter.data(), mult.data(), bias.data(), nullptr);
  xbnn::kernels::optimized::PackParams pp;
  pp.outer = int64_t{s.in_hw} * s.in_hw;
  pp.channels = s.cout;
  auto pack = xbnn::kernels::optimized::PackKernel::Create(pp);
  if (!kernel.ok() || !pack.ok()) {
    state.SkipWithError("cannot create the kernels");
    return;
  }
  const size_t n = static_cast<size_t>(pp.outer) * s.cout;
  std::vector<float> y(n), residual(n), sum(n);
  std::vector<int32_t> packed(static_cast<size_t>(pp.outer) * xbnn::kernels::PackedWords(s.cout));
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  for (float& v : residual) v = real(rng);
  xbnn::kernels::optimized::BConvFused f;
  f.residual = residual.data();
  f.clamp = true;  // a model's ADD clamps to +-FLT_MAX even without activation
  f.min = std::numeric_limits<float>::lowest();
  f.max = std::numeric_limits<float>::max();
  f.sum = inplace ? residual.data() : sum.data();
  f.packed = packed.data();
  auto run = [&] {
    if (fused) {
      (*kernel)->Run(input.data(), nullptr, nullptr, &f);
      return;
    }
    (*kernel)->Run(input.data(), y.data(), nullptr);
    for (size_t i = 0; i < n; ++i) sum[i] = std::min(std::max(y[i] + residual[i], f.min), f.max);
    (*pack)->Run(sum.data(), packed.data(), nullptr);
  };
  run();
  double fastest = 1e9;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    fastest = std::min(fastest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    benchmark::ClobberMemory();
  }
  state.counters["best_us"] = fastest * 1e6;
  state.SetLabel(std::string(s.name) + (inplace && plain ? " fused, no activations, in place"
                                        : inplace        ? " fused, in place"
                                        : plain          ? " fused, no activations"
                                        : fused          ? " fused"
                                                         : " separate"));
}

BENCHMARK(BM_ResidualBlock)
    ->ArgsProduct({{0, 1, 2, 3, 9}, {0, 1, 2, 3, 4}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// RealToBinaryNet's block after its binary convolution (56x56x64, zero padding), the first
// `steps` of its epilogue chain (BConvFused::chain) in the convolution's epilogue: gate (MUL per
// channel), PReLU, residual ADD (per pixel, the sum written over the residual), batch norm (MUL,
// ADD per channel, written), and the LceQuantize bits of the last value. Counter best_us.
void BM_ChainEpilogue(benchmark::State& state) {
  const int steps = static_cast<int>(state.range(0));
  const int hw = 56, c = 64;
  BConv2DParams p;
  p.in_h = p.in_w = hw;
  p.channels_in = p.out_channels = c;
  p.kernel_h = p.kernel_w = 3;
  p.padding = Padding::kSame;
  p.pad_values = 0;
  p.output_type = BOutputType::kFloat32;
  std::mt19937 rng(1);
  const int words = xbnn::kernels::PackedWords(c);
  std::vector<int32_t> input(int64_t{hw} * hw * words), filter(int64_t{c} * 9 * words);
  for (auto& w : input) w = static_cast<int32_t>(rng());
  for (auto& w : filter) w = static_cast<int32_t>(rng());
  std::vector<float> mult(c, 0.01f), bias(c, -0.1f);
  auto kernel = BConv2DKernel::Create(p, filter.data(), mult.data(), bias.data(), nullptr);
  if (!kernel.ok() || !(*kernel)->SupportsChain()) {
    state.SkipWithError("no chain epilogue for this shape on this CPU");
    return;
  }
  const size_t n = size_t{hw} * hw * c;
  std::vector<float> gate(c, 0.5f), alpha(c, 0.25f), residual(n, 0.1f), bn_mul(c, 1.1f),
      bn_add(c, 0.2f), bn(n);
  std::vector<int32_t> packed(size_t{hw} * hw * words);
  const float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
  using xbnn::kernels::optimized::BConvChainStep;
  using xbnn::kernels::optimized::EpilogueOp;
  const BConvChainStep chain[5] = {
      {EpilogueOp::kMul, gate.data(), BConvChainStep::kChannel, false, lo, hi, nullptr},
      {EpilogueOp::kPrelu, alpha.data(), BConvChainStep::kChannel, false, lo, hi, nullptr},
      {EpilogueOp::kAdd, residual.data(), BConvChainStep::kPixel, false, lo, hi, residual.data()},
      {EpilogueOp::kMul, bn_mul.data(), BConvChainStep::kChannel, false, lo, hi, nullptr},
      {EpilogueOp::kAdd, bn_add.data(), BConvChainStep::kChannel, false, lo, hi, bn.data()}};
  xbnn::kernels::optimized::BConvFused f;
  f.chain = chain;
  f.chain_steps = steps;
  f.packed = packed.data();
  double fastest = 1e9;
  for (auto _ : state) {
    std::fill(residual.begin(), residual.end(), 0.1f);  // (the sum is written over it)
    const auto t0 = std::chrono::steady_clock::now();
    (*kernel)->Run(input.data(), nullptr, nullptr, &f);
    fastest = std::min(
        fastest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    benchmark::ClobberMemory();
  }
  state.counters["best_us"] = fastest * 1e6;
  state.SetLabel("56x56x64->64_3x3 zero-padded, " + std::to_string(steps) + " chain steps");
}

BENCHMARK(BM_ChainEpilogue)->DenseRange(0, 5)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  std::string which;
  const double ceiling = xbnn::bench::CeilingMacsPerSecond(&which);
  std::printf("xor+popcount ceiling (1 core, %s): %.1f GMAC/s\n", which.c_str(), ceiling * 1e-9);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
