// A float MAX_POOL_2D whose only reader is a float DEPTHWISE_CONV_2D (QuickNet's transition
// blocks): the interpreter runs the pooling inside the convolution (runtime/fusion.h,
// DepthwisePoolFusion), row by row into scratch rows on the direct 3x3 kernel, into one pooled
// image on the others. The output must equal the separate ops' bit for bit for every pooling and
// convolution geometry, with inf and NaN inputs, on 1 to 3 threads; a pooled tensor that another
// op or the caller reads is not fused.
#include <cmath>
#include <cstring>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct DwPoolCase {
  int n, h, w, c;            // the pooling's input
  int pool, pool_stride;     // square window
  bool pool_same;            // else VALID
  int pool_act;              // fused activation of the pooling
  int k, stride, mult, dil;  // the depthwise convolution (square kernel)
  bool same;                 // its padding
  int act;                   // its fused activation
  const char* name;
};

// What else reads the pooled tensor.
enum class Reader { kNone, kModelOutput, kOtherOp };

struct DwPoolRun {
  std::vector<float> out;
  std::vector<int> fused_into;  // per op
};

DwPoolRun RunModel(const DwPoolCase& c, Reader reader, const std::vector<float>& x,
                   const std::vector<float>& w, const std::vector<float>& bias, int threads,
                   bool fuse) {
  const int ph = OutSize(c.h, c.pool, c.pool_stride, 1, c.pool_same);
  const int pw = OutSize(c.w, c.pool, c.pool_stride, 1, c.pool_same);
  const int oh = OutSize(ph, c.k, c.stride, c.dil, c.same);
  const int ow = OutSize(pw, c.k, c.stride, c.dil, c.same);
  const int cout = c.c * c.mult;
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.c});
  const std::vector<int32_t> pooled_shape{c.n, ph, pw, c.c};
  const int pooled = reader == Reader::kModelOutput ? m.Output(DType::kFloat32, pooled_shape)
                                                    : m.Temp(DType::kFloat32, pooled_shape);
  m.Op(op::kMaxPool2D, {in}, {pooled}, opt::kPool2D,
       SquarePoolOptions(c.pool, c.pool_stride, c.pool_same, c.pool_act));
  const int wt = m.Const(DType::kFloat32, {1, c.k, c.k, cout}, w);
  const int bt = m.Const(DType::kFloat32, {cout}, bias);
  const int out = m.Output(DType::kFloat32, {c.n, oh, ow, cout});
  m.Op(op::kDepthwiseConv2D, {pooled, wt, bt}, {out}, opt::kDepthwiseConv2D,
       {{"padding", int64_t{c.same ? 0 : 1}},
        {"stride_w", int64_t{c.stride}},
        {"stride_h", int64_t{c.stride}},
        {"depth_multiplier", int64_t{c.mult}},
        {"fused_activation_function", int64_t{c.act}},
        {"dilation_w_factor", int64_t{c.dil}},
        {"dilation_h_factor", int64_t{c.dil}}},
       c.dil > 1 ? 2 : 1);
  if (reader == Reader::kOtherOp) {
    const int relu = m.Output(DType::kFloat32, pooled_shape);
    m.Op(op::kRelu, {pooled}, {relu});
  }
  DwPoolRun r;
  const Status s = m.Build(threads, FloatPrecision::kFloat32, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  m.SetInput(0, x);
  // An output row left unwritten must not pass for one a previous interpreter left in memory.
  const int out_index = reader == Reader::kModelOutput ? 1 : 0;
  TensorView o = m.interpreter().output(out_index);
  std::memset(o.raw(), 0xFF, o.bytes());
  EXPECT_TRUE(m.Invoke().ok());
  r.out = m.GetOutput<float>(out_index);
  for (const auto& p : m.interpreter().op_profile()) r.fused_into.push_back(p.fused_into);
  return r;
}

class DepthwisePoolFusionTest : public ::testing::TestWithParam<DwPoolCase> {};

TEST_P(DepthwisePoolFusionTest, OutputEqualsTheSeparateOps) {
  const DwPoolCase c = GetParam();
  const int cout = c.c * c.mult;
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.c, 81);
  const auto w = RandomFloats(static_cast<size_t>(c.k) * c.k * cout, 82);
  const auto bias = RandomFloats(cout, 83, -0.3f, 0.3f);
  for (bool non_finite : {false, true}) {
    // Infinities and NaNs among the pooled values, the last in some windows with a larger value
    // before it (the pooling's order of comparisons decides what comes out).
    std::vector<float> xi = x;
    if (non_finite) {
      for (size_t i = xi.size() / 7; i < xi.size(); i += xi.size() / 5) xi[i] = NAN;
      xi[xi.size() / 3] = INFINITY;
      xi[xi.size() / 2] = -INFINITY;
    }
    const DwPoolRun separate = RunModel(c, Reader::kNone, xi, w, bias, 1, false);
    for (int f : separate.fused_into) EXPECT_EQ(f, -1);
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(std::string(non_finite ? "with inf and NaN, " : "") + "threads " +
                   std::to_string(threads));
      const DwPoolRun fused = RunModel(c, Reader::kNone, xi, w, bias, threads, true);
      ASSERT_EQ(fused.fused_into.size(), 2u);
      EXPECT_EQ(fused.fused_into[0], 1);  // the pooling runs in the convolution
      EXPECT_EQ(fused.fused_into[1], -1);
      ASSERT_EQ(fused.out.size(), separate.out.size());
      EXPECT_EQ(
          std::memcmp(fused.out.data(), separate.out.data(), fused.out.size() * sizeof(float)), 0);
    }
  }
}

// A pooled tensor that the caller or another op reads keeps its op.
TEST_P(DepthwisePoolFusionTest, PooledTensorReadElsewhereIsNotFused) {
  const DwPoolCase c = GetParam();
  const int cout = c.c * c.mult;
  const auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.c, 84);
  const auto w = RandomFloats(static_cast<size_t>(c.k) * c.k * cout, 85);
  const auto bias = RandomFloats(cout, 86);
  for (Reader reader : {Reader::kModelOutput, Reader::kOtherOp}) {
    const DwPoolRun separate = RunModel(c, reader, x, w, bias, 1, false);
    const DwPoolRun fused = RunModel(c, reader, x, w, bias, 2, true);
    for (int f : fused.fused_into) EXPECT_EQ(f, -1);
    EXPECT_EQ(fused.out, separate.out);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, DepthwisePoolFusionTest,
    ::testing::Values(
        // QuickNet's transitions (2x2/1 VALID pooling, 3x3/2 SAME depthwise), small; batch 2;
        // channels that leave a partial 16-channel block.
        DwPoolCase{1, 24, 24, 64, 2, 1, false, 0, 3, 2, 1, 1, true, 0, "quicknet"},
        DwPoolCase{2, 15, 17, 40, 2, 1, false, 0, 3, 2, 1, 1, true, 0, "batch2_c40"},
        DwPoolCase{1, 9, 9, 256, 2, 1, false, 0, 3, 2, 1, 1, true, 0, "small_map_c256"},
        // Overlapping 3x3/2 SAME windows with a pooling activation; stride 1 and VALID padding
        // and an activation in the convolution; a one-row input.
        DwPoolCase{1, 21, 19, 24, 3, 2, true, 3, 3, 1, 1, 1, true, 1, "pool3s2_relu6"},
        DwPoolCase{1, 18, 20, 16, 2, 2, false, 0, 3, 1, 1, 1, false, 3, "valid_relu6"},
        DwPoolCase{1, 2, 12, 32, 2, 1, false, 0, 3, 2, 1, 1, true, 0, "one_row"},
        // Convolutions the direct kernel does not take (the whole pooled image in scratch):
        // depth multiplier 2, a 5x5 kernel, dilation 2.
        DwPoolCase{1, 14, 13, 8, 2, 1, false, 0, 3, 2, 2, 1, true, 0, "multiplier2"},
        DwPoolCase{1, 16, 16, 32, 2, 1, false, 1, 5, 2, 1, 1, true, 0, "kernel5_relu"},
        DwPoolCase{1, 17, 15, 16, 3, 1, true, 0, 3, 1, 1, 2, true, 0, "dilation2"}),
    [](const ::testing::TestParamInfo<DwPoolCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace xbnn::testing
