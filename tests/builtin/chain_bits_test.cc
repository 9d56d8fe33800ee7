// Elementwise chains that end in an LceQuantize and read a tensor or a concatenation of earlier
// blocks' features (BinaryDenseNet's batch norms): their bits are computed part by part, each part
// by the first such chain that reads it, for every later one (runtime/fusion.h, ChainBits), and
// the chains write no floats. The packed outputs must equal the separate ops' bit for bit, on 1 to
// 3 threads, with special values, activations, an operand given first, a one-value operand (the
// generic vector path) and a part that does not fill whole words (whose chains keep the plain
// path); and the chains' float values must really get no memory.
#include <cmath>
#include <cstring>

#include "builtin/op_test_util.h"
#include "graph/lce_options.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct BitsRun {
  std::vector<std::vector<int32_t>> packed;  // per LceQuantize
  std::vector<float> floats;                 // the plain chain's output
  size_t activation_bytes = 0;
};

constexpr int kH = 9, kW = 15;  // 135 rows: blocks of 64 rows, cut across threads

// X0 (input, 64 channels) -> chain A; P1 = 1x1 CONV_2D of X0 (p1 channels); chain B on
// concat(X0, P1); P2 = 1x1 CONV_2D of P1 (p2 channels); chains C, E and the plain chain D on
// concat(X0, P1, P2).
BitsRun RunBlock(int p1c, int p2, const std::vector<float>& x0, int threads, bool fuse) {
  auto shape = [](int c) { return std::vector<int32_t>{1, kH, kW, c}; };
  OpModel m;
  const int x = m.Input(DType::kFloat32, shape(64));
  auto act = [](int64_t a) { return std::vector<Field>{{"fused_activation_function", a}}; };
  auto constant = [&](int c, uint32_t seed, float lo, float hi) {
    return m.Const(DType::kFloat32, {c}, RandomFloats(static_cast<size_t>(c), seed, lo, hi));
  };
  auto conv1x1 = [&](int in, int cin, int cout, uint32_t seed) {
    const int y = m.Temp(DType::kFloat32, shape(cout));
    m.Op(op::kConv2D,
         {in,
          m.Const(DType::kFloat32, {cout, 1, 1, cin},
                  RandomFloats(static_cast<size_t>(cout * cin), seed, -0.3f, 0.3f)),
          constant(cout, seed + 1, -0.5f, 0.5f)},
         {y}, opt::kConv2D,
         {{"padding", int64_t{1}},
          {"stride_w", int64_t{1}},
          {"stride_h", int64_t{1}},
          {"fused_activation_function", int64_t{0}},
          {"dilation_w_factor", int64_t{1}},
          {"dilation_h_factor", int64_t{1}}});
    return y;
  };
  std::vector<int> packed;
  // MUL by `scale` (an operand), then `second` with a per-channel constant (given first when
  // `first`), activation `a2`, then an LceQuantize that is a model output.
  auto chain = [&](int in, int c, int scale, int32_t second, bool first, int64_t a2,
                   uint32_t seed) {
    const int t = m.Temp(DType::kFloat32, shape(c)), u = m.Temp(DType::kFloat32, shape(c));
    m.Op(op::kMul, {in, scale}, {t}, opt::kMul, act(0));
    const int k = constant(c, seed, -1.0f, 1.0f);
    m.Op(second, first ? std::vector<int32_t>{k, t} : std::vector<int32_t>{t, k}, {u},
         second == op::kAdd ? opt::kAdd : opt::kSub, act(a2));
    const int q = m.Output(DType::kInt32, {1, kH, kW, (c + 31) / 32});
    m.CustomOp(graph::kLceQuantize, {u}, {q});
    packed.push_back(q);
  };
  chain(x, 64, constant(64, 11, -2.0f, 2.0f), op::kAdd, false, 0, 12);  // A
  const int p1 = conv1x1(x, 64, p1c, 20);
  const int c1 = 64 + p1c;
  const int x1 = m.Temp(DType::kFloat32, shape(c1));
  m.Op(op::kConcatenation, {x, p1}, {x1}, opt::kConcatenation, {{"axis", int64_t{3}}});
  chain(x1, c1, constant(c1, 13, -2.0f, 2.0f), op::kAdd, true, 1, 14);  // B: ADD(k, t), RELU
  const int p2t = conv1x1(p1, p1c, p2, 30);
  const int c2 = c1 + p2;
  const int x2 = m.Temp(DType::kFloat32, shape(c2));
  m.Op(op::kConcatenation, {x1, p2t}, {x2}, opt::kConcatenation, {{"axis", int64_t{3}}});
  chain(x2, c2, constant(c2, 15, -2.0f, 2.0f), op::kAdd, false, 3, 16);  // C: RELU6
  // D: the plain chain (its value is a model output).
  const int dt = m.Temp(DType::kFloat32, shape(c2)), d = m.Output(DType::kFloat32, shape(c2));
  m.Op(op::kMul, {x2, constant(c2, 17, -2.0f, 2.0f)}, {dt}, opt::kMul, act(0));
  m.Op(op::kAdd, {dt, constant(c2, 18, -1.0f, 1.0f)}, {d}, opt::kAdd, act(0));
  // E: a scalar scale, then SUB(k, t) (the generic vector path).
  chain(x2, c2, m.Const(DType::kFloat32, {1}, std::vector<float>{-1.25f}), op::kSub, true, 2, 19);
  BitsRun r;
  const Status s = m.Build(threads, FloatPrecision::kFloat32, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  m.SetInput(0, x0);
  for (size_t i = 0; i < m.interpreter().num_outputs(); ++i) {
    TensorView o = m.interpreter().output(i);
    std::memset(o.raw(), 0xFF, o.bytes());
  }
  EXPECT_TRUE(m.Invoke().ok());
  for (size_t i = 0; i < m.interpreter().num_outputs(); ++i) {
    if (m.interpreter().output(i).type() == DataType::kFloat32) {
      r.floats = m.GetOutput<float>(i);
    } else {
      r.packed.push_back(m.GetOutput<int32_t>(i));
    }
  }
  r.activation_bytes = m.interpreter().memory().activation_bytes_sum;
  return r;
}

TEST(ChainBitsTest, PartsComputedOnceGiveTheSeparateOpsBits) {
  const int rows = kH * kW;
  auto x0 = RandomFloats(static_cast<size_t>(rows) * 64, 41, -3.0f, 3.0f);
  const float specials[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 3.4e38f, -3.4e38f};
  for (size_t i = 0, k = 0; i < x0.size(); i += 37, ++k) x0[i] = specials[k % std::size(specials)];
  // (P1, P2) channels: (64, 32) every part on whole words (all four chains part by part); (64,
  // 48) P2's words end inside a word (its jobs through the pack kernel); (48, 32) P2 starts inside
  // a word, so chains C and E keep the plain path (A and B still run part by part).
  for (const auto& [p1, p2] : {std::pair{64, 32}, std::pair{64, 48}, std::pair{48, 32}}) {
    SCOPED_TRACE("P1, P2 channels " + std::to_string(p1) + ", " + std::to_string(p2));
    const BitsRun separate = RunBlock(p1, p2, x0, 1, false);
    ASSERT_EQ(separate.packed.size(), 4u);
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE("threads " + std::to_string(threads));
      const BitsRun fused = RunBlock(p1, p2, x0, threads, true);
      ASSERT_EQ(fused.packed.size(), separate.packed.size());
      for (size_t i = 0; i < fused.packed.size(); ++i) {
        EXPECT_EQ(fused.packed[i], separate.packed[i]) << "LceQuantize " << i;
      }
      ASSERT_EQ(fused.floats.size(), separate.floats.size());
      EXPECT_EQ(std::memcmp(fused.floats.data(), separate.floats.data(),
                            fused.floats.size() * sizeof(float)),
                0);
      // Memory: the input, P1, P2, D's output and the four packed outputs; the chains' values,
      // the concatenations and the MUL outputs have none, but where C and E keep the plain path
      // they write their last values (ADD and SUB outputs).
      const size_t c1 = 64 + static_cast<size_t>(p1), c2 = c1 + static_cast<size_t>(p2);
      const size_t words = 2 + (c1 + 31) / 32 + 2 * ((c2 + 31) / 32);
      size_t floats = 64 + static_cast<size_t>(p1) + static_cast<size_t>(p2) + c2;
      if (p1 % 32 != 0) floats += 2 * c2;
      EXPECT_EQ(fused.activation_bytes, static_cast<size_t>(rows) * 4 * (floats + words));
    }
  }
}

}  // namespace
}  // namespace xbnn::testing
