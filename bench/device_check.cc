// A self-contained check for machines without GoogleTest or Google Benchmark (the lent 16-core
// device): (1) every optimized variant the CPU runs is bit-exact with the reference kernels over a
// seeded random grid, at 1, 2, 3 and N threads; (2) QuickNet's binary conv shapes in binary MACs/s
// at 1..N threads and as a fraction of the xor+popcount ceiling. Exits 1 on any mismatch.
// Build: scripts/device-check.sh (plain g++ lines).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "ceiling.h"
#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bconv2d.h"
#include "kernels/binary/optimized/isa.h"
#include "kernels/binary/optimized/task_runner.h"

namespace {

using namespace xbnn::kernels;  // NOLINT: a standalone driver
using optimized::BConv2DKernel;
using optimized::Isa;

struct Case {
  BConv2DParams p;
  std::vector<int32_t> input, filter, thresholds;
  std::vector<float> mul, bias;
};

int RandomIn(std::mt19937& rng, int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)); }

// Random words with the unused high bits of each row's last word cleared.
std::vector<int32_t> Packed(std::mt19937& rng, int64_t rows, int channels) {
  int words = PackedWords(channels);
  std::vector<int32_t> v(static_cast<size_t>(rows * words));
  for (int64_t r = 0; r < rows; ++r) {
    for (int w = 0; w < words; ++w) {
      uint32_t x = rng();
      int bits = std::min(32, channels - 32 * w);
      if (bits < 32) x &= (1u << bits) - 1;
      v[static_cast<size_t>(r * words + w)] = static_cast<int32_t>(x);
    }
  }
  return v;
}

bool MakeCase(std::mt19937& rng, Case* c) {
  BConv2DParams& p = c->p;
  p.batch = RandomIn(rng, 1, 2);
  p.in_h = RandomIn(rng, 1, 12);
  p.in_w = RandomIn(rng, 1, 12);
  p.groups = (rng() % 4 == 0) ? RandomIn(rng, 2, 3) : 1;
  const int cins[] = {1, 31, 32, 33, 64, 65, 96, 200, 256};
  p.channels_in = p.groups > 1 ? 32 * p.groups * RandomIn(rng, 1, 2) : cins[rng() % 9];
  p.out_channels = p.groups * RandomIn(rng, 1, 40);
  p.kernel_h = RandomIn(rng, 1, 5);
  p.kernel_w = RandomIn(rng, 1, 5);
  p.stride_h = RandomIn(rng, 1, 3);
  p.stride_w = RandomIn(rng, 1, 3);
  p.dilation_h = rng() % 4 == 0 ? 2 : 1;
  p.dilation_w = rng() % 4 == 0 ? 2 : 1;
  p.padding = rng() % 2 ? Padding::kSame : Padding::kValid;
  p.pad_values = p.padding == Padding::kSame ? static_cast<int>(rng() % 2) : 0;
  p.activation = static_cast<Activation>(rng() % 4);
  p.output_type = static_cast<BOutputType>(rng() % 3);
  p.output_scale = 0.05f + static_cast<float>(rng() % 100) / 100.0f;
  p.output_zero_point = RandomIn(rng, -20, 20);
  auto g = ComputeBConv2DGeometry(p);
  if (!g.ok()) return false;
  c->input = Packed(rng, int64_t{p.batch} * p.in_h * p.in_w, p.channels_in);
  // Each group's filter slice is packed separately (channels per group).
  c->filter = Packed(rng, int64_t{p.out_channels} * p.kernel_h * p.kernel_w, p.channels_in / p.groups);
  std::uniform_real_distribution<float> d(-2.0f, 2.0f);
  c->mul.resize(static_cast<size_t>(p.out_channels));
  c->bias.resize(static_cast<size_t>(p.out_channels));
  c->thresholds.resize(static_cast<size_t>(p.out_channels));
  for (int i = 0; i < p.out_channels; ++i) {
    c->mul[i] = d(rng);
    c->bias[i] = d(rng) * 10;
    c->thresholds[i] = RandomIn(rng, -5, g->kernel_elements + 5);
  }
  return true;
}

size_t OutputBytes(const BConv2DParams& p, const BConv2DGeometry& g) {
  size_t pixels = static_cast<size_t>(p.batch) * g.out_h * g.out_w;
  switch (p.output_type) {
    case BOutputType::kFloat32: return pixels * p.out_channels * 4;
    case BOutputType::kInt8: return pixels * p.out_channels;
    default: return pixels * PackedWords(p.out_channels) * 4;
  }
}

int CheckVariants(int max_threads, int cases) {
  int failures = 0;
  std::vector<int> thread_counts = {1, 2, 3, max_threads};  // amx: tiles at 1-2, vpopcntd above
  for (Isa isa : optimized::kAllIsas) {
    std::string why = optimized::IsaUnavailableReason(isa);
    if (!why.empty()) {
      std::printf("variant %-14s skipped: %s\n", optimized::IsaName(isa), why.c_str());
      continue;
    }
    std::mt19937 rng(1234);
    int run = 0, bad = 0;
    for (int i = 0; i < cases; ++i) {
      Case c;
      if (!MakeCase(rng, &c)) continue;
      auto g = ComputeBConv2DGeometry(c.p);
      bool bitpacked = c.p.output_type == BOutputType::kBitpacked;
      BConv2DArgs args;
      args.input = c.input.data();
      args.filter = c.filter.data();
      args.multiplier = bitpacked ? nullptr : c.mul.data();
      args.bias = bitpacked ? nullptr : c.bias.data();
      args.thresholds = bitpacked ? c.thresholds.data() : nullptr;
      std::vector<uint8_t> want(OutputBytes(c.p, *g)), got(want.size());
      args.output = want.data();
      reference::BConv2D(c.p, *g, args);
      auto k = BConv2DKernel::Create(c.p, c.filter.data(), args.multiplier, args.bias, args.thresholds, isa);
      if (!k.ok()) {
        std::printf("variant %s: Create failed: %s\n", optimized::IsaName(isa), k.status().message().c_str());
        ++bad;
        continue;
      }
      for (int t : thread_counts) {
        StdThreadRunner runner(t);
        std::fill(got.begin(), got.end(), 0xAB);
        (*k)->Run(c.input.data(), got.data(), &runner);
        ++run;
        if (got != want) {
          ++bad;
          std::printf("MISMATCH variant %s threads %d case %d\n", optimized::IsaName(isa), t, i);
        }
      }
    }
    std::printf("variant %-14s %d runs, %d mismatches\n", optimized::IsaName(isa), run, bad);
    failures += bad;
  }
  return failures;
}

struct Shape {
  const char* name;
  int hw, cin, cout, k, stride;
};

void Throughput(int max_threads) {
  const Shape shapes[] = {{"56x56x64->64 3x3", 56, 64, 64, 3, 1},       {"28x28x128->128 3x3", 28, 128, 128, 3, 1},
                          {"14x14x256->256 3x3", 14, 256, 256, 3, 1},   {"7x7x512->512 3x3", 7, 512, 512, 3, 1},
                          {"56x56x64->128 3x3 s2", 56, 64, 128, 3, 2}, {"28x28x128->256 1x1", 28, 128, 256, 1, 1}};
  // Ceiling: the best sequence this CPU has (vpopcntq when present).
  double ceiling = 0;
  for (const xbnn::bench::CeilingVariant& v : xbnn::bench::CeilingVariants()) {
    double macs = xbnn::bench::MeasureMacsPerSecond(v.fn);
    std::printf("ceiling %-22s %8.1f G binary MACs/s (1 thread)\n", v.name.c_str(), macs / 1e9);
    ceiling = std::max(ceiling, macs);
  }
  std::vector<int> threads = {1, 2, 4, 8};
  if (max_threads > 8) threads.push_back(max_threads);
  std::printf("\n%-22s %-9s", "shape", "output");
  for (int t : threads) std::printf(" %7dT GMAC/s", t);
  std::printf("   1T %%ceiling\n");
  for (const Shape& s : shapes) {
    for (BOutputType ot : {BOutputType::kFloat32, BOutputType::kBitpacked}) {
      BConv2DParams p;
      p.in_h = p.in_w = s.hw;
      p.channels_in = s.cin;
      p.out_channels = s.cout;
      p.kernel_h = p.kernel_w = s.k;
      p.stride_h = p.stride_w = s.stride;
      p.padding = Padding::kSame;
      p.pad_values = 1;
      p.output_type = ot;
      auto g = ComputeBConv2DGeometry(p);
      std::mt19937 rng(7);
      auto in = Packed(rng, int64_t{s.hw} * s.hw, s.cin);
      auto f = Packed(rng, int64_t{s.cout} * s.k * s.k, s.cin);
      std::vector<float> m(static_cast<size_t>(s.cout), 0.5f), b(static_cast<size_t>(s.cout), 1.0f);
      std::vector<int32_t> th(static_cast<size_t>(s.cout), s.k * s.k * s.cin / 2);
      bool bp = ot == BOutputType::kBitpacked;
      auto k = BConv2DKernel::Create(p, f.data(), bp ? nullptr : m.data(), bp ? nullptr : b.data(),
                                     bp ? th.data() : nullptr);
      if (!k.ok()) continue;
      std::vector<uint8_t> out(OutputBytes(p, *g));
      double macs = double(g->out_h) * g->out_w * s.cout * s.k * s.k * s.cin;
      std::printf("%-22s %-9s", s.name, bp ? "bitpacked" : "float");
      double one = 0;
      for (int t : threads) {
        StdThreadRunner runner(t);
        std::vector<double> times;
        for (int rep = 0; rep < 30; ++rep) {
          auto t0 = std::chrono::steady_clock::now();
          (*k)->Run(in.data(), out.data(), &runner);
          times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(times.begin(), times.end());
        double rate = macs / times[times.size() / 2];
        if (t == 1) one = rate;
        std::printf(" %15.1f", rate / 1e9);
      }
      std::printf("   %5.1f%%\n", 100 * one / ceiling);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int max_threads = static_cast<int>(std::thread::hardware_concurrency());
  int cases = argc > 1 ? std::atoi(argv[1]) : 400;
  std::printf("best variant: %s, hardware threads: %d\n", optimized::IsaName(optimized::DetectBestIsa()), max_threads);
  int failures = CheckVariants(std::max(max_threads, 2), cases);
  std::printf("\n");
  Throughput(max_threads);
  std::printf("\ndevice check: %s\n", failures ? "FAILED" : "all variants bit-exact");
  return failures ? 1 : 0;
}
