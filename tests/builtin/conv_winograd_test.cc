// CONV_2D with float_precision kFloat32Winograd (conv_winograd.h): against a double-precision
// sum, within 1e-5 of the sum of the products' magnitudes (the kernel's rounding measured at up
// to ~2e-6 of it; a wrong transform coefficient is off by whole products); the same bits on 1-3
// threads, for any split of the rows and in AVX2 and AVX-512 code; NaN and huge inputs take the
// direct kernel.
#include "kernels/builtin/conv_winograd.h"

#include <cmath>
#include <limits>

#include "builtin/op_test_util.h"
#include "kernels/builtin/conv_direct.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;
using kernels::builtin::DirectConvF32;
using kernels::builtin::DirectConvGeometry;
using kernels::builtin::WinogradStemF32;

struct StemCase {
  int n, h, w, cin, cout, k_h, k_w;
  bool same;
  int act;
};

std::string Name(const StemCase& c) {
  return std::to_string(c.n) + "x" + std::to_string(c.h) + "x" + std::to_string(c.w) + "x" +
         std::to_string(c.cin) + "_o" + std::to_string(c.cout) + "_k" + std::to_string(c.k_h) +
         "x" + std::to_string(c.k_w) + (c.same ? "_same" : "_valid") + "_act" +
         std::to_string(c.act);
}

DirectConvGeometry Geometry(const StemCase& c) {
  return {c.n,
          c.h,
          c.w,
          c.cin,
          OutSize(c.h, c.k_h, 2, 1, c.same),
          OutSize(c.w, c.k_w, 2, 1, c.same),
          c.cout,
          c.k_h,
          c.k_w,
          2,
          2,
          PadBefore(c.h, c.k_h, 2, 1, c.same),
          PadBefore(c.w, c.k_w, 2, 1, c.same)};
}

std::vector<float> RunConv(const StemCase& c, const std::vector<float>& x,
                           const std::vector<float>& w, const std::vector<float>& bias,
                           int threads) {
  const DirectConvGeometry g = Geometry(c);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
  const int wt = m.Const(DType::kFloat32, {c.cout, c.k_h, c.k_w, c.cin}, w);
  const int bt = m.Const(DType::kFloat32, {c.cout}, bias);
  const int out = m.Output(DType::kFloat32, {c.n, g.out_h, g.out_w, c.cout});
  m.Op(op::kConv2D, {in, wt, bt}, {out}, opt::kConv2D,
       {{"padding", int64_t{c.same ? 0 : 1}},
        {"stride_w", int64_t{2}},
        {"stride_h", int64_t{2}},
        {"fused_activation_function", int64_t{c.act}},
        {"dilation_w_factor", int64_t{1}},
        {"dilation_h_factor", int64_t{1}}});
  EXPECT_TRUE(m.Build(threads, FloatPrecision::kFloat32Winograd).ok());
  m.SetInput(0, x);
  EXPECT_TRUE(m.Invoke().ok());
  return m.GetOutput<float>(0);
}

class ConvWinogradTest : public ::testing::TestWithParam<StemCase> {};

TEST_P(ConvWinogradTest, MatchesDoubleSums) {
  const StemCase c = GetParam();
  const DirectConvGeometry g = Geometry(c);
  if (!WinogradStemF32::Applies(g, 1, 1, 1)) GTEST_SKIP() << "CPU lacks AVX-512F and AVX2";
  const auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 31);
  const auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k_h * c.k_w * c.cin, 32);
  const auto bias = RandomFloats(c.cout, 33);
  const std::vector<float> got = RunConv(c, x, w, bias, 1);
  float lo, hi;
  RefFloatActivation(c.act, &lo, &hi);
  ASSERT_EQ(got.size(), static_cast<size_t>(c.n) * g.out_h * g.out_w * c.cout);
  int bad = 0;
  for (int b = 0; b < c.n; ++b)
    for (int y = 0; y < g.out_h; ++y)
      for (int xo = 0; xo < g.out_w; ++xo)
        for (int o = 0; o < c.cout; ++o) {
          double acc = bias[o], mag = std::abs(bias[o]);
          for (int ky = 0; ky < c.k_h; ++ky)
            for (int kx = 0; kx < c.k_w; ++kx) {
              const int iy = 2 * y - g.pad_top + ky, ix = 2 * xo - g.pad_left + kx;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (int i = 0; i < c.cin; ++i) {
                const double p =
                    double(x[((static_cast<size_t>(b) * c.h + iy) * c.w + ix) * c.cin + i]) *
                    w[((static_cast<size_t>(o) * c.k_h + ky) * c.k_w + kx) * c.cin + i];
                acc += p;
                mag += std::abs(p);
              }
            }
          const double want = std::min<double>(std::max<double>(acc, lo), hi);
          const float v = got[((static_cast<size_t>(b) * g.out_h + y) * g.out_w + xo) * c.cout + o];
          if (!(std::abs(v - want) <= 1e-5 * mag) && ++bad <= 5) {
            ADD_FAILURE() << "at [" << b << "," << y << "," << xo << "," << o << "]: got " << v
                          << ", want " << want << " (magnitude " << mag << ")";
          }
        }
  EXPECT_EQ(bad, 0);
  // The Winograd kernel ran: its rounding differs from the direct kernel's somewhere.
  DirectConvF32 direct;
  direct.Prepare(g, w.data(), bias.data(), lo, hi);
  std::vector<float> plain(got.size());
  direct.RunRows(x.data(), plain.data(), 0, direct.rows());
  EXPECT_NE(plain, got);
  // The AVX2 code gives the AVX-512 code's bits (the interpreter takes AVX-512 where it can).
  WinogradStemF32 avx2;
  avx2.Prepare(g, w.data(), bias.data(), lo, hi, 1, /*allow_avx512=*/false);
  std::vector<float> narrow(got.size());
  avx2.RunRows(0, x.data(), narrow.data(), 0, avx2.rows());
  ExpectEqual(narrow, got);
  for (int threads : {2, 3}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    ExpectEqual(RunConv(c, x, w, bias, threads), got);
  }
}

// Bi-Real Net's stem; borders on every side, widths and heights that leave partial tiles and
// partial 6-tile chunks; 64-channel blocks and partial ones (80, 48, 16); kernels 6x6 to 8x8 and
// non-square; 1, 2 and 4 input channels; VALID; batch 2; the fused activations.
INSTANTIATE_TEST_SUITE_P(Grid, ConvWinogradTest,
                         ::testing::Values(StemCase{1, 224, 224, 3, 64, 7, 7, true, 0},
                                           StemCase{1, 30, 29, 3, 64, 7, 7, true, 1},
                                           StemCase{2, 17, 23, 3, 80, 7, 7, true, 0},
                                           StemCase{1, 33, 58, 1, 16, 6, 6, false, 3},
                                           StemCase{1, 26, 19, 4, 48, 8, 8, true, 0},
                                           StemCase{1, 20, 61, 2, 128, 7, 6, true, 1},
                                           StemCase{2, 9, 9, 3, 32, 8, 7, false, 0},
                                           StemCase{1, 7, 5, 3, 16, 7, 7, true, 2}),
                         [](const ::testing::TestParamInfo<StemCase>& i) { return Name(i.param); });

// The kernel on its own: RunRows over any split of the rows (tile rows cut in two, batches
// crossed) writes the same bits as one call over all of them.
TEST(ConvWinogradKernelTest, AnyRowSplitGivesTheSameBits) {
  const StemCase c{2, 30, 27, 3, 32, 7, 7, true, 0};
  const DirectConvGeometry g = Geometry(c);  // 15 rows per image: tile rows of 4, 4, 4, 3
  if (!WinogradStemF32::Applies(g, 1, 1, 1)) GTEST_SKIP() << "CPU lacks AVX-512F and AVX2";
  const auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 41);
  const auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k_h * c.k_w * c.cin, 42);
  const auto bias = RandomFloats(c.cout, 43);
  WinogradStemF32 k;
  k.Prepare(g, w.data(), bias.data(), -std::numeric_limits<float>::infinity(),
            std::numeric_limits<float>::infinity(), 2);
  ASSERT_EQ(k.rows(), 30);
  EXPECT_EQ(k.TileRowStart(6), 4);
  EXPECT_EQ(k.TileRowStart(16), 15);  // the second image's first tile row
  const size_t n = static_cast<size_t>(k.rows()) * g.out_w * g.out_c;
  std::vector<float> whole(n, -1.0f), split(n, -2.0f);
  k.RunRows(0, x.data(), whole.data(), 0, k.rows());
  for (auto [r0, r1] : {std::pair{0, 5}, std::pair{5, 13}, std::pair{13, 17}, std::pair{17, 30}}) {
    k.RunRows(1, x.data(), split.data(), r0, r1);
  }
  ExpectEqual(split, whole);
}

// A NaN or a value too large for the transforms: those tile rows are the direct kernel's (the
// NaN stays in its own windows); the other rows are the Winograd kernel's.
TEST(ConvWinogradKernelTest, NaNAndHugeInputsTakeTheDirectKernel) {
  const StemCase c{1, 40, 24, 3, 16, 7, 7, true, 0};
  const DirectConvGeometry g = Geometry(c);  // 20 output rows: 5 tile rows
  if (!WinogradStemF32::Applies(g, 1, 1, 1)) GTEST_SKIP() << "CPU lacks AVX-512F and AVX2";
  auto x = RandomFloats(static_cast<size_t>(c.h) * c.w * c.cin, 51);
  const auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k_h * c.k_w * c.cin, 52);
  const auto bias = RandomFloats(c.cout, 53);
  const float inf = std::numeric_limits<float>::infinity();
  x[(static_cast<size_t>(1) * c.w + 3) * c.cin] = std::numeric_limits<float>::quiet_NaN();
  x[(static_cast<size_t>(39) * c.w + 20) * c.cin + 1] = 1e37f;
  for (bool avx512 : {true, false}) {
    WinogradStemF32 k;
    k.Prepare(g, w.data(), bias.data(), -inf, inf, 1, avx512);
    DirectConvF32 d;
    d.Prepare(g, w.data(), bias.data(), -inf, inf);
    const size_t n = static_cast<size_t>(g.out_h) * g.out_w * g.out_c;
    std::vector<float> got(n), direct(n);
    k.RunRows(0, x.data(), got.data(), 0, g.out_h);
    d.RunRows(x.data(), direct.data(), 0, g.out_h);
    const size_t row = static_cast<size_t>(g.out_w) * g.out_c;
    // Input row 1 feeds tile row 0; input row 39 feeds tile row 4 (output rows 16-19).
    for (size_t i = 0; i < n; ++i) {
      const size_t r = i / row;
      if (r < 4 || r >= 16) {
        ASSERT_TRUE(got[i] == direct[i] || (std::isnan(got[i]) && std::isnan(direct[i])))
            << "element " << i;
      } else {
        ASSERT_TRUE(std::isfinite(got[i])) << "element " << i;
        EXPECT_NEAR(got[i], direct[i], 1e-4);
      }
    }
  }
}

TEST(ConvWinogradKernelTest, AppliesToStrideTwoStems) {
  const DirectConvGeometry stem{1, 224, 224, 3, 112, 112, 64, 7, 7, 2, 2, 2, 2};
  if (!WinogradStemF32::Applies(stem, 1, 1, 1)) GTEST_SKIP() << "CPU lacks AVX-512F and AVX2";
  EXPECT_FALSE(WinogradStemF32::Applies(stem, 2, 1, 1));  // groups
  EXPECT_FALSE(WinogradStemF32::Applies(stem, 1, 2, 1));  // dilation
  DirectConvGeometry g = stem;
  g.stride_w = 1;
  EXPECT_FALSE(WinogradStemF32::Applies(g, 1, 1, 1));
  g = stem;
  g.k_h = g.k_w = 3;  // 9 taps: the direct sum is cheaper
  EXPECT_FALSE(WinogradStemF32::Applies(g, 1, 1, 1));
  g = stem;
  g.in_c = 5;  // 20 phase channels: more than one vector
  EXPECT_FALSE(WinogradStemF32::Applies(g, 1, 1, 1));
  g = stem;
  g.out_c = 8;
  EXPECT_FALSE(WinogradStemF32::Applies(g, 1, 1, 1));
  g = stem;
  g.out_w = 4097;  // the staged rows would grow with a hostile width
  EXPECT_FALSE(WinogradStemF32::Applies(g, 1, 1, 1));
  g = stem;
  g.k_h = 8;
  g.k_w = 6;
  EXPECT_TRUE(WinogradStemF32::Applies(g, 1, 1, 1));
}

}  // namespace
}  // namespace xbnn::testing
