// Randomized single-op models for cross-checking against TFLite itself: XBNN_BUILTIN_STRESS=<models
// per op> (default 2, a smoke test of odd shapes), and with XBNN_BUILTIN_DUMP=<dir> the models,
// inputs and xbnn's outputs are written for tests/builtin/tflite_crosscheck.py. Scales are often "nice"
// ratios (powers of two, 3/4) so that rounding ties, where implementations differ, really occur.
#include <cstdlib>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

class Rng {
 public:
  explicit Rng(uint32_t seed) : g_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g_); }
  float Real(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(g_); }
  bool Coin() { return Int(0, 1) == 1; }
  // A scale: random, or a nice multiple of `base`.
  float Scale(float base) {
    static const float kNice[] = {0.125f, 0.25f, 0.5f, 0.75f, 1.0f, 1.5f, 2.0f, 4.0f};
    return Int(0, 2) == 0 ? Real(0.002f, 0.2f) : base * kNice[Int(0, 7)];
  }
  int Zp() { return Int(0, 3) == 0 ? 0 : Int(-60, 60); }
  uint32_t Seed() { return static_cast<uint32_t>(g_()); }

 private:
  std::mt19937 g_;
};

int Count() {
  const char* s = std::getenv("XBNN_BUILTIN_STRESS");
  return s ? std::atoi(s) : 2;
}

#define STRESS_PREAMBLE()                                                     \
  const int count = Count();                                                  \
  if (count <= 0) GTEST_SKIP() << "XBNN_BUILTIN_STRESS is 0";                 \
  Rng r(12345)

void RunModel(OpModel& m, const std::vector<std::vector<int8_t>>& inputs) {
  const Status s = m.Build();
  ASSERT_TRUE(s.ok()) << s.message();
  for (size_t i = 0; i < inputs.size(); ++i) m.SetInput(i, inputs[i]);
  ASSERT_TRUE(m.Invoke().ok());
}

TEST(StressTest, Int8Conv) {
  STRESS_PREAMBLE();
  for (int it = 0; it < count; ++it) {
    const int h = r.Int(1, 9), w = r.Int(1, 9), cin = r.Int(1, 40), cout = r.Int(1, 40), k = r.Int(1, 3);
    const int stride = r.Int(1, 2), dil = r.Int(1, 2), act = r.Int(0, 3);
    const bool same = r.Coin() || h < (k - 1) * dil + 1 || w < (k - 1) * dil + 1;
    const int oh = OutSize(h, k, stride, dil, same), ow = OutSize(w, k, stride, dil, same);
    const float si = r.Scale(0.05f), so = r.Scale(0.1f);
    std::vector<float> ws(cout);
    for (float& s : ws) s = r.Scale(0.01f);
    OpModel m;
    const int in = m.Input(DType::kInt8, {1, h, w, cin}, Q(si, r.Zp()));
    const int wt = m.Const(DType::kInt8, {cout, k, k, cin}, RandomInt8(static_cast<size_t>(cout) * k * k * cin, r.Seed(), -127, 127),
                           r.Coin() ? Quant{ws, std::vector<int64_t>(cout, 0), 0} : Q(ws[0], 0));
    const int bt = m.Const(DType::kInt32, {cout}, RandomInt32(cout, r.Seed(), -5000, 5000));
    const int out = m.Output(DType::kInt8, {1, oh, ow, cout}, Q(so, r.Zp()));
    m.Op(op::kConv2D, {in, wt, bt}, {out}, opt::kConv2D,
         {{"padding", int64_t{same ? 0 : 1}}, {"stride_w", int64_t{stride}}, {"stride_h", int64_t{stride}},
          {"fused_activation_function", int64_t{act}}, {"dilation_w_factor", int64_t{dil}},
          {"dilation_h_factor", int64_t{dil}}},
         3);
    RunModel(m, {RandomInt8(static_cast<size_t>(h) * w * cin, r.Seed())});
  }
}

TEST(StressTest, Int8Depthwise) {
  STRESS_PREAMBLE();
  for (int it = 0; it < count; ++it) {
    const int h = r.Int(3, 10), w = r.Int(3, 10), cin = r.Int(1, 40), mult = r.Int(0, 3) == 0 ? 2 : 1, k = 3;
    const int stride = r.Int(1, 2), dil = r.Int(1, 2), act = r.Int(0, 3), cout = cin * mult;
    const bool same = r.Coin() || h < 2 * dil + 1 || w < 2 * dil + 1;
    const int oh = OutSize(h, k, stride, dil, same), ow = OutSize(w, k, stride, dil, same);
    std::vector<float> ws(cout);
    for (float& s : ws) s = r.Scale(0.01f);
    OpModel m;
    const int in = m.Input(DType::kInt8, {1, h, w, cin}, Q(r.Scale(0.05f), r.Zp()));
    const int wt = m.Const(DType::kInt8, {1, k, k, cout}, RandomInt8(static_cast<size_t>(cout) * 9, r.Seed(), -127, 127),
                           Quant{ws, std::vector<int64_t>(cout, 0), 3});
    const int bt = m.Const(DType::kInt32, {cout}, RandomInt32(cout, r.Seed(), -3000, 3000));
    const int out = m.Output(DType::kInt8, {1, oh, ow, cout}, Q(r.Scale(0.05f), r.Zp()));
    m.Op(op::kDepthwiseConv2D, {in, wt, bt}, {out}, opt::kDepthwiseConv2D,
         {{"padding", int64_t{same ? 0 : 1}}, {"stride_w", int64_t{stride}}, {"stride_h", int64_t{stride}},
          {"depth_multiplier", int64_t{mult}}, {"fused_activation_function", int64_t{act}},
          {"dilation_w_factor", int64_t{dil}}, {"dilation_h_factor", int64_t{dil}}},
         3);
    RunModel(m, {RandomInt8(static_cast<size_t>(h) * w * cin, r.Seed())});
  }
}

TEST(StressTest, Int8FullyConnected) {
  STRESS_PREAMBLE();
  for (int it = 0; it < count; ++it) {
    const int batch = r.Int(1, 4), depth = r.Int(1, 80), units = r.Int(1, 40), act = r.Int(0, 3);
    OpModel m;
    const float si = r.Scale(0.05f), sw = r.Scale(0.01f);
    const int in = m.Input(DType::kInt8, {batch, depth}, Q(si, r.Zp()));
    const int wt = m.Const(DType::kInt8, {units, depth}, RandomInt8(static_cast<size_t>(units) * depth, r.Seed(), -127, 127),
                           Q(sw, 0));
    const int bt = m.Const(DType::kInt32, {units}, RandomInt32(units, r.Seed(), -5000, 5000), Q(si * sw, 0));
    const int out = m.Output(DType::kInt8, {batch, units}, Q(r.Scale(0.1f), r.Zp()));
    m.Op(op::kFullyConnected, {in, wt, bt}, {out}, opt::kFullyConnected, {{"fused_activation_function", int64_t{act}}}, 4);
    RunModel(m, {RandomInt8(static_cast<size_t>(batch) * depth, r.Seed())});
  }
}

TEST(StressTest, Int8Binary) {
  STRESS_PREAMBLE();
  const int32_t codes[] = {op::kAdd, op::kSub, op::kMul, op::kMaximum, op::kMinimum};
  const uint8_t options[] = {opt::kAdd, opt::kSub, opt::kMul, opt::kMaximumMinimum, opt::kMaximumMinimum};
  for (int it = 0; it < count; ++it) {
    for (int o = 0; o < 5; ++o) {
      const int n = r.Int(1, 70), c = r.Int(1, 40);
      std::vector<int32_t> a = {1, n, c}, b = a;
      const int bc = r.Int(0, 3);  // 0 same, 1 vector over channels, 2 scalar, 3 outer broadcast
      if (bc == 1) b = {c};
      if (bc == 2) b = {};
      if (bc == 3) b = {1, 1, c}, a = {1, n, 1};
      const float s1 = r.Scale(0.05f);
      const bool same = o >= 3;
      const float s2 = same ? s1 : r.Scale(s1), so = same ? s1 : r.Scale(o == 2 ? s1 * s2 * 50 : s1);
      const int z1 = r.Zp(), z2 = same ? z1 : r.Zp(), zo = same ? z1 : r.Zp();
      OpModel m;
      const int ta = m.Input(DType::kInt8, a, Q(s1, z1));
      const int tb = m.Input(DType::kInt8, b, Q(s2, z2));
      std::vector<int32_t> os = {1, n, c};
      const int out = m.Output(DType::kInt8, os, Q(so, zo));
      std::vector<Field> f;
      if (o < 3) f.push_back({"fused_activation_function", int64_t{r.Int(0, 3)}});
      m.Op(codes[o], {ta, tb}, {out}, options[o], f, 2);
      RunModel(m, {RandomInt8(static_cast<size_t>(Elements(a)), r.Seed()), RandomInt8(static_cast<size_t>(Elements(b)), r.Seed())});
    }
  }
}

TEST(StressTest, Int8PoolMeanSoftmax) {
  STRESS_PREAMBLE();
  for (int it = 0; it < count; ++it) {
    const int h = r.Int(2, 9), w = r.Int(2, 9), c = r.Int(1, 48);
    const float s = r.Scale(0.05f);
    const int zp = r.Zp();
    for (int avg = 0; avg < 2; ++avg) {
      const int f = r.Int(1, 3), stride = r.Int(1, 2);
      const bool same = r.Coin() || h < f || w < f;
      OpModel m;
      const int in = m.Input(DType::kInt8, {1, h, w, c}, Q(s, zp));
      const int out = m.Output(DType::kInt8, {1, OutSize(h, f, stride, 1, same), OutSize(w, f, stride, 1, same), c}, Q(s, zp));
      m.Op(avg ? op::kAveragePool2D : op::kMaxPool2D, {in}, {out}, opt::kPool2D,
           {{"padding", int64_t{same ? 0 : 1}}, {"stride_w", int64_t{stride}}, {"stride_h", int64_t{stride}},
            {"filter_width", int64_t{f}}, {"filter_height", int64_t{f}}, {"fused_activation_function", int64_t{r.Int(0, 3)}}},
           2);
      RunModel(m, {RandomInt8(static_cast<size_t>(h) * w * c, r.Seed())});
    }
    for (int variant = 0; variant < 4; ++variant) {
      // keep_dims spatial, keep_dims false spatial, last axis, same quantization
      const bool keep = variant == 0;
      const std::vector<int32_t> axes = variant == 2 ? std::vector<int32_t>{3} : std::vector<int32_t>{1, 2};
      std::vector<int32_t> os = keep ? std::vector<int32_t>{1, 1, 1, c} : variant == 2 ? std::vector<int32_t>{1, h, w} : std::vector<int32_t>{1, c};
      const float so = variant == 3 ? s : r.Scale(s);
      const int zo = variant == 3 ? zp : r.Zp();
      OpModel m;
      const int in = m.Input(DType::kInt8, {1, h, w, c}, Q(s, zp));
      const int ax = m.Const(DType::kInt32, {static_cast<int32_t>(axes.size())}, axes);
      const int out = m.Output(DType::kInt8, os, Q(so, zo));
      m.Op(op::kMean, {in, ax}, {out}, opt::kReducer, {{"keep_dims", int64_t{keep}}}, 2);
      RunModel(m, {RandomInt8(static_cast<size_t>(h) * w * c, r.Seed())});
    }
    {
      OpModel m;
      const int in = m.Input(DType::kInt8, {h, c}, Q(r.Scale(0.1f), r.Zp()));
      const int out = m.Output(DType::kInt8, {h, c}, Q(1.0f / 256, -128));
      m.Op(op::kSoftmax, {in}, {out}, opt::kSoftmax, {{"beta", double{r.Coin() ? 1.0f : r.Real(0.3f, 2.0f)}}}, 2);
      RunModel(m, {RandomInt8(static_cast<size_t>(h) * c, r.Seed())});
    }
  }
}

TEST(StressTest, Int8Unary) {
  STRESS_PREAMBLE();
  for (int it = 0; it < count; ++it) {
    const int n = r.Int(1, 80);
    const float si = r.Scale(0.05f);
    const int zi = r.Zp();
    auto x = RandomInt8(n, r.Seed());
    auto unary = [&](int32_t code, uint8_t options, std::vector<Field> f, Quant qo, int version) {
      OpModel m;
      const int in = m.Input(DType::kInt8, {n}, Q(si, zi));
      const int out = m.Output(DType::kInt8, {n}, qo);
      m.Op(code, {in}, {out}, options, std::move(f), version);
      RunModel(m, {x});
    };
    unary(op::kRelu, 0, {}, Q(r.Scale(si), r.Zp()), 2);
    unary(op::kRelu6, 0, {}, Q(r.Scale(si), r.Zp()), 2);
    unary(op::kReluN1To1, 0, {}, Q(r.Scale(si), r.Zp()), 1);
    unary(op::kLeakyRelu, opt::kLeakyRelu, {{"alpha", double{r.Real(0.01f, 0.5f)}}}, Q(r.Scale(si), r.Zp()), 1);
    unary(op::kLogistic, 0, {}, Q(1.0f / 256, -128), 2);
    unary(op::kHardSwish, 0, {}, Q(r.Scale(si), r.Zp()), 1);
    unary(op::kQuantize, 0, {}, Q(r.Scale(si), r.Zp()), 1);
    {
      OpModel m;  // float -> int8
      const int in = m.Input(DType::kFloat32, {n});
      const int out = m.Output(DType::kInt8, {n}, Q(si, zi));
      m.Op(op::kQuantize, {in}, {out});
      ASSERT_TRUE(m.Build().ok());
      auto xf = RandomFloats(n, r.Seed(), -3, 3);
      for (size_t i = 0; i < xf.size(); i += 3) xf[i] = (std::round(xf[i] / si) + 0.5f) * si;  // near ties
      m.SetInput(0, xf);
      ASSERT_TRUE(m.Invoke().ok());
    }
    {
      OpModel m;  // PRELU with per-channel alpha
      const int c = r.Int(1, 20);
      const int in = m.Input(DType::kInt8, {n, c}, Q(si, zi));
      const int a = m.Const(DType::kInt8, {c}, RandomInt8(c, r.Seed()), Q(r.Scale(0.01f), r.Zp()));
      const int out = m.Output(DType::kInt8, {n, c}, Q(r.Scale(si), r.Zp()));
      m.Op(op::kPrelu, {in, a}, {out});
      RunModel(m, {RandomInt8(static_cast<size_t>(n) * c, r.Seed())});
    }
  }
}

}  // namespace
}  // namespace xbnn::testing
