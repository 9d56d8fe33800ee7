// Parameter checks and geometry: every bad option or shape is an error that names the problem,
// and nothing crashes on arbitrary parameters.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "reference_test_util.h"

namespace xbnn::kernels {
namespace {

using testing::Contains;

BConv2DParams Good() {
  BConv2DParams p;
  p.batch = 1;
  p.in_h = 8;
  p.in_w = 8;
  p.channels_in = 64;
  p.out_channels = 32;
  p.kernel_h = 3;
  p.kernel_w = 3;
  return p;
}

struct BadConv {
  const char* what;
  std::function<void(BConv2DParams&)> change;
  std::vector<std::string> mentions;  // every one must appear in the message
};

TEST(BConv2DGeometry, GoodParametersPass) {
  auto g = ComputeBConv2DGeometry(Good());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->out_h, 6);
  EXPECT_EQ(g->out_w, 6);
  EXPECT_EQ(g->kernel_elements, 3 * 3 * 64);
  EXPECT_EQ(g->packed_channels_per_group, 2);
}

TEST(BConv2DGeometry, EveryBadOptionIsANamedError) {
  const std::vector<BadConv> cases = {
      {"batch 0", [](auto& p) { p.batch = 0; }, {"batch", "0"}},
      {"height 0", [](auto& p) { p.in_h = 0; }, {"input height", "0"}},
      {"width -1", [](auto& p) { p.in_w = -1; }, {"input width", "-1"}},
      {"channels_in 0", [](auto& p) { p.channels_in = 0; }, {"channels_in", "0"}},
      {"out_channels -3", [](auto& p) { p.out_channels = -3; }, {"out_channels", "-3"}},
      {"kernel_h 0", [](auto& p) { p.kernel_h = 0; }, {"kernel height"}},
      {"kernel_w 0", [](auto& p) { p.kernel_w = 0; }, {"kernel width"}},
      {"groups 0", [](auto& p) { p.groups = 0; }, {"groups", "0"}},
      {"stride_h 0", [](auto& p) { p.stride_h = 0; }, {"stride_height", "0"}},
      {"stride_w -2", [](auto& p) { p.stride_w = -2; }, {"stride_width", "-2"}},
      {"dilation_h 0", [](auto& p) { p.dilation_h = 0; }, {"dilation_height_factor"}},
      {"dilation_w 0", [](auto& p) { p.dilation_w = 0; }, {"dilation_width_factor"}},
      {"padding 2", [](auto& p) { p.padding = static_cast<Padding>(2); }, {"padding", "2"}},
      {"pad_values 2", [](auto& p) { p.pad_values = 2; }, {"pad_values", "2"}},
      {"pad_values -1 VALID",
       [](auto& p) {
         p.pad_values = -1;
         p.padding = Padding::kValid;
       },
       {"pad_values", "-1"}},
      {"activation TANH",
       [](auto& p) { p.activation = static_cast<Activation>(4); },
       {"fused_activation_function", "4", "TANH"}},
      {"activation SIGN_BIT",
       [](auto& p) { p.activation = static_cast<Activation>(5); },
       {"fused_activation_function", "5"}},
      {"activation -1",
       [](auto& p) { p.activation = static_cast<Activation>(-1); },
       {"fused_activation_function", "-1"}},
      {"output type 3",
       [](auto& p) { p.output_type = static_cast<BOutputType>(3); },
       {"output type", "3"}},
      {"int8 scale 0",
       [](auto& p) {
         p.output_type = BOutputType::kInt8;
         p.output_scale = 0.0f;
       },
       {"output", "scale"}},
      {"int8 scale negative",
       [](auto& p) {
         p.output_type = BOutputType::kInt8;
         p.output_scale = -0.5f;
       },
       {"scale", "-0.5"}},
      {"int8 scale NaN",
       [](auto& p) {
         p.output_type = BOutputType::kInt8;
         p.output_scale = std::numeric_limits<float>::quiet_NaN();
       },
       {"scale", "nan"}},
      {"int8 zero point 128",
       [](auto& p) {
         p.output_type = BOutputType::kInt8;
         p.output_zero_point = 128;
       },
       {"zero point", "128"}},
      {"channels_in not divisible by groups",
       [](auto& p) {
         p.channels_in = 65;
         p.groups = 2;
       },
       {"channels_in 65", "groups 2", "divisible"}},
      {"group size not a multiple of 32",
       [](auto& p) {
         p.channels_in = 96;
         p.groups = 2;
       },
       {"multiple of 32", "48"}},
      {"out_channels not divisible by groups",
       [](auto& p) {
         p.groups = 2;
         p.out_channels = 33;
       },
       {"out_channels 33", "groups 2"}},
      {"VALID kernel larger than input",
       [](auto& p) {
         p.padding = Padding::kValid;
         p.kernel_h = 9;
       },
       {"VALID", "height", "9", "8"}},
      {"VALID dilated kernel larger than input",
       [](auto& p) {
         p.padding = Padding::kValid;
         p.dilation_w = 5;
       },
       {"VALID", "width", "11", "dilation 5"}},
      {"effective kernel above limit",
       [](auto& p) {
         p.padding = Padding::kSame;
         p.dilation_h = std::numeric_limits<int>::max();
       },
       {"effective kernel height", "limit"}},
      {"binary depth above limit",
       [](auto& p) {
         p.kernel_h = 4096;
         p.kernel_w = 4096;
         p.channels_in = 1024;
       },
       {"bits per output"}},
      {"huge kernel overflow",
       [](auto& p) {
         p.kernel_h = std::numeric_limits<int>::max();
         p.kernel_w = std::numeric_limits<int>::max();
         p.channels_in = std::numeric_limits<int>::max();
       },
       {"bits per output"}},
      {"input too large",
       [](auto& p) {
         p.batch = 1 << 20;
         p.in_h = 1 << 12;
         p.in_w = 1 << 12;
         p.channels_in = 32;
       },
       {"input shape", "elements"}},
      {"filter too large",
       [](auto& p) {
         p.out_channels = std::numeric_limits<int>::max();
         p.kernel_h = 1;
         p.kernel_w = 1;
       },
       {"filter shape"}},
      {"output too large",
       [](auto& p) {
         p.in_h = 1 << 15;
         p.in_w = 1 << 15;
         p.kernel_h = 1;
         p.kernel_w = 1;
         p.channels_in = 1;
         p.out_channels = 4;
       },
       {"output shape"}},
  };
  for (const BadConv& c : cases) {
    BConv2DParams p = Good();
    c.change(p);
    const auto g = ComputeBConv2DGeometry(p);
    ASSERT_FALSE(g.ok()) << c.what;
    for (const std::string& m : c.mentions) {
      EXPECT_TRUE(Contains(g.status().message(), m))
          << c.what << ": \"" << g.status().message() << "\" should mention \"" << m << "\"";
    }
  }
}

TEST(BConv2DGeometry, SamePaddingMatchesTfLite) {
  // in 7, kernel 4, stride 2, SAME: out 4, total padding (4-1)*2 + 4 - 7 = 3, top 1, bottom 2.
  BConv2DParams p = Good();
  p.in_h = 7;
  p.kernel_h = 4;
  p.stride_h = 2;
  p.padding = Padding::kSame;
  // in 5, kernel 3 dilated 3 -> effective 7 > input: out 5, total 6, 3 each side.
  p.in_w = 5;
  p.kernel_w = 3;
  p.dilation_w = 3;
  auto g = ComputeBConv2DGeometry(p);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->out_h, 4);
  EXPECT_EQ(g->pad_top, 1);
  EXPECT_EQ(g->pad_bottom, 2);
  EXPECT_EQ(g->out_w, 5);
  EXPECT_EQ(g->pad_left, 3);
  EXPECT_EQ(g->pad_right, 3);
  EXPECT_EQ(g->effective_kernel_w, 7);
}

TEST(BConv2DGeometry, OutputClampAndFolding) {
  BConv2DParams p = Good();  // K = 576
  p.channels_in = 1;
  p.kernel_h = p.kernel_w = 1;  // K = 1
  auto g = ComputeBConv2DGeometry(p);
  ASSERT_TRUE(g.ok());
  struct Want {
    Activation a;
    int32_t min, max;
  };
  // x = K - y, so y in [lo, hi] cut to [-K, K] maps to x in [K - hi, K - lo].
  for (Want w : {Want{Activation::kNone, 0, 2}, Want{Activation::kRelu, 0, 1},
                 Want{Activation::kReluN1To1, 0, 2}, Want{Activation::kRelu6, 0, 1}}) {
    p.activation = w.a;
    const OutputClamp c = ComputeOutputClamp(p, *g);
    EXPECT_EQ(c.min, w.min) << static_cast<int>(w.a);
    EXPECT_EQ(c.max, w.max) << static_cast<int>(w.a);
  }
  p = Good();
  p.kernel_h = p.kernel_w = 5;
  p.channels_in = 32;  // K = 800
  g = ComputeBConv2DGeometry(p);
  ASSERT_TRUE(g.ok());
  p.activation = Activation::kRelu6;
  EXPECT_EQ(ComputeOutputClamp(p, *g).min, 794);
  EXPECT_EQ(ComputeOutputClamp(p, *g).max, 800);
  p.activation = Activation::kReluN1To1;
  EXPECT_EQ(ComputeOutputClamp(p, *g).min, 799);
  EXPECT_EQ(ComputeOutputClamp(p, *g).max, 801);

  p.out_channels = 1;
  p.output_type = BOutputType::kInt8;
  p.output_scale = 0.5f;
  p.output_zero_point = -3;
  const float mul = 0.25f, bias = 1.0f;
  float fm, fb;
  FoldOutputTransform(p, *g, &mul, &bias, &fm, &fb);
  EXPECT_EQ(fm, -0.5f);                            // -mul / scale
  EXPECT_EQ(fb, (1.0f + 800 * 0.25f) / 0.5f - 3);  // (bias + K * mul) / scale + zp
}

TEST(BMaxPool2DGeometry, EveryBadOptionIsANamedError) {
  struct Bad {
    const char* what;
    std::function<void(BMaxPool2DParams&)> change;
    std::vector<std::string> mentions;
  };
  const std::vector<Bad> cases = {
      {"batch 0", [](auto& p) { p.batch = 0; }, {"batch"}},
      {"height 0", [](auto& p) { p.in_h = 0; }, {"input height"}},
      {"width 0", [](auto& p) { p.in_w = 0; }, {"input width"}},
      {"channels 0", [](auto& p) { p.packed_channels = 0; }, {"packed channels"}},
      {"filter_h 0", [](auto& p) { p.filter_h = 0; }, {"filter_height"}},
      {"filter_w -1", [](auto& p) { p.filter_w = -1; }, {"filter_width", "-1"}},
      {"stride_h 0", [](auto& p) { p.stride_h = 0; }, {"stride_height"}},
      {"stride_w 0", [](auto& p) { p.stride_w = 0; }, {"stride_width"}},
      {"padding 7", [](auto& p) { p.padding = static_cast<Padding>(7); }, {"padding", "7"}},
      {"VALID filter too large", [](auto& p) { p.filter_h = 5; }, {"VALID", "height", "5", "4"}},
      {"filter above limit",
       [](auto& p) {
         p.padding = Padding::kSame;
         p.filter_w = std::numeric_limits<int>::max();
       },
       {"limit"}},
      {"input too large",
       [](auto& p) {
         p.batch = 1 << 16;
         p.in_h = 1 << 10;
         p.in_w = 1 << 10;
       },
       {"input shape"}},
  };
  for (const Bad& c : cases) {
    BMaxPool2DParams p;
    p.in_h = 4;
    p.in_w = 4;
    p.packed_channels = 2;
    p.filter_h = 2;
    p.filter_w = 2;
    c.change(p);
    const auto g = ComputeBMaxPool2DGeometry(p);
    ASSERT_FALSE(g.ok()) << c.what;
    for (const std::string& m : c.mentions) {
      EXPECT_TRUE(Contains(g.status().message(), m))
          << c.what << ": \"" << g.status().message() << "\" should mention \"" << m << "\"";
    }
  }
}

// Arbitrary small and extreme parameter values: geometry either refuses them or the kernel
// runs within the buffers the geometry implies (ASan/UBSan builds check the "within").
TEST(BConv2DGeometry, ArbitraryParametersNeverCrash) {
  std::mt19937_64 rng(11);
  const int extremes[] = {std::numeric_limits<int>::min(), -1, 0, 1, 2, 3, 5, 32, 33, 64,
                          std::numeric_limits<int>::max()};
  // Mostly plausible values in [min, max], sometimes anything from `extremes`.
  const auto value = [&](int min, int max) {
    return rng() % 20 == 0 ? extremes[rng() % 11] : min + static_cast<int>(rng() % (max - min + 1));
  };
  int ran = 0;
  for (int i = 0; i < 4000; ++i) {
    BConv2DParams p;
    p.batch = value(1, 2);
    p.in_h = value(1, 6);
    p.in_w = value(1, 6);
    p.channels_in = rng() % 4 == 0 ? 32 * (1 + static_cast<int>(rng() % 4)) : value(1, 70);
    p.out_channels = value(1, 40);
    p.kernel_h = value(1, 4);
    p.kernel_w = value(1, 4);
    p.groups = rng() % 2 ? 1 : value(1, 3);
    p.stride_h = value(1, 3);
    p.stride_w = value(1, 3);
    p.dilation_h = value(1, 3);
    p.dilation_w = value(1, 3);
    p.padding = static_cast<Padding>(value(0, 1));
    p.pad_values = value(0, 1);
    p.activation = static_cast<Activation>(value(0, 3));
    p.output_type = static_cast<BOutputType>(value(0, 2));
    p.output_scale = rng() % 10 ? 0.1f : -1.0f;
    p.output_zero_point = value(-3, 3);
    const auto g = ComputeBConv2DGeometry(p);
    if (!g.ok()) {
      EXPECT_FALSE(g.status().message().empty());
      continue;
    }
    const int64_t out_pixels = int64_t{p.batch} * g->out_h * g->out_w;
    const int64_t in_words = int64_t{p.batch} * p.in_h * p.in_w * PackedWords(p.channels_in);
    const int64_t filter_words =
        int64_t{p.out_channels} * p.kernel_h * p.kernel_w * g->packed_channels_per_group;
    if (out_pixels * p.out_channels > 100000 || in_words > 100000 || filter_words > 100000) {
      continue;
    }
    std::vector<int32_t> input = testing::RandomPacked(rng, in_words, 32);
    std::vector<int32_t> filter = testing::RandomPacked(rng, filter_words, 32);
    std::vector<float> mul(p.out_channels, 0.5f), bias(p.out_channels, 1.0f);
    std::vector<int32_t> thresholds(p.out_channels, 3);
    // Exactly the output size of the type: ASan flags any write past it.
    const int64_t out_count = p.output_type == BOutputType::kBitpacked
                                  ? out_pixels * PackedWords(p.out_channels)
                                  : out_pixels * p.out_channels;
    std::vector<float> out_f(p.output_type == BOutputType::kFloat32 ? out_count : 0);
    std::vector<int8_t> out_q(p.output_type == BOutputType::kInt8 ? out_count : 0);
    std::vector<int32_t> out_b(p.output_type == BOutputType::kBitpacked ? out_count : 0);
    BConv2DArgs a;
    a.input = input.data();
    a.filter = filter.data();
    if (p.output_type == BOutputType::kBitpacked) {
      a.thresholds = thresholds.data();
      a.output = out_b.data();
    } else {
      a.multiplier = mul.data();
      a.bias = bias.data();
      a.output = p.output_type == BOutputType::kFloat32 ? static_cast<void*>(out_f.data())
                                                        : static_cast<void*>(out_q.data());
    }
    reference::BConv2D(p, *g, a);
    ++ran;
  }
  EXPECT_GT(ran, 500);
}

}  // namespace
}  // namespace xbnn::kernels
