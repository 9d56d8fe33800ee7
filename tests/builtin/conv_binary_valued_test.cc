// A float CONV_2D on an LceDequantize's +-1 output with a filter of +-s per output channel runs
// as a binary convolution (kernels/builtin/conv_binary_valued.h): its output must be LceBconv2d's
// arithmetic on the signs exactly, on 1 to 3 threads; shapes it
// does not take (padding, an activation, a filter that is not +-s, input not from an
// LceDequantize) keep the float kernels and agree with the float sums.
#include <cmath>
#include <cstring>

#include "builtin/op_test_util.h"
#include "graph/lce_options.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct Case {
  const char* name;
  int n, h, w, cin, cout, k, stride, dilation;
  int padding;         // 0 SAME, 1 VALID
  int activation;      // fused activation code
  bool dequantized;    // the input comes from LceQuantize -> LceDequantize (else straight in)
  bool binary_filter;  // +-s per output channel (else one weight off)
  bool binary_path;    // whether the binary convolution must run
};

int Out(int in, int k, int stride, int dilation, int padding) {
  const int keff = (k - 1) * dilation + 1;
  return padding == 0 ? (in + stride - 1) / stride : (in - keff) / stride + 1;
}

class BinaryValuedConvTest : public ::testing::TestWithParam<Case> {};

TEST_P(BinaryValuedConvTest, BinaryExactlyOrFloatSums) {
  const Case& c = GetParam();
  const int oh = Out(c.h, c.k, c.stride, c.dilation, c.padding);
  const int ow = Out(c.w, c.k, c.stride, c.dilation, c.padding);
  // Input: random values whose signs the LceQuantize keeps (zeros included: +1).
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 501, -2, 2);
  for (size_t i = 0; i < x.size(); i += 11) x[i] = 0.0f;
  // Filter: +-s_o with s_o of a full mantissa, so float partial sums round.
  const size_t per = static_cast<size_t>(c.k) * c.k * c.cin;
  auto signs = RandomFloats(per * c.cout, 502, -1, 1);
  std::vector<float> w(per * c.cout), s(static_cast<size_t>(c.cout));
  for (int o = 0; o < c.cout; ++o) {
    s[o] = 0.1234567f * static_cast<float>(o + 1) / 3.0f;
    for (size_t e = 0; e < per; ++e) w[o * per + e] = signs[o * per + e] < 0 ? -s[o] : s[o];
  }
  if (!c.binary_filter) w[per / 2] *= 0.5f;
  auto bias = RandomFloats(static_cast<size_t>(c.cout), 503, -3, 3);

  auto run = [&](int threads) {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
    int conv_in = in;
    if (c.dequantized) {
      const int packed = m.Temp(DType::kInt32, {c.n, c.h, c.w, (c.cin + 31) / 32});
      conv_in = m.Temp(DType::kFloat32, {c.n, c.h, c.w, c.cin});
      m.CustomOp(graph::kLceQuantize, {in}, {packed});
      m.CustomOp(graph::kLceDequantize, {packed}, {conv_in});
    }
    const int wt = m.Const(DType::kFloat32, {c.cout, c.k, c.k, c.cin}, w);
    const int bt = m.Const(DType::kFloat32, {c.cout}, bias);
    const int y = m.Output(DType::kFloat32, {c.n, oh, ow, c.cout});
    m.Op(op::kConv2D, {conv_in, wt, bt}, {y}, opt::kConv2D,
         {{"padding", int64_t{c.padding}},
          {"stride_w", int64_t{c.stride}},
          {"stride_h", int64_t{c.stride}},
          {"fused_activation_function", int64_t{c.activation}},
          {"dilation_w_factor", int64_t{c.dilation}},
          {"dilation_h_factor", int64_t{c.dilation}}});
    const Status st = m.Build(threads);
    EXPECT_TRUE(st.ok()) << st.message();
    if (!st.ok()) return std::vector<float>{};
    m.SetInput(0, x);
    EXPECT_TRUE(m.Invoke().ok());
    return m.GetOutput<float>(0);
  };

  // The convolution's input as the model gives it, and the exact integer dot products.
  std::vector<float> xin = x;
  if (c.dequantized) {
    for (float& v : xin) v = v < 0 ? -1.0f : 1.0f;
  }
  const int pad_t = c.padding == 0
                        ? std::max(0, ((oh - 1) * c.stride + (c.k - 1) * c.dilation + 1 - c.h) / 2)
                        : 0;
  const int pad_l = c.padding == 0
                        ? std::max(0, ((ow - 1) * c.stride + (c.k - 1) * c.dilation + 1 - c.w) / 2)
                        : 0;
  std::vector<float> want_binary, want_float;
  std::vector<double> magnitude;
  for (int b = 0; b < c.n; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int o = 0; o < c.cout; ++o) {
          int64_t d = 0;
          double sum = bias[o], mag = std::fabs(bias[o]);
          for (int ky = 0; ky < c.k; ++ky)
            for (int kx = 0; kx < c.k; ++kx) {
              const int iy = oy * c.stride - pad_t + ky * c.dilation;
              const int ix = ox * c.stride - pad_l + kx * c.dilation;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (int ci = 0; ci < c.cin; ++ci) {
                const float xv = xin[((static_cast<size_t>(b) * c.h + iy) * c.w + ix) * c.cin + ci];
                const float wv = w[o * per + (static_cast<size_t>(ky) * c.k + kx) * c.cin + ci];
                d += (xv < 0) == std::signbit(wv) ? 1 : -1;
                sum += static_cast<double>(xv) * wv;
                mag += std::fabs(static_cast<double>(xv) * wv);
              }
            }
          if (c.activation == 1) sum = std::max(sum, 0.0);
          // LceBconv2d's arithmetic (LCE's folded output transform): with p = (K - d) / 2
          // disagreeing signs, float(2p) * -s + float(b + K * s), product and sum rounded
          // separately (this file builds with -ffp-contract=off).
          const int64_t taps = static_cast<int64_t>(per);
          const float folded_bias =
              static_cast<float>(static_cast<double>(bias[o]) + static_cast<double>(taps) * s[o]);
          const float prod = static_cast<float>(taps - d) * (-1.0f * s[o]);
          want_binary.push_back(prod + folded_bias);
          want_float.push_back(static_cast<float>(sum));
          magnitude.push_back(mag);
        }
  for (int threads : {1, 2, 3}) {
    const auto got = run(threads);
    ASSERT_EQ(got.size(), want_float.size());
    if (c.binary_path) {
      size_t bad = 0;
      while (bad < got.size() && std::memcmp(&got[bad], &want_binary[bad], sizeof(float)) == 0) {
        ++bad;
      }
      EXPECT_EQ(bad, got.size()) << threads << " thread(s): output " << bad << " is "
                                 << got[bad % got.size()] << ", LceBconv2d's arithmetic gives "
                                 << want_binary[bad % got.size()];
    }
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], want_float[i], 1e-5 * magnitude[i] + 1e-6)
          << threads << " thread(s), output " << i;
    }
  }
}

// 40 input channels: a partial last word; 3x3 dilated and strided windows; batch 2; XNORNet's
// 6x6 over a 6x6 map (one output pixel).
INSTANTIATE_TEST_SUITE_P(
    Grid, BinaryValuedConvTest,
    ::testing::Values(
        Case{"valid_6x6_to_1x1", 1, 6, 6, 64, 48, 6, 1, 1, 1, 0, true, true, true},
        Case{"valid_3x3_s2_c40", 2, 9, 8, 40, 19, 3, 2, 1, 1, 0, true, true, true},
        Case{"valid_3x3_d2", 1, 9, 9, 33, 16, 3, 1, 2, 1, 0, true, true, true},
        Case{"same_1x1_no_padding", 1, 5, 7, 70, 24, 1, 1, 1, 0, 0, true, true, true},
        Case{"same_3x3_padded_stays_float", 1, 6, 6, 32, 16, 3, 1, 1, 0, 0, true, true, false},
        Case{"relu_stays_float", 1, 6, 6, 32, 16, 3, 1, 1, 1, 1, true, true, false},
        Case{"not_binary_filter_stays_float", 1, 6, 6, 32, 16, 3, 1, 1, 1, 0, true, false, false},
        Case{"float_input_stays_float", 1, 6, 6, 32, 16, 3, 1, 1, 1, 0, false, true, false}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace xbnn::testing
