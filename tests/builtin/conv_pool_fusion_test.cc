// A float CONV_2D whose only reader is a MAX_POOL_2D (Bi-Real Net's stem), directly or through
// elementwise ops with a constant operand (RealToBinaryNet's PReLU): the interpreter runs those
// ops and the pooling inside the convolution (runtime/fusion.h), band by band for the stem
// kernels and after the whole convolution for the others, and on each pooled row the elementwise
// ops with a constant operand after it (BinaryResNetE18's batch norm) and an LceQuantize. The
// outputs must equal the separate ops' bit for bit for every CONV_2D kernel path, float32 and
// bf16, any pooling geometry, every head and tail, on 1 to 3 threads.
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

// What sits between the convolution (then without activation) and the pooling.
enum class Head {
  kNone,
  kPrelu,     // PRELU with a slope [1, 1, C] (RealToBinaryNet), -0.0 and 0 among the slopes
  kMulPrelu,  // MUL by a scalar constant given first (RELU_N1_TO_1), then the PRELU
};

// What follows the pooling.
enum class Tail {
  kNone,
  kQuantize,   // an LceQuantize, the pooled output also a model output (Bi-Real Net)
  kBatchNorm,  // MUL by a per-channel constant, ADD of one (constant first, ReLU6), LceQuantize
  kScalar,     // SUB of a scalar constant (ReLU), MUL by a per-channel one, no LceQuantize
  kPrelu,      // PRELU with a per-channel slope, LceQuantize
};

struct PoolRun {
  std::vector<float> pooled;    // the last float output
  std::vector<int32_t> packed;  // the LceQuantize's output
  std::vector<int> fused_into;  // per op after the convolution
};

PoolRun RunModel(const PoolFusionCase& c, Head head, Tail tail, const std::vector<float>& x,
                 const std::vector<float>& w, const std::vector<float>& bias, int threads,
                 FloatPrecision precision, bool fuse) {
  const int oh = OutSize(c.h, c.k, c.stride, 1, true), ow = OutSize(c.w, c.k, c.stride, 1, true);
  const int ph = OutSize(oh, c.pool, c.pool_stride, 1, c.pool_same);
  const int pw = OutSize(ow, c.pool, c.pool_stride, 1, c.pool_same);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
  const int wt = m.Const(DType::kFloat32, {c.cout, c.k, c.k, c.cin}, w);
  const int bt = m.Const(DType::kFloat32, {c.cout}, bias);
  const int y = m.Temp(DType::kFloat32, {c.n, oh, ow, c.cout});
  const std::vector<int32_t> pooled_shape{c.n, ph, pw, c.cout};
  const bool chain = tail == Tail::kBatchNorm || tail == Tail::kScalar || tail == Tail::kPrelu;
  const int out =
      chain ? m.Temp(DType::kFloat32, pooled_shape) : m.Output(DType::kFloat32, pooled_shape);
  auto act = [](int64_t a) { return std::vector<Field>{{"fused_activation_function", a}}; };
  m.Op(op::kConv2D, {in, wt, bt}, {y}, opt::kConv2D,
       {{"padding", int64_t{0}},
        {"stride_w", int64_t{c.stride}},
        {"stride_h", int64_t{c.stride}},
        {"fused_activation_function", int64_t{head == Head::kNone ? 1 : 0}},
        {"dilation_w_factor", int64_t{1}},
        {"dilation_h_factor", int64_t{1}}});
  int pool_in = y;
  const std::vector<int32_t> conv_shape{c.n, oh, ow, c.cout};
  if (head == Head::kMulPrelu) {
    const int mul = m.Temp(DType::kFloat32, conv_shape);
    m.Op(op::kMul, {m.Const(DType::kFloat32, {1}, std::vector<float>{-1.5f}), pool_in}, {mul},
         opt::kMul, act(2));
    pool_in = mul;
  }
  if (head != Head::kNone) {
    auto slope = RandomFloats(static_cast<size_t>(c.cout), 76, -2.0f, 2.0f);
    slope[0] = -0.0f;
    slope[1 % slope.size()] = 0.0f;
    const int prelu = m.Temp(DType::kFloat32, conv_shape);
    m.Op(op::kPrelu, {pool_in, m.Const(DType::kFloat32, {1, 1, c.cout}, slope)}, {prelu});
    pool_in = prelu;
  }
  m.Op(op::kMaxPool2D, {pool_in}, {out}, opt::kPool2D,
       SquarePoolOptions(c.pool, c.pool_stride, c.pool_same, c.pool_act));
  int last = out, packed = -1;
  const auto scale = RandomFloats(static_cast<size_t>(c.cout), 74, 0.5f, 2.0f);
  const auto shift = RandomFloats(static_cast<size_t>(c.cout), 75, -1.0f, 1.0f);
  if (tail == Tail::kBatchNorm) {
    const int mul = m.Temp(DType::kFloat32, pooled_shape);
    const int add = m.Output(DType::kFloat32, pooled_shape);
    m.Op(op::kMul, {out, m.Const(DType::kFloat32, {c.cout}, scale)}, {mul}, opt::kMul, act(0));
    m.Op(op::kAdd, {m.Const(DType::kFloat32, {1, 1, 1, c.cout}, shift), mul}, {add}, opt::kAdd,
         act(3));
    last = add;
  } else if (tail == Tail::kScalar) {
    const int sub = m.Temp(DType::kFloat32, pooled_shape);
    const int mul = m.Output(DType::kFloat32, pooled_shape);
    m.Op(op::kSub, {out, m.Const(DType::kFloat32, {}, std::vector<float>{0.25f})}, {sub}, opt::kSub,
         act(1));
    m.Op(op::kMul, {sub, m.Const(DType::kFloat32, {c.cout}, shift)}, {mul}, opt::kMul, act(0));
    last = mul;
  } else if (tail == Tail::kPrelu) {
    const int prelu = m.Output(DType::kFloat32, pooled_shape);
    m.Op(op::kPrelu, {out, m.Const(DType::kFloat32, {c.cout}, shift)}, {prelu});
    last = prelu;
  }
  if (tail == Tail::kQuantize || tail == Tail::kBatchNorm || tail == Tail::kPrelu) {
    packed = m.Output(DType::kInt32, {c.n, ph, pw, (c.cout + 31) / 32});
    m.CustomOp(graph::kLceQuantize, {last}, {packed});
  }
  PoolRun r;
  const Status s = m.Build(threads, precision, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  m.SetInput(0, x);
  // A row left unwritten must not pass for one a previous interpreter left in this memory.
  const int outputs = packed >= 0 ? 2 : 1;
  for (int i = 0; i < outputs; ++i) {
    TensorView o = m.interpreter().output(i);
    std::memset(o.raw(), 0xFF, o.bytes());
  }
  EXPECT_TRUE(m.Invoke().ok());
  r.pooled = m.GetOutput<float>(0);
  if (packed >= 0) r.packed = m.GetOutput<int32_t>(1);
  const auto& profile = m.interpreter().op_profile();
  for (size_t i = 1; i < profile.size(); ++i) r.fused_into.push_back(profile[i].fused_into);
  return r;
}

class ConvPoolFusionTest : public ::testing::TestWithParam<std::tuple<PoolFusionCase, Head, Tail>> {
};

TEST_P(ConvPoolFusionTest, PooledOutputEqualsTheSeparateOps) {
  const PoolFusionCase c = std::get<0>(GetParam());
  const Head head = std::get<1>(GetParam());
  const Tail tail = std::get<2>(GetParam());
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
      const PoolRun separate = RunModel(c, head, tail, xi, w, bias, 1, precision, false);
      for (int f : separate.fused_into) EXPECT_EQ(f, -1);
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(std::string(precision == FloatPrecision::kFloat32 ? "f32" : "bf16") +
                     (non_finite ? " with inf and NaN" : "") + ", threads " +
                     std::to_string(threads));
        const PoolRun fused = RunModel(c, head, tail, xi, w, bias, threads, precision, true);
        for (int f : fused.fused_into) EXPECT_EQ(f, 0);
        ASSERT_EQ(fused.pooled.size(), separate.pooled.size());
        EXPECT_EQ(std::memcmp(fused.pooled.data(), separate.pooled.data(),
                              fused.pooled.size() * sizeof(float)),
                  0);
        EXPECT_EQ(fused.packed, separate.packed);
      }
    }
  }
}

std::string CaseName(const ::testing::TestParamInfo<std::tuple<PoolFusionCase, Head, Tail>>& i) {
  static const char* const kHeads[] = {"", "_prelu", "_mul_prelu"};
  static const char* const kTails[] = {"", "_quantize", "_batchnorm", "_scalar", "_tail_prelu"};
  return std::string(std::get<0>(i.param).name) + kHeads[static_cast<int>(std::get<1>(i.param))] +
         kTails[static_cast<int>(std::get<2>(i.param))];
}

INSTANTIATE_TEST_SUITE_P(
    Paths, ConvPoolFusionTest,
    ::testing::Combine(
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
        ::testing::Values(Head::kNone, Head::kPrelu, Head::kMulPrelu),
        ::testing::Values(Tail::kNone, Tail::kQuantize, Tail::kBatchNorm, Tail::kScalar,
                          Tail::kPrelu)),
    CaseName);

}  // namespace
}  // namespace xbnn::testing
