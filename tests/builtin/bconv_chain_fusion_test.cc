// Elementwise chains in an LceBconv2d's epilogue (runtime/fusion.h, BconvChainFusion), in
// RealToBinaryNet's block form: x -> LceQuantize -> LceBconv2d (float) -> MUL by a gate that
// FULLY_CONNECTED and LOGISTIC compute from a pooling of x after the convolution in op order ->
// PRELU -> ADD x (the residual) -> MUL, ADD (a batch norm) -> LceQuantize, with the batch norm's
// value also read by an AVERAGE_POOL_2D. The convolution must run after the gate, all of the
// chain's ops in its epilogue, and every output must equal the separate ops' bit for bit on 1 to 3
// threads (with special values in x); chains that cannot join (a gate computed after the chain's
// first op would run, an LceQuantize in the middle) keep their own ops.
#include <cmath>
#include <cstring>

#include "builtin/op_test_util.h"
#include "graph/lce_options.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct BlockRun {
  std::vector<std::vector<uint8_t>> outputs;
  std::vector<OpProfile> profile;
  size_t arena = 0;
};

constexpr int kH = 11, kW = 13;

// Ops: 0 ADD, 1 LceQuantize, 2 AVERAGE_POOL_2D, 3 LceBconv2d, 4 FULLY_CONNECTED, 5 LOGISTIC (the
// gate), 6 MUL, 7 PRELU, 8 ADD, [LceQuantize of the sum with `mid_quantize`,] MUL, ADD (activation
// `bn_act`), LceQuantize, AVERAGE_POOL_2D.
BlockRun RunBlock(int channels, const std::vector<float>& x0, int threads, bool fuse,
                  bool mid_quantize, int64_t bn_act) {
  const std::vector<int32_t> shape{1, kH, kW, channels};
  const int words = (channels + 31) / 32;
  OpModel m;
  const int x = m.Input(DType::kFloat32, shape);
  auto act = [](int64_t a) { return std::vector<Field>{{"fused_activation_function", a}}; };
  auto per_channel = [&](uint32_t seed, float lo, float hi) {
    return m.Const(DType::kFloat32, {channels},
                   RandomFloats(static_cast<size_t>(channels), seed, lo, hi));
  };
  const std::vector<Field> global_pool = {
      {"padding", int64_t{1}},        {"stride_w", int64_t{kW}},
      {"stride_h", int64_t{kH}},      {"filter_width", int64_t{kW}},
      {"filter_height", int64_t{kH}}, {"fused_activation_function", int64_t{0}}};
  // The block's input r: a batch-norm-like ADD of x (an intermediate, so that the residual sum
  // may take its memory), binarized.
  const int r = m.Temp(DType::kFloat32, shape);
  m.Op(op::kAdd, {x, per_channel(2, -0.5f, 0.5f)}, {r}, opt::kAdd, act(0));
  const int bits = m.Temp(DType::kInt32, {1, kH, kW, words});
  m.CustomOp(graph::kLceQuantize, {r}, {bits});
  // The gate's input: a global average pooling of r.
  const int pooled = m.Temp(DType::kFloat32, {1, 1, 1, channels});
  m.Op(op::kAveragePool2D, {r}, {pooled}, opt::kPool2D, global_pool);
  // The binary convolution (zero padding, as RealToBinaryNet's).
  std::vector<int32_t> filter =
      RandomInt32(static_cast<size_t>(channels) * 9 * words, 3, INT32_MIN, INT32_MAX);
  const int w = m.Const(DType::kInt32, {channels, 3, 3, words}, filter);
  const int y = m.Temp(DType::kFloat32, shape);
  m.CustomOp(graph::kLceBconv2d,
             {bits, w, per_channel(4, -0.2f, 0.2f), per_channel(5, -1.0f, 1.0f), -1}, {y});
  graph::LceBconv2dOptions o;
  o.channels_in = channels;
  o.padding = 0;
  o.pad_values = 0;
  graph::SetLceOptions(m.graph().subgraphs[0].operators.back(), o);
  // The gate, after the convolution in op order.
  const int fc = m.Temp(DType::kFloat32, {1, channels});
  m.Op(op::kFullyConnected,
       {pooled,
        m.Const(DType::kFloat32, {channels, channels},
                RandomFloats(static_cast<size_t>(channels * channels), 6, -0.3f, 0.3f)),
        -1},
       {fc}, opt::kFullyConnected, act(0));
  const int gate = m.Temp(DType::kFloat32, {1, channels});
  m.Op(op::kLogistic, {fc}, {gate});
  // Gate, PReLU, residual: the first chain.
  const int g1 = m.Temp(DType::kFloat32, shape), g2 = m.Temp(DType::kFloat32, shape);
  const int sum = m.Output(DType::kFloat32, shape);
  m.Op(op::kMul, {y, gate}, {g1}, opt::kMul, act(0));
  m.Op(op::kPrelu,
       {g1, m.Const(DType::kFloat32, {1, 1, channels},
                    RandomFloats(static_cast<size_t>(channels), 7, -0.5f, 0.5f))},
       {g2});
  m.Op(op::kAdd, {g2, r}, {sum}, opt::kAdd, act(0));
  if (mid_quantize) {
    m.CustomOp(graph::kLceQuantize, {sum}, {m.Output(DType::kInt32, {1, kH, kW, words})});
  }
  // The batch norm of the sum (its constant given first in the ADD), its LceQuantize, and a
  // pooling of its value.
  const int b1 = m.Temp(DType::kFloat32, shape), b2 = m.Temp(DType::kFloat32, shape);
  m.Op(op::kMul, {sum, per_channel(8, -2.0f, 2.0f)}, {b1}, opt::kMul, act(0));
  m.Op(op::kAdd, {per_channel(9, -1.0f, 1.0f), b1}, {b2}, opt::kAdd, act(bn_act));
  m.CustomOp(graph::kLceQuantize, {b2}, {m.Output(DType::kInt32, {1, kH, kW, words})});
  const int bn_pooled = m.Output(DType::kFloat32, {1, 1, 1, channels});
  m.Op(op::kAveragePool2D, {b2}, {bn_pooled}, opt::kPool2D, global_pool);
  BlockRun out;
  const Status s = m.Build(threads, FloatPrecision::kFloat32, fuse);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return out;
  m.SetInput(0, x0);
  for (size_t i = 0; i < m.interpreter().num_outputs(); ++i) {
    TensorView t = m.interpreter().output(i);
    std::memset(t.raw(), 0xA5, t.bytes());
  }
  EXPECT_TRUE(m.Invoke().ok());
  for (size_t i = 0; i < m.interpreter().num_outputs(); ++i)
    out.outputs.push_back(m.GetOutput<uint8_t>(i));
  out.profile = m.interpreter().op_profile();
  out.arena = m.interpreter().memory().arena_bytes;
  return out;
}

int FusedInto(const BlockRun& r, int host) {
  int n = 0;
  for (const OpProfile& p : r.profile) n += p.fused_into == host;
  return n;
}

TEST(BconvChainFusion, RealToBinaryBlockRunsInTheEpilogue) {
  for (int channels : {32, 64, 96, 128}) {  // 32: the pixel-lane kernel, without chains
    SCOPED_TRACE("channels " + std::to_string(channels));
    auto x0 = RandomFloats(static_cast<size_t>(kH * kW * channels), 21, -3.0f, 3.0f);
    const float specials[] = {-0.0f, 0.0f, INFINITY, -INFINITY, 3.4e38f, -3.4e38f};
    for (size_t i = 5, k = 0; i < x0.size(); i += 41, ++k)
      x0[i] = specials[k % std::size(specials)];
    for (int64_t bn_act : {0, 1}) {
      const BlockRun separate = RunBlock(channels, x0, 1, false, false, bn_act);
      ASSERT_EQ(separate.outputs.size(), 3u);
      EXPECT_EQ(FusedInto(separate, 3), 0);
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE("threads " + std::to_string(threads));
        const BlockRun fused = RunBlock(channels, x0, threads, true, false, bn_act);
        ASSERT_EQ(fused.outputs.size(), separate.outputs.size());
        for (size_t i = 0; i < fused.outputs.size(); ++i) {
          EXPECT_EQ(fused.outputs[i], separate.outputs[i]) << "output " << i;
        }
        // MUL, PRELU, ADD, MUL, ADD and the LceQuantize run in the LceBconv2d (op 3).
        EXPECT_EQ(FusedInto(fused, 3), 6);
        for (int k = 6; k <= 11; ++k)
          EXPECT_EQ(fused.profile[static_cast<size_t>(k)].fused_into, 3);
      }
    }
  }
}

// An LceQuantize of the residual sum ends the first chain there: the convolution takes the gate
// chain only (its last value's bits are the epilogue's), and the batch norm keeps its own chain.
TEST(BconvChainFusion, QuantizeInTheMiddleEndsTheEpilogue) {
  const int channels = 64;
  auto x0 = RandomFloats(static_cast<size_t>(kH * kW * channels), 22, -3.0f, 3.0f);
  const BlockRun separate = RunBlock(channels, x0, 1, false, true, 0);
  for (int threads : {1, 2}) {
    const BlockRun fused = RunBlock(channels, x0, threads, true, true, 0);
    ASSERT_EQ(fused.outputs.size(), separate.outputs.size());
    for (size_t i = 0; i < fused.outputs.size(); ++i) {
      EXPECT_EQ(fused.outputs[i], separate.outputs[i]) << "output " << i;
    }
    EXPECT_EQ(FusedInto(fused, 3), 4);            // MUL, PRELU, ADD, LceQuantize
    EXPECT_EQ(fused.profile[10].fused_into, -1);  // the batch norm's MUL hosts its chain
    EXPECT_EQ(FusedInto(fused, 10), 2);
  }
}

}  // namespace
}  // namespace xbnn::testing
