// A float CONV_2D followed by an LceQuantize of its output: the interpreter packs the bits in the
// convolution's tasks (runtime/fusion.h). Every kernel path of CONV_2D (the direct float32 stems,
// 8-channel stems and 1x1 convolutions, XNNPACK, bf16 with and without the AMX tiles) must give the
// separate LceQuantize's bits exactly, on 1 to 3 threads, with the float output read elsewhere too.
#include <cmath>
#include <cstring>

#include "builtin/op_test_util.h"
#include "graph/lce_options.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct FusionCase {
  int n, h, w, cin, cout, k, stride;
  bool float_is_output;  // the convolution's float output is also a model output
  const char* path;      // which CONV_2D kernel the shape takes on AVX-512 CPUs (for the name)
};

struct ModelRun {
  std::vector<float> y;
  std::vector<int32_t> packed;
  int fused_into = -1;  // where the interpreter runs the LceQuantize (-1: on its own)
};

ModelRun RunModel(const FusionCase& c, const std::vector<float>& x, const std::vector<float>& w,
                  const std::vector<float>& bias, int threads, FloatPrecision precision,
                  bool fuse) {
  const int oh = OutSize(c.h, c.k, c.stride, 1, true), ow = OutSize(c.w, c.k, c.stride, 1, true);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
  const int wt = m.Const(DType::kFloat32, {c.cout, c.k, c.k, c.cin}, w);
  const int bt = m.Const(DType::kFloat32, {c.cout}, bias);
  const std::vector<int32_t> y_shape{c.n, oh, ow, c.cout};
  const int y =
      c.float_is_output ? m.Output(DType::kFloat32, y_shape) : m.Temp(DType::kFloat32, y_shape);
  const int packed = m.Output(DType::kInt32, {c.n, oh, ow, (c.cout + 31) / 32});
  m.Op(op::kConv2D, {in, wt, bt}, {y}, opt::kConv2D,
       {{"padding", int64_t{0}},
        {"stride_w", int64_t{c.stride}},
        {"stride_h", int64_t{c.stride}},
        {"fused_activation_function", int64_t{0}},
        {"dilation_w_factor", int64_t{1}},
        {"dilation_h_factor", int64_t{1}}});
  m.CustomOp(graph::kLceQuantize, {y}, {packed});
  ModelRun r;
  const Status s = m.Build(threads, precision, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  m.SetInput(0, x);
  // Bits left unwritten must not pass for ones a previous interpreter left in this memory.
  for (size_t i = 0; i < m.interpreter().num_outputs(); ++i) {
    TensorView o = m.interpreter().output(i);
    std::memset(o.raw(), 0xA5, o.bytes());
  }
  EXPECT_TRUE(m.Invoke().ok());
  // Outputs in model order: the float output (when it is one) was added first.
  r.packed = m.GetOutput<int32_t>(c.float_is_output ? 1 : 0);
  if (c.float_is_output) r.y = m.GetOutput<float>(0);
  r.fused_into = m.interpreter().op_profile()[1].fused_into;
  return r;
}

// LceQuantize written out: bit c % 32 of word c / 32 is (y < 0), unused bits 0.
std::vector<int32_t> PackReference(const std::vector<float>& y, int channels) {
  const size_t pixels = y.size() / static_cast<size_t>(channels);
  const int words = (channels + 31) / 32;
  std::vector<int32_t> out(pixels * static_cast<size_t>(words), 0);
  for (size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < channels; ++c) {
      if (y[p * static_cast<size_t>(channels) + static_cast<size_t>(c)] < 0.0f) {
        out[p * static_cast<size_t>(words) + static_cast<size_t>(c / 32)] |=
            static_cast<int32_t>(1u << (c % 32));
      }
    }
  return out;
}

class ConvQuantizeFusionTest : public ::testing::TestWithParam<FusionCase> {};

TEST_P(ConvQuantizeFusionTest, BitsEqualTheSeparateLceQuantize) {
  const FusionCase c = GetParam();
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 61);
  auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k * c.k * c.cin, 62);
  auto bias = RandomFloats(c.cout, 63, -0.3f, 0.3f);
  // Channel 0's outputs are exactly +0 or -0 (zero weights, bias -0): LceQuantize gives 0 for -0.
  for (size_t i = 0; i < static_cast<size_t>(c.k) * c.k * c.cin; ++i) w[i] = 0.0f;
  bias[0] = -0.0f;
  for (FloatPrecision precision : {FloatPrecision::kFloat32, FloatPrecision::kBFloat16}) {
    for (bool non_finite : {false, true}) {
      // An inf in the input: NaN and inf outputs (LceQuantize: NaN gives 0), and in bf16 on AMX
      // CPUs the AVX512-BF16 kernel instead of the tiles.
      std::vector<float> xi = x;
      if (non_finite) xi[xi.size() / 2] = INFINITY;
      const ModelRun separate = RunModel(c, xi, w, bias, 1, precision, false);
      EXPECT_EQ(separate.fused_into, -1);
      if (c.float_is_output) ExpectEqual(separate.packed, PackReference(separate.y, c.cout));
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(std::string(precision == FloatPrecision::kFloat32 ? "f32" : "bf16") +
                     (non_finite ? " with inf" : "") + ", threads " + std::to_string(threads));
        const ModelRun fused = RunModel(c, xi, w, bias, threads, precision, true);
        EXPECT_EQ(fused.fused_into, 0);
        ExpectEqual(fused.packed, separate.packed);
        if (c.float_is_output) {
          ASSERT_EQ(fused.y.size(), separate.y.size());
          EXPECT_EQ(std::memcmp(fused.y.data(), separate.y.data(), fused.y.size() * sizeof(float)),
                    0);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paths, ConvQuantizeFusionTest,
    ::testing::Values(
        // Stems (direct kernel, a row per task): 16 channels (QuickNet), a partial 64-block (80).
        FusionCase{1, 23, 21, 3, 16, 3, 2, true, "stem16"},
        FusionCase{1, 17, 19, 3, 80, 7, 2, false, "stem80"},
        // QuickNetSmall's 8-channel stem (pairs of pixels per vector); batch 2.
        FusionCase{2, 15, 13, 3, 8, 3, 2, true, "stem8"},
        // 1x1 (pixel chunks x 64-channel blocks per task): whole blocks, a 16- and a 48-channel
        // last block (a half-filled last word).
        FusionCase{1, 14, 14, 32, 128, 1, 1, true, "pointwise128"},
        FusionCase{1, 9, 11, 24, 80, 1, 1, false, "pointwise80"},
        FusionCase{2, 7, 5, 16, 112, 1, 1, true, "pointwise112"},
        // XNNPACK (row bands per task): 3x3 over 16 channels, and out_c not a multiple of 16.
        FusionCase{1, 20, 18, 16, 40, 3, 1, true, "xnn40"},
        FusionCase{1, 12, 12, 8, 33, 1, 1, false, "xnn33"},
        FusionCase{3, 6, 7, 16, 64, 3, 2, true, "xnn_batch3"}),
    [](const ::testing::TestParamInfo<FusionCase>& i) { return std::string(i.param.path); });

// With fuse_ops off nothing is fused (checked above); an int8 CONV_2D is never a host (its output
// is not float).
}  // namespace
}  // namespace xbnn::testing
