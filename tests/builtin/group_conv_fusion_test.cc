// A grouped convolution as converters write it (MeliusNet's stem): SPLIT of the last axis, one
// 8-channel CONV_2D per part, CONCATENATION of their outputs. The interpreter runs every part in
// the first convolution's kernel, reading the split's input in place and writing the
// concatenation (runtime/fusion.h, GroupConvFusion), and a pooling or LceQuantize after it as
// after any convolution. Outputs must equal the separate ops' bit for bit for every 8-channel
// kernel path (16-pixel lanes from planes where the width's stride is 1, the NHWC kernels of the
// separate ops otherwise, the edges), batches whose chunks of rows meet at an image's end, per-part
// activations, on 1 to 3 threads; graphs that only look like one must run unfused.
#include <cstring>

#include "builtin/op_test_util.h"
#include "kernels/builtin/conv_direct.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct GroupCase {
  int n, h, w, groups, cin, k, stride;
  bool same;
  const char* name;
};

// What reads the concatenation.
enum class Tail {
  kNone,      // a model output
  kPool,      // MUL, ADD (ReLU), 2x2 MAX_POOL, MUL, ADD, LceQuantize (MeliusNet's second stem)
  kQuantize,  // an LceQuantize, the concatenation also a model output
};

// How the graph differs from a grouped convolution (then it runs unfused).
enum class Shape {
  kGrouped,
  kPartAlsoOutput,  // a split part is a model output too
  kSwapped,         // the concatenation takes the last two convolutions' outputs swapped
};

struct GroupRun {
  std::vector<std::vector<float>> floats;
  std::vector<int32_t> packed;
  std::vector<int> fused_into;
};

constexpr int kOut = 8;  // channels per part

GroupRun RunModel(const GroupCase& c, Tail tail, Shape shape, const std::vector<float>& x,
                  const std::vector<std::vector<float>>& w, const std::vector<float>& bias,
                  int threads, bool fuse) {
  const int oh = OutSize(c.h, c.k, c.stride, 1, c.same),
            ow = OutSize(c.w, c.k, c.stride, 1, c.same);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.groups * c.cin});
  std::vector<int> parts;
  for (int g = 0; g < c.groups; ++g) {
    const bool out = shape == Shape::kPartAlsoOutput && g == 1;
    parts.push_back(out ? m.Output(DType::kFloat32, {c.n, c.h, c.w, c.cin})
                        : m.Temp(DType::kFloat32, {c.n, c.h, c.w, c.cin}));
  }
  m.Op(op::kSplit, {m.Const(DType::kInt32, {}, std::vector<int32_t>{-1}), in}, parts, opt::kSplit,
       {{"num_splits", int64_t{c.groups}}});
  const int bt = m.Const(DType::kFloat32, {kOut}, bias);
  std::vector<int> convs;
  for (int g = 0; g < c.groups; ++g) {
    const int stride = c.stride;
    const int y = m.Temp(DType::kFloat32, {c.n, oh, ow, kOut});
    // Each part its own activation: none, ReLU, ReLU6 in turn.
    m.Op(op::kConv2D, {parts[g], m.Const(DType::kFloat32, {kOut, c.k, c.k, c.cin}, w[g]), bt}, {y},
         opt::kConv2D,
         {{"padding", int64_t{c.same ? 0 : 1}},
          {"stride_w", int64_t{stride}},
          {"stride_h", int64_t{stride}},
          {"fused_activation_function", int64_t{g % 3 == 0   ? 0
                                                : g % 3 == 1 ? 1
                                                             : 3}},
          {"dilation_w_factor", int64_t{1}},
          {"dilation_h_factor", int64_t{1}}});
    convs.push_back(y);
  }
  if (shape == Shape::kSwapped) std::swap(convs[convs.size() - 1], convs[convs.size() - 2]);
  const int cout = c.groups * kOut;
  const std::vector<int32_t> cat_shape{c.n, oh, ow, cout};
  const int cat = tail == Tail::kPool ? m.Temp(DType::kFloat32, cat_shape)
                                      : m.Output(DType::kFloat32, cat_shape);
  m.Op(op::kConcatenation, convs, {cat}, opt::kConcatenation, {{"axis", int64_t{3}}});
  auto act = [](int64_t a) { return std::vector<Field>{{"fused_activation_function", a}}; };
  const auto scale = RandomFloats(static_cast<size_t>(cout), 81, 0.5f, 2.0f);
  const auto shift = RandomFloats(static_cast<size_t>(cout), 82, -1.0f, 1.0f);
  int packed = -1;
  if (tail == Tail::kPool) {
    const int ph = OutSize(oh, 2, 2, 1, true), pw = OutSize(ow, 2, 2, 1, true);
    const int mul = m.Temp(DType::kFloat32, cat_shape), add = m.Temp(DType::kFloat32, cat_shape);
    m.Op(op::kMul, {cat, m.Const(DType::kFloat32, {cout}, scale)}, {mul}, opt::kMul, act(0));
    m.Op(op::kAdd, {mul, m.Const(DType::kFloat32, {cout}, shift)}, {add}, opt::kAdd, act(1));
    const std::vector<int32_t> pooled_shape{c.n, ph, pw, cout};
    const int pooled = m.Output(DType::kFloat32, pooled_shape);
    m.Op(op::kMaxPool2D, {add}, {pooled}, opt::kPool2D,
         {{"padding", int64_t{0}},
          {"stride_w", int64_t{2}},
          {"stride_h", int64_t{2}},
          {"filter_width", int64_t{2}},
          {"filter_height", int64_t{2}},
          {"fused_activation_function", int64_t{0}}});
    const int mul2 = m.Temp(DType::kFloat32, pooled_shape);
    const int add2 = m.Temp(DType::kFloat32, pooled_shape);
    m.Op(op::kMul, {pooled, m.Const(DType::kFloat32, {cout}, shift)}, {mul2}, opt::kMul, act(0));
    m.Op(op::kAdd, {mul2, m.Const(DType::kFloat32, {cout}, scale)}, {add2}, opt::kAdd, act(0));
    packed = m.Output(DType::kInt32, {c.n, ph, pw, (cout + 31) / 32});
    m.CustomOp(graph::kLceQuantize, {add2}, {packed});
  } else if (tail == Tail::kQuantize) {
    packed = m.Output(DType::kInt32, {c.n, oh, ow, (cout + 31) / 32});
    m.CustomOp(graph::kLceQuantize, {cat}, {packed});
  }
  GroupRun r;
  const Status s = m.Build(threads, FloatPrecision::kFloat32, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  m.SetInput(0, x);
  // A value left unwritten must not pass for one a previous interpreter left in this memory.
  const size_t outputs = m.interpreter().num_outputs();
  for (size_t i = 0; i < outputs; ++i) {
    TensorView o = m.interpreter().output(i);
    std::memset(o.raw(), 0xFF, o.bytes());
  }
  EXPECT_TRUE(m.Invoke().ok());
  for (size_t i = 0; i < outputs; ++i) {
    if (m.interpreter().output(i).type() == DataType::kFloat32) {
      r.floats.push_back(m.GetOutput<float>(i));
    } else {
      r.packed = m.GetOutput<int32_t>(i);
    }
  }
  for (const OpProfile& p : m.interpreter().op_profile()) r.fused_into.push_back(p.fused_into);
  return r;
}

class GroupConvFusionTest : public ::testing::TestWithParam<std::tuple<GroupCase, Tail, Shape>> {};

TEST_P(GroupConvFusionTest, OutputsEqualTheSeparateOps) {
  const GroupCase c = std::get<0>(GetParam());
  const Tail tail = std::get<1>(GetParam());
  const Shape shape = std::get<2>(GetParam());
  const auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.groups * c.cin, 83);
  std::vector<std::vector<float>> w;
  for (int g = 0; g < c.groups; ++g) {
    w.push_back(
        RandomFloats(static_cast<size_t>(kOut) * c.k * c.k * c.cin, 84 + static_cast<uint32_t>(g)));
  }
  const auto bias = RandomFloats(kOut, 99, -0.3f, 0.3f);
  const GroupRun separate = RunModel(c, tail, shape, x, w, bias, 1, false);
  for (int f : separate.fused_into) EXPECT_EQ(f, -1);
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    const GroupRun fused = RunModel(c, tail, shape, x, w, bias, threads, true);
    // SPLIT (op 0) and every convolution but the first and the CONCATENATION run in op 1.
    ASSERT_GE(fused.fused_into.size(), static_cast<size_t>(c.groups + 2));
    // (Only where the 8-channel direct kernels run: x86 CPUs with AVX2 and FMA or AVX-512.)
    const bool grouped = shape == Shape::kGrouped &&
                         kernels::builtin::DirectConvF32::RunsEightChannelRows(
                             c.cin, kOut, c.k, c.k, c.stride, c.stride, 1, 1);
    const int expect = grouped ? 1 : -1;
    EXPECT_EQ(fused.fused_into[0], expect);
    EXPECT_EQ(fused.fused_into[1], -1);
    for (int g = 1; g < c.groups; ++g) EXPECT_EQ(fused.fused_into[1 + g], expect);
    EXPECT_EQ(fused.fused_into[1 + c.groups], expect);
    if (tail == Tail::kPool && grouped) {
      // MUL, ADD and the pooling run in the grouped convolution too.
      for (int k = 2; k <= 4; ++k) EXPECT_EQ(fused.fused_into[1 + c.groups + k - 1], 1);
    }
    ASSERT_EQ(fused.floats.size(), separate.floats.size());
    for (size_t i = 0; i < fused.floats.size(); ++i) {
      ASSERT_EQ(fused.floats[i].size(), separate.floats[i].size());
      EXPECT_EQ(std::memcmp(fused.floats[i].data(), separate.floats[i].data(),
                            fused.floats[i].size() * sizeof(float)),
                0)
          << "float output " << i;
    }
    EXPECT_EQ(fused.packed, separate.packed);
  }
}

std::string CaseName(const ::testing::TestParamInfo<std::tuple<GroupCase, Tail, Shape>>& i) {
  static const char* const kTails[] = {"", "_pool", "_quantize"};
  static const char* const kShapes[] = {"", "_part_output", "_swapped"};
  return std::string(std::get<0>(i.param).name) + kTails[static_cast<int>(std::get<1>(i.param))] +
         kShapes[static_cast<int>(std::get<2>(i.param))];
}

INSTANTIATE_TEST_SUITE_P(
    Paths, GroupConvFusionTest,
    ::testing::Combine(
        ::testing::Values(
            // MeliusNet's first grouped stem convolution, small: 8 input channels per part (one
            // pixel per AVX2 vector), odd width.
            GroupCase{1, 30, 29, 4, 8, 3, 1, true, "melius_c8"},
            // Its second: 4 input channels per part (pairs of pixels in AVX-512 vectors).
            GroupCase{1, 27, 31, 8, 4, 3, 1, true, "melius_c4"},
            // Two images whose row chunks meet at an image's end; stride 2, VALID.
            GroupCase{2, 21, 17, 3, 4, 3, 2, false, "batch2_s2_valid"},
            // 16 input channels per part, a 5x5 kernel; 2 input channels (pairs), 19 rows.
            GroupCase{1, 20, 21, 2, 16, 5, 2, true, "c16_k5"},
            GroupCase{1, 19, 40, 3, 2, 3, 1, true, "c2"},
            // Wide rows (tiles of 48 pixels, then 16, then one overlapping the one before); a 5x5
            // kernel with two edge columns on each side, and VALID without any.
            GroupCase{1, 9, 70, 2, 8, 3, 1, true, "wide_c8"},
            GroupCase{1, 10, 66, 3, 8, 5, 1, true, "k5_same"},
            GroupCase{1, 11, 53, 2, 4, 5, 1, false, "k5_valid"}),
        ::testing::Values(Tail::kNone, Tail::kPool, Tail::kQuantize),
        ::testing::Values(Shape::kGrouped, Shape::kPartAlsoOutput, Shape::kSwapped)),
    CaseName);

}  // namespace
}  // namespace xbnn::testing
