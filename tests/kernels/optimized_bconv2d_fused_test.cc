// The fused residual epilogue (BConvFused: LceBconv2d float output + ADD + LceQuantize) against
// the separate reference ops, bit for bit: reference BConv2D, then z = clamp(y + r) as TFLite's
// float ADD computes it, then the reference LceQuantize. Every variant, 1-3 threads, residuals
// with signed zeros, exact cancellations, infinities and NaN.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bconv2d.h"
#include "optimized_test_util.h"

namespace xbnn::kernels::optimized {
namespace {

using testing::AllVariants;
using testing::RandomPacked;
using testing::SameBytes;
using testing::SameValues;
using testing::SharedRunners;

struct FusedCase {
  BConv2DParams p;
  int add_activation = 0;  // TFLite's NONE, RELU, RELU_N1_TO_1, RELU6
  bool residual_first = false, want_sum = true, want_packed = true;
  bool no_clamp = false;  // BConvFused::clamp false (activation NONE): infinities pass through
  float multiplier1 = 0;  // nonzero: channel 1's multiplier (one whose double overflows)
  bool any_nan = false;   // a NaN matches any NaN (sign and payload are the arithmetic's)
};

void AddRange(int act, float* lo, float* hi) {
  *lo = act == 0 ? std::numeric_limits<float>::lowest() : act == 2 ? -1.0f : 0.0f;
  *hi = act == 0 || act == 1 ? std::numeric_limits<float>::max() : act == 2 ? 1.0f : 6.0f;
}

void CheckFused(Isa isa, const FusedCase& c, std::mt19937_64& rng) {
  const BConv2DParams& p = c.p;
  auto geometry = ComputeBConv2DGeometry(p);
  ASSERT_TRUE(geometry.ok()) << geometry.status().message();
  const BConv2DGeometry& g = *geometry;
  std::vector<int32_t> input =
      RandomPacked(rng, int64_t{p.batch} * p.in_h * p.in_w, p.channels_in);
  std::vector<int32_t> filter =
      RandomPacked(rng, int64_t{p.out_channels} * p.kernel_h * p.kernel_w, g.channels_per_group);
  if (c.multiplier1 != 0) {
    // Zero input bits and channel 1's filter: its one-padded sums are all 0, where 0 * 2m (inf)
    // would be NaN and float(2 * 0) * m is 0.
    std::fill(input.begin(), input.end(), 0);
    const int64_t per_channel = filter.size() / p.out_channels;
    std::fill(filter.begin() + per_channel, filter.begin() + 2 * per_channel, 0);
  }
  std::uniform_real_distribution<float> real(-1.5f, 1.5f);
  std::vector<float> multiplier(p.out_channels), bias(p.out_channels);
  for (int ch = 0; ch < p.out_channels; ++ch) {
    multiplier[ch] = ch % 5 == 0 ? 0.0f : real(rng);  // 0: the conv output is +-0 or the bias
    bias[ch] = ch % 7 == 0 ? 0.0f : 4.0f * real(rng);
  }
  if (c.multiplier1 != 0 && p.out_channels > 1) multiplier[1] = c.multiplier1;
  const int64_t count = int64_t{p.batch} * g.out_h * g.out_w * p.out_channels;
  std::vector<float> y(count);
  BConv2DArgs args;
  args.input = input.data();
  args.filter = filter.data();
  args.multiplier = multiplier.data();
  args.bias = bias.data();
  args.output = y.data();
  reference::BConv2D(p, g, args);

  std::vector<float> residual(count);
  std::uniform_int_distribution<int> kind(0, 15);
  for (int64_t i = 0; i < count; ++i) {
    switch (kind(rng)) {
      case 0:
        residual[i] = -y[i];
        break;  // exact cancellation: +0
      case 1:
        residual[i] = -0.0f;
        break;
      case 2:
        residual[i] = 0.0f;
        break;
      case 3:
        residual[i] = std::numeric_limits<float>::infinity();
        break;
      case 4:
        residual[i] = -std::numeric_limits<float>::infinity();
        break;
      case 5:
        residual[i] = std::numeric_limits<float>::quiet_NaN();
        break;
      default:
        residual[i] = 8.0f * real(rng);
    }
  }
  float lo, hi;
  AddRange(c.add_activation, &lo, &hi);
  std::vector<float> want_sum(count);
  for (int64_t i = 0; i < count; ++i) {
    const float z = c.residual_first ? residual[i] + y[i] : y[i] + residual[i];
    want_sum[i] = c.no_clamp ? z : std::min(std::max(z, lo), hi);
  }
  const int64_t pixels = count / p.out_channels;
  std::vector<int32_t> want_packed(pixels * PackedWords(p.out_channels));
  reference::PackFloat(want_sum.data(), pixels, p.out_channels, want_packed.data());

  auto kernel =
      BConv2DKernel::Create(p, filter.data(), multiplier.data(), bias.data(), nullptr, isa,
                            /*amx_every_layer=*/true);
  ASSERT_TRUE(kernel.ok()) << kernel.status().message();
  ASSERT_TRUE((*kernel)->SupportsFused());
  const std::string what = "N" + std::to_string(p.batch) + " " + std::to_string(p.in_h) + "x" +
                           std::to_string(p.in_w) + "x" + std::to_string(p.channels_in) + " -> " +
                           std::to_string(p.out_channels) + " k" + std::to_string(p.kernel_h) +
                           " s" + std::to_string(p.stride_h) + " act " +
                           std::to_string(static_cast<int>(p.activation)) + " add act " +
                           std::to_string(c.add_activation) + (c.no_clamp ? " no clamp" : "") +
                           (c.residual_first ? " r+y" : " y+r");
  for (auto& [name, runner] : SharedRunners().All()) {
    std::vector<float> sum(count, 12345.0f);
    std::vector<int32_t> packed(want_packed.size(), 0x5A5A5A5A);
    BConvFused f;
    f.residual = residual.data();
    f.residual_first = c.residual_first;
    f.clamp = !c.no_clamp;
    f.min = c.no_clamp ? 0.0f : lo;  // unused without clamp
    f.max = c.no_clamp ? 0.0f : hi;
    f.sum = c.want_sum ? sum.data() : nullptr;
    f.packed = c.want_packed ? packed.data() : nullptr;
    (*kernel)->Run(input.data(), nullptr, runner, &f);
    if (c.want_sum) {
      EXPECT_TRUE(c.any_nan ? SameValues(want_sum, sum) : SameBytes(want_sum, sum))
          << what << " sum (" << name << ")";
    }
    if (c.want_packed) {
      EXPECT_TRUE(SameBytes(want_packed, packed)) << what << " packed (" << name << ")";
    }
    if (::testing::Test::HasFailure()) return;
  }
}

class FusedBConv2DTest : public ::testing::TestWithParam<Isa> {};

TEST_P(FusedBConv2DTest, MatchesSeparateReferenceOps) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(4242);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int channel_choices[] = {1, 17, 32, 33, 64, 65, 100, 128};
  int cases = 0;
  for (int iter = 0; iter < 48; ++iter) {
    FusedCase c;
    BConv2DParams& p = c.p;
    p.batch = pick(1, 2);
    p.in_h = pick(1, 9);
    p.in_w = pick(1, 9);
    p.channels_in = channel_choices[pick(0, 7)];
    p.out_channels = channel_choices[pick(0, 7)];
    p.kernel_h = pick(1, 3);
    p.kernel_w = p.kernel_h;
    p.stride_h = p.stride_w = pick(1, 2);
    p.padding = pick(0, 1) == 0 ? Padding::kSame : Padding::kValid;
    p.pad_values = pick(0, 1);
    p.activation = static_cast<Activation>(pick(0, 3));
    p.output_type = BOutputType::kFloat32;
    if (!ComputeBConv2DGeometry(p).ok()) continue;
    c.add_activation = pick(0, 3);
    c.residual_first = pick(0, 1) == 1;
    c.want_sum = iter % 4 != 1;
    c.want_packed = iter % 4 != 2;
    c.no_clamp = c.add_activation == 0 && iter % 2 == 0;
    CheckFused(GetParam(), c, rng);
    if (HasFailure()) return;
    ++cases;
  }
  EXPECT_GT(cases, 30);
}

// QuickNet's 14x14x256 blocks, and its 7x7x512 ones, whose filter (> 256 KB) splits over threads
// by channel tiles although the map has enough pixel blocks; QuickNetSmall's 56x56x32 blocks (the
// avx512vpopcnt variant's pixel-lane layout).
TEST_P(FusedBConv2DTest, QuickNetBlockShape) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(7);
  for (const auto& [hw, channels] : {std::pair{14, 256}, std::pair{7, 512}, std::pair{56, 32}}) {
    FusedCase c;
    c.p.in_h = c.p.in_w = hw;
    c.p.channels_in = c.p.out_channels = channels;
    c.p.kernel_h = c.p.kernel_w = 3;
    c.p.padding = Padding::kSame;
    c.p.pad_values = 1;
    c.p.activation = Activation::kRelu;
    c.p.output_type = BOutputType::kFloat32;
    CheckFused(GetParam(), c, rng);
    if (HasFailure()) return;
  }
}

// Bi-Real Net's and BinaryResNetE18's blocks: zero padding (pad_values 0), whole 64-channel
// tiles, both fused outputs (the AMX fast epilogue, with the driver's fused kind on the pixels
// with padding taps), and a 32-channel layer (tiles of two vectors: the general epilogue on the
// tiles); a 28x28 map whose inner rows run apart from the border pixels (TileByPadding); with and
// without an activation (the x clamp) and the LceQuantize bits (the compile-time epilogue kinds);
// the ADD's bounds +-infinity, TFLite's [lowest, max] without an activation, and RELU's.
TEST_P(FusedBConv2DTest, ZeroPaddedBlockShape) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(11);
  int round = 0;
  for (const auto& [hw, stride, channels] : {std::tuple{14, 1, 64}, std::tuple{14, 2, 64},
                                             std::tuple{28, 1, 64}, std::tuple{14, 1, 32}}) {
    for (const Activation act : {Activation::kNone, Activation::kRelu}) {
      for (const bool packed : {true, false}) {
        ++round;
        FusedCase c;
        c.p.in_h = c.p.in_w = hw;
        c.p.channels_in = c.p.out_channels = channels;
        c.p.kernel_h = c.p.kernel_w = 3;
        c.p.stride_h = c.p.stride_w = stride;
        c.p.padding = Padding::kSame;
        c.p.pad_values = 0;
        c.p.activation = act;
        c.p.output_type = BOutputType::kFloat32;
        c.add_activation = round % 3 == 1 ? 1 : 0;  // RELU, or NONE
        c.no_clamp = round % 3 == 0;
        c.want_packed = packed;
        CheckFused(GetParam(), c, rng);
        if (HasFailure()) return;
      }
    }
  }
}

// A multiplier whose double overflows (no variant may then skip x = 2 * acc for 2 * multiplier:
// an all-zero acc would give 0 * inf = NaN): its products and folded bias are infinite (x = 0
// gives the bias), the ADD's finite bounds turn infinities into +-max. NaNs match any NaN: the
// reference forms those of inf - inf in another order (a NaN's sign is the arithmetic's; x86 and
// ARM differ too).
TEST_P(FusedBConv2DTest, MultiplierWhoseDoubleOverflows) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(13);
  for (const bool no_clamp : {false, true}) {
    FusedCase c;
    c.p.in_h = c.p.in_w = 14;
    c.p.channels_in = c.p.out_channels = 64;
    c.p.kernel_h = c.p.kernel_w = 3;
    c.p.padding = Padding::kSame;
    c.p.pad_values = 1;
    c.p.output_type = BOutputType::kFloat32;
    c.no_clamp = no_clamp;
    c.multiplier1 = 3e38f;
    c.any_nan = true;
    CheckFused(GetParam(), c, rng);
    if (HasFailure()) return;
  }
}

TEST(FusedBConv2DSupport, GroupedOrNonFloatOutputIsNotFused) {
  BConv2DParams p;
  p.in_h = p.in_w = 4;
  p.channels_in = 64;
  p.out_channels = 8;  // 4 per group: group tiles do not start on output words
  p.kernel_h = p.kernel_w = 3;
  p.groups = 2;
  const std::vector<int32_t> filter(8 * 9, 0);
  const std::vector<float> ones(8, 1.0f);
  const std::vector<int32_t> thresholds(8, 0);
  auto grouped = BConv2DKernel::Create(p, filter.data(), ones.data(), ones.data(), nullptr);
  ASSERT_TRUE(grouped.ok()) << grouped.status().message();
  EXPECT_FALSE((*grouped)->SupportsFused());
  p.groups = 1;
  p.channels_in = 32;
  p.output_type = BOutputType::kBitpacked;
  const std::vector<int32_t> filter1(8 * 9, 0);
  auto bits = BConv2DKernel::Create(p, filter1.data(), nullptr, nullptr, thresholds.data());
  ASSERT_TRUE(bits.ok()) << bits.status().message();
  EXPECT_FALSE((*bits)->SupportsFused());
}

INSTANTIATE_TEST_SUITE_P(Variants, FusedBConv2DTest, ::testing::ValuesIn(AllVariants()),
                         testing::VariantName);

}  // namespace
}  // namespace xbnn::kernels::optimized
