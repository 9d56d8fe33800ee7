// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED against plain loops: float within 1e-5, int8
// bit-exact with TFLite's integer formula written out in the test.
#include <cmath>
#include <cstring>
#include <limits>

#include "builtin/op_test_util.h"
#include "kernels/builtin/conv_direct.h"
#include "kernels/builtin/conv_eight_pairs.h"
#include "kernels/builtin/depthwise_direct.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct ConvCase {
  int n, h, w, cin, cout, kh, kw, stride_h, stride_w, dil_h, dil_w, groups;
  bool same, bias;
  int act;
};

std::string Name(const ConvCase& c) {
  return std::to_string(c.n) + "x" + std::to_string(c.h) + "x" + std::to_string(c.w) + "x" + std::to_string(c.cin) +
         "_o" + std::to_string(c.cout) + "_k" + std::to_string(c.kh) + "x" + std::to_string(c.kw) + "_s" +
         std::to_string(c.stride_h) + std::to_string(c.stride_w) + "_d" + std::to_string(c.dil_h) +
         std::to_string(c.dil_w) + "_g" + std::to_string(c.groups) + (c.same ? "_same" : "_valid") +
         (c.bias ? "_bias" : "") + "_act" + std::to_string(c.act);
}

// out[n,y,x,o] = sum over the in-bounds taps and the group's input channels.
template <typename Acc, typename Tap>
void ConvLoop(const ConvCase& c, int oh, int ow, int pad_t, int pad_l, Tap&& tap, std::vector<Acc>* out) {
  const int cg = c.cin / c.groups, og = c.cout / c.groups;
  out->assign(static_cast<size_t>(c.n) * oh * ow * c.cout, Acc(0));
  for (int b = 0; b < c.n; ++b)
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x)
        for (int o = 0; o < c.cout; ++o) {
          Acc acc = 0;
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = y * c.stride_h - pad_t + ky * c.dil_h, ix = x * c.stride_w - pad_l + kx * c.dil_w;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (int i = 0; i < cg; ++i) {
                const int64_t in_idx = ((static_cast<int64_t>(b) * c.h + iy) * c.w + ix) * c.cin + (o / og) * cg + i;
                const int64_t w_idx = ((static_cast<int64_t>(o) * c.kh + ky) * c.kw + kx) * cg + i;
                acc += tap(in_idx, w_idx);
              }
            }
          (*out)[((static_cast<size_t>(b) * oh + y) * ow + x) * c.cout + o] = acc;
        }
}

std::vector<Field> ConvOptions(const ConvCase& c) {
  return {{"padding", int64_t{c.same ? 0 : 1}},        {"stride_w", int64_t{c.stride_w}},
          {"stride_h", int64_t{c.stride_h}},           {"fused_activation_function", int64_t{c.act}},
          {"dilation_w_factor", int64_t{c.dil_w}},     {"dilation_h_factor", int64_t{c.dil_h}}};
}

class ConvTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvTest, Float) {
  const ConvCase c = GetParam();
  const int oh = OutSize(c.h, c.kh, c.stride_h, c.dil_h, c.same), ow = OutSize(c.w, c.kw, c.stride_w, c.dil_w, c.same);
  const int pt = PadBefore(c.h, c.kh, c.stride_h, c.dil_h, c.same), pl = PadBefore(c.w, c.kw, c.stride_w, c.dil_w, c.same);
  const int cg = c.cin / c.groups;
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 1);
  auto w = RandomFloats(static_cast<size_t>(c.cout) * c.kh * c.kw * cg, 2);
  auto bias = RandomFloats(c.cout, 3);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
  const int wt = m.Const(DType::kFloat32, {c.cout, c.kh, c.kw, cg}, w);
  const int bt = c.bias ? m.Const(DType::kFloat32, {c.cout}, bias) : -1;
  const int out = m.Output(DType::kFloat32, {c.n, oh, ow, c.cout});
  m.Op(op::kConv2D, c.bias ? std::vector<int32_t>{in, wt, bt} : std::vector<int32_t>{in, wt}, {out}, opt::kConv2D,
       ConvOptions(c), c.groups > 1 ? 6 : 1);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<double> acc;
  ConvLoop<double>(c, oh, ow, pt, pl, [&](int64_t i, int64_t j) { return double(x[i]) * w[j]; }, &acc);
  float lo, hi;
  RefFloatActivation(c.act, &lo, &hi);
  std::vector<float> want(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const double v = acc[i] + (c.bias ? bias[i % c.cout] : 0.0);
    want[i] = std::min(std::max(static_cast<float>(v), lo), hi);
  }
  ExpectClose(m.GetOutput<float>(0), want);
}

TEST_P(ConvTest, Int8PerChannel) {
  const ConvCase c = GetParam();
  const int oh = OutSize(c.h, c.kh, c.stride_h, c.dil_h, c.same), ow = OutSize(c.w, c.kw, c.stride_w, c.dil_w, c.same);
  const int pt = PadBefore(c.h, c.kh, c.stride_h, c.dil_h, c.same), pl = PadBefore(c.w, c.kw, c.stride_w, c.dil_w, c.same);
  const int cg = c.cin / c.groups;
  auto x = RandomInt8(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 4);
  auto w = RandomInt8(static_cast<size_t>(c.cout) * c.kh * c.kw * cg, 5, -127, 127);
  auto bias = RandomInt32(c.cout, 6, -2000, 2000);
  std::vector<float> w_scales(c.cout);
  for (int o = 0; o < c.cout; ++o) w_scales[o] = 0.002f + 0.0005f * static_cast<float>(o % 7);
  const float in_s = 0.05f, out_s = 0.04f + 0.01f * static_cast<float>(c.act);
  const int32_t in_zp = 3, out_zp = -7;
  OpModel m;
  const int in = m.Input(DType::kInt8, {c.n, c.h, c.w, c.cin}, Q(in_s, in_zp));
  Quant wq{w_scales, std::vector<int64_t>(c.cout, 0), 0};
  const int wt = m.Const(DType::kInt8, {c.cout, c.kh, c.kw, cg}, w, wq);
  const int bt = c.bias ? m.Const(DType::kInt32, {c.cout}, bias) : -1;
  const int out = m.Output(DType::kInt8, {c.n, oh, ow, c.cout}, Q(out_s, out_zp));
  m.Op(op::kConv2D, c.bias ? std::vector<int32_t>{in, wt, bt} : std::vector<int32_t>{in, wt}, {out}, opt::kConv2D,
       ConvOptions(c), c.groups > 1 ? 6 : 3);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<int32_t> acc;
  ConvLoop<int32_t>(c, oh, ow, pt, pl, [&](int64_t i, int64_t j) { return int32_t{w[j]} * (x[i] - in_zp); }, &acc);
  int32_t lo, hi;
  RefActivationRange(c.act, out_s, out_zp, &lo, &hi);
  std::vector<int8_t> want(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int o = static_cast<int>(i % c.cout);
    int32_t mult;
    int shift;
    RefQuantizeMultiplier(double(in_s) * double(w_scales[o]) / double(out_s), &mult, &shift);
    // ruy's x86 kernels round the final shift half up.
    const int32_t v = RefMultiplyByQuantizedMultiplierRoundUp(acc[i] + (c.bias ? bias[o] : 0), mult, shift) + out_zp;
    want[i] = static_cast<int8_t>(std::min(std::max(v, lo), hi));
  }
  ExpectEqual(m.GetOutput<int8_t>(0), want);
}

INSTANTIATE_TEST_SUITE_P(
    Grid, ConvTest,
    ::testing::Values(
        ConvCase{1, 5, 5, 3, 4, 3, 3, 1, 1, 1, 1, 1, true, true, 0},
        ConvCase{1, 5, 5, 3, 4, 3, 3, 1, 1, 1, 1, 1, false, true, 1},
        ConvCase{2, 7, 6, 5, 7, 3, 3, 2, 2, 1, 1, 1, true, false, 3},
        ConvCase{1, 8, 8, 4, 6, 3, 3, 2, 1, 1, 1, 1, false, true, 2},
        ConvCase{1, 9, 9, 4, 8, 3, 3, 1, 1, 2, 2, 1, true, true, 0},
        ConvCase{1, 9, 7, 4, 8, 3, 2, 1, 2, 2, 1, 1, false, true, 1},
        ConvCase{1, 6, 6, 8, 4, 1, 1, 1, 1, 1, 1, 1, true, true, 0},
        ConvCase{1, 7, 7, 8, 6, 1, 1, 2, 2, 1, 1, 1, true, false, 3},
        ConvCase{1, 6, 6, 8, 6, 3, 3, 1, 1, 1, 1, 2, true, true, 0},
        ConvCase{2, 6, 5, 12, 8, 3, 3, 2, 2, 1, 1, 4, false, true, 1},
        ConvCase{1, 11, 11, 3, 16, 3, 3, 2, 2, 1, 1, 1, true, true, 3},
        ConvCase{1, 4, 4, 33, 17, 2, 2, 1, 1, 1, 1, 1, true, true, 2},
        // The direct AVX-512 kernel (conv_direct.h: in_c <= 4, out_c % 16 == 0 or 8):
        // 7x7 stride-2 stems with borders on every side, 6-pixel tiles and
        // leftover pixels, 64-channel blocks and a partial one, kernels larger
        // than the image, batch 2.
        ConvCase{1, 30, 29, 3, 64, 7, 7, 2, 2, 1, 1, 1, true, true, 1},
        ConvCase{2, 17, 23, 3, 80, 7, 7, 2, 2, 1, 1, 1, true, false, 0},
        ConvCase{1, 19, 40, 1, 16, 3, 3, 1, 1, 1, 1, 1, true, true, 3},
        ConvCase{1, 12, 27, 4, 32, 5, 3, 1, 2, 1, 1, 1, false, true, 2},
        ConvCase{1, 5, 4, 2, 48, 7, 7, 1, 1, 1, 1, 1, true, true, 0},
        ConvCase{1, 9, 50, 3, 192, 3, 5, 3, 1, 1, 1, 1, true, true, 1},
        ConvCase{1, 6, 30, 3, 48, 3, 3, 1, 1, 1, 1, 1, true, true, 0},
        // Its 8-channel stem kernel (pairs of pixels per vector): QuickNetSmall's
        // 3x3 stride-2 stem with borders, 6-pair tiles, leftover pairs and single
        // pixels; stride 1; one input channel; VALID; batch 2.
        ConvCase{1, 31, 29, 3, 8, 3, 3, 2, 2, 1, 1, 1, true, true, 1},
        ConvCase{1, 26, 40, 3, 8, 3, 3, 2, 2, 1, 1, 1, true, true, 3},
        ConvCase{2, 12, 27, 3, 8, 3, 3, 1, 1, 1, 1, 1, false, true, 0},
        ConvCase{1, 9, 33, 1, 8, 5, 5, 2, 2, 1, 1, 1, true, true, 2},
        ConvCase{1, 10, 30, 3, 8, 3, 3, 2, 2, 1, 1, 1, true, false, 0},
        // ... and its one-pixel-per-vector form for more input channels (MeliusNet22's
        // grouped 8 -> 8 stem; 12 and 16 channels; a 5x5 stride-2 kernel).
        ConvCase{1, 13, 27, 8, 8, 3, 3, 1, 1, 1, 1, 1, true, true, 0},
        ConvCase{2, 9, 14, 12, 8, 3, 3, 2, 2, 1, 1, 1, true, false, 3},
        ConvCase{1, 11, 23, 16, 8, 5, 5, 2, 2, 1, 1, 1, false, true, 1},
        // The direct kernel's 1x1 path: chunks of up to 48 pixels and a partial
        // last one, 49 = 7x7 pixels in one chunk split by channel blocks, tiles of 6/8/12 pixels
        // and singles, a partial 64-channel block, batch 2, deep and shallow reductions.
        ConvCase{1, 7, 7, 64, 128, 1, 1, 1, 1, 1, 1, 1, true, true, 0},
        ConvCase{2, 5, 9, 16, 80, 1, 1, 1, 1, 1, 1, 1, false, true, 1},
        ConvCase{1, 3, 11, 256, 48, 1, 1, 1, 1, 1, 1, 1, true, false, 3},
        ConvCase{1, 10, 10, 5, 32, 1, 1, 1, 1, 1, 1, 1, true, true, 2},
        ConvCase{1, 1, 1, 7, 16, 1, 1, 1, 1, 1, 1, 1, true, true, 0}),
    [](const ::testing::TestParamInfo<ConvCase>& i) { return Name(i.param); });

// The grid's small-channel cases above run on the direct kernel wherever the CPU has AVX-512F or
// AVX2 and FMA.
TEST(ConvTest, DirectKernelCoversTheStemShapes) {
  using kernels::builtin::DirectConvF32;
  using kernels::builtin::DirectConvGeometry;
  const DirectConvGeometry stem{1, 224, 224, 3, 112, 112, 64, 7, 7, 2, 2, 2, 2};
  EXPECT_FALSE(DirectConvF32::Applies(stem, 2, 1, 1));
  EXPECT_FALSE(DirectConvF32::Applies(stem, 1, 2, 1));
  EXPECT_FALSE(DirectConvF32::Applies(DirectConvGeometry{1, 8, 8, 8, 8, 8, 64, 3, 3, 1, 1, 1, 1}, 1, 1, 1));
  // 8 channels: up to 16 input channels and kernels of at least 3x3.
  EXPECT_FALSE(
      DirectConvF32::Applies(DirectConvGeometry{1, 8, 8, 17, 8, 8, 8, 3, 3, 1, 1, 1, 1}, 1, 1, 1));
  EXPECT_FALSE(DirectConvF32::Applies(DirectConvGeometry{1, 8, 8, 16, 8, 8, 8, 1, 1, 1, 1, 0, 0}, 1, 1, 1));
  // Pair rows (AVX-512) for rows of up to 16384 / (2 * k_h) floats; wider rows take the AVX2
  // kernel (the last case of DirectKernelSumsInFilterOrder).
  EXPECT_TRUE(kernels::builtin::eight_pairs::PairRows::Fits(224 * 3, 3));
  EXPECT_TRUE(kernels::builtin::eight_pairs::PairRows::Fits(8192 / 3, 3));
  EXPECT_FALSE(kernels::builtin::eight_pairs::PairRows::Fits(8192 / 3 + 1, 3));
  EXPECT_FALSE(kernels::builtin::eight_pairs::PairRows::Fits(16, 17));
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f") &&
      !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
    GTEST_SKIP() << "CPU lacks avx512f and avx2+fma";
  EXPECT_TRUE(
      DirectConvF32::Applies(DirectConvGeometry{1, 8, 8, 3, 8, 8, 8, 3, 3, 1, 1, 1, 1}, 1, 1, 1));
  EXPECT_TRUE(DirectConvF32::Applies(
      DirectConvGeometry{1, 224, 224, 3, 112, 112, 8, 3, 3, 2, 2, 0, 0}, 1, 1, 1));
  EXPECT_TRUE(DirectConvF32::Applies(  // MeliusNet22's grouped stem
      DirectConvGeometry{1, 112, 112, 8, 112, 112, 8, 3, 3, 1, 1, 1, 1}, 1, 1, 1));
  EXPECT_TRUE(
      DirectConvF32::Applies(DirectConvGeometry{1, 16, 16, 3, 6, 6, 8, 5, 5, 2, 2, 2, 2}, 1, 1, 1));
  EXPECT_TRUE(DirectConvF32::Applies(stem, 1, 1, 1));
  const DirectConvGeometry wide{1, 30, 29, 4, 15, 15, 80, 3, 3, 2, 2, 1, 1};
  EXPECT_TRUE(DirectConvF32::Applies(wide, 1, 1, 1));
  // 1x1: stride 1 without padding only.
  EXPECT_TRUE(DirectConvF32::Applies(DirectConvGeometry{1, 7, 7, 256, 7, 7, 512, 1, 1, 1, 1, 0, 0}, 1, 1, 1));
  EXPECT_FALSE(DirectConvF32::Applies(DirectConvGeometry{1, 8, 8, 64, 4, 4, 128, 1, 1, 2, 2, 0, 0}, 1, 1, 1));
  EXPECT_FALSE(DirectConvF32::Applies(DirectConvGeometry{1, 7, 7, 64, 7, 7, 120, 1, 1, 1, 1, 0, 0}, 1, 1, 1));
  // Hostile strides or kernels stay on XNNPACK.
  EXPECT_FALSE(DirectConvF32::Applies(DirectConvGeometry{1, 8, 8, 3, 1, 1, 64, 3, 3, 1 << 30, 1 << 30, 1, 1}, 1, 1, 1));
  EXPECT_FALSE(DirectConvF32::Applies(DirectConvGeometry{1, 40, 40, 3, 20, 20, 64, 21, 21, 2, 2, 10, 10}, 1, 1, 1));
#else
  EXPECT_FALSE(DirectConvF32::Applies(stem, 1, 1, 1));
#endif
}

// The direct kernel splits by output rows (stems) or chunks of pixels x channel blocks (1x1): the
// same arithmetic per output on any thread count.
TEST(ConvTest, DirectKernelThreadsBitExact) {
  for (const ConvCase& c : {ConvCase{1, 40, 36, 3, 64, 7, 7, 2, 2, 1, 1, 1, true, true, 1},
                            ConvCase{1, 31, 29, 3, 8, 3, 3, 2, 2, 1, 1, 1, true, true, 1},
                            ConvCase{1, 14, 14, 64, 128, 1, 1, 1, 1, 1, 1, 1, true, true, 0},
                            ConvCase{1, 7, 7, 96, 144, 1, 1, 1, 1, 1, 1, 1, true, true, 1}}) {
    const int oh = OutSize(c.h, c.kh, c.stride_h, 1, c.same), ow = OutSize(c.w, c.kw, c.stride_w, 1, c.same);
    auto x = RandomFloats(static_cast<size_t>(c.h) * c.w * c.cin, 11);
    auto w = RandomFloats(static_cast<size_t>(c.cout) * c.kh * c.kw * c.cin, 12);
    auto b = RandomFloats(c.cout, 13);
    std::vector<std::vector<float>> f;
    for (int threads : {1, 2, 3}) {
      OpModel m;
      const int in = m.Input(DType::kFloat32, {1, c.h, c.w, c.cin});
      const int wt = m.Const(DType::kFloat32, {c.cout, c.kh, c.kw, c.cin}, w);
      const int bt = m.Const(DType::kFloat32, {c.cout}, b);
      const int out = m.Output(DType::kFloat32, {1, oh, ow, c.cout});
      m.Op(op::kConv2D, {in, wt, bt}, {out}, opt::kConv2D, ConvOptions(c));
      ASSERT_TRUE(m.Build(threads).ok());
      m.SetInput(0, x);
      ASSERT_TRUE(m.Invoke().ok());
      f.push_back(m.GetOutput<float>(0));
    }
    ExpectEqual(f[1], f[0]);
    ExpectEqual(f[2], f[0]);
  }
}

// The direct kernel's sum order, written out: per output, the bias, then the filter rows, then a
// row's taps (kx, then input channel), one fused multiply-add each, taps outside the image left
// out; then the activation's clamp. Stems run full tiles along a row and the other columns as
// tiles down up to four rows with the same visible filter rows (top and bottom rows clipped
// differently, strides 1-3, one to four 16-channel vectors); 1x1 convolutions end their chunks
// with tiles of 4, 2 and 1 pixels; 8-channel stems. Bit for bit on 1-3 threads, with AVX-512 or
// AVX2.
TEST(ConvTest, DirectKernelSumsInFilterOrder) {
  using kernels::builtin::DirectConvF32;
  using kernels::builtin::DirectConvGeometry;
  std::vector<ConvCase> cases = {
      ConvCase{1, 30, 29, 3, 64, 7, 7, 2, 2, 1, 1, 1, true, true, 1},
      ConvCase{2, 17, 23, 3, 80, 7, 7, 2, 2, 1, 1, 1, true, false, 0},
      ConvCase{1, 12, 27, 4, 32, 5, 3, 1, 2, 1, 1, 1, false, true, 2},
      ConvCase{1, 23, 50, 3, 48, 3, 5, 3, 1, 1, 1, 1, true, true, 3},
      ConvCase{1, 26, 13, 1, 16, 3, 3, 1, 1, 1, 1, 1, true, true, 0},
      ConvCase{1, 7, 7, 64, 128, 1, 1, 1, 1, 1, 1, 1, true, true, 0},
      ConvCase{2, 5, 9, 16, 80, 1, 1, 1, 1, 1, 1, 1, false, true, 1},
      ConvCase{1, 3, 11, 256, 48, 1, 1, 1, 1, 1, 1, 1, true, false, 3},
      ConvCase{1, 10, 11, 5, 32, 1, 1, 1, 1, 1, 1, 1, true, true, 2},
      // 3x3 stride-2 stems over 3 channels, wide enough for interior tiles
      // of 12 and 8 pixels (the kernel with constant taps).
      ConvCase{1, 29, 61, 3, 16, 3, 3, 2, 2, 1, 1, 1, true, true, 1},
      ConvCase{2, 20, 44, 3, 32, 3, 3, 2, 2, 1, 1, 1, false, false, 0},
      ConvCase{1, 15, 40, 3, 48, 3, 3, 2, 2, 1, 1, 1, true, true, 3},
      // 8-channel stems (QuickNetSmall's 3x3 stride 2), edges and odd widths.
      ConvCase{1, 31, 29, 3, 8, 3, 3, 2, 2, 1, 1, 1, true, true, 1},
      ConvCase{2, 26, 40, 3, 8, 3, 3, 2, 2, 1, 1, 1, true, false, 3},
      ConvCase{1, 9, 33, 1, 8, 5, 5, 2, 2, 1, 1, 1, false, true, 2},
      // ... over 8 to 16 input channels (one pixel per vector).
      ConvCase{1, 13, 27, 8, 8, 3, 3, 1, 1, 1, 1, 1, true, true, 0},
      ConvCase{2, 9, 14, 12, 8, 3, 3, 2, 2, 1, 1, 1, true, false, 3},
      ConvCase{1, 11, 23, 16, 8, 5, 5, 2, 2, 1, 1, 1, false, true, 1}};
  // 8-channel rows of every width up to 25 pixel pairs inside the image (AVX-512 runs them in
  // tiles of 1 to 12 pairs), QuickNetSmall's stem shape and one with other taps and steps.
  for (int w = 4; w <= 104; w += 2)
    cases.push_back({1, 5, w, 3, 8, 3, 3, 2, 2, 1, 1, 1, true, true, 1});
  for (int w = 3; w <= 60; ++w)
    cases.push_back({1, 4, w, 2, 8, 3, 3, 1, 1, 1, 1, 1, false, true, 0});
  cases.push_back({1, 4, 400, 16, 8, 3, 3, 2, 2, 1, 1, 1, true, true, 2});  // rows too wide
  for (const ConvCase& c : cases) {
    const int oh = OutSize(c.h, c.kh, c.stride_h, 1, c.same), ow = OutSize(c.w, c.kw, c.stride_w, 1, c.same);
    const int pt = PadBefore(c.h, c.kh, c.stride_h, 1, c.same), pl = PadBefore(c.w, c.kw, c.stride_w, 1, c.same);
    const DirectConvGeometry g{c.n, c.h, c.w, c.cin, oh, ow, c.cout, c.kh, c.kw, c.stride_h, c.stride_w, pt, pl};
    if (!DirectConvF32::Applies(g, 1, 1, 1)) GTEST_SKIP() << "no direct kernel on this CPU";
    auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 21);
    auto w = RandomFloats(static_cast<size_t>(c.cout) * c.kh * c.kw * c.cin, 22);
    auto b = RandomFloats(c.cout, 23);
    float lo, hi;
    RefFloatActivation(c.act, &lo, &hi);
    std::vector<float> want(static_cast<size_t>(c.n) * oh * ow * c.cout);
    for (int n = 0; n < c.n; ++n)
      for (int y = 0; y < oh; ++y)
        for (int xo = 0; xo < ow; ++xo)
          for (int o = 0; o < c.cout; ++o) {
            float acc = c.bias ? b[o] : 0.0f;
            for (int ky = 0; ky < c.kh; ++ky)
              for (int kx = 0; kx < c.kw; ++kx) {
                const int iy = y * c.stride_h - pt + ky, ix = xo * c.stride_w - pl + kx;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                for (int i = 0; i < c.cin; ++i) {
                  acc = std::fma(w[((static_cast<size_t>(o) * c.kh + ky) * c.kw + kx) * c.cin + i],
                                 x[((static_cast<size_t>(n) * c.h + iy) * c.w + ix) * c.cin + i], acc);
                }
              }
            want[((static_cast<size_t>(n) * oh + y) * ow + xo) * c.cout + o] = std::min(std::max(acc, lo), hi);
          }
    for (int threads : {1, 2, 3}) {
      OpModel m;
      const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
      const int wt = m.Const(DType::kFloat32, {c.cout, c.kh, c.kw, c.cin}, w);
      const int bt = c.bias ? m.Const(DType::kFloat32, {c.cout}, b) : -1;
      const int out = m.Output(DType::kFloat32, {c.n, oh, ow, c.cout});
      m.Op(op::kConv2D, c.bias ? std::vector<int32_t>{in, wt, bt} : std::vector<int32_t>{in, wt}, {out},
           opt::kConv2D, ConvOptions(c));
      ASSERT_TRUE(m.Build(threads).ok());
      m.SetInput(0, x);
      ASSERT_TRUE(m.Invoke().ok());
      SCOPED_TRACE(Name(c) + " threads " + std::to_string(threads));
      ExpectEqual(m.GetOutput<float>(0), want);
    }
  }
}

// Work items of the 1x1 path: chunks of whole 6-pixel tiles whose tile counts differ by at most
// one, times channel blocks.
TEST(ConvTest, PointwiseSplitBalancesChunks) {
  using kernels::builtin::direct_conv::ItemRegion;
  using kernels::builtin::direct_conv::SplitPointwise;
  auto s = SplitPointwise(49, 512);  // QuickNet's last transition: 7x7, 512 channels
  EXPECT_EQ(s.chunks, 1);
  EXPECT_EQ(s.blocks, 8);
  EXPECT_EQ(s.items(), 8);
  s = SplitPointwise(196, 256);  // 14x14: 48, 48, 48 and 52 pixels (not 54, 54, 54 and 34)
  EXPECT_EQ(s.chunks, 4);
  EXPECT_EQ(s.items(), 16);
  const int64_t begins[] = {0, 48, 96, 144, 196};
  for (int c = 0; c <= 4; ++c) EXPECT_EQ(s.ChunkBegin(c, 196), begins[c]);
  EXPECT_EQ(SplitPointwise(0, 64).items(), 0);
  for (int64_t pixels : {1, 5, 6, 47, 48, 49, 71, 72, 97, 784, 1000, 3136, 12544}) {
    for (int out_c : {16, 64, 80, 512}) {
      SCOPED_TRACE(std::to_string(pixels) + " pixels, " + std::to_string(out_c) + " channels");
      s = SplitPointwise(pixels, out_c);
      EXPECT_EQ(s.blocks, (out_c + 63) / 64);
      ASSERT_GE(s.chunks, 1);
      int64_t fewest = pixels, most = 0, covered = 0;
      for (int c = 0; c < s.chunks; ++c) {
        const int64_t p0 = s.ChunkBegin(c, pixels), p1 = s.ChunkBegin(c + 1, pixels);
        EXPECT_EQ(p0 % 6, 0);
        EXPECT_LT(p0, p1);
        EXPECT_LE(p1 - p0, 72);
        const int64_t tiles = (p1 - p0 + 5) / 6;
        fewest = std::min(fewest, tiles);
        most = std::max(most, tiles);
        covered += p1 - p0;
      }
      EXPECT_EQ(s.ChunkBegin(0, pixels), 0);
      EXPECT_EQ(s.ChunkBegin(s.chunks, pixels), pixels);
      EXPECT_EQ(covered, pixels);
      EXPECT_LE(most - fewest, 1);
      // Items: every chunk with every block, block by block within a chunk.
      const auto r = ItemRegion(s, pixels, out_c, s.items() - 1);
      EXPECT_EQ(r.p1, pixels);
      EXPECT_EQ(r.c0 + r.channels, out_c);
    }
  }
}

TEST(ConvTest, MultiThreadedMatchesSingleThread) {
  const ConvCase c{1, 12, 12, 16, 24, 3, 3, 1, 1, 1, 1, 1, true, true, 1};
  auto x = RandomFloats(12 * 12 * 16, 7);
  auto w = RandomFloats(24 * 9 * 16, 8);
  auto x8 = RandomInt8(12 * 12 * 16, 9);
  auto w8 = RandomInt8(24 * 9 * 16, 10, -127, 127);
  std::vector<std::vector<float>> f;
  std::vector<std::vector<int8_t>> q;
  for (int threads : {1, 3}) {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 12, 12, 16});
    const int wt = m.Const(DType::kFloat32, {24, 3, 3, 16}, w);
    const int out = m.Output(DType::kFloat32, {1, 12, 12, 24});
    m.Op(op::kConv2D, {in, wt}, {out}, opt::kConv2D, ConvOptions(c));
    ASSERT_TRUE(m.Build(threads).ok());
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    f.push_back(m.GetOutput<float>(0));
    OpModel m8;
    const int in8 = m8.Input(DType::kInt8, {1, 12, 12, 16}, Q(0.1f, 0));
    const int wt8 = m8.Const(DType::kInt8, {24, 3, 3, 16}, w8, Q(0.01f, 0));
    const int out8 = m8.Output(DType::kInt8, {1, 12, 12, 24}, Q(0.2f, 5));
    m8.Op(op::kConv2D, {in8, wt8}, {out8}, opt::kConv2D, ConvOptions(c), 3);
    ASSERT_TRUE(m8.Build(threads).ok());
    m8.SetInput(0, x8);
    ASSERT_TRUE(m8.Invoke().ok());
    q.push_back(m8.GetOutput<int8_t>(0));
  }
  ExpectClose(f[1], f[0], 1e-6);
  ExpectEqual(q[1], q[0]);
}

// A hand-checked int8 convolution: 1x1 kernel, one channel, scales chosen to give exact values.
TEST(ConvTest, Int8HandChecked) {
  OpModel m;
  const int in = m.Input(DType::kInt8, {1, 1, 4, 1}, Q(0.5f, -1));
  const int wt = m.Const(DType::kInt8, {1, 1, 1, 1}, std::vector<int8_t>{4}, Q(0.25f, 0));
  const int bt = m.Const(DType::kInt32, {1}, std::vector<int32_t>{2});
  const int out = m.Output(DType::kInt8, {1, 1, 4, 1}, Q(1.0f, 0));
  m.Op(op::kConv2D, {in, wt, bt}, {out}, opt::kConv2D,
       {{"padding", int64_t{1}}, {"stride_w", int64_t{1}}, {"stride_h", int64_t{1}}}, 3);
  ASSERT_TRUE(m.Build().ok());
  // real x = 0.5 * (q + 1); y = 1.0 * x + bias (2 * 0.125 = 0.25).
  m.SetInput(0, std::vector<int8_t>{-1, 1, 4, 100});
  ASSERT_TRUE(m.Invoke().ok());
  // x = 0, 1, 2.5, 50.5 -> y = 0.25, 1.25, 2.75, 50.75 -> rounded 0, 1, 3, 51
  ExpectEqual(m.GetOutput<int8_t>(0), std::vector<int8_t>{0, 1, 3, 51});
}

// ---- DEPTHWISE_CONV_2D -----------------------------------------------------------------------

struct DwCase {
  int n, h, w, cin, mult, kh, kw, stride, dil;
  bool same;
  int act;
};

class DepthwiseTest : public ::testing::TestWithParam<DwCase> {};

template <typename Acc, typename Tap>
void DwLoop(const DwCase& c, int oh, int ow, int pt, int pl, Tap&& tap, std::vector<Acc>* out) {
  const int cout = c.cin * c.mult;
  out->assign(static_cast<size_t>(c.n) * oh * ow * cout, Acc(0));
  for (int b = 0; b < c.n; ++b)
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x)
        for (int o = 0; o < cout; ++o) {
          Acc acc = 0;
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = y * c.stride - pt + ky * c.dil, ix = x * c.stride - pl + kx * c.dil;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              acc += tap(((static_cast<int64_t>(b) * c.h + iy) * c.w + ix) * c.cin + o / c.mult,
                         (static_cast<int64_t>(ky) * c.kw + kx) * cout + o);
            }
          (*out)[((static_cast<size_t>(b) * oh + y) * ow + x) * cout + o] = acc;
        }
}

std::vector<Field> DwOptions(const DwCase& c) {
  return {{"padding", int64_t{c.same ? 0 : 1}},    {"stride_w", int64_t{c.stride}},
          {"stride_h", int64_t{c.stride}},         {"depth_multiplier", int64_t{c.mult}},
          {"fused_activation_function", int64_t{c.act}}, {"dilation_w_factor", int64_t{c.dil}},
          {"dilation_h_factor", int64_t{c.dil}}};
}

TEST_P(DepthwiseTest, Float) {
  const DwCase c = GetParam();
  const int cout = c.cin * c.mult;
  const int oh = OutSize(c.h, c.kh, c.stride, c.dil, c.same), ow = OutSize(c.w, c.kw, c.stride, c.dil, c.same);
  const int pt = PadBefore(c.h, c.kh, c.stride, c.dil, c.same), pl = PadBefore(c.w, c.kw, c.stride, c.dil, c.same);
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 11);
  auto w = RandomFloats(static_cast<size_t>(c.kh) * c.kw * cout, 12);
  auto bias = RandomFloats(cout, 13);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
  const int wt = m.Const(DType::kFloat32, {1, c.kh, c.kw, cout}, w);
  const int bt = m.Const(DType::kFloat32, {cout}, bias);
  const int out = m.Output(DType::kFloat32, {c.n, oh, ow, cout});
  m.Op(op::kDepthwiseConv2D, {in, wt, bt}, {out}, opt::kDepthwiseConv2D, DwOptions(c), c.dil > 1 ? 2 : 1);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<double> acc;
  DwLoop<double>(c, oh, ow, pt, pl, [&](int64_t i, int64_t j) { return double(x[i]) * w[j]; }, &acc);
  float lo, hi;
  RefFloatActivation(c.act, &lo, &hi);
  std::vector<float> want(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    want[i] = std::min(std::max(static_cast<float>(acc[i] + bias[i % cout]), lo), hi);
  }
  ExpectClose(m.GetOutput<float>(0), want);
}

TEST_P(DepthwiseTest, Int8PerChannel) {
  const DwCase c = GetParam();
  const int cout = c.cin * c.mult;
  const int oh = OutSize(c.h, c.kh, c.stride, c.dil, c.same), ow = OutSize(c.w, c.kw, c.stride, c.dil, c.same);
  const int pt = PadBefore(c.h, c.kh, c.stride, c.dil, c.same), pl = PadBefore(c.w, c.kw, c.stride, c.dil, c.same);
  auto x = RandomInt8(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 14);
  auto w = RandomInt8(static_cast<size_t>(c.kh) * c.kw * cout, 15, -127, 127);
  auto bias = RandomInt32(cout, 16, -500, 500);
  std::vector<float> ws(cout);
  for (int o = 0; o < cout; ++o) ws[o] = 0.003f * static_cast<float>(1 + o % 5);
  const float in_s = 0.07f, out_s = 0.03f;
  const int32_t in_zp = -5, out_zp = 9;
  OpModel m;
  const int in = m.Input(DType::kInt8, {c.n, c.h, c.w, c.cin}, Q(in_s, in_zp));
  const int wt = m.Const(DType::kInt8, {1, c.kh, c.kw, cout}, w, Quant{ws, std::vector<int64_t>(cout, 0), 3});
  const int bt = m.Const(DType::kInt32, {cout}, bias);
  const int out = m.Output(DType::kInt8, {c.n, oh, ow, cout}, Q(out_s, out_zp));
  m.Op(op::kDepthwiseConv2D, {in, wt, bt}, {out}, opt::kDepthwiseConv2D, DwOptions(c), 3);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<int32_t> acc;
  DwLoop<int32_t>(c, oh, ow, pt, pl, [&](int64_t i, int64_t j) { return int32_t{w[j]} * (x[i] - in_zp); }, &acc);
  int32_t lo, hi;
  RefActivationRange(c.act, out_s, out_zp, &lo, &hi);
  std::vector<int8_t> want(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int o = static_cast<int>(i % cout);
    int32_t mult;
    int shift;
    RefQuantizeMultiplier(double(in_s) * double(ws[o]) / double(out_s), &mult, &shift);
    // optimized_ops::Quantize: blocks of 8 channels round the final shift half up, the rest away
    // from zero.
    const bool blocked = o < cout - cout % 8;
    const int32_t v = (blocked ? RefMultiplyByQuantizedMultiplierRoundUp(acc[i] + bias[o], mult, shift)
                               : RefMultiplyByQuantizedMultiplier(acc[i] + bias[o], mult, shift)) +
                      out_zp;
    want[i] = static_cast<int8_t>(std::min(std::max(v, lo), hi));
  }
  ExpectEqual(m.GetOutput<int8_t>(0), want);
}

INSTANTIATE_TEST_SUITE_P(Grid, DepthwiseTest,
                         ::testing::Values(DwCase{1, 6, 6, 4, 1, 3, 3, 1, 1, true, 0},
                                           DwCase{1, 6, 6, 4, 1, 3, 3, 1, 1, false, 1},
                                           DwCase{2, 7, 7, 3, 2, 3, 3, 2, 1, true, 3},
                                           DwCase{1, 9, 9, 5, 1, 3, 3, 1, 2, true, 2},
                                           DwCase{1, 10, 8, 2, 3, 5, 3, 2, 1, false, 0},
                                           DwCase{1, 8, 8, 1, 4, 3, 3, 1, 1, true, 1},
                                           DwCase{1, 11, 11, 32, 1, 3, 3, 2, 1, true, 3},
                                           // QuickNet's channel counts and more: 8, 16, 24, 64
                                           // channels; borders, strides 1 and 2, VALID, batch 2,
                                           // 5x3, dilation 2.
                                           DwCase{1, 23, 21, 8, 1, 3, 3, 2, 1, true, 1},
                                           DwCase{2, 9, 12, 16, 1, 3, 3, 1, 1, false, 0},
                                           DwCase{1, 13, 10, 24, 1, 3, 3, 2, 1, true, 3},
                                           DwCase{1, 8, 9, 64, 1, 5, 3, 1, 1, true, 2},
                                           DwCase{1, 9, 9, 16, 1, 3, 3, 1, 2, true, 0}),
                         [](const ::testing::TestParamInfo<DwCase>& i) {
                           const DwCase& c = i.param;
                           return std::to_string(c.h) + "x" + std::to_string(c.w) + "x" + std::to_string(c.cin) +
                                  "_m" + std::to_string(c.mult) + "_k" + std::to_string(c.kh) +
                                  std::to_string(c.kw) + "_s" + std::to_string(c.stride) + "_d" +
                                  std::to_string(c.dil) + (c.same ? "_same" : "_valid") + "_act" +
                                  std::to_string(c.act);
                         });

// Float depthwise convolutions (depthwise_direct.h) compute as TFLite's builtin kernel, which LCE's
// interpreter runs: per output the bias, then the taps inside the image row by row (ky, then kx),
// each product rounded and then added, taps outside the image left out; then
// std::max(lo, std::min(hi, .)) with TFLite's activation range (float's finite range without an
// activation, so a NaN becomes lo and an inf the largest float). This loop writes that order out
// (this file is built without multiply-add contraction); the direct 3x3 kernel and the row loop
// must give its bits on every channel count (partial 16-channel blocks), stride, padding,
// activation, batch, depth multiplier, dilation and thread count, including +-0, inf and NaN.
std::vector<float> TfliteOrderDepthwise(const DwCase& c, const std::vector<float>& x,
                                        const std::vector<float>& w,
                                        const std::vector<float>& bias) {
  const int oh = OutSize(c.h, c.kh, c.stride, c.dil, c.same),
            ow = OutSize(c.w, c.kw, c.stride, c.dil, c.same);
  const int pt = PadBefore(c.h, c.kh, c.stride, c.dil, c.same),
            pl = PadBefore(c.w, c.kw, c.stride, c.dil, c.same);
  const int cout = c.cin * c.mult;
  float lo, hi;
  RefFloatActivation(c.act, &lo, &hi);
  lo = std::max(lo, std::numeric_limits<float>::lowest());
  hi = std::min(hi, std::numeric_limits<float>::max());
  std::vector<float> out(static_cast<size_t>(c.n) * oh * ow * cout);
  for (int b = 0; b < c.n; ++b)
    for (int y = 0; y < oh; ++y)
      for (int xo = 0; xo < ow; ++xo)
        for (int o = 0; o < cout; ++o) {
          float acc = bias[o];
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = y * c.stride - pt + ky * c.dil, ix = xo * c.stride - pl + kx * c.dil;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              const float product =
                  w[(static_cast<size_t>(ky) * c.kw + kx) * cout + o] *
                  x[((static_cast<size_t>(b) * c.h + iy) * c.w + ix) * c.cin + o / c.mult];
              acc = acc + product;
            }
          out[((static_cast<size_t>(b) * oh + y) * ow + xo) * cout + o] =
              std::max(lo, std::min(hi, acc));
        }
  return out;
}

TEST(DepthwiseTest, FloatSumsInTfliteOrder) {
  int case_no = 0;
  for (const DwCase& c :
       {DwCase{1, 56, 56, 16, 1, 3, 3, 2, 1, true, 0},  // QuickNet's shapes
        DwCase{1, 13, 13, 256, 1, 3, 3, 2, 1, true, 0},
        DwCase{2, 9, 12, 40, 1, 3, 3, 1, 1, true, 1},  // partial block, batch 2
        DwCase{1, 10, 7, 5, 1, 3, 3, 1, 1, false, 3}, DwCase{1, 11, 11, 24, 1, 3, 3, 3, 1, true, 2},
        DwCase{1, 2, 1, 17, 1, 3, 3, 1, 1, true, 0},  // every tap near a border
        DwCase{1, 3, 3, 1, 1, 3, 3, 2, 1, false, 0},
        // The row loop: depth multipliers, other kernel sizes, dilation, strides past the kernel.
        DwCase{2, 7, 7, 3, 2, 3, 3, 2, 1, true, 3}, DwCase{1, 10, 8, 2, 3, 5, 3, 2, 1, false, 0},
        DwCase{1, 9, 9, 16, 1, 3, 3, 1, 2, true, 0}, DwCase{1, 8, 9, 64, 1, 5, 3, 1, 1, true, 2},
        DwCase{1, 12, 11, 6, 1, 2, 2, 4, 1, true, 1}, DwCase{1, 6, 6, 1, 4, 3, 3, 1, 1, true, 0},
        // 8 and 16 channels (two pixels at a time where their visible columns agree).
        DwCase{1, 12, 13, 8, 1, 5, 3, 1, 1, true, 1}, DwCase{1, 23, 21, 8, 1, 3, 3, 2, 1, true, 1},
        DwCase{2, 9, 10, 16, 1, 3, 3, 2, 1, false, 0}, DwCase{1, 4, 3, 16, 1, 5, 5, 1, 1, true, 2},
        // 32-channel blocks followed by an 8-channel one, or by 8 and 5 channels.
        DwCase{1, 9, 11, 72, 1, 3, 3, 2, 1, true, 0},
        DwCase{1, 7, 8, 45, 1, 3, 3, 1, 1, false, 2}}) {
    SCOPED_TRACE(case_no++);
    const int cout = c.cin * c.mult;
    const int oh = OutSize(c.h, c.kh, c.stride, c.dil, c.same),
              ow = OutSize(c.w, c.kw, c.stride, c.dil, c.same);
    auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 21, -4, 4);
    auto w = RandomFloats(static_cast<size_t>(c.kh) * c.kw * cout, 22);
    auto bias = RandomFloats(cout, 23);
    // Signed zeros everywhere in one channel, and one inf and one NaN input (most outputs stay
    // finite, the windows holding them do not).
    for (size_t i = 0; i < x.size(); i += c.cin) x[i] = (i / c.cin) % 2 ? 0.0f : -0.0f;
    bias[0] = -0.0f;
    if (x.size() > 7 * static_cast<size_t>(c.cin)) {
      x[3 * c.cin + c.cin / 2] = std::numeric_limits<float>::infinity();
      x[7 * c.cin + c.cin - 1] = std::numeric_limits<float>::quiet_NaN();
    }
    const std::vector<float> want = TfliteOrderDepthwise(c, x, w, bias);
    for (int threads : {1, 2, 3}) {
      OpModel m;
      const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
      const int wt = m.Const(DType::kFloat32, {1, c.kh, c.kw, cout}, w);
      const int bt = m.Const(DType::kFloat32, {cout}, bias);
      const int out = m.Output(DType::kFloat32, {c.n, oh, ow, cout});
      m.Op(op::kDepthwiseConv2D, {in, wt, bt}, {out}, opt::kDepthwiseConv2D, DwOptions(c),
           c.dil > 1 ? 2 : 1);
      ASSERT_TRUE(m.Build(threads).ok());
      m.SetInput(0, x);
      ASSERT_TRUE(m.Invoke().ok());
      const std::vector<float> got = m.GetOutput<float>(0);
      ASSERT_EQ(got.size(), want.size());
      int bad = 0;
      for (size_t i = 0; i < got.size() && bad < 8; ++i) {
        if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
          ADD_FAILURE() << threads << " threads, element " << i << ": got " << got[i] << ", want "
                        << want[i];
          ++bad;
        }
      }
    }
  }
}

// ---- FULLY_CONNECTED ----------------------------------------------------------------------

struct FcCase {
  std::vector<int32_t> in_shape;
  int units;
  bool keep_dims, bias;
  int act;
};

class FullyConnectedTest : public ::testing::TestWithParam<FcCase> {};

std::vector<int32_t> FcOutShape(const FcCase& c) {
  const int depth = c.in_shape.back();
  if (c.keep_dims) {
    auto s = c.in_shape;
    s.back() = c.units;
    return s;
  }
  return {static_cast<int32_t>(Elements(c.in_shape) / depth), c.units};
}

TEST_P(FullyConnectedTest, Float) {
  const FcCase c = GetParam();
  const int depth = c.in_shape.back();
  const int64_t rows = Elements(c.in_shape) / depth;
  auto x = RandomFloats(static_cast<size_t>(Elements(c.in_shape)), 21);
  auto w = RandomFloats(static_cast<size_t>(c.units) * depth, 22);
  auto bias = RandomFloats(c.units, 23);
  OpModel m;
  const int in = m.Input(DType::kFloat32, c.in_shape);
  const int wt = m.Const(DType::kFloat32, {c.units, depth}, w);
  const int bt = c.bias ? m.Const(DType::kFloat32, {c.units}, bias) : -1;
  const int out = m.Output(DType::kFloat32, FcOutShape(c));
  m.Op(op::kFullyConnected, {in, wt, bt}, {out}, opt::kFullyConnected,
       {{"fused_activation_function", int64_t{c.act}}, {"keep_num_dims", int64_t{c.keep_dims}}},
       c.bias ? (c.keep_dims ? 5 : 1) : 6);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  float lo, hi;
  RefFloatActivation(c.act, &lo, &hi);
  std::vector<float> want(static_cast<size_t>(rows) * c.units);
  for (int64_t r = 0; r < rows; ++r)
    for (int u = 0; u < c.units; ++u) {
      double acc = c.bias ? bias[u] : 0.0;
      for (int k = 0; k < depth; ++k) acc += double(x[r * depth + k]) * w[static_cast<size_t>(u) * depth + k];
      want[r * c.units + u] = std::min(std::max(static_cast<float>(acc), lo), hi);
    }
  ExpectClose(m.GetOutput<float>(0), want);
}

TEST_P(FullyConnectedTest, Int8) {
  const FcCase c = GetParam();
  const int depth = c.in_shape.back();
  const int64_t rows = Elements(c.in_shape) / depth;
  auto x = RandomInt8(static_cast<size_t>(Elements(c.in_shape)), 24);
  auto w = RandomInt8(static_cast<size_t>(c.units) * depth, 25, -127, 127);
  auto bias = RandomInt32(c.units, 26, -3000, 3000);
  const float in_s = 0.02f, w_s = 0.013f, out_s = 0.09f;
  const int32_t in_zp = 11, out_zp = -3;
  OpModel m;
  const int in = m.Input(DType::kInt8, c.in_shape, Q(in_s, in_zp));
  const int wt = m.Const(DType::kInt8, {c.units, depth}, w, Q(w_s, 0));
  const int bt = c.bias ? m.Const(DType::kInt32, {c.units}, bias, Q(in_s * w_s, 0)) : -1;
  const int out = m.Output(DType::kInt8, FcOutShape(c), Q(out_s, out_zp));
  m.Op(op::kFullyConnected, {in, wt, bt}, {out}, opt::kFullyConnected,
       {{"fused_activation_function", int64_t{c.act}}, {"keep_num_dims", int64_t{c.keep_dims}}}, 6);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  // TFLite forms the scale product in float (GetQuantizedConvolutionMultipler).
  int32_t mult;
  int shift;
  RefQuantizeMultiplier(static_cast<double>(in_s * w_s) / out_s, &mult, &shift);
  int32_t lo, hi;
  RefActivationRange(c.act, out_s, out_zp, &lo, &hi);
  std::vector<int8_t> want(static_cast<size_t>(rows) * c.units);
  for (int64_t r = 0; r < rows; ++r)
    for (int u = 0; u < c.units; ++u) {
      int32_t acc = c.bias ? bias[u] : 0;
      for (int k = 0; k < depth; ++k) acc += int32_t{w[static_cast<size_t>(u) * depth + k]} * (x[r * depth + k] - in_zp);
      const int32_t v = RefMultiplyByQuantizedMultiplierRoundUp(acc, mult, shift) + out_zp;  // ruy / GEMV
      want[r * c.units + u] = static_cast<int8_t>(std::min(std::max(v, lo), hi));
    }
  ExpectEqual(m.GetOutput<int8_t>(0), want);
}

INSTANTIATE_TEST_SUITE_P(Grid, FullyConnectedTest,
                         ::testing::Values(FcCase{{1, 16}, 10, false, true, 0}, FcCase{{3, 20}, 7, false, false, 1},
                                           FcCase{{2, 3, 8}, 5, true, true, 3}, FcCase{{1, 2, 2, 6}, 9, false, true, 2},
                                           FcCase{{4, 33}, 40, false, true, 0}),
                         [](const ::testing::TestParamInfo<FcCase>& i) {
                           std::string s = "in";
                           for (int32_t d : i.param.in_shape) s += "_" + std::to_string(d);
                           return s + "_u" + std::to_string(i.param.units) + (i.param.keep_dims ? "_keep" : "") +
                                  (i.param.bias ? "_bias" : "") + "_act" + std::to_string(i.param.act);
                         });

// One row on AVX-512 CPUs runs the GEMV of fully_connected.cc: per unit acc = bias, then
// fma(x[d], w[d], acc) in order, then the clamp; bit for bit against that in scalar code, on
// 1-3 threads, with unit counts around its 16-unit blocks and 4-block steps. Elsewhere (XNNPACK)
// close to double sums.
TEST(FullyConnectedTest, OneRowBitExactOverBlocks) {
  struct Case {
    int depth, units, act;
    bool bias, inf;
  };
  for (const Case c :
       {Case{1, 1, 0, true, false}, Case{7, 15, 1, false, true}, Case{33, 16, 0, true, false},
        Case{64, 63, 3, true, false}, Case{64, 64, 0, true, false}, Case{100, 65, 2, true, false},
        Case{80, 130, 0, true, true}, Case{512, 1000, 0, true, false}}) {
    auto x = RandomFloats(static_cast<size_t>(c.depth), 31);
    auto w = RandomFloats(static_cast<size_t>(c.units) * c.depth, 32);
    auto bias = RandomFloats(static_cast<size_t>(c.units), 33);
    if (c.inf) x[0] = std::numeric_limits<float>::infinity();  // inf and NaN sums
    // TFLite's ranges: without an activation the clamp is to the finite floats (inf -> FLT_MAX).
    const float lo = c.act == 0 ? std::numeric_limits<float>::lowest() : c.act == 2 ? -1.0f : 0.0f;
    const float hi = c.act == 2 ? 1.0f : c.act == 3 ? 6.0f : std::numeric_limits<float>::max();
    std::vector<float> fma(static_cast<size_t>(c.units)), close(fma.size());
    for (int u = 0; u < c.units; ++u) {
      float acc = c.bias ? bias[static_cast<size_t>(u)] : 0.0f;
      double sum = acc;
      for (int d = 0; d < c.depth; ++d) {
        const float wd = w[static_cast<size_t>(u) * c.depth + d];
        acc = std::fma(x[static_cast<size_t>(d)], wd, acc);
        sum += double(x[static_cast<size_t>(d)]) * wd;
      }
      fma[static_cast<size_t>(u)] = std::min(std::max(acc, lo), hi);
      close[static_cast<size_t>(u)] = std::min(std::max(static_cast<float>(sum), lo), hi);
    }
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE("depth " + std::to_string(c.depth) + " units " + std::to_string(c.units) +
                   " threads " + std::to_string(threads));
      OpModel m;
      const int in = m.Input(DType::kFloat32, {1, c.depth});
      const int wt = m.Const(DType::kFloat32, {c.units, c.depth}, w);
      const int bt = c.bias ? m.Const(DType::kFloat32, {c.units}, bias) : -1;
      const int out = m.Output(DType::kFloat32, {1, c.units});
      m.Op(op::kFullyConnected, {in, wt, bt}, {out}, opt::kFullyConnected,
           {{"fused_activation_function", int64_t{c.act}}}, c.bias ? 1 : 6);
      ASSERT_TRUE(m.Build(threads).ok());
      m.SetInput(0, x);
      ASSERT_TRUE(m.Invoke().ok());
      const auto got = m.GetOutput<float>(0);
#if defined(__x86_64__)
      if (__builtin_cpu_supports("avx512f")) {
        ASSERT_EQ(got.size(), fma.size());
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(std::memcmp(&got[i], &fma[i], 4), 0)
              << "unit " << i << ": got " << got[i] << ", want " << fma[i];
        }
        continue;
      }
#endif
      ExpectClose(got, close);
    }
  }
}

TEST(FullyConnectedTest, Int8PerChannelWeights) {
  const int depth = 12, units = 6;
  auto x = RandomInt8(2 * depth, 27);
  auto w = RandomInt8(units * depth, 28, -127, 127);
  std::vector<float> ws = {0.01f, 0.02f, 0.005f, 0.013f, 0.007f, 0.03f};
  OpModel m;
  const int in = m.Input(DType::kInt8, {2, depth}, Q(0.04f, -2));
  const int wt = m.Const(DType::kInt8, {units, depth}, w, Quant{ws, std::vector<int64_t>(units, 0), 0});
  const int out = m.Output(DType::kInt8, {2, units}, Q(0.1f, 1));
  m.Op(op::kFullyConnected, {in, wt, -1}, {out}, opt::kFullyConnected, {}, 6);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<int8_t> want(2 * units);
  for (int r = 0; r < 2; ++r)
    for (int u = 0; u < units; ++u) {
      int32_t acc = 0;
      for (int k = 0; k < depth; ++k) acc += int32_t{w[u * depth + k]} * (x[r * depth + k] + 2);
      int32_t mult;
      int shift;
      RefQuantizeMultiplier(double(0.04f) * double(ws[u]) / double(0.1f), &mult, &shift);
      const int32_t v = RefMultiplyByQuantizedMultiplierRoundUp(acc, mult, shift) + 1;
      want[r * units + u] = static_cast<int8_t>(std::min(std::max(v, -128), 127));
    }
  ExpectEqual(m.GetOutput<int8_t>(0), want);
}

}  // namespace
}  // namespace xbnn::testing
