// A float CONV_2D whose only reader is a MAX_POOL_2D (Bi-Real Net's stem): the interpreter runs the
// pooling inside the convolution (runtime/fusion.h), band by band for the stem kernels and after
// the whole convolution for the others. The pooled output must equal the separate ops' bit for bit
// for every CONV_2D kernel path, float32 and bf16, any pooling geometry, on 1 to 3 threads.
#include <cmath>
#include <cstring>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct PoolFusionCase {
  int n, h, w, cin, cout, k, stride;  // the convolution (SAME padding)
  int pool, pool_stride;
  bool pool_same;
  int pool_act;
  const char* name;
};

struct PoolRun {
  std::vector<float> pooled;
  int fused_into = -1;
};

PoolRun RunModel(const PoolFusionCase& c, const std::vector<float>& x, const std::vector<float>& w,
                 const std::vector<float>& bias, int threads, FloatPrecision precision, bool fuse) {
  const int oh = OutSize(c.h, c.k, c.stride, 1, true), ow = OutSize(c.w, c.k, c.stride, 1, true);
  const int ph = OutSize(oh, c.pool, c.pool_stride, 1, c.pool_same);
  const int pw = OutSize(ow, c.pool, c.pool_stride, 1, c.pool_same);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
  const int wt = m.Const(DType::kFloat32, {c.cout, c.k, c.k, c.cin}, w);
  const int bt = m.Const(DType::kFloat32, {c.cout}, bias);
  const int y = m.Temp(DType::kFloat32, {c.n, oh, ow, c.cout});
  const int out = m.Output(DType::kFloat32, {c.n, ph, pw, c.cout});
  m.Op(op::kConv2D, {in, wt, bt}, {y}, opt::kConv2D,
       {{"padding", int64_t{0}},
        {"stride_w", int64_t{c.stride}},
        {"stride_h", int64_t{c.stride}},
        {"fused_activation_function", int64_t{1}},
        {"dilation_w_factor", int64_t{1}},
        {"dilation_h_factor", int64_t{1}}});
  m.Op(op::kMaxPool2D, {y}, {out}, opt::kPool2D,
       {{"padding", int64_t{c.pool_same ? 0 : 1}},
        {"stride_w", int64_t{c.pool_stride}},
        {"stride_h", int64_t{c.pool_stride}},
        {"filter_width", int64_t{c.pool}},
        {"filter_height", int64_t{c.pool}},
        {"fused_activation_function", int64_t{c.pool_act}}});
  PoolRun r;
  const Status s = m.Build(threads, precision, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  m.SetInput(0, x);
  // A pooling row left unwritten must not pass for one a previous interpreter left in this memory.
  TensorView o = m.interpreter().output(0);
  std::memset(o.raw(), 0xFF, o.bytes());
  EXPECT_TRUE(m.Invoke().ok());
  r.pooled = m.GetOutput<float>(0);
  r.fused_into = m.interpreter().op_profile()[1].fused_into;
  return r;
}

class ConvPoolFusionTest : public ::testing::TestWithParam<PoolFusionCase> {};

TEST_P(ConvPoolFusionTest, PooledOutputEqualsTheSeparateOps) {
  const PoolFusionCase c = GetParam();
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 71);
  auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k * c.k * c.cin, 72);
  auto bias = RandomFloats(c.cout, 73, -0.3f, 0.3f);
  for (FloatPrecision precision : {FloatPrecision::kFloat32, FloatPrecision::kBFloat16}) {
    for (bool non_finite : {false, true}) {
      // An inf and a NaN in the input: non-finite pooling inputs, and in bf16 on AMX CPUs the
      // AVX512-BF16 kernel instead of the tiles.
      std::vector<float> xi = x;
      if (non_finite) {
        xi[xi.size() / 3] = INFINITY;
        xi[xi.size() * 2 / 3] = NAN;
      }
      const PoolRun separate = RunModel(c, xi, w, bias, 1, precision, false);
      EXPECT_EQ(separate.fused_into, -1);
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(std::string(precision == FloatPrecision::kFloat32 ? "f32" : "bf16") +
                     (non_finite ? " with inf and NaN" : "") + ", threads " +
                     std::to_string(threads));
        const PoolRun fused = RunModel(c, xi, w, bias, threads, precision, true);
        EXPECT_EQ(fused.fused_into, 0);
        ASSERT_EQ(fused.pooled.size(), separate.pooled.size());
        EXPECT_EQ(std::memcmp(fused.pooled.data(), separate.pooled.data(),
                              fused.pooled.size() * sizeof(float)),
                  0);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paths, ConvPoolFusionTest,
    ::testing::Values(
        // Bi-Real Net's stem and pool (7x7/2 conv, 3x3/2 SAME pool), small; odd sizes.
        PoolFusionCase{1, 40, 36, 3, 64, 7, 2, 3, 2, true, 0, "stem7_pool3s2"},
        PoolFusionCase{2, 23, 29, 3, 80, 7, 2, 3, 2, true, 0, "stem7_batch2_c80"},
        // Windows that overlap more, or not at all, and a pooling activation.
        PoolFusionCase{1, 60, 62, 3, 32, 3, 1, 3, 1, true, 3, "stem3_pool3s1_relu6"},
        PoolFusionCase{1, 91, 81, 3, 64, 3, 2, 2, 2, false, 1, "stem3_pool2s2_valid"},
        // The 8-channel stem kernel, and kernels without output rows as tasks (the pooling runs
        // after the whole convolution): a 1x1 convolution and XNNPACK.
        PoolFusionCase{1, 26, 26, 3, 8, 3, 2, 3, 2, true, 0, "stem8"},
        PoolFusionCase{1, 12, 14, 32, 64, 1, 1, 3, 2, true, 0, "pointwise"},
        PoolFusionCase{1, 12, 12, 16, 24, 3, 1, 2, 2, false, 0, "xnn"}),
    [](const ::testing::TestParamInfo<PoolFusionCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace xbnn::testing
