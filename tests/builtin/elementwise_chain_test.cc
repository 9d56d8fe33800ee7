// A chain of float elementwise ops (runtime/fusion.h, ChainFusion) runs in its first op's kernel
// on blocks of rows: the outputs must be bit-identical to the separate ops' (fuse_ops off), on 1
// to 3 threads, with every kind of operand (the chain's shape, one per channel, one value; as the
// first or the second input), every op kind, activations, special values, and an LceQuantize of
// the last output; and the chain must actually form (the later ops report their host).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "builtin/op_test_util.h"
#include "graph/lce_options.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

// Per op, the op whose kernel ran it (-1: its own).
std::vector<int> Hosts(OpModel& m) {
  std::vector<int> hosts;
  for (const OpProfile& p : m.interpreter().op_profile()) hosts.push_back(p.fused_into);
  return hosts;
}

// Shape [2, 3, 5, c].
std::vector<int32_t> Nhwc(int32_t c) { return {2, 3, 5, c}; }

struct ChainRun {
  std::vector<float> y;
  std::vector<int32_t> packed;
  std::vector<int> fused_into;
};

// in0, in1: [2, 5, 7, C]. C = 67: whole vectors and a tail, rows of odd length (the per-op
// passes); 64 and 48: rows of whole vectors (the whole chain in vector registers, four vectors
// at a time and then one).
ChainRun RunChain(int channels, const std::vector<float>& x0, const std::vector<float>& x1,
                  const std::vector<float>& per_channel, const std::vector<float>& alpha,
                  int threads, bool fuse) {
  const std::vector<int32_t> shape{2, 5, 7, channels};
  OpModel m;
  const int in0 = m.Input(DType::kFloat32, shape);
  const int in1 = m.Input(DType::kFloat32, shape);
  const int c = m.Const(DType::kFloat32, {channels}, per_channel);
  const int c3 = m.Const(DType::kFloat32, {1, 1, channels}, alpha);
  const int scalar = m.Const(DType::kFloat32, {1}, std::vector<float>{-0.75f});
  auto t = [&] { return m.Temp(DType::kFloat32, shape); };
  auto act = [](int64_t a) { return std::vector<Field>{{"fused_activation_function", a}}; };
  const int a = t(), b = t(), d = t(), e = t(), f = t(), g = t(), h = t();
  const int y = m.Output(DType::kFloat32, shape);
  const int packed = m.Output(DType::kInt32, {2, 5, 7, (channels + 31) / 32});
  m.Op(op::kSub, {in0, c}, {a}, opt::kSub, act(0));         // host: input - per channel
  m.Op(op::kMul, {scalar, a}, {b}, opt::kMul, act(0));      // scalar first
  m.Op(op::kPrelu, {b, c3}, {d});                           // alpha [1, 1, C]
  m.Op(op::kDiv, {d, in1}, {e}, opt::kDiv, act(1));         // the chain's shape, RELU
  m.Op(op::kMaximum, {in1, e}, {f}, opt::kMaximumMinimum);  // operand first
  m.Op(op::kMinimum, {f, c}, {g}, opt::kMaximumMinimum);    // per channel second
  m.Op(op::kSub, {in1, g}, {h}, opt::kSub, act(2));         // operand first, RELU_N1_TO_1
  m.Op(op::kAdd, {h, in0}, {y}, opt::kAdd, act(3));         // RELU6; a model output
  m.CustomOp(graph::kLceQuantize, {y}, {packed});
  ChainRun r;
  const Status s = m.Build(threads, FloatPrecision::kFloat32, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  m.SetInput(0, x0);
  m.SetInput(1, x1);
  EXPECT_TRUE(m.Invoke().ok());
  r.y = m.GetOutput<float>(0);
  r.packed = m.GetOutput<int32_t>(1);
  r.fused_into = Hosts(m);
  return r;
}

TEST(ElementwiseChainTest, BitIdenticalToSeparateOps) {
  for (int channels : {67, 64, 48}) {
    const size_t n = size_t{2} * 5 * 7 * static_cast<size_t>(channels);
    auto x0 = RandomFloats(n, 601, -3, 3);
    auto x1 = RandomFloats(n, 602, -3, 3);
    const float specials[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 1e-40f, -1e-40f, 1e38f};
    for (size_t i = 0, k = 0; i < n; i += 13, ++k) x0[i] = specials[k % std::size(specials)];
    for (size_t i = 5, k = 3; i < n; i += 17, ++k) x1[i] = specials[k % std::size(specials)];
    auto per_channel = RandomFloats(channels, 603, -1, 1);
    auto alpha = RandomFloats(channels, 604, -2, 2);
    per_channel[3] = -0.0f;
    const ChainRun separate = RunChain(channels, x0, x1, per_channel, alpha, 1, false);
    // The separate ops against TFLite's expressions element by element (any NaN for a NaN: which
    // operand's NaN a product of two passes on depends on the compiler's operand order).
    ASSERT_EQ(separate.y.size(), n);
    const float lowest = std::numeric_limits<float>::lowest();
    const float highest = std::numeric_limits<float>::max();
    auto clamp = [](float v, float lo, float hi) { return std::min(std::max(v, lo), hi); };
    for (size_t i = 0; i < n; ++i) {
      const size_t ch = i % static_cast<size_t>(channels);
      const float a = clamp(x0[i] - per_channel[ch], lowest, highest);
      const float b = clamp(-0.75f * a, lowest, highest);
      const float d = b >= 0 ? b : b * alpha[ch];
      const float e = clamp(d / x1[i], 0.0f, highest);
      const float f = x1[i] > e ? x1[i] : e;
      const float g = f < per_channel[ch] ? f : per_channel[ch];
      const float h = clamp(x1[i] - g, -1.0f, 1.0f);
      const float want = clamp(h + x0[i], 0.0f, 6.0f);
      const float got = separate.y[i];
      ASSERT_TRUE(std::memcmp(&got, &want, sizeof(float)) == 0 ||
                  (std::isnan(got) && std::isnan(want)))
          << channels << " channels, element " << i << ": got " << got << ", want " << want;
    }
    for (int threads : {1, 2, 3}) {
      const ChainRun fused = RunChain(channels, x0, x1, per_channel, alpha, threads, true);
      ASSERT_EQ(fused.y.size(), separate.y.size());
      size_t bad = 0;
      while (bad < n && std::memcmp(&fused.y[bad], &separate.y[bad], sizeof(float)) == 0) ++bad;
      EXPECT_EQ(bad, n) << channels << " channels, " << threads << " thread(s): got "
                        << fused.y[bad % n] << ", want " << separate.y[bad % n];
      EXPECT_EQ(fused.packed, separate.packed) << channels << " channels, " << threads;
      // Ops 1-7 and the LceQuantize run in op 0; without fusion every op runs on its own.
      for (size_t i = 0; i < fused.fused_into.size(); ++i) {
        EXPECT_EQ(fused.fused_into[i], i == 0 ? -1 : 0) << "op " << i;
        EXPECT_EQ(separate.fused_into[i], -1) << "op " << i;
      }
    }
  }
}

// An op that reads a chain value twice, an intermediate that another op also reads, and an
// operand that broadcasts along another axis end the chain there (and the results still agree).
TEST(ElementwiseChainTest, StopsWhereTheRowsOrReadersDoNotAllowIt) {
  const std::vector<int32_t> shape{3, 4, 16};
  auto x = RandomFloats(3 * 4 * 16, 611, -2, 2);
  auto col = RandomFloats(3 * 1 * 16, 612, -2, 2);  // [3, 1, 16]: not one row for every row
  auto run = [&](bool fuse) {
    OpModel m;
    const int in = m.Input(DType::kFloat32, shape);
    const int k = m.Const(DType::kFloat32, {3, 1, 16}, col);
    const int a = m.Temp(DType::kFloat32, shape), b = m.Temp(DType::kFloat32, shape);
    const int c = m.Output(DType::kFloat32, shape), d = m.Output(DType::kFloat32, shape);
    const int e = m.Output(DType::kFloat32, shape);
    const std::vector<Field> none{{"fused_activation_function", int64_t{0}}};
    m.Op(op::kMul, {in, in}, {a}, opt::kMul, none);  // 0: host candidate
    m.Op(op::kAdd, {a, a}, {b}, opt::kAdd, none);    // 1: reads a twice: not chained
    m.Op(op::kSub, {b, k}, {c}, opt::kSub, none);    // 2: [3, 1, 16] operand: not chained
    m.Op(op::kAdd, {c, in}, {d}, opt::kAdd, none);   // 3: chains after 2? c is an output: no
    m.Op(op::kMul, {d, in}, {e}, opt::kMul, none);   // 4: d is an output too: no
    EXPECT_TRUE(m.Build(2, FloatPrecision::kFloat32, fuse).ok());
    m.SetInput(0, x);
    EXPECT_TRUE(m.Invoke().ok());
    return std::make_tuple(m.GetOutput<float>(0), m.GetOutput<float>(1), m.GetOutput<float>(2),
                           Hosts(m));
  };
  const auto fused = run(true), separate = run(false);
  EXPECT_EQ(std::get<0>(fused), std::get<0>(separate));
  EXPECT_EQ(std::get<1>(fused), std::get<1>(separate));
  EXPECT_EQ(std::get<2>(fused), std::get<2>(separate));
  EXPECT_EQ(std::get<3>(fused), (std::vector<int>{-1, -1, -1, -1, -1}));
}

// A PAD of the channels with zeros read only by an ADD (MeliusNet's improvement blocks) runs
// inside the ADD, also when the ADD starts a chain: bit-identical to the separate ops (-0.0 in the
// wide operand plus the padding's +0.0 gives +0.0 in both), in either operand order, on 1 to 3
// threads. A PADV2 with -0.0 stays a separate op.
TEST(ElementwiseChainTest, ChannelPadRunsInsideTheAdd) {
  const std::vector<int32_t> narrow{2, 3, 5, 20}, wide{2, 3, 5, 28};
  const size_t n_wide = 2 * 3 * 5 * 28;
  auto x = RandomFloats(2 * 3 * 5 * 20, 621, -2, 2);
  auto z = RandomFloats(n_wide, 622, -2, 2);
  for (size_t i = 0; i < n_wide; i += 5) z[i] = -0.0f;
  z[7] = NAN;
  auto scale = RandomFloats(28, 623, -1, 1);
  struct Case {
    bool pad_first;   // the PAD's output is the ADD's first input
    bool chain;       // a MUL follows the ADD
    float pad_value;  // PADV2's value
    bool fused;       // whether the PAD must run inside the ADD
  };
  for (const Case& c : {Case{false, false, 0.0f, true}, Case{true, true, 0.0f, true},
                        Case{false, true, -0.0f, false}}) {
    auto run = [&](int threads, bool fuse) {
      OpModel m;
      const int in = m.Input(DType::kFloat32, narrow);
      const int other = m.Input(DType::kFloat32, wide);
      const int pads = m.Const(DType::kInt32, {4, 2}, std::vector<int32_t>{0, 0, 0, 0, 0, 0, 3, 5});
      const int value = m.Const(DType::kFloat32, {}, std::vector<float>{c.pad_value});
      const int k = m.Const(DType::kFloat32, {28}, scale);
      const int padded = m.Temp(DType::kFloat32, wide);
      const int sum = c.chain ? m.Temp(DType::kFloat32, wide) : m.Output(DType::kFloat32, wide);
      m.Op(op::kPadV2, {in, pads, value}, {padded}, opt::kPadV2);
      m.Op(op::kAdd,
           c.pad_first ? std::vector<int32_t>{padded, other} : std::vector<int32_t>{other, padded},
           {sum}, opt::kAdd, {{"fused_activation_function", int64_t{c.chain ? 0 : 1}}});
      if (c.chain) {
        const int y = m.Output(DType::kFloat32, wide);
        m.Op(op::kMul, {sum, k}, {y}, opt::kMul, {{"fused_activation_function", int64_t{0}}});
      }
      EXPECT_TRUE(m.Build(threads, FloatPrecision::kFloat32, fuse).ok());
      m.SetInput(0, x);
      m.SetInput(1, z);
      EXPECT_TRUE(m.Invoke().ok());
      return std::make_pair(m.GetOutput<float>(0), m.interpreter().op_profile()[0].fused_into);
    };
    const auto separate = run(1, false);
    for (int threads : {1, 2, 3}) {
      const auto fused = run(threads, true);
      ASSERT_EQ(fused.first.size(), n_wide);
      EXPECT_EQ(std::memcmp(fused.first.data(), separate.first.data(), n_wide * sizeof(float)), 0)
          << "pad first " << c.pad_first << ", chain " << c.chain << ", " << threads
          << " thread(s)";
      EXPECT_EQ(fused.second, c.fused ? 1 : -1);
    }
  }
}

// CONCATENATIONs along the last axis read only by elementwise ops and by each other (DenseNet's
// dense blocks) are never written: the elementwise ops read the parts in place, also first in a
// chain or with a fused PAD (MeliusNet's improvement blocks; its padding's edges fall inside the
// parts here), with every kind of other operand in either order. Bit-identical to the separate ops
// on 1 to 3 threads, while the temporaries written between a concatenation and its last reader
// (of its parts' size) must not take its parts' memory.
TEST(ElementwiseChainTest, ConcatenationsReadInPlace) {
  const int64_t rows = 2 * 3 * 5;
  const auto x0 = RandomFloats(rows * 20, 631, -2, 2);
  auto x1 = RandomFloats(rows * 16, 632, -2, 2);
  x1[3] = NAN;
  x1[8] = -0.0f;
  const auto x2 = RandomFloats(rows * 16, 633, -2, 2);
  const auto wide = RandomFloats(rows * 68, 634, -2, 2);
  const auto narrow = RandomFloats(rows * 10, 638, -2, 2);
  const auto k36 = RandomFloats(36, 635, -1, 1), b36 = RandomFloats(36, 636, -1, 1);
  const auto k52 = RandomFloats(52, 637, -1, 1);
  const std::vector<Field> none{{"fused_activation_function", int64_t{0}}};
  auto run = [&](int threads, bool fuse) {
    OpModel m;
    const int in0 = m.Input(DType::kFloat32, Nhwc(20));
    const int in1 = m.Input(DType::kFloat32, Nhwc(16));
    const int in2 = m.Input(DType::kFloat32, Nhwc(16));
    const int in3 = m.Input(DType::kFloat32, Nhwc(68));
    const int in4 = m.Input(DType::kFloat32, Nhwc(10));
    const int scalar = m.Const(DType::kFloat32, {1}, std::vector<float>{1.5f});
    const int c36 = m.Const(DType::kFloat32, {36}, k36);
    const int d36 = m.Const(DType::kFloat32, {1, 1, 1, 36}, b36);
    const int c52 = m.Const(DType::kFloat32, {52}, k52);
    const int pads = m.Const(DType::kInt32, {4, 2}, std::vector<int32_t>{0, 0, 0, 0, 0, 0, 30, 12});
    const int y1 = m.Temp(DType::kFloat32, Nhwc(16)), y2 = m.Temp(DType::kFloat32, Nhwc(16));
    const int y3 = m.Temp(DType::kFloat32, Nhwc(16)), padded = m.Temp(DType::kFloat32, Nhwc(52));
    const int cat1 = m.Temp(DType::kFloat32, Nhwc(36)), cat2 = m.Temp(DType::kFloat32, Nhwc(52));
    const int cat3 = m.Temp(DType::kFloat32, Nhwc(68));
    const int m1 = m.Temp(DType::kFloat32, Nhwc(36)), a1 = m.Temp(DType::kFloat32, Nhwc(36));
    const int packed = m.Output(DType::kInt32, Nhwc(2));
    const int o1 = m.Output(DType::kFloat32, Nhwc(52)), o2 = m.Output(DType::kFloat32, Nhwc(68));
    const int o3 = m.Output(DType::kFloat32, Nhwc(68)), o4 = m.Output(DType::kFloat32, Nhwc(52));
    m.Op(op::kMul, {in1, scalar}, {y1}, opt::kMul, none);  // 0
    m.Op(op::kConcatenation, {in0, y1}, {cat1}, opt::kConcatenation, {{"axis", int64_t{3}}});
    m.Op(op::kMul, {cat1, c36}, {m1}, opt::kMul, none);    // 2
    m.Op(op::kAdd, {d36, m1}, {a1}, opt::kAdd, none);      // 3
    m.CustomOp(graph::kLceQuantize, {a1}, {packed});       // 4
    m.Op(op::kSub, {in2, scalar}, {y2}, opt::kSub, none);  // 5
    m.Op(op::kConcatenation, {cat1, y2}, {cat2}, opt::kConcatenation, {{"axis", int64_t{-1}}});
    m.Op(op::kSub, {c52, cat2}, {o1}, opt::kSub, {{"fused_activation_function", int64_t{1}}});
    m.Op(op::kAdd, {in2, in2}, {y3}, opt::kAdd, none);  // 8
    m.Op(op::kConcatenation, {y3, cat2}, {cat3}, opt::kConcatenation, {{"axis", int64_t{3}}});
    m.Op(op::kMaximum, {cat3, in3}, {o2}, opt::kMaximumMinimum);  // 10
    m.Op(op::kDiv, {cat3, scalar}, {o3}, opt::kDiv, {{"fused_activation_function", int64_t{3}}});
    m.Op(op::kPad, {in4, pads}, {padded}, opt::kPad);       // 12
    m.Op(op::kAdd, {padded, cat2}, {o4}, opt::kAdd, none);  // 13
    const Status s = m.Build(threads, FloatPrecision::kFloat32, fuse);
    EXPECT_TRUE(s.ok()) << s.message();
    m.SetInput(0, x0);
    m.SetInput(1, x1);
    m.SetInput(2, x2);
    m.SetInput(3, wide);
    m.SetInput(4, narrow);
    EXPECT_TRUE(m.Invoke().ok());
    return std::make_tuple(
        m.GetOutput<int32_t>(0),
        std::vector<std::vector<float>>{m.GetOutput<float>(1), m.GetOutput<float>(2),
                                        m.GetOutput<float>(3), m.GetOutput<float>(4)},
        Hosts(m));
  };
  const auto separate = run(1, false);
  EXPECT_EQ(std::get<2>(separate), std::vector<int>(14, -1));
  for (int threads : {1, 2, 3}) {
    const auto fused = run(threads, true);
    EXPECT_EQ(std::get<0>(fused), std::get<0>(separate)) << threads << " thread(s)";
    for (size_t k = 0; k < 4; ++k) {
      const std::vector<float>& f = std::get<1>(fused)[k];
      const std::vector<float>& s = std::get<1>(separate)[k];
      ASSERT_EQ(f.size(), s.size());
      EXPECT_EQ(std::memcmp(f.data(), s.data(), f.size() * sizeof(float)), 0)
          << "output " << k + 1 << ", " << threads << " thread(s)";
    }
    // Each concatenation at its first elementwise reader (cat1 at op 2, before cat2's reader);
    // the ADD and the LceQuantize chained after op 2; the PAD inside the ADD that reads it.
    EXPECT_EQ(std::get<2>(fused),
              (std::vector<int>{-1, 2, -1, 2, 2, -1, 7, -1, -1, 10, -1, -1, 13, -1}));
  }
}

// A concatenation with an activation, along another axis, read by an op that cannot read it in
// place (RESHAPE, PRELU), that is a model output, read by an op whose other operand is a
// concatenation too, or of parts narrower than 16 channels, is written as before.
TEST(ElementwiseChainTest, ConcatenationsStayWhereTheyCannotBeReadInPlace) {
  const std::vector<int32_t> half{2, 4, 16}, whole{2, 4, 32}, tall{4, 4, 16};
  const auto x = RandomFloats(2 * 4 * 16, 641, -2, 2), z = RandomFloats(2 * 4 * 16, 642, -2, 2);
  const auto w = RandomFloats(2 * 4 * 8, 643, -2, 2), k = RandomFloats(16, 644, -1, 1);
  const auto k2 = RandomFloats(32, 645, -1, 1);
  const std::vector<Field> none{{"fused_activation_function", int64_t{0}}};
  auto run = [&](bool fuse) {
    OpModel m;
    const int a = m.Input(DType::kFloat32, half), b = m.Input(DType::kFloat32, half);
    const int small = m.Input(DType::kFloat32, {2, 4, 8});
    const int shape = m.Const(DType::kInt32, {2}, std::vector<int32_t>{8, 32});
    const int k16 = m.Const(DType::kFloat32, {16}, k);
    const int k32 = m.Const(DType::kFloat32, {32}, k2);
    const int relu = m.Temp(DType::kFloat32, whole), rows = m.Temp(DType::kFloat32, tall);
    const int flat = m.Temp(DType::kFloat32, whole), out = m.Output(DType::kFloat32, whole);
    const int p = m.Temp(DType::kFloat32, whole), q = m.Temp(DType::kFloat32, whole);
    const int cat = m.Temp(DType::kFloat32, half);
    const int y0 = m.Output(DType::kFloat32, whole), y1 = m.Output(DType::kFloat32, tall);
    const int y2 = m.Output(DType::kFloat32, {8, 32}), y3 = m.Output(DType::kFloat32, whole);
    const int y4 = m.Output(DType::kFloat32, half), y5 = m.Output(DType::kFloat32, whole);
    const int y6 = m.Output(DType::kFloat32, whole), slopes = m.Temp(DType::kFloat32, whole);
    m.Op(op::kConcatenation, {a, b}, {relu}, opt::kConcatenation,
         {{"axis", int64_t{2}}, {"fused_activation_function", int64_t{1}}});
    m.Op(op::kMul, {relu, k32}, {y0}, opt::kMul, none);
    m.Op(op::kConcatenation, {a, b}, {rows}, opt::kConcatenation, {{"axis", int64_t{0}}});
    m.Op(op::kAdd, {rows, rows}, {y1}, opt::kAdd, none);
    m.Op(op::kConcatenation, {b, a}, {flat}, opt::kConcatenation, {{"axis", int64_t{2}}});
    m.Op(op::kReshape, {flat, shape}, {y2}, opt::kReshape);
    m.Op(op::kConcatenation, {a, a}, {out}, opt::kConcatenation, {{"axis", int64_t{2}}});
    m.Op(op::kAdd, {out, k32}, {y5}, opt::kAdd, none);
    m.Op(op::kConcatenation, {a, b}, {p}, opt::kConcatenation, {{"axis", int64_t{2}}});
    m.Op(op::kConcatenation, {b, b}, {q}, opt::kConcatenation, {{"axis", int64_t{2}}});
    m.Op(op::kSub, {p, q}, {y3}, opt::kSub, none);
    m.Op(op::kConcatenation, {small, small}, {cat}, opt::kConcatenation, {{"axis", int64_t{2}}});
    m.Op(op::kMul, {cat, k16}, {y4}, opt::kMul, none);
    m.Op(op::kConcatenation, {b, a}, {slopes}, opt::kConcatenation, {{"axis", int64_t{2}}});
    m.Op(op::kPrelu, {slopes, k32}, {y6});
    EXPECT_TRUE(m.Build(2, FloatPrecision::kFloat32, fuse).ok());
    m.SetInput(0, x);
    m.SetInput(1, z);
    m.SetInput(2, w);
    EXPECT_TRUE(m.Invoke().ok());
    std::vector<std::vector<float>> outs;
    for (int i = 0; i < 8; ++i) outs.push_back(m.GetOutput<float>(i));
    return std::make_pair(outs, Hosts(m));
  };
  const auto fused = run(true), separate = run(false);
  EXPECT_EQ(fused.first, separate.first);
  EXPECT_EQ(fused.second, std::vector<int>(15, -1));
}

// Chains whose first op reads a concatenation in place or adds a fused PAD (BinaryDenseNet's and
// MeliusNet's blocks) with parts of whole vectors: each stretch of channels runs the whole chain
// in vector registers (FusedInputRows::ChainRows); with a narrower last part, none does.
// Bit-identical to the separate ops on 1 to 3 threads, with special values, per-channel, full-shape
// and scalar operands in either order.
TEST(ElementwiseChainTest, ChainsAfterConcatenationsAndPadsOfWholeVectors) {
  // w 16: every stretch of channels runs in vector registers; w 20: the first stretches could,
  // the last cannot, so the whole block takes the per-op passes.
  for (int w : {16, 20}) {
    const int c = 32 + w;
    const int64_t rows = 2 * 3 * 5;
    auto x0 = RandomFloats(rows * 32, 651, -2, 2);
    auto x1 = RandomFloats(rows * w, 652, -2, 2);
    const float specials[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 3e38f};
    for (size_t i = 0, k = 0; i < x0.size(); i += 7, ++k) x0[i] = specials[k % std::size(specials)];
    const auto x2 = RandomFloats(rows * 16, 653, -2, 2);
    const auto full = RandomFloats(rows * c, 654, -2, 2);
    auto kc = RandomFloats(c, 655, -1, 1);
    kc[17] = -0.0f;
    const auto bc = RandomFloats(c, 656, -1, 1), sc = RandomFloats(c, 657, -2, 2);
    const std::vector<Field> none{{"fused_activation_function", int64_t{0}}};
    auto run = [&](int threads, bool fuse) {
      OpModel m;
      const int in0 = m.Input(DType::kFloat32, Nhwc(32));
      const int in1 = m.Input(DType::kFloat32, Nhwc(w));
      const int in2 = m.Input(DType::kFloat32, Nhwc(16));
      const int in3 = m.Input(DType::kFloat32, Nhwc(c));
      const int cc = m.Const(DType::kFloat32, {c}, kc);
      const int dc = m.Const(DType::kFloat32, {1, 1, 1, c}, bc);
      const int slope = m.Const(DType::kFloat32, {c}, sc);
      const int scalar = m.Const(DType::kFloat32, {1}, std::vector<float>{-0.5f});
      const int pads =
          m.Const(DType::kInt32, {4, 2}, std::vector<int32_t>{0, 0, 0, 0, 0, 0, 16, w});
      const int cat = m.Temp(DType::kFloat32, Nhwc(c)), padded = m.Temp(DType::kFloat32, Nhwc(c));
      const int t1 = m.Temp(DType::kFloat32, Nhwc(c)), t2 = m.Temp(DType::kFloat32, Nhwc(c));
      const int t3 = m.Temp(DType::kFloat32, Nhwc(c)), t4 = m.Temp(DType::kFloat32, Nhwc(c));
      const int o1 = m.Output(DType::kFloat32, Nhwc(c)), o2 = m.Output(DType::kFloat32, Nhwc(c));
      const int packed = m.Output(DType::kInt32, Nhwc((c + 31) / 32));
      m.Op(op::kConcatenation, {in0, in1}, {cat}, opt::kConcatenation, {{"axis", int64_t{3}}});
      m.Op(op::kMul, {cat, cc}, {t1}, opt::kMul, none);  // 1: chain host
      m.Op(op::kAdd, {dc, t1}, {t2}, opt::kAdd, {{"fused_activation_function", int64_t{3}}});
      m.Op(op::kPrelu, {t2, slope}, {o1});                   // 3
      m.CustomOp(graph::kLceQuantize, {o1}, {packed});       // 4
      m.Op(op::kPad, {in2, pads}, {padded}, opt::kPad);      // 5
      m.Op(op::kAdd, {cat, padded}, {t3}, opt::kAdd, none);  // 6: chain host
      m.Op(op::kSub, {in3, t3}, {t4}, opt::kSub, none);      // 7
      m.Op(op::kMul, {t4, scalar}, {o2}, opt::kMul, {{"fused_activation_function", int64_t{1}}});
      const Status s = m.Build(threads, FloatPrecision::kFloat32, fuse);
      EXPECT_TRUE(s.ok()) << s.message();
      m.SetInput(0, x0);
      m.SetInput(1, x1);
      m.SetInput(2, x2);
      m.SetInput(3, full);
      EXPECT_TRUE(m.Invoke().ok());
      return std::make_tuple(m.GetOutput<float>(0), m.GetOutput<float>(1), m.GetOutput<int32_t>(2),
                             Hosts(m));
    };
    const auto separate = run(1, false);
    for (int threads : {1, 2, 3}) {
      const auto fused = run(threads, true);
      for (int k : {0, 1}) {
        const std::vector<float>& f = k == 0 ? std::get<0>(fused) : std::get<1>(fused);
        const std::vector<float>& s = k == 0 ? std::get<0>(separate) : std::get<1>(separate);
        ASSERT_EQ(f.size(), s.size());
        size_t bad = 0;
        while (bad < f.size() && std::memcmp(&f[bad], &s[bad], sizeof(float)) == 0) ++bad;
        EXPECT_EQ(bad, f.size()) << "w " << w << ", output " << k << ", " << threads
                                 << " thread(s): got " << f[bad % f.size()] << ", want "
                                 << s[bad % s.size()];
      }
      EXPECT_EQ(std::get<2>(fused), std::get<2>(separate)) << "w " << w << ", " << threads;
      EXPECT_EQ(std::get<3>(fused), (std::vector<int>{1, -1, 1, 1, 1, 6, -1, 6, 6})) << "w " << w;
    }
  }
}

// BinaryDenseNet's batch norm before a binarization, on a concatenation of four 128-channel parts
// large enough for several of the chain's row blocks per task on 1 to 3 threads (3136 rows of 512
// channels, 8 tasks per thread), the last output read only by the LceQuantize: bit-identical to
// the separate ops (a block left out or packed at the wrong rows fails it).
TEST(ElementwiseChainTest, ChainsOverManyRowBlocks) {
  const std::vector<int32_t> part{1, 56, 56, 128}, whole{1, 56, 56, 512};
  const size_t n = size_t{56} * 56 * 128;
  std::vector<std::vector<float>> x;
  for (uint32_t k = 0; k < 4; ++k) x.push_back(RandomFloats(n, 661 + k, -2, 2));
  const float specials[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY};
  for (size_t i = 0, k = 0; i < n; i += 101, ++k) x[0][i] = specials[k % std::size(specials)];
  auto scale = RandomFloats(512, 665, -1, 1);
  scale[5] = -0.0f;
  const auto shift = RandomFloats(512, 666, -1, 1);
  const std::vector<Field> none{{"fused_activation_function", int64_t{0}}};
  auto run = [&](int threads, bool fuse) {
    OpModel m;
    std::vector<int> in;
    for (int k = 0; k < 4; ++k) in.push_back(m.Input(DType::kFloat32, part));
    const int s = m.Const(DType::kFloat32, {512}, scale);
    const int b = m.Const(DType::kFloat32, {512}, shift);
    const int cat = m.Temp(DType::kFloat32, whole), t = m.Temp(DType::kFloat32, whole);
    const int y = m.Temp(DType::kFloat32, whole);
    const int packed = m.Output(DType::kInt32, {1, 56, 56, 16});
    m.Op(op::kConcatenation, in, {cat}, opt::kConcatenation, {{"axis", int64_t{3}}});
    m.Op(op::kMul, {cat, s}, {t}, opt::kMul, none);
    m.Op(op::kAdd, {t, b}, {y}, opt::kAdd, none);
    m.CustomOp(graph::kLceQuantize, {y}, {packed});
    const Status st = m.Build(threads, FloatPrecision::kFloat32, fuse);
    EXPECT_TRUE(st.ok()) << st.message();
    for (int k = 0; k < 4; ++k) m.SetInput(k, x[static_cast<size_t>(k)]);
    EXPECT_TRUE(m.Invoke().ok());
    return std::make_pair(m.GetOutput<int32_t>(0), Hosts(m));
  };
  const auto separate = run(1, false);
  ASSERT_EQ(separate.first.size(), size_t{56} * 56 * 16);
  for (int threads : {1, 2, 3}) {
    const auto fused = run(threads, true);
    EXPECT_EQ(fused.first, separate.first) << threads << " thread(s)";
    EXPECT_EQ(fused.second, (std::vector<int>{1, -1, 1, 1})) << threads << " thread(s)";
  }
}

}  // namespace
}  // namespace xbnn::testing
