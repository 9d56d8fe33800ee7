// RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, PRELU, LOGISTIC, HARD_SWISH, SIGN; QUANTIZE, DEQUANTIZE;
// GREATER_EQUAL and SELECT_V2.
#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

// Runs a one-input op on `x` and returns the output.
template <typename In, typename Out>
std::vector<Out> RunUnary(int32_t code, DType in_t, DType out_t, const std::vector<int32_t>& shape,
                          const std::vector<In>& x, std::optional<Quant> qi, std::optional<Quant> qo,
                          uint8_t options = 0, std::vector<Field> fields = {}, int version = 1) {
  OpModel m;
  const int in = m.Input(in_t, shape, qi);
  const int out = m.Output(out_t, shape, qo);
  m.Op(code, {in}, {out}, options, std::move(fields), version);
  const Status s = m.Build();
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return {};
  m.SetInput(0, x);
  EXPECT_TRUE(m.Invoke().ok());
  return m.GetOutput<Out>(0);
}

TEST(ReluTest, FloatVariants) {
  auto x = RandomFloats(200, 121, -8, 8);
  struct V {
    int32_t code;
    float lo, hi;
  };
  for (V v : {V{op::kRelu, 0, INFINITY}, V{op::kRelu6, 0, 6}, V{op::kReluN1To1, -1, 1}}) {
    auto got = RunUnary<float, float>(v.code, DType::kFloat32, DType::kFloat32, {200}, x, {}, {});
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = std::min(std::max(x[i], v.lo), v.hi);
    EXPECT_EQ(got, want);
  }
}

// int8 RELU requantizes to the output scale, then clamps to the quantized bounds.
TEST(ReluTest, Int8Variants) {
  std::vector<int8_t> x(256);
  for (int i = 0; i < 256; ++i) x[i] = static_cast<int8_t>(i - 128);
  const float si = 0.05f, so = 0.04f;
  const int32_t zi = -10, zo = 3;
  struct V {
    int32_t code;
    float lo, hi;
    int version;
  };
  for (V v : {V{op::kRelu, 0, INFINITY, 2}, V{op::kRelu6, 0, 6, 2}, V{op::kReluN1To1, -1, 1, 1}}) {
    auto got = RunUnary<int8_t, int8_t>(v.code, DType::kInt8, DType::kInt8, {256}, x, Q(si, zi), Q(so, zo), 0, {},
                                        v.version);
    int32_t mult;
    int shift;
    RefQuantizeMultiplier(static_cast<double>(si / so), &mult, &shift);
    const int32_t lo = std::max(-128, zo + static_cast<int32_t>(std::round(v.lo / so)));
    const int32_t hi = std::isinf(v.hi) ? 127 : std::min(127, zo + static_cast<int32_t>(std::round(v.hi / so)));
    std::vector<int8_t> want(256);
    for (int i = 0; i < 256; ++i) {
      const int32_t r = zo + RefMultiplyByQuantizedMultiplier(x[i] - zi, mult, shift);
      want[i] = static_cast<int8_t>(std::min(std::max(r, lo), hi));
    }
    ExpectEqual(got, want);
  }
}

TEST(LeakyReluTest, FloatAndInt8) {
  auto x = RandomFloats(100, 122, -5, 5);
  auto got = RunUnary<float, float>(op::kLeakyRelu, DType::kFloat32, DType::kFloat32, {100}, x, {}, {},
                                    opt::kLeakyRelu, {{"alpha", 0.2}});
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = x[i] > 0 ? x[i] : x[i] * 0.2f;
  EXPECT_EQ(got, want);

  std::vector<int8_t> q(256);
  for (int i = 0; i < 256; ++i) q[i] = static_cast<int8_t>(i - 128);
  const float si = 0.1f, so = 0.07f, alpha = 0.3f;
  auto got8 = RunUnary<int8_t, int8_t>(op::kLeakyRelu, DType::kInt8, DType::kInt8, {256}, q, Q(si, 5), Q(so, -20),
                                       opt::kLeakyRelu, {{"alpha", double{alpha}}});
  int32_t ma, mi;
  int sa, sid;
  RefQuantizeMultiplier(static_cast<double>(si * alpha / so), &ma, &sa);
  RefQuantizeMultiplier(static_cast<double>(si / so), &mi, &sid);
  std::vector<int8_t> want8(256);
  for (int i = 0; i < 256; ++i) {
    const int32_t v = q[i] - 5;
    const int32_t r = -20 + (v >= 0 ? RefMultiplyByQuantizedMultiplier(v, mi, sid) : RefMultiplyByQuantizedMultiplier(v, ma, sa));
    want8[i] = static_cast<int8_t>(std::min(std::max(r, -128), 127));
  }
  ExpectEqual(got8, want8);
}

// The float path's rows (per-channel, same-shape and scalar alpha, split over threads) and its
// generic broadcast, bit for bit against TFLite's `x >= 0 ? x : x * alpha`, with special values
// in both operands: NaN, signed zeros, infinities, subnormals, negative alphas.
TEST(PreluTest, FloatBitExactOverBroadcastsAndSpecialValues) {
  const float specials[] = {NAN,    -NAN,    0.0f,  -0.0f, INFINITY, -INFINITY,
                            1e-40f, -1e-40f, -3.5f, 2.0f,  -1e30f,   -FLT_MIN};
  auto with_specials = [&](std::vector<float> v, size_t every) {
    for (size_t i = 0, k = 0; i < v.size(); i += every, ++k)
      v[i] = specials[k % std::size(specials)];
    return v;
  };
  struct Case {
    std::vector<int32_t> shape, alpha_shape;
  };
  // 67 channels: whole vectors and a tail; [3,1,67] against [2,3,5,67] has no single alpha row.
  // 64 channels: rows of whole vectors only (the explicit vector loops, vector_loops.cc).
  for (const Case& c : {Case{{2, 3, 5, 67}, {67}}, Case{{2, 3, 5, 67}, {1, 1, 67}},
                        Case{{2, 3, 5, 67}, {2, 3, 5, 67}}, Case{{2, 3, 5, 67}, {1}},
                        Case{{2, 3, 5, 67}, {3, 1, 67}}, Case{{4, 9}, {4, 1}},
                        Case{{2, 3, 5, 64}, {64}}, Case{{2, 3, 5, 64}, {2, 3, 5, 64}}}) {
    int64_t n = 1, na = 1;
    for (int32_t d : c.shape) n *= d;
    for (int32_t d : c.alpha_shape) na *= d;
    auto x = with_specials(RandomFloats(n, 131, -4, 4), 7);
    auto alpha = with_specials(RandomFloats(na, 132, -2, 2), 5);
    // The reference: numpy broadcasting of alpha (right-aligned) into the input's shape.
    std::vector<float> want(x.size());
    const int r = static_cast<int>(c.shape.size()), ra = static_cast<int>(c.alpha_shape.size());
    for (int64_t i = 0; i < n; ++i) {
      int64_t rest = i, ai = 0, stride = 1;
      for (int d = r - 1; d >= 0; --d) {
        const int64_t idx = rest % c.shape[d];
        rest /= c.shape[d];
        const int da = d - (r - ra);
        if (da >= 0 && c.alpha_shape[da] != 1) ai += idx * stride;
        if (da >= 0) stride *= c.alpha_shape[da];
      }
      want[i] = x[i] >= 0 ? x[i] : x[i] * alpha[ai];
    }
    for (int threads : {1, 2, 3}) {
      OpModel m;
      const int in = m.Input(DType::kFloat32, c.shape);
      const int a = m.Const(DType::kFloat32, c.alpha_shape, alpha);
      const int out = m.Output(DType::kFloat32, c.shape);
      m.Op(op::kPrelu, {in, a}, {out});
      ASSERT_TRUE(m.Build(threads).ok());
      m.SetInput(0, x);
      ASSERT_TRUE(m.Invoke().ok());
      const auto got = m.GetOutput<float>(0);
      ASSERT_EQ(got.size(), want.size());
      // Bit for bit, except that two NaNs match: a NaN times a NaN alpha gives one operand's NaN,
      // and which one depends on the order the compiler puts them in (clang and GCC differ).
      auto same = [&](size_t i) {
        return std::memcmp(&got[i], &want[i], sizeof(float)) == 0 ||
               (std::isnan(got[i]) && std::isnan(want[i]));
      };
      size_t bad = 0;
      while (bad < got.size() && same(bad)) ++bad;
      EXPECT_EQ(bad, got.size()) << "alpha " << c.alpha_shape.size() << "-D, " << threads
                                 << " thread(s): element " << bad << " of x " << x[bad % x.size()];
    }
  }
}

TEST(PreluTest, FloatAndInt8Broadcast) {
  auto x = RandomFloats(2 * 3 * 4 * 5, 123, -3, 3);
  auto alpha = RandomFloats(5, 124, 0, 1);
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 3, 4, 5});
    const int a = m.Const(DType::kFloat32, {1, 1, 5}, alpha);
    const int out = m.Output(DType::kFloat32, {2, 3, 4, 5});
    m.Op(op::kPrelu, {in, a}, {out});
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = x[i] >= 0 ? x[i] : x[i] * alpha[i % 5];
    EXPECT_EQ(m.GetOutput<float>(0), want);
  }
  {
    auto x8 = RandomInt8(x.size(), 125);
    auto a8 = RandomInt8(5, 126);
    const float si = 0.05f, sa = 0.004f, so = 0.03f;
    OpModel m;
    const int in = m.Input(DType::kInt8, {2, 3, 4, 5}, Q(si, -3));
    const int a = m.Const(DType::kInt8, {1, 1, 5}, a8, Q(sa, 2));
    const int out = m.Output(DType::kInt8, {2, 3, 4, 5}, Q(so, 4));
    m.Op(op::kPrelu, {in, a}, {out});
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, x8);
    ASSERT_TRUE(m.Invoke().ok());
    int32_t m1, m2;
    int s1, s2;
    RefQuantizeMultiplier(static_cast<double>(si / so), &m1, &s1);
    RefQuantizeMultiplier(static_cast<double>(si * sa / so), &m2, &s2);
    std::vector<int8_t> want(x8.size());
    for (size_t i = 0; i < x8.size(); ++i) {
      const int32_t v = x8[i] + 3;
      int32_t r = v >= 0 ? RefMultiplyByQuantizedMultiplier(v, m1, s1)
                         : RefMultiplyByQuantizedMultiplier(v * (a8[i % 5] - 2), m2, s2);
      want[i] = static_cast<int8_t>(std::min(std::max(r + 4, -128), 127));
    }
    ExpectEqual(m.GetOutput<int8_t>(0), want);
  }
}

TEST(LogisticTest, FloatAndInt8Table) {
  auto x = RandomFloats(100, 127, -10, 10);
  auto got = RunUnary<float, float>(op::kLogistic, DType::kFloat32, DType::kFloat32, {100}, x, {}, {});
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = static_cast<float>(1 / (1 + std::exp(-double(x[i]))));
  ExpectClose(got, want);

  std::vector<int8_t> q(256);
  for (int i = 0; i < 256; ++i) q[i] = static_cast<int8_t>(i - 128);
  auto got8 = RunUnary<int8_t, int8_t>(op::kLogistic, DType::kInt8, DType::kInt8, {256}, q, Q(0.08f, 10),
                                       Q(1.0f / 256, -128), 0, {}, 2);
  std::vector<int8_t> want8(256);
  for (int i = 0; i < 256; ++i) {
    const float v = 0.08f * static_cast<float>(q[i] - 10);
    const float y = 1.0f / (1.0f + std::exp(-v));
    const int32_t r = static_cast<int32_t>(std::round(y * 256.0f) - 128.0f);
    want8[i] = static_cast<int8_t>(std::min(std::max(r, -128), 127));
  }
  ExpectEqual(got8, want8);
}

TEST(HardSwishTest, FloatAndInt8) {
  auto x = RandomFloats(100, 128, -6, 6);
  auto got = RunUnary<float, float>(op::kHardSwish, DType::kFloat32, DType::kFloat32, {100}, x, {}, {});
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = x[i] * std::min(6.0f, std::max(0.0f, x[i] + 3)) / 6;
  ExpectClose(got, want);

  // int8: within one step of the exact float function (TFLite's 16-bit fixed-point scheme;
  // bit-exactness against TFLite is checked by tflite_crosscheck.py).
  std::vector<int8_t> q(256);
  for (int i = 0; i < 256; ++i) q[i] = static_cast<int8_t>(i - 128);
  const float si = 0.05f, so = 0.04f;
  auto got8 = RunUnary<int8_t, int8_t>(op::kHardSwish, DType::kInt8, DType::kInt8, {256}, q, Q(si, 0), Q(so, -60));
  for (int i = 0; i < 256; ++i) {
    const float v = si * q[i];
    const float y = v * std::min(6.0f, std::max(0.0f, v + 3)) / 6;
    const float want_q = std::min(127.0f, std::max(-128.0f, std::round(y / so) - 60));
    EXPECT_NEAR(got8[i], want_q, 1.0) << "input " << int(q[i]);
  }
}

TEST(SignTest, FloatAndInt32) {
  std::vector<float> x = {-2.5f, -0.0f, 0.0f, 1e-30f, -1e-30f, 7.0f};
  auto got = RunUnary<float, float>(op::kSign, DType::kFloat32, DType::kFloat32, {6}, x, {}, {});
  EXPECT_EQ(got, (std::vector<float>{-1, 0, 0, 1, -1, 1}));
  std::vector<int32_t> xi = {-5, 0, 3};
  auto goti = RunUnary<int32_t, int32_t>(op::kSign, DType::kInt32, DType::kInt32, {3}, xi, {}, {}, 0, {}, 2);
  EXPECT_EQ(goti, (std::vector<int32_t>{-1, 0, 1}));
}

// ---- QUANTIZE / DEQUANTIZE ---------------------------------------------------------------------

// QUANTIZE follows TFLite's default x86 kernel: blocks of 8 round x * (1/scale) to even, the
// remaining elements round double(x) / scale away from zero.
int32_t RefQuantizeFloat(float x, float scale, int64_t i, int64_t n) {
  const int64_t blocked = n / 8 * 8;
  if (i < blocked) return static_cast<int32_t>(std::nearbyint(x * (1.0f / scale)));
  return static_cast<int32_t>(std::round(static_cast<double>(x) / scale));
}

TEST(QuantizeTest, FloatToInt8Uint8Int16) {
  std::vector<float> x = {-100.0f, -1.0f, -0.25f, -0.15f, 0.0f, 0.05f, 0.15f, 0.25f, 1.0f, 100.0f, 12.34f};
  const float s = 0.1f;
  auto q8 = RunUnary<float, int8_t>(op::kQuantize, DType::kFloat32, DType::kInt8, {11}, x, {}, Q(s, -3));
  auto qu8 = RunUnary<float, uint8_t>(op::kQuantize, DType::kFloat32, DType::kUInt8, {11}, x, {}, Q(s, 128));
  auto q16 = RunUnary<float, int16_t>(op::kQuantize, DType::kFloat32, DType::kInt16, {11}, x, {}, Q(s, 0), 0, {}, 2);
  for (size_t i = 0; i < x.size(); ++i) {
    const int32_t r = RefQuantizeFloat(x[i], s, static_cast<int64_t>(i), 11);
    EXPECT_EQ(q8[i], std::clamp(r - 3, -128, 127)) << x[i];
    EXPECT_EQ(qu8[i], std::clamp(r + 128, 0, 255)) << x[i];
    EXPECT_EQ(q16[i], std::clamp(r, -32768, 32767)) << x[i];
  }
  // Hand-checked ties: the 8-element block rounds to even, the 4-element tail away from zero.
  auto ties = RunUnary<float, int8_t>(op::kQuantize, DType::kFloat32, DType::kInt8, {12},
                                      std::vector<float>{0.5f, -0.5f, 1.5f, -2.5f, 2.5f, 3.5f, -3.5f, 4.5f, 0.5f,
                                                         -0.5f, 1.5f, -2.5f},
                                      {}, Q(1.0f, 0));
  EXPECT_EQ(ties, (std::vector<int8_t>{0, 0, 2, -2, 2, 4, -4, 4, 1, -1, 2, -3}));
  // -0.25 / 0.1f: the block's float product is exactly -2.5 (even: -2), the tail's double
  // quotient is -2.4999999627 (-2); float division would give -2.5 and round to -3.
  auto near = RunUnary<float, int8_t>(op::kQuantize, DType::kFloat32, DType::kInt8, {9},
                                      std::vector<float>(9, -0.25f), {}, Q(0.1f, 0));
  EXPECT_EQ(near, std::vector<int8_t>(9, -2));
}

TEST(QuantizeTest, Requantize) {
  std::vector<int8_t> x(256 + 7);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(static_cast<int>(i % 256) - 128);
  const int n = static_cast<int>(x.size());
  for (float ratio : {0.3846f, 0.125f, 2.5f}) {
    const float si = 0.05f, so = si / ratio;
    auto got = RunUnary<int8_t, int8_t>(op::kQuantize, DType::kInt8, DType::kInt8, {n}, x, Q(si, 4), Q(so, -9));
    int32_t mult;
    int shift;
    RefQuantizeMultiplier(double(si) / double(so), &mult, &shift);
    for (int i = 0; i < n; ++i) {
      // Blocks of 16 round the final shift half up, the tail half away from zero.
      int32_t v;
      if (i < n / 16 * 16) {
        const int left = std::max(shift, 0), right = std::max(-shift, 0);
        const int32_t t = RefSrdhm((x[i] - 4) * (1 << left), mult);
        v = right ? static_cast<int32_t>((int64_t{t} + (int64_t{1} << (right - 1))) >> right) : t;
      } else {
        v = RefMultiplyByQuantizedMultiplier(x[i] - 4, mult, shift);
      }
      ASSERT_EQ(got[i], std::clamp(v - 9, -128, 127)) << "ratio " << ratio << " element " << i;
    }
  }
  // Hand-checked: ratio 1/8 maps -4 to -0.5 (the block rounds it to 0, the tail to -1).
  std::vector<int8_t> q(17, -4);
  auto got = RunUnary<int8_t, int8_t>(op::kQuantize, DType::kInt8, DType::kInt8, {17}, q, Q(0.125f, 0), Q(1.0f, 0));
  EXPECT_EQ(got[0], 0);
  EXPECT_EQ(got[16], -1);
  // int8 -> uint8 with the same scale shifts by the zero points.
  auto gotu = RunUnary<int8_t, uint8_t>(op::kQuantize, DType::kInt8, DType::kUInt8, {n}, x, Q(0.05f, 4), Q(0.05f, 132));
  for (int i = 0; i < n; ++i) EXPECT_EQ(gotu[i], std::clamp(x[i] - 4 + 132, 0, 255));
}

TEST(DequantizeTest, PerTensorPerChannelAndFloat16) {
  std::vector<int8_t> x = {-128, -1, 0, 1, 127, 50};
  auto got = RunUnary<int8_t, float>(op::kDequantize, DType::kInt8, DType::kFloat32, {6}, x, Q(0.1f, -1), {},
                                     0, {}, 2);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(got[i], static_cast<float>(0.1f * double(x[i] + 1)));
  std::vector<uint8_t> xu = {0, 128, 255};
  auto gotu = RunUnary<uint8_t, float>(op::kDequantize, DType::kUInt8, DType::kFloat32, {3}, xu, Q(0.5f, 128), {});
  EXPECT_EQ(gotu, (std::vector<float>{-64.0f, 0.0f, 63.5f}));
  // Per channel along dimension 1 of [2, 3].
  OpModel m;
  const int in = m.Input(DType::kInt8, {2, 3}, Quant{{0.5f, 0.25f, 2.0f}, {0, 1, -1}, 1});
  const int out = m.Output(DType::kFloat32, {2, 3});
  m.Op(op::kDequantize, {in}, {out}, 0, {}, 5);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, std::vector<int8_t>{2, 5, -1, -4, 1, 3});
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_EQ(m.GetOutput<float>(0), (std::vector<float>{1.0f, 1.0f, 0.0f, -2.0f, 0.0f, 8.0f}));
  // float16: 1.0, -2.0, 0.5, 65504, smallest subnormal
  // (float16 is not a public tensor type, so the half values come from a constant, as fp16 weights do.)
  OpModel mh;
  const int h = mh.Const(DType::kFloat16, {5}, std::vector<uint16_t>{0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001});
  const int hx = mh.Input(DType::kFloat32, {5});
  const int hd = mh.Temp(DType::kFloat32, {5});
  const int hout = mh.Output(DType::kFloat32, {5});
  mh.Op(op::kDequantize, {h}, {hd}, 0, {}, 3);
  mh.Op(op::kAdd, {hd, hx}, {hout}, opt::kAdd);
  ASSERT_TRUE(mh.Build().ok());
  mh.SetInput(0, std::vector<float>(5, 0.0f));
  ASSERT_TRUE(mh.Invoke().ok());
  EXPECT_EQ(mh.GetOutput<float>(0), (std::vector<float>{1.0f, -2.0f, 0.5f, 65504.0f, std::ldexp(1.0f, -24)}));
}

// ---- GREATER_EQUAL / SELECT_V2: tf.where(x >= 0, 1, -1) -------------------------------------------

TEST(SelectTest, WhereBinarizer) {
  auto x = RandomFloats(2 * 4 * 4 * 3, 129);
  x[0] = 0.0f;
  OpModel m;
  const int in = m.Input(DType::kFloat32, {2, 4, 4, 3});
  const int zero = m.Const(DType::kFloat32, {}, std::vector<float>{0.0f});
  const int cond = m.Temp(DType::kBool, {2, 4, 4, 3});
  const int ones = m.Const(DType::kFloat32, {1, 1, 1, 3}, std::vector<float>{1, 1, 1});
  const int neg = m.Const(DType::kFloat32, {}, std::vector<float>{-1});
  const int out = m.Output(DType::kFloat32, {2, 4, 4, 3});
  m.Op(op::kGreaterEqual, {in, zero}, {cond}, opt::kGreaterEqual);
  m.Op(op::kSelectV2, {cond, ones, neg}, {out}, opt::kSelectV2);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = x[i] >= 0 ? 1.0f : -1.0f;
  EXPECT_EQ(m.GetOutput<float>(0), want);
}

TEST(SelectTest, GreaterEqualInt8Rescaled) {
  auto a = RandomInt8(64, 130);
  auto b = RandomInt8(64, 131);
  OpModel m;
  const int ta = m.Input(DType::kInt8, {64}, Q(0.05f, 3));
  const int tb = m.Input(DType::kInt8, {64}, Q(0.08f, -7));
  const int out = m.Output(DType::kBool, {64});
  m.Op(op::kGreaterEqual, {ta, tb}, {out}, opt::kGreaterEqual, {}, 2);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, a);
  m.SetInput(1, b);
  ASSERT_TRUE(m.Invoke().ok());
  auto got = m.GetOutput<uint8_t>(0);
  int32_t m1, m2;
  int s1, s2;
  RefQuantizeMultiplier(0.05f, &m1, &s1);
  RefQuantizeMultiplier(0.08f, &m2, &s2);
  for (int i = 0; i < 64; ++i) {
    const int32_t x = RefMultiplyByQuantizedMultiplier((a[i] - 3) * 256, m1, s1);
    const int32_t y = RefMultiplyByQuantizedMultiplier((b[i] + 7) * 256, m2, s2);
    EXPECT_EQ(got[i] != 0, x >= y) << i;
  }
}

}  // namespace
}  // namespace xbnn::testing
