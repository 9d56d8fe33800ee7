// Optimized BConv2D against the reference kernel, bit for bit: a fixed list of edge shapes and a
// seeded random grid, every padding / pad value / activation / output type, every variant the
// CPU runs, with 1, 2 and 3 threads.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bconv2d.h"
#include "optimized_test_util.h"

namespace xbnn::kernels::optimized {
namespace {

using testing::AllVariants;
using testing::RandomPacked;
using testing::SameBytes;
using testing::SharedRunners;

struct Shape {
  int batch, in_h, in_w, cin, cout, kh, kw, groups, sh, sw, dh, dw;
};

std::string Describe(const BConv2DParams& p) {
  std::ostringstream s;
  s << "N" << p.batch << " " << p.in_h << "x" << p.in_w << "x" << p.channels_in << " -> "
    << p.out_channels << " k" << p.kernel_h << "x" << p.kernel_w << " g" << p.groups << " s"
    << p.stride_h << "," << p.stride_w << " d" << p.dilation_h << "," << p.dilation_w
    << (p.padding == Padding::kSame ? " SAME" : " VALID") << " pad_values=" << p.pad_values
    << " act=" << static_cast<int>(p.activation) << " out=" << static_cast<int>(p.output_type);
  if (p.output_type == BOutputType::kInt8) {
    s << " scale=" << p.output_scale << " zp=" << p.output_zero_point;
  }
  return s.str();
}

// The geometry of `s` (SAME padding, the other options at their defaults).
BConv2DParams ParamsFor(const Shape& s) {
  BConv2DParams p;
  p.batch = s.batch;
  p.in_h = s.in_h;
  p.in_w = s.in_w;
  p.channels_in = s.cin;
  p.out_channels = s.cout;
  p.kernel_h = s.kh;
  p.kernel_w = s.kw;
  p.groups = s.groups;
  p.stride_h = s.sh;
  p.stride_w = s.sw;
  p.dilation_h = s.dh;
  p.dilation_w = s.dw;
  p.padding = Padding::kSame;
  return p;
}

// The tensors of one case; the optimized kernel must keep its own copies of the constant ones.
struct Tensors {
  std::vector<int32_t> input, filter;
  std::vector<float> multiplier, bias;  // float/int8 output
  std::vector<int32_t> thresholds;      // bitpacked output
};

// Runs the reference and the optimized kernel (with every runner) on `t` and compares the raw
// output bytes; returns the reference's bytes.
std::vector<uint8_t> ExpectSameAsReference(Isa isa, const BConv2DParams& p,
                                           const BConv2DGeometry& g, Tensors t,
                                           const std::string& what, bool amx_every_layer = false) {
  const int64_t pixels = int64_t{p.batch} * g.out_h * g.out_w;
  size_t out_bytes = 0;
  switch (p.output_type) {
    case BOutputType::kFloat32: out_bytes = pixels * p.out_channels * sizeof(float); break;
    case BOutputType::kInt8: out_bytes = pixels * p.out_channels; break;
    case BOutputType::kBitpacked: out_bytes = pixels * PackedWords(p.out_channels) * 4; break;
  }
  std::vector<uint8_t> expected(out_bytes, 0x5A);
  const bool bitpacked = p.output_type == BOutputType::kBitpacked;
  BConv2DArgs args;
  args.input = t.input.data();
  args.filter = t.filter.data();
  args.multiplier = bitpacked ? nullptr : t.multiplier.data();
  args.bias = bitpacked ? nullptr : t.bias.data();
  args.thresholds = bitpacked ? t.thresholds.data() : nullptr;
  args.output = expected.data();
  reference::BConv2D(p, g, args);

  auto kernel = BConv2DKernel::Create(p, t.filter.data(), args.multiplier, args.bias,
                                      args.thresholds, isa, amx_every_layer);
  EXPECT_TRUE(kernel.ok()) << what << ": " << kernel.status().message();
  if (!kernel.ok()) return expected;
  EXPECT_EQ((*kernel)->isa(), isa);
  // The kernel keeps its own copies.
  std::fill(t.filter.begin(), t.filter.end(), -1);
  std::fill(t.multiplier.begin(), t.multiplier.end(), 1e30f);
  std::fill(t.bias.begin(), t.bias.end(), -1e30f);
  std::fill(t.thresholds.begin(), t.thresholds.end(), 7);

  for (auto& [name, runner] : SharedRunners().All()) {
    std::vector<uint8_t> actual(out_bytes, 0x5A);
    (*kernel)->Run(t.input.data(), actual.data(), runner);
    EXPECT_TRUE(SameBytes(expected, actual)) << what << " (" << name << ")";
  }
  return expected;
}

// Builds random tensors for `p`, runs the reference and the optimized kernel (with every runner)
// and compares the raw output bytes. Returns false when the geometry is invalid (skipped case).
bool CheckCase(Isa isa, const BConv2DParams& p, std::mt19937_64& rng, bool garbage_bits) {
  Result<BConv2DGeometry> geometry = ComputeBConv2DGeometry(p);
  if (!geometry.ok()) return false;
  const BConv2DGeometry& g = *geometry;
  Tensors t;
  t.input = RandomPacked(rng, int64_t{p.batch} * p.in_h * p.in_w, p.channels_in, garbage_bits);
  // The filter's rows are [kh][kw][group words]; pack per tap so unused bits stay 0.
  t.filter = RandomPacked(rng, int64_t{p.out_channels} * p.kernel_h * p.kernel_w,
                          g.channels_per_group, garbage_bits);
  t.multiplier.resize(p.out_channels);
  t.bias.resize(p.out_channels);
  t.thresholds.resize(p.out_channels);
  std::uniform_real_distribution<float> real(-1.5f, 1.5f);
  std::uniform_int_distribution<int> pick(0, 7);
  const int k = g.kernel_elements;
  std::uniform_int_distribution<int> thr(-3, k + 3);
  for (int c = 0; c < p.out_channels; ++c) {
    // Quarter steps make exact .5 fractions (int8 rounding ties) common.
    const int kind = pick(rng);
    t.multiplier[c] = kind == 0 ? 0.25f : kind == 1 ? -0.5f : kind == 2 ? 0.0f : real(rng);
    t.bias[c] = kind < 3 ? 0.25f * static_cast<float>(pick(rng) - 4) : 8.0f * real(rng);
    const int tkind = pick(rng);
    t.thresholds[c] = tkind == 0   ? std::numeric_limits<int32_t>::min()
                      : tkind == 1 ? std::numeric_limits<int32_t>::max()
                                   : thr(rng) / 2;
  }
  // The amx variant on every layer within its limits, small ones included.
  ExpectSameAsReference(isa, p, g, std::move(t),
                        Describe(p) + (garbage_bits ? " garbage-bits" : ""),
                        /*amx_every_layer=*/true);
  return true;
}

void CheckAllOptions(Isa isa, const Shape& s, std::mt19937_64& rng, int* cases) {
  for (Padding padding : {Padding::kValid, Padding::kSame}) {
    for (int pad_values : {0, 1}) {
      for (BOutputType out : {BOutputType::kFloat32, BOutputType::kInt8, BOutputType::kBitpacked}) {
        for (int act = 0; act < 4; ++act) {
          if (out == BOutputType::kBitpacked && act > 0) break;  // no activation on bits
          BConv2DParams p = ParamsFor(s);
          p.padding = padding;
          p.pad_values = pad_values;
          p.activation = static_cast<Activation>(act);
          p.output_type = out;
          if (out == BOutputType::kInt8) {
            std::uniform_real_distribution<float> scale(0.05f, 2.0f);
            std::uniform_int_distribution<int> zp(-128, 127);
            p.output_scale = (*cases % 3 == 0) ? 1.0f : scale(rng);
            p.output_zero_point = zp(rng);
          }
          if (CheckCase(isa, p, rng, /*garbage_bits=*/false)) ++*cases;
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
  }
}

class OptimizedBConv2DTest : public ::testing::TestWithParam<Isa> {};

TEST_P(OptimizedBConv2DTest, EdgeShapesMatchReference) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(20240611);
  // batch, h, w, cin, cout, kh, kw, groups, sh, sw, dh, dw
  const Shape shapes[] = {
      {1, 1, 1, 32, 32, 3, 3, 1, 1, 1, 1, 1},     // 1x1 input, window all padding but centre
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},       // smallest
      {2, 5, 7, 33, 31, 3, 3, 1, 1, 1, 1, 1},     // batch 2, odd channels
      {1, 3, 3, 64, 65, 5, 5, 1, 1, 1, 1, 1},     // kernel larger than the input
      {1, 2, 4, 1, 1, 7, 7, 1, 1, 1, 1, 1},       // one channel, big kernel
      {1, 2, 2, 31, 17, 2, 2, 1, 1, 1, 3, 3},     // dilated taps entirely outside
      {1, 6, 6, 31, 200, 1, 1, 1, 3, 3, 1, 1},    // stride > kernel
      {1, 7, 9, 65, 64, 2, 2, 1, 3, 2, 2, 1},     // stride > kernel, dilation
      {1, 9, 8, 200, 33, 3, 3, 1, 2, 1, 3, 2},    // dilation 3
      {1, 4, 4, 512, 64, 3, 3, 1, 1, 1, 1, 1},    // 512 channels
      {1, 3, 5, 512, 512, 3, 3, 1, 2, 2, 1, 1},   // 512 -> 512, stride 2
      {1, 7, 7, 512, 512, 3, 3, 1, 1, 1, 1, 1},   // filter > 256 KB: split by tiles on any map
      {2, 7, 7, 256, 200, 1, 1, 1, 1, 1, 1, 1},   // 1x1 stride 1
      {1, 3, 3, 1056, 40, 3, 3, 1, 1, 1, 1, 1},   // > 31 words per tap (byte-counter flush)
      {1, 2, 2, 16416, 20, 3, 3, 1, 1, 1, 1, 1},  // K > 4095 words (16-bit counter flush)
      {1, 8, 8, 64, 64, 3, 3, 2, 1, 1, 1, 1},     // groups 2, 32 out channels per group
      {2, 5, 5, 128, 8, 3, 3, 4, 1, 1, 1, 1},     // groups 4, 2 out channels per group
      {1, 6, 6, 96, 99, 3, 3, 3, 2, 1, 1, 1},     // groups 3, 33 out channels per group
      {1, 10, 10, 64, 130, 3, 3, 2, 1, 1, 1, 2},  // groups 2, 65 out channels per group
      {1, 16, 16, 32, 96, 3, 3, 1, 1, 1, 1, 1},   // many pixel blocks
      {1, 12, 12, 64, 48, 3, 3, 1, 2, 2, 1, 1},   // stride 2
      // Zero padding on maps with 16 or more inner columns: runs of inner and border pixels
      // (kSplitByPadding) across rows and images, cut at the runners' task boundaries.
      {2, 13, 23, 64, 64, 3, 3, 1, 1, 1, 1, 1},  // batch 2, odd width
      {1, 19, 21, 32, 64, 5, 5, 1, 1, 1, 1, 1},  // two border columns each side
      {1, 21, 40, 64, 32, 3, 3, 1, 2, 2, 1, 1},  // stride 2: border on one side only
      {1, 11, 26, 32, 32, 3, 3, 1, 1, 1, 1, 2},  // dilation 2
      // One input word per pixel at stride 1 without zero padding (the avx512vpopcnt variant's
      // pixel-lane layout): rows wider than a 16-pixel block, blocks across rows and images
      // (and the runners' task boundaries), 48 channels (three whole vectors), 100 (two tiles,
      // the second with a partial vector), 40 on a 1x1 kernel.
      {2, 9, 37, 32, 48, 3, 3, 1, 1, 1, 1, 1},
      {1, 6, 33, 20, 100, 2, 3, 1, 1, 1, 1, 1},
      {1, 5, 16, 32, 40, 1, 1, 1, 1, 1, 1, 1},
  };
  int cases = 0;
  for (const Shape& s : shapes) {
    CheckAllOptions(GetParam(), s, rng, &cases);
    if (HasFailure()) return;
  }
  EXPECT_GT(cases, 300);
}

TEST_P(OptimizedBConv2DTest, RandomGridMatchesReference) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(777);
  const int channel_choices[] = {1, 31, 32, 33, 64, 65, 200, 512};
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int cases = 0;
  for (int iter = 0; iter < 60; ++iter) {
    Shape s;
    s.batch = pick(1, 2);
    s.in_h = pick(1, 9);
    s.in_w = pick(1, 9);
    s.groups = pick(0, 3) == 0 ? pick(2, 4) : 1;
    if (s.groups > 1) {
      s.cin = 32 * s.groups * pick(1, 3);
      s.cout = s.groups * pick(1, 40);
    } else {
      s.cin = channel_choices[pick(0, 7)];
      s.cout = channel_choices[pick(0, 7)];
    }
    s.kh = pick(1, 4);
    s.kw = pick(1, 4);
    s.sh = pick(1, 3);
    s.sw = pick(1, 3);
    s.dh = pick(1, 2);
    s.dw = pick(1, 2);
    BConv2DParams p = ParamsFor(s);
    p.padding = pick(0, 1) == 0 ? Padding::kSame : Padding::kValid;
    p.pad_values = pick(0, 1);
    p.output_type = static_cast<BOutputType>(pick(0, 2));
    p.activation =
        p.output_type == BOutputType::kBitpacked ? Activation::kNone
                                                 : static_cast<Activation>(pick(0, 3));
    if (p.output_type == BOutputType::kInt8) {
      p.output_scale = std::uniform_real_distribution<float>(0.05f, 2.0f)(rng);
      p.output_zero_point = pick(-128, 127);
    }
    if (CheckCase(GetParam(), p, rng, /*garbage_bits=*/iter % 10 == 9)) ++cases;
    if (HasFailure()) return;
  }
  EXPECT_GT(cases, 30);
}

// Every input bit against a set filter bit: each popcount is the largest it can be, so a kernel
// that counts more steps in narrow (byte) counters than they hold between flushes wraps and
// differs from the reference. 7x7 taps of 1 to 33 words (the tap loop's flush groups).
TEST_P(OptimizedBConv2DTest, LargestCountsDoNotWrap) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  for (int cin : {32, 64, 96, 160, 256, 288, 512, 1056}) {
    BConv2DParams p = ParamsFor({1, 8, 7, cin, 40, 7, 7, 1, 1, 1, 1, 1});
    p.padding = Padding::kValid;
    const Result<BConv2DGeometry> g = ComputeBConv2DGeometry(p);
    ASSERT_TRUE(g.ok());
    const int words = PackedWords(cin);
    Tensors t;
    t.input.assign(int64_t{p.in_h} * p.in_w * words, 0);
    t.filter.assign(int64_t{p.out_channels} * 49 * words, -1);
    t.multiplier.assign(p.out_channels, 1.0f);
    t.bias.assign(p.out_channels, 0.5f);
    const std::vector<uint8_t> expected =
        ExpectSameAsReference(GetParam(), p, *g, std::move(t), std::to_string(cin) + " channels");
    // Every output is the same extreme value: -K * multiplier + bias.
    float first;
    std::memcpy(&first, expected.data(), sizeof(first));
    EXPECT_EQ(first, 0.5f - 49.0f * static_cast<float>(cin)) << cin;
  }
}

// Multipliers at the edges of float give the reference's bytes: where 2 * m overflows (an
// epilogue computing float(acc) * 2m instead of float(2 * acc) * m would turn 0 * m into NaN),
// infinities, denormals and -0.0, with sums of 0 (all bits equal) and random ones. (Not NaN
// multipliers: the sign of the NaN that folding -1 * m gives is up to the compiler.)
TEST_P(OptimizedBConv2DTest, ExtremeMultipliersMatchReference) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> special = {3e38f, -3e38f, 1.7e38f, inf, -inf, 1.4e-45f, -0.0f, 0.75f};
  std::mt19937_64 rng(11);
  for (bool zeros : {true, false}) {
    for (int pad_values : {0, 1}) {
      for (Activation act : {Activation::kNone, Activation::kRelu}) {
        for (BOutputType out : {BOutputType::kFloat32, BOutputType::kInt8}) {
          BConv2DParams p = ParamsFor({1, 6, 6, 64, 16, 3, 3, 1, 1, 1, 1, 1});
          p.padding = Padding::kSame;
          p.pad_values = pad_values;
          p.activation = act;
          p.output_type = out;
          const Result<BConv2DGeometry> g = ComputeBConv2DGeometry(p);
          ASSERT_TRUE(g.ok());
          Tensors t;
          t.input = RandomPacked(rng, 36, 64, false);
          t.filter = RandomPacked(rng, 16 * 9, 64, false);
          if (zeros) {
            std::fill(t.input.begin(), t.input.end(), 0);
            std::fill(t.filter.begin(), t.filter.end(), 0);
          }
          t.bias.assign(16, 0.5f);
          for (int c = 0; c < 16; ++c) t.multiplier.push_back(special[c % special.size()]);
          ExpectSameAsReference(GetParam(), p, *g, std::move(t),
                                Describe(p) + (zeros ? " zeros" : " random"));
        }
      }
    }
  }
}

TEST_P(OptimizedBConv2DTest, RejectsBadParametersAndMissingTensors) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  BConv2DParams p;
  p.in_h = p.in_w = 4;
  p.channels_in = 32;
  p.out_channels = 8;
  p.kernel_h = p.kernel_w = 3;
  const std::vector<int32_t> filter(8 * 9, 0);
  const std::vector<float> ones(8, 1.0f);
  const std::vector<int32_t> thresholds(8, 0);
  auto ok = BConv2DKernel::Create(p, filter.data(), ones.data(), ones.data(), nullptr, GetParam());
  EXPECT_TRUE(ok.ok()) << ok.status().message();

  auto no_bias = BConv2DKernel::Create(p, filter.data(), ones.data(), nullptr, nullptr,
                                       GetParam());
  ASSERT_FALSE(no_bias.ok());
  EXPECT_NE(no_bias.status().message().find("bias"), std::string::npos);

  BConv2DParams bits = p;
  bits.output_type = BOutputType::kBitpacked;
  auto no_thresholds =
      BConv2DKernel::Create(bits, filter.data(), nullptr, nullptr, nullptr, GetParam());
  ASSERT_FALSE(no_thresholds.ok());
  EXPECT_NE(no_thresholds.status().message().find("threshold"), std::string::npos);

  BConv2DParams bad = p;
  bad.pad_values = 2;
  auto bad_pad = BConv2DKernel::Create(bad, filter.data(), ones.data(), ones.data(), nullptr,
                                       GetParam());
  ASSERT_FALSE(bad_pad.ok());
  EXPECT_NE(bad_pad.status().message().find("pad_values"), std::string::npos);
}

// The amx variant (bconv_amx.h) takes the layers within its limits and leaves the others to the
// vpopcntd kernel: the grids above would pass on the vpopcntd kernel alone, so this checks which
// path each shape takes, and runs shapes with many jobs (threads splitting jobs and channel tiles,
// input rows continued across tasks, weights kept or expanded per step) against the reference.
TEST(AmxBConv2DTest, TakesItsShapesAndMatchesReference) {
  XBNN_SKIP_IF_UNAVAILABLE(Isa::kAvx512Amx);
  auto create = [](const Shape& s, bool every_layer) {
    BConv2DParams p = ParamsFor(s);
    const Result<BConv2DGeometry> g = ComputeBConv2DGeometry(p);
    std::mt19937_64 rng(1);
    const std::vector<int32_t> filter =
        RandomPacked(rng, int64_t{s.cout} * s.kh * s.kw, g->channels_per_group);
    const std::vector<float> ones(s.cout, 1.0f);
    auto k = BConv2DKernel::Create(p, filter.data(), ones.data(), ones.data(), nullptr,
                                   Isa::kAvx512Amx, every_layer);
    EXPECT_TRUE(k.ok()) << k.status().message();
    return k;
  };
  auto uses_amx = [&](const Shape& s, bool every_layer = true) {
    auto k = create(s, every_layer);
    return k.ok() && (*k)->uses_amx();
  };
  // batch, h, w, cin, cout, kh, kw, groups, sh, sw, dh, dw
  // By default only layers with >= kAmxMinKBits input bits per output.
  EXPECT_FALSE(uses_amx({1, 56, 56, 32, 32, 3, 3, 1, 1, 1, 1, 1}, false));
  EXPECT_FALSE(uses_amx({1, 14, 14, 256, 64, 1, 1, 1, 1, 1, 1, 1}, false));
  EXPECT_TRUE(uses_amx({1, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1, 1}, false));
  EXPECT_TRUE(uses_amx({1, 14, 14, 512, 64, 1, 1, 1, 1, 1, 1, 1}, false));
  EXPECT_TRUE(uses_amx({1, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1, 1}));
  EXPECT_TRUE(uses_amx({1, 7, 7, 512, 512, 3, 3, 1, 1, 1, 1, 1}));
  EXPECT_TRUE(uses_amx({1, 28, 28, 128, 256, 3, 3, 1, 2, 2, 1, 1}));
  EXPECT_TRUE(uses_amx({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_FALSE(uses_amx({1, 8, 8, 64, 64, 3, 3, 2, 1, 1, 1, 1}));     // groups
  EXPECT_FALSE(uses_amx({1, 2, 2, 16416, 20, 3, 3, 1, 1, 1, 1, 1}));  // weights > 1 MB a tile
  // Runs with more than kAmxMaxThreads threads, and strided layers with few jobs at more than
  // one, take the vpopcntd kernel.
  auto tiles_at = [&](const Shape& s, int threads) {
    auto k = create(s, false);
    return k.ok() && (*k)->RunsOnTiles(threads);
  };
  const Shape plain{1, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1, 1};
  const Shape strided_few_jobs{1, 14, 14, 256, 256, 3, 3, 1, 2, 2, 1, 1};
  EXPECT_TRUE(tiles_at(plain, 1));
  EXPECT_TRUE(tiles_at(plain, kAmxMaxThreads));
  EXPECT_FALSE(tiles_at(plain, kAmxMaxThreads + 1));
  EXPECT_FALSE(tiles_at(plain, 16));
  EXPECT_TRUE(tiles_at(strided_few_jobs, 1));
  EXPECT_FALSE(tiles_at(strided_few_jobs, 2));

  std::mt19937_64 rng(4242);
  // Kept weights (small K, one and several tiles), weights expanded per K step (3x3x512 x 2 tiles
  // is over the kept budget), strides, dilation, batch 2, odd word counts, partial tiles.
  const Shape shapes[] = {
      {1, 30, 29, 64, 64, 3, 3, 1, 1, 1, 1, 1},
      {2, 17, 19, 96, 130, 3, 3, 1, 1, 1, 1, 1},
      {1, 9, 11, 512, 128, 3, 3, 1, 1, 1, 1, 1},
      {2, 23, 21, 64, 100, 3, 3, 1, 2, 2, 1, 1},
      {1, 20, 22, 33, 48, 3, 2, 1, 3, 2, 2, 1},
      {1, 14, 14, 256, 80, 1, 1, 1, 1, 1, 1, 1},
      {1, 19, 13, 160, 64, 5, 3, 1, 1, 2, 1, 2},
      {1, 48, 46, 64, 64, 3, 3, 1, 2, 2, 1, 1},  // strided, enough jobs for the tiles at 2 threads
      {1, 7, 7, 256, 96, 3, 3, 1, 1, 1, 1, 1},   // a 7x7 map's two jobs, one per thread at 2
  };
  int cases = 0;
  for (const Shape& s : shapes) {
    EXPECT_TRUE(uses_amx(s));
    for (Padding padding : {Padding::kSame, Padding::kValid}) {
      for (int pad_values : {0, 1}) {
        for (BOutputType out :
             {BOutputType::kFloat32, BOutputType::kInt8, BOutputType::kBitpacked}) {
          BConv2DParams p = ParamsFor(s);
          p.padding = padding;
          p.pad_values = pad_values;
          p.output_type = out;
          p.activation = out == BOutputType::kBitpacked ? Activation::kNone : Activation::kRelu;
          if (out == BOutputType::kInt8) {
            p.output_scale = 0.5f;
            p.output_zero_point = 3;
          }
          if (CheckCase(Isa::kAvx512Amx, p, rng, /*garbage_bits=*/cases % 5 == 4)) ++cases;
          if (HasFailure()) return;
        }
      }
    }
  }
  EXPECT_EQ(cases, 108);
}

// Kernels that take their expanded input from the runner's shared scratch, run in turns (each
// overwrites what the other expanded), against the reference.
TEST(AmxBConv2DTest, SharedScratchAcrossKernels) {
  XBNN_SKIP_IF_UNAVAILABLE(Isa::kAvx512Amx);
  std::mt19937_64 rng(99);
  // batch, h, w, cin, cout, kh, kw, groups, sh, sw, dh, dw
  const Shape shapes[] = {{1, 12, 13, 128, 96, 3, 3, 1, 1, 1, 1, 1},
                          {1, 15, 11, 256, 64, 3, 3, 1, 2, 2, 1, 1}};
  struct Layer {
    BConv2DParams p;
    std::vector<int32_t> input;
    std::vector<uint8_t> expected;
    std::unique_ptr<BConv2DKernel> kernel;
  };
  Layer layers[2];
  StdThreadRunner runner(2);
  for (int i = 0; i < 2; ++i) {
    Layer& l = layers[i];
    l.p = ParamsFor(shapes[i]);
    l.p.output_type = BOutputType::kBitpacked;
    const BConv2DGeometry g = *ComputeBConv2DGeometry(l.p);
    l.input = RandomPacked(rng, int64_t{l.p.in_h} * l.p.in_w, l.p.channels_in);
    const std::vector<int32_t> filter =
        RandomPacked(rng, int64_t{l.p.out_channels} * 9, g.channels_per_group);
    std::vector<int32_t> thresholds(l.p.out_channels);
    for (int32_t& t : thresholds) t = static_cast<int32_t>(rng() % g.kernel_elements);
    l.expected.assign(int64_t{g.out_h} * g.out_w * PackedWords(l.p.out_channels) * 4, 0);
    BConv2DArgs args;
    args.input = l.input.data();
    args.filter = filter.data();
    args.thresholds = thresholds.data();
    args.output = l.expected.data();
    reference::BConv2D(l.p, g, args);
    auto k = BConv2DKernel::Create(l.p, filter.data(), nullptr, nullptr, thresholds.data(),
                                   Isa::kAvx512Amx);
    ASSERT_TRUE(k.ok()) << k.status().message();
    ASSERT_TRUE((*k)->uses_amx());
    runner.ReserveScratch(static_cast<size_t>((*k)->scratch_bytes()));
    l.kernel = std::move(*k);
  }
  for (int round = 0; round < 3; ++round) {
    for (Layer& l : layers) {
      std::vector<uint8_t> actual(l.expected.size(), 0x5A);
      l.kernel->Run(l.input.data(), actual.data(), &runner);
      EXPECT_TRUE(SameBytes(l.expected, actual)) << Describe(l.p) << " round " << round;
    }
  }
}

// A layer whose tiles ran slow twice in a row (1.5x their best, slower than its best vpopcntd Run)
// leaves them for 1, 2, 4 ... Runs, up to kMaxWait; a fast tile Run ends that; each thread count
// has its own times.
TEST(TileChoiceTest, LeavesSlowTilesForLongerEachTime) {
  TileChoice c;
  EXPECT_TRUE(c.UseTiles(1));
  c.Record(1, true, 1000);
  c.Record(1, true, 1400);  // within 1.5x the tiles' best: not slow
  c.Record(1, true, 1600);  // slow once: still the tiles
  EXPECT_TRUE(c.UseTiles(1));
  c.Record(1, true, 1000);  // fast: the count starts again
  c.Record(1, true, 1600);
  EXPECT_TRUE(c.UseTiles(1));
  c.Record(1, true, 1600);  // slow twice in a row (no vpopcntd time yet): wait 1
  EXPECT_EQ(c.wait(), 1);
  EXPECT_FALSE(c.UseTiles(1));
  EXPECT_TRUE(c.UseTiles(2));  // another thread count starts afresh
  c.Record(1, false, 1200);
  EXPECT_TRUE(c.UseTiles(1));
  c.Record(1, true, 1700);  // the probe is slow too: wait 2
  EXPECT_EQ(c.wait(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(c.UseTiles(1));
    c.Record(1, false, 1200);
  }
  EXPECT_TRUE(c.UseTiles(1));
  c.Record(2, true, 1000);  // a Run on 2 threads drops the 1-thread times
  EXPECT_EQ(c.wait(), 0);
  EXPECT_TRUE(c.UseTiles(1));

  TileChoice slower_vector;  // tiles 1.6x their best but faster than vpopcntd: not slow
  slower_vector.Record(1, true, 1000);
  slower_vector.Record(1, false, 2000);
  for (int i = 0; i < 3; ++i) slower_vector.Record(1, true, 1600);
  EXPECT_TRUE(slower_vector.UseTiles(1));

  TileChoice d;
  d.Record(1, true, 1000);
  d.Record(1, false, 1200);
  int waits[8];
  for (int& w : waits) {
    while (!d.UseTiles(1)) d.Record(1, false, 1200);
    d.Record(1, true, 5000);
    w = d.wait();
  }
  const int expected[8] = {0, 1, 2, 4, 8, 16, 32, 32};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(waits[i], expected[i]) << i;
}

// Two threads as kernels see them, their tasks run in turn on the calling thread: a pool backing
// off on a busy machine (threads_now() 1, seen under TSan beside other work) would move Runs to
// the one-thread tile choice and fail the counts below.
class TwoThreadsInTurn final : public TaskRunner {
 public:
  int num_threads() const override { return 2; }
  void ParallelFor(int n, void (*fn)(void*, int, int), void* ctx) override {
    for (int i = 0; i < n; ++i) fn(ctx, i % 2, i);
  }
};

// A layer that left its tiles runs on the vpopcntd kernel with the same outputs, then returns.
TEST(AmxBConv2DTest, LeavesSlowTilesBitExact) {
  XBNN_SKIP_IF_UNAVAILABLE(Isa::kAvx512Amx);
  std::mt19937_64 rng(7);
  // batch, h, w, cin, cout, kh, kw, groups, sh, sw, dh, dw
  BConv2DParams p = ParamsFor({1, 20, 18, 128, 96, 3, 3, 1, 1, 1, 1, 1});
  p.pad_values = 0;
  p.padding = Padding::kSame;
  const BConv2DGeometry g = *ComputeBConv2DGeometry(p);
  const std::vector<int32_t> input = RandomPacked(rng, int64_t{p.in_h} * p.in_w, p.channels_in);
  const std::vector<int32_t> filter =
      RandomPacked(rng, int64_t{p.out_channels} * 9, g.channels_per_group);
  std::vector<float> multiplier(p.out_channels), bias(p.out_channels);
  for (int c = 0; c < p.out_channels; ++c) {
    multiplier[c] = 0.25f + 0.01f * static_cast<float>(c);
    bias[c] = -1.0f + 0.03f * static_cast<float>(c);
  }
  std::vector<float> expected(int64_t{g.out_h} * g.out_w * p.out_channels);
  BConv2DArgs args;
  args.input = input.data();
  args.filter = filter.data();
  args.multiplier = multiplier.data();
  args.bias = bias.data();
  args.output = expected.data();
  reference::BConv2D(p, g, args);
  auto k = BConv2DKernel::Create(p, filter.data(), multiplier.data(), bias.data(), nullptr,
                                 Isa::kAvx512Amx);
  ASSERT_TRUE(k.ok()) << k.status().message();
  ASSERT_TRUE((*k)->RunsOnTiles(1));
  for (int threads : {1, 2}) {
    StdThreadRunner one(1);
    TwoThreadsInTurn two;
    TaskRunner& runner = threads == 1 ? static_cast<TaskRunner&>(one) : two;
    runner.ReserveScratch(static_cast<size_t>((*k)->scratch_bytes()));
    TileChoice& choice = (*k)->tile_choice();
    choice = TileChoice(threads);
    choice.Record(threads, true, 1);  // best Runs so fast that every tile Run is slow
    choice.Record(threads, false, 1);
    int vector_runs = 0;
    const int64_t tile_runs = (*k)->tile_runs();
    for (int run = 0; run < 12; ++run) {
      vector_runs += !choice.UseTiles(threads);
      std::vector<float> actual(expected.size(), -7.0f);
      (*k)->Run(input.data(), actual.data(), &runner);
      ASSERT_TRUE(SameBytes(expected, actual)) << threads << " threads, run " << run;
    }
    // Tiles at runs 0, 1, 3, 6 and 11 (each slow), vpopcntd between them: waits 1, 2, 4, then 8.
    EXPECT_EQ(vector_runs, 7) << threads;
    EXPECT_EQ((*k)->tile_runs() - tile_runs, 5) << threads;
    EXPECT_EQ(choice.wait(), 8) << threads;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, OptimizedBConv2DTest, ::testing::ValuesIn(AllVariants()),
                         testing::VariantName);

}  // namespace
}  // namespace xbnn::kernels::optimized
