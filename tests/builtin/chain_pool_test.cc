// A MAX_POOL_2D that is the only reader of an elementwise chain's value (BinaryDenseNet's batch
// norm before each transition's pooling) runs in the chain's first op: per pooling row, the
// chain's values of the rows its windows read in scratch rows, then the pooling row
// (runtime/fusion.h, ChainPoolFusion). The pooled output must equal the separate ops' bit for bit
// on 1 to 3 threads, with the chain's input a tensor or a concatenation read in place, padding,
// odd sizes, batches, a pooling activation and special values; windows that overlap along the
// height keep the separate pooling.
#include <cmath>
#include <cstring>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct PoolCase {
  int n, h, w;
  bool concat;  // the chain reads concat(x, y) in place (else x alone, 96 channels)
  int filter, stride;
  bool same;
  int act;
  bool fused;  // the pooling runs in the chain
  const char* name;
};

struct PoolRun {
  std::vector<float> pooled;
  std::vector<int> fused_into;
};

PoolRun RunPool(const PoolCase& c, const std::vector<float>& x, const std::vector<float>& y,
                int threads, bool fuse) {
  const int channels = 96;
  const int part = c.concat ? 64 : channels;
  const std::vector<int32_t> shape{c.n, c.h, c.w, channels};
  const int ph = OutSize(c.h, c.filter, c.stride, 1, c.same);
  const int pw = OutSize(c.w, c.filter, c.stride, 1, c.same);
  OpModel m;
  const int in0 = m.Input(DType::kFloat32, {c.n, c.h, c.w, part});
  int in = in0;
  if (c.concat) {
    const int in1 = m.Input(DType::kFloat32, {c.n, c.h, c.w, channels - part});
    in = m.Temp(DType::kFloat32, shape);
    m.Op(op::kConcatenation, {in0, in1}, {in}, opt::kConcatenation, {{"axis", int64_t{3}}});
  }
  auto act = [](int64_t a) { return std::vector<Field>{{"fused_activation_function", a}}; };
  const int t = m.Temp(DType::kFloat32, shape), u = m.Temp(DType::kFloat32, shape);
  m.Op(op::kMul, {in, m.Const(DType::kFloat32, {channels}, RandomFloats(channels, 51, -2, 2))}, {t},
       opt::kMul, act(0));
  m.Op(op::kAdd, {m.Const(DType::kFloat32, {channels}, RandomFloats(channels, 52, -1, 1)), t}, {u},
       opt::kAdd, act(0));
  const int pooled = m.Output(DType::kFloat32, {c.n, ph, pw, channels});
  m.Op(op::kMaxPool2D, {u}, {pooled}, opt::kPool2D,
       {{"padding", int64_t{c.same ? 0 : 1}},
        {"stride_w", int64_t{c.stride}},
        {"stride_h", int64_t{c.stride}},
        {"filter_width", int64_t{c.filter}},
        {"filter_height", int64_t{c.filter}},
        {"fused_activation_function", int64_t{c.act}}});
  PoolRun r;
  const Status s = m.Build(threads, FloatPrecision::kFloat32, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  m.SetInput(0, x);
  if (c.concat) m.SetInput(1, y);
  TensorView o = m.interpreter().output(0);
  std::memset(o.raw(), 0xFF, o.bytes());
  EXPECT_TRUE(m.Invoke().ok());
  r.pooled = m.GetOutput<float>(0);
  for (const OpProfile& p : m.interpreter().op_profile()) r.fused_into.push_back(p.fused_into);
  return r;
}

class ChainPoolTest : public ::testing::TestWithParam<PoolCase> {};

TEST_P(ChainPoolTest, PooledOutputEqualsTheSeparateOps) {
  const PoolCase c = GetParam();
  const int part = c.concat ? 64 : 96;
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * part, 53, -3, 3);
  const auto y = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * (96 - part), 54, -3, 3);
  const float specials[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 3.4e38f};
  for (size_t i = 0, k = 0; i < x.size(); i += 29, ++k) x[i] = specials[k % std::size(specials)];
  const PoolRun separate = RunPool(c, x, y, 1, false);
  for (int f : separate.fused_into) EXPECT_EQ(f, -1);
  const int mul = c.concat ? 1 : 0;  // the chain's first op
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    const PoolRun fused = RunPool(c, x, y, threads, true);
    ASSERT_EQ(fused.fused_into.size(), static_cast<size_t>(mul + 3));
    EXPECT_EQ(fused.fused_into[mul + 1], mul);                 // the ADD
    EXPECT_EQ(fused.fused_into[mul + 2], c.fused ? mul : -1);  // the pooling
    ASSERT_EQ(fused.pooled.size(), separate.pooled.size());
    EXPECT_EQ(std::memcmp(fused.pooled.data(), separate.pooled.data(),
                          fused.pooled.size() * sizeof(float)),
              0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ChainPoolTest,
    ::testing::Values(
        // BinaryDenseNet's transitions: 2x2/2 VALID, ReLU, after a concatenation.
        PoolCase{1, 14, 14, true, 2, 2, false, 1, true, "densenet"},
        // Odd sizes with SAME padding (the last window's rows clipped), two images.
        PoolCase{2, 13, 11, true, 2, 2, true, 0, true, "odd_same_batch2"},
        // A plain input; windows 3 rows apart and 3 high; ReLU6.
        PoolCase{1, 17, 10, false, 3, 3, true, 3, true, "k3s3"},
        // Overlapping windows: the pooling stays separate.
        PoolCase{1, 12, 12, true, 3, 2, true, 0, false, "overlap"}),
    [](const ::testing::TestParamInfo<PoolCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace xbnn::testing
