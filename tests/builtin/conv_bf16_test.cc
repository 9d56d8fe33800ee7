// CONV_2D with InterpreterOptions::float_precision = kBFloat16 (conv_direct_bf16.h): against a
// double-precision loop over bfloat16-rounded inputs and weights. Random inputs round by ~1e-3
// relative, so float32 arithmetic fails the 1e-5 tolerance: passing shows the bfloat16 kernel
// ran. On CPUs without AVX512-BF16 the option must give float32's results exactly.
#include <cmath>
#include <cstring>

#include "builtin/op_test_util.h"
#include "kernels/builtin/conv_direct.h"
#include "kernels/builtin/conv_direct_bf16.h"
#include "kernels/builtin/conv_winograd.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct Bf16Case {
  int n, h, w, cin, cout, k_h, k_w, stride_h, stride_w;
  bool same;
  int act;
};

std::string Name(const Bf16Case& c) {
  return std::to_string(c.n) + "x" + std::to_string(c.h) + "x" + std::to_string(c.w) + "x" +
         std::to_string(c.cin) + "_o" + std::to_string(c.cout) + "_k" + std::to_string(c.k_h) +
         "x" + std::to_string(c.k_w) + "_s" + std::to_string(c.stride_h) +
         std::to_string(c.stride_w) + (c.same ? "_same" : "_valid") + "_act" +
         std::to_string(c.act);
}

// float32 -> bfloat16 -> float32, round to nearest even; denormals flush to zero as in
// vcvtneps2bf16. (No NaNs in these tests.)
float RoundBf16(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7F800000u) == 0) {
    u &= 0x80000000u;
  } else {
    u += 0x7FFFu + ((u >> 16) & 1u);
    u &= 0xFFFF0000u;
  }
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

bool CpuHasBf16() {
  const kernels::builtin::DirectConvGeometry stem{1, 16, 16, 3, 8, 8, 64, 7, 7, 2, 2, 2, 2};
  return kernels::builtin::DirectConvBf16::Applies(stem, 1, 1, 1);
}

std::vector<Field> Options(const Bf16Case& c) {
  return {{"padding", int64_t{c.same ? 0 : 1}}, {"stride_w", int64_t{c.stride_w}},
          {"stride_h", int64_t{c.stride_h}},    {"fused_activation_function", int64_t{c.act}},
          {"dilation_w_factor", int64_t{1}},    {"dilation_h_factor", int64_t{1}}};
}

std::vector<float> RunConv(const Bf16Case& c, const std::vector<float>& x,
                           const std::vector<float>& w, const std::vector<float>& bias,
                           FloatPrecision precision, int threads) {
  const int oh = OutSize(c.h, c.k_h, c.stride_h, 1, c.same);
  const int ow = OutSize(c.w, c.k_w, c.stride_w, 1, c.same);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
  const int wt = m.Const(DType::kFloat32, {c.cout, c.k_h, c.k_w, c.cin}, w);
  const int bt = m.Const(DType::kFloat32, {c.cout}, bias);
  const int out = m.Output(DType::kFloat32, {c.n, oh, ow, c.cout});
  m.Op(op::kConv2D, {in, wt, bt}, {out}, opt::kConv2D, Options(c));
  EXPECT_TRUE(m.Build(threads, precision).ok());
  m.SetInput(0, x);
  EXPECT_TRUE(m.Invoke().ok());
  return m.GetOutput<float>(0);
}

// Checks `got` against the double-precision loop over bfloat16-rounded inputs and weights.
void ExpectBf16Products(const Bf16Case& c, const std::vector<float>& x, const std::vector<float>& w,
                        const std::vector<float>& bias, const std::vector<float>& got) {
  const int oh = OutSize(c.h, c.k_h, c.stride_h, 1, c.same);
  const int ow = OutSize(c.w, c.k_w, c.stride_w, 1, c.same);
  const int pt = PadBefore(c.h, c.k_h, c.stride_h, 1, c.same);
  const int pl = PadBefore(c.w, c.k_w, c.stride_w, 1, c.same);
  float lo, hi;
  RefFloatActivation(c.act, &lo, &hi);
  ASSERT_EQ(got.size(), static_cast<size_t>(c.n) * oh * ow * c.cout);
  int bad = 0;
  for (int b = 0; b < c.n; ++b)
    for (int y = 0; y < oh; ++y)
      for (int xo = 0; xo < ow; ++xo)
        for (int o = 0; o < c.cout; ++o) {
          double acc = bias[o], mag = std::abs(bias[o]);
          for (int ky = 0; ky < c.k_h; ++ky)
            for (int kx = 0; kx < c.k_w; ++kx) {
              const int iy = y * c.stride_h - pt + ky, ix = xo * c.stride_w - pl + kx;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (int i = 0; i < c.cin; ++i) {
                const double p =
                    double(RoundBf16(
                        x[((static_cast<size_t>(b) * c.h + iy) * c.w + ix) * c.cin + i])) *
                    RoundBf16(w[((static_cast<size_t>(o) * c.k_h + ky) * c.k_w + kx) * c.cin + i]);
                acc += p;
                mag += std::abs(p);
              }
            }
          const double want = std::min<double>(std::max<double>(acc, lo), hi);
          const float g = got[((static_cast<size_t>(b) * oh + y) * ow + xo) * c.cout + o];
          if (!(std::abs(g - want) <= 1e-6 * mag + 1e-7) && ++bad <= 5) {
            ADD_FAILURE() << "at [" << b << "," << y << "," << xo << "," << o << "]: got " << g
                          << ", want " << want;
          }
        }
  EXPECT_EQ(bad, 0);
}

// The kernel class on its own, with or without the AMX tiles (the interpreter takes the tiles
// where the CPU has them, so this is what tests the AVX512-BF16 kernel on such CPUs).
struct KernelRun {
  std::vector<float> out;
  bool tiles = false;
};
kernels::builtin::DirectConvGeometry Geometry(const Bf16Case& c) {
  return {c.n,
          c.h,
          c.w,
          c.cin,
          OutSize(c.h, c.k_h, c.stride_h, 1, c.same),
          OutSize(c.w, c.k_w, c.stride_w, 1, c.same),
          c.cout,
          c.k_h,
          c.k_w,
          c.stride_h,
          c.stride_w,
          PadBefore(c.h, c.k_h, c.stride_h, 1, c.same),
          PadBefore(c.w, c.k_w, c.stride_w, 1, c.same)};
}

KernelRun RunKernel(const Bf16Case& c, const std::vector<float>& x, const std::vector<float>& w,
                    const std::vector<float>& bias, bool allow_tiles) {
  const kernels::builtin::DirectConvGeometry g = Geometry(c);
  float lo, hi;
  RefFloatActivation(c.act, &lo, &hi);
  kernels::builtin::DirectConvBf16 conv;
  conv.Prepare(g, w.data(), bias.data(), lo, hi, allow_tiles);
  KernelRun r;
  r.tiles = conv.uses_tiles();
  r.out.assign(static_cast<size_t>(g.batch) * g.out_h * g.out_w * g.out_c, -1.0f);
  conv.ConvertInput(x.data());
  conv.RunRows(r.out.data(), 0, conv.rows());
  return r;
}

class ConvBf16Test : public ::testing::TestWithParam<Bf16Case> {};

TEST_P(ConvBf16Test, MatchesBf16Products) {
  const Bf16Case c = GetParam();
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 21);
  auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k_h * c.k_w * c.cin, 22);
  auto bias = RandomFloats(c.cout, 23);
  const std::vector<float> got = RunConv(c, x, w, bias, FloatPrecision::kBFloat16, 1);
  if (!CpuHasBf16()) {
    ExpectEqual(got, RunConv(c, x, w, bias, FloatPrecision::kFloat32, 1));
    GTEST_SKIP() << "CPU lacks AVX512-BF16: checked that bf16 falls back to float32 exactly";
  }
  // Both kernels on their own: AVX512-BF16, and the AMX tiles where the CPU has them.
  const KernelRun vector = RunKernel(c, x, w, bias, false);
  EXPECT_FALSE(vector.tiles);
  ExpectBf16Products(c, x, w, bias, vector.out);
  const KernelRun tiles = RunKernel(c, x, w, bias, true);
  ExpectBf16Products(c, x, w, bias, tiles.out);
  if (!tiles.tiles && kernels::builtin::WinogradStemF32::Applies(Geometry(c), 1, 1, 1)) {
    // Without the tiles the interpreter gives such stems to the Winograd kernel (float32).
    ExpectEqual(got, RunConv(c, x, w, bias, FloatPrecision::kFloat32Winograd, 1));
    return;
  }
  ExpectBf16Products(c, x, w, bias, got);
  // The interpreter runs the same kernel as the class on its own.
  ExpectEqual(got, tiles.out);
}

INSTANTIATE_TEST_SUITE_P(
    Grid, ConvBf16Test,
    ::testing::Values(
        // Stems: 3 channels (padded to 4), 1 (to 2), 4 and 2; borders on every side, SAME and
        // VALID, strides 1-3, 6/7/8/12-pixel tiles and leftovers, a partial 64-channel block.
        Bf16Case{1, 30, 29, 3, 64, 7, 7, 2, 2, true, 1},
        Bf16Case{2, 17, 23, 3, 80, 7, 7, 2, 2, true, 0},
        Bf16Case{1, 19, 40, 1, 16, 3, 3, 1, 1, true, 3},
        Bf16Case{1, 12, 27, 4, 32, 5, 3, 1, 2, false, 2},
        Bf16Case{1, 9, 50, 2, 192, 3, 5, 3, 1, true, 1},
        Bf16Case{1, 5, 4, 3, 48, 7, 7, 1, 1, true, 0},
        // 1x1: even channels (plain conversion), odd ones of up to 31 (one permute per
        // 32 / (cin + 1) pixels), odd ones beyond (pixel by pixel), batch 2, partial chunks.
        Bf16Case{1, 7, 7, 64, 128, 1, 1, 1, 1, true, 0},
        Bf16Case{2, 5, 9, 16, 80, 1, 1, 1, 1, false, 1},
        Bf16Case{1, 6, 11, 5, 32, 1, 1, 1, 1, true, 2},
        Bf16Case{1, 3, 17, 33, 48, 1, 1, 1, 1, true, 3},
        Bf16Case{1, 1, 1, 7, 16, 1, 1, 1, 1, true, 0}),
    [](const ::testing::TestParamInfo<Bf16Case>& i) { return Name(i.param); });

// Split by output rows or pixel chunks: the same arithmetic per output on any thread count.
TEST(ConvBf16Test, ThreadsBitExact) {
  for (const Bf16Case& c : {Bf16Case{1, 40, 36, 3, 64, 7, 7, 2, 2, true, 1},
                            Bf16Case{1, 14, 14, 64, 128, 1, 1, 1, 1, true, 0}}) {
    auto x = RandomFloats(static_cast<size_t>(c.h) * c.w * c.cin, 31);
    auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k_h * c.k_w * c.cin, 32);
    auto bias = RandomFloats(c.cout, 33);
    const auto one = RunConv(c, x, w, bias, FloatPrecision::kBFloat16, 1);
    ExpectEqual(RunConv(c, x, w, bias, FloatPrecision::kBFloat16, 2), one);
    ExpectEqual(RunConv(c, x, w, bias, FloatPrecision::kBFloat16, 3), one);
  }
}

// The AMX tiles read whole 32-tap chunks, past a window into its neighbour's taps (with zero
// weights): an inf there must not turn the neighbour's output into NaN, so such inputs run the
// AVX512-BF16 kernel, bit for bit.
TEST(ConvBf16Test, NonFiniteInputKeepsNeighboursFinite) {
  if (!CpuHasBf16()) GTEST_SKIP() << "CPU lacks AVX512-BF16";
  for (const Bf16Case& c : {Bf16Case{1, 20, 40, 3, 64, 7, 7, 2, 2, true, 0},
                            Bf16Case{1, 4, 9, 5, 32, 1, 1, 1, 1, true, 0}}) {
    auto x = RandomFloats(static_cast<size_t>(c.h) * c.w * c.cin, 51);
    auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k_h * c.k_w * c.cin, 52);
    auto bias = RandomFloats(c.cout, 53);
    x[(static_cast<size_t>(c.h / 2) * c.w + c.w / 2) * c.cin] = INFINITY;
    const KernelRun tiles = RunKernel(c, x, w, bias, true);
    const KernelRun vector = RunKernel(c, x, w, bias, false);
    ASSERT_EQ(tiles.out.size(), vector.out.size());
    EXPECT_EQ(std::memcmp(tiles.out.data(), vector.out.data(), tiles.out.size() * sizeof(float)),
              0);
    int finite = 0;
    for (float v : vector.out) finite += std::isfinite(v);
    EXPECT_GT(finite, static_cast<int>(vector.out.size() / 2));
    // Finite again: the tiles come back, and the results match the reference.
    x[(static_cast<size_t>(c.h / 2) * c.w + c.w / 2) * c.cin] = 0.5f;
    ExpectBf16Products(c, x, w, bias, RunKernel(c, x, w, bias, true).out);
  }
}

// Shapes the bf16 kernel does not take (here a 3x3 convolution over 16 channels) keep float32.
TEST(ConvBf16Test, OtherShapesStayFloat32) {
  const Bf16Case c{1, 10, 10, 16, 32, 3, 3, 1, 1, true, 0};
  auto x = RandomFloats(10 * 10 * 16, 41);
  auto w = RandomFloats(32 * 9 * 16, 42);
  auto bias = RandomFloats(32, 43);
  ExpectEqual(RunConv(c, x, w, bias, FloatPrecision::kBFloat16, 1),
              RunConv(c, x, w, bias, FloatPrecision::kFloat32, 1));
}

}  // namespace
}  // namespace xbnn::testing
