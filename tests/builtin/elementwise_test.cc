// ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM with NumPy broadcasting up to rank 5 and every fused
// activation: float against plain loops, int8 and int32 exactly.
#include <cstring>
#include <limits>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct ShapePair {
  std::vector<int32_t> a, b;
};

const ShapePair kShapes[] = {
    {{2, 3, 4, 5}, {2, 3, 4, 5}},       {{2, 3, 4, 5}, {}},           {{2, 3, 4, 5}, {5}},
    {{1, 3, 1, 5}, {2, 1, 4, 1}},       {{4, 1}, {2, 1, 3}},          {{2, 1, 3, 1, 2}, {1, 4, 1, 5, 1}},
    {{1}, {3, 2}},                      {{1, 1, 1, 7}, {1, 6, 6, 7}},
};

std::vector<int32_t> BroadcastShape(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int32_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    const int32_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int32_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    out[i] = std::max(da, db);
  }
  return out;
}

// Flat index into `s` of the output multi-index `o` (right-aligned, size-1 dims broadcast).
int64_t SourceIndex(const std::vector<int32_t>& o, const std::vector<int32_t>& s) {
  int64_t idx = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const int32_t oi = o[o.size() - s.size() + i];
    idx = idx * s[i] + (s[i] == 1 ? 0 : oi);
  }
  return idx;
}

template <typename T, typename F>
std::vector<T> RefBinary(const ShapePair& p, const std::vector<T>& a, const std::vector<T>& b, F&& f) {
  const auto os = BroadcastShape(p.a, p.b);
  std::vector<T> out(static_cast<size_t>(Elements(os)));
  std::vector<int32_t> o(os.size(), 0);
  for (size_t k = 0; k < out.size(); ++k) {
    out[k] = f(a[SourceIndex(o, p.a)], b[SourceIndex(o, p.b)]);
    for (int d = static_cast<int>(os.size()) - 1; d >= 0; --d) {
      if (++o[d] < os[d]) break;
      o[d] = 0;
    }
  }
  return out;
}

struct OpInfo {
  const char* name;
  int32_t code;
  uint8_t options;
  bool activation;
};

const OpInfo kOps[] = {{"ADD", op::kAdd, opt::kAdd, true},          {"SUB", op::kSub, opt::kSub, true},
                       {"MUL", op::kMul, opt::kMul, true},          {"DIV", op::kDiv, opt::kDiv, true},
                       {"MAXIMUM", op::kMaximum, opt::kMaximumMinimum, false},
                       {"MINIMUM", op::kMinimum, opt::kMaximumMinimum, false}};

float FloatRef(const char* name, float x, float y) {
  const std::string n = name;
  if (n == "ADD") return x + y;
  if (n == "SUB") return x - y;
  if (n == "MUL") return x * y;
  if (n == "DIV") return x / y;
  if (n == "MAXIMUM") return std::max(x, y);
  return std::min(x, y);
}

std::vector<Field> ActFields(const OpInfo& o, int act) {
  if (!o.activation) return {};
  return {{"fused_activation_function", int64_t{act}}};
}

int Version(const OpInfo& o, const ShapePair& p, bool int8) {
  const bool rank5 = p.a.size() > 4 || p.b.size() > 4;
  if (o.code == op::kSub || o.code == op::kMaximum || o.code == op::kMinimum) {
    if (rank5 && p.a != p.b) return 3;
  }
  if (o.code == op::kDiv) return rank5 && p.a != p.b ? 2 : 1;
  return int8 ? 2 : 1;
}

class BinaryTest : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(BinaryTest, Float) {
  const OpInfo& o = kOps[std::get<0>(GetParam())];
  const int si = std::get<1>(GetParam());
  const ShapePair& p = kShapes[si];
  const int act = o.activation ? si % 4 : 0;
  auto a = RandomFloats(static_cast<size_t>(Elements(p.a)), 31 + si, -4, 4);
  auto b = RandomFloats(static_cast<size_t>(Elements(p.b)), 41 + si, 0.5f, 4);  // nonzero for DIV
  for (size_t i = 0; i < b.size(); i += 2) b[i] = -b[i];
  OpModel m;
  const int ta = m.Input(DType::kFloat32, p.a);
  const int tb = m.Input(DType::kFloat32, p.b);
  const int out = m.Output(DType::kFloat32, BroadcastShape(p.a, p.b));
  m.Op(o.code, {ta, tb}, {out}, o.options, ActFields(o, act), Version(o, p, false));
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  m.SetInput(0, a);
  m.SetInput(1, b);
  ASSERT_TRUE(m.Invoke().ok());
  float lo, hi;
  RefFloatActivation(act, &lo, &hi);
  auto want = RefBinary<float>(p, a, b, [&](float x, float y) {
    return std::min(std::max(FloatRef(o.name, x, y), lo), hi);
  });
  ExpectClose(m.GetOutput<float>(0), want);
}

// Float ops big enough to be split over the threads (rows of the last dimension in contiguous
// chunks, elementwise.cc): every thread count gives the bits of TFLite's expressions, for each kind
// of operand (covering the output, a per-channel row first or second, a scalar) and the generic
// broadcast that stays on one thread, with an inf and a NaN among the inputs.
TEST(BinaryThreads, FloatSplitGivesTheReferenceBits) {
  const ShapePair shapes[] = {{{2, 11, 13, 64}, {2, 11, 13, 64}},
                              {{2, 11, 13, 64}, {64}},
                              {{64}, {2, 11, 13, 64}},
                              {{2, 11, 13, 64}, {}},
                              {{2, 11, 1, 64}, {11, 13, 1}}};
  for (const OpInfo& o : kOps) {
    // NONE clamps to the finite float range (an inf becomes the largest float), RELU to [0, max].
    for (int act = 0; act <= (o.activation ? 1 : 0); ++act) {
      for (const ShapePair& p : shapes) {
        auto a = RandomFloats(static_cast<size_t>(Elements(p.a)), 51, -4, 4);
        auto b = RandomFloats(static_cast<size_t>(Elements(p.b)), 52, 0.5f, 4);
        for (size_t i = 0; i < b.size(); i += 2) b[i] = -b[i];
        a[a.size() / 3] = std::numeric_limits<float>::infinity();
        a[a.size() / 2] = std::numeric_limits<float>::quiet_NaN();
        a[a.size() / 5] = -0.0f;
        float lo, hi;
        RefFloatActivation(act, &lo, &hi);
        // TFLite's CalculateActivationRange: the float range's finite ends, not infinities.
        lo = std::max(lo, std::numeric_limits<float>::lowest());
        hi = std::min(hi, std::numeric_limits<float>::max());
        const std::string name = o.name;
        const auto want = RefBinary<float>(p, a, b, [&](float x, float y) {
          // TFLite's MaximumOp / MinimumOp: the second operand where the comparison fails (NaN).
          if (name == "MAXIMUM") return x > y ? x : y;
          if (name == "MINIMUM") return x < y ? x : y;
          return std::min(std::max(FloatRef(o.name, x, y), lo), hi);
        });
        for (int threads : {1, 2, 3}) {
          OpModel m;
          const int ta = m.Input(DType::kFloat32, p.a);
          const int tb = m.Input(DType::kFloat32, p.b);
          const int out = m.Output(DType::kFloat32, BroadcastShape(p.a, p.b));
          m.Op(o.code, {ta, tb}, {out}, o.options, ActFields(o, act), Version(o, p, false));
          ASSERT_TRUE(m.Build(threads).ok());
          m.SetInput(0, a);
          m.SetInput(1, b);
          ASSERT_TRUE(m.Invoke().ok());
          const auto got = m.GetOutput<float>(0);
          ASSERT_EQ(got.size(), want.size());
          size_t bad = 0;
          while (bad < got.size() && std::memcmp(&got[bad], &want[bad], sizeof(float)) == 0) ++bad;
          EXPECT_EQ(bad, got.size())
              << o.name << " " << p.a.size() << "-d x " << p.b.size() << "-d, activation " << act
              << ", " << threads << " threads: got " << got[bad] << ", want " << want[bad];
        }
      }
    }
  }
}

class BinaryIntTest : public BinaryTest {};

TEST_P(BinaryIntTest, Int8) {
  const OpInfo& o = kOps[std::get<0>(GetParam())];
  const int si = std::get<1>(GetParam());
  const ShapePair& p = kShapes[si];
  const int act = o.activation ? si % 4 : 0;
  auto a = RandomInt8(static_cast<size_t>(Elements(p.a)), 51 + si);
  auto b = RandomInt8(static_cast<size_t>(Elements(p.b)), 61 + si);
  // Different scales and zero points per operand; MAXIMUM/MINIMUM share one (the converter's rule).
  const bool same = o.code == op::kMaximum || o.code == op::kMinimum;
  const float s1 = 0.05f, s2 = same ? 0.05f : 0.031f, so = same ? 0.05f : (o.code == op::kMul ? 0.02f : 0.07f);
  const int32_t z1 = -3, z2 = same ? -3 : 12, zo = same ? -3 : 5;
  OpModel m;
  const int ta = m.Input(DType::kInt8, p.a, Q(s1, z1));
  const int tb = m.Input(DType::kInt8, p.b, Q(s2, z2));
  const int out = m.Output(DType::kInt8, BroadcastShape(p.a, p.b), Q(so, zo));
  m.Op(o.code, {ta, tb}, {out}, o.options, ActFields(o, act), Version(o, p, true));
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, a);
  m.SetInput(1, b);
  ASSERT_TRUE(m.Invoke().ok());
  int32_t lo, hi;
  RefActivationRange(act, so, zo, &lo, &hi);
  std::function<int8_t(int8_t, int8_t)> f;
  const std::string n = o.name;
  if (n == "ADD" || n == "SUB") {
    const int left_shift = 20;
    const double twice_max = 2 * std::max(s1, s2);
    int32_t m1, m2, mo;
    int sh1, sh2, sho;
    RefQuantizeMultiplier(s1 / twice_max, &m1, &sh1);
    RefQuantizeMultiplier(s2 / twice_max, &m2, &sh2);
    RefQuantizeMultiplier(twice_max / ((1 << left_shift) * so), &mo, &sho);
    f = [=](int8_t x, int8_t y) {
      const int32_t qx = RefMultiplyByQuantizedMultiplier((x - z1) * (1 << left_shift), m1, sh1);
      const int32_t qy = RefMultiplyByQuantizedMultiplier((y - z2) * (1 << left_shift), m2, sh2);
      const int32_t v = RefMultiplyByQuantizedMultiplier(n == "ADD" ? qx + qy : qx - qy, mo, sho) + zo;
      return static_cast<int8_t>(std::min(std::max(v, lo), hi));
    };
  } else if (n == "MUL") {
    int32_t mm;
    int sh;
    RefQuantizeMultiplier(static_cast<double>(s1 * s2 / so), &mm, &sh);  // float product, as TFLite
    f = [=](int8_t x, int8_t y) {
      const int32_t v = RefMultiplyByQuantizedMultiplier((x - z1) * (y - z2), mm, sh) + zo;
      return static_cast<int8_t>(std::min(std::max(v, lo), hi));
    };
  } else if (n == "MAXIMUM") {
    f = [](int8_t x, int8_t y) { return std::max(x, y); };
  } else {
    f = [](int8_t x, int8_t y) { return std::min(x, y); };
  }
  if (n == "ADD") {
    // TFLite's default kernel: SIMD blocks take other formulas than the leftovers.
    RefAddParams rp{z1, z2, zo, lo, hi, s1, s2, so};
    ExpectEqual(m.GetOutput<int8_t>(0), RefAddInt8Optimized(p.a, a, p.b, b, rp));
    return;
  }
  ExpectEqual(m.GetOutput<int8_t>(0), RefBinary<int8_t>(p, a, b, f));
}

TEST_P(BinaryIntTest, Int32) {
  const OpInfo& o = kOps[std::get<0>(GetParam())];
  const int si = std::get<1>(GetParam());
  const ShapePair& p = kShapes[si];
  const int act = o.activation ? si % 4 : 0;
  auto a = RandomInt32(static_cast<size_t>(Elements(p.a)), 71 + si, -1000, 1000);
  auto b = RandomInt32(static_cast<size_t>(Elements(p.b)), 81 + si, -1000, 1000);
  OpModel m;
  const int ta = m.Input(DType::kInt32, p.a);
  const int tb = m.Input(DType::kInt32, p.b);
  const int out = m.Output(DType::kInt32, BroadcastShape(p.a, p.b));
  m.Op(o.code, {ta, tb}, {out}, o.options, ActFields(o, act), Version(o, p, false));
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, a);
  m.SetInput(1, b);
  ASSERT_TRUE(m.Invoke().ok());
  int32_t lo = INT32_MIN, hi = INT32_MAX;
  if (act == 1 || act == 3) lo = 0;
  if (act == 3) hi = 6;
  if (act == 2) lo = -1, hi = 1;
  const std::string n = o.name;
  auto want = RefBinary<int32_t>(p, a, b, [&](int32_t x, int32_t y) {
    int32_t v = n == "ADD" ? x + y : n == "SUB" ? x - y : n == "MUL" ? x * y : n == "MAXIMUM" ? std::max(x, y)
                                                                                               : std::min(x, y);
    return std::min(std::max(v, lo), hi);
  });
  ExpectEqual(m.GetOutput<int32_t>(0), want);
}

std::string BinaryName(const ::testing::TestParamInfo<std::tuple<int, int>>& i) {
  std::string s = kOps[std::get<0>(i.param)].name;
  const ShapePair& p = kShapes[std::get<1>(i.param)];
  s += "_a";
  for (int32_t d : p.a) s += std::to_string(d);
  s += "_b";
  for (int32_t d : p.b) s += std::to_string(d);
  return s;
}

INSTANTIATE_TEST_SUITE_P(All, BinaryTest,
                         ::testing::Combine(::testing::Range(0, 6),
                                            ::testing::Range(0, static_cast<int>(std::size(kShapes)))),
                         BinaryName);
// DIV (index 3) is float only.
INSTANTIATE_TEST_SUITE_P(All, BinaryIntTest,
                         ::testing::Combine(::testing::Values(0, 1, 2, 4, 5),
                                            ::testing::Range(0, static_cast<int>(std::size(kShapes)))),
                         BinaryName);

// Values worked out by hand from TFLite's ADD scheme (left shift 20, 31-bit multipliers).
TEST(BinaryHandChecked, Int8Add) {
  OpModel m;
  const int a = m.Input(DType::kInt8, {4}, Q(0.5f, 0));
  const int b = m.Input(DType::kInt8, {4}, Q(0.5f, 0));
  const int out = m.Output(DType::kInt8, {4}, Q(1.0f, 0));
  m.Op(op::kAdd, {a, b}, {out}, opt::kAdd, {}, 2);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, std::vector<int8_t>{10, 3, -3, 127});
  m.SetInput(1, std::vector<int8_t>{6, 0, 0, 127});
  ASSERT_TRUE(m.Invoke().ok());
  // 8.0; 1.5 rounds to 2; -1.5 rounds to -2 (half away from zero); 127 saturates.
  ExpectEqual(m.GetOutput<int8_t>(0), std::vector<int8_t>{8, 2, -2, 127});
}

TEST(BinaryHandChecked, Int8MulRelu6) {
  OpModel m;
  const int a = m.Input(DType::kInt8, {4}, Q(0.5f, 0));
  const int b = m.Input(DType::kInt8, {4}, Q(0.25f, 0));
  const int out = m.Output(DType::kInt8, {4}, Q(0.125f, 0));
  m.Op(op::kMul, {a, b}, {out}, opt::kMul, {{"fused_activation_function", int64_t{3}}}, 2);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, std::vector<int8_t>{3, -3, 10, 2});
  m.SetInput(1, std::vector<int8_t>{5, 5, 10, 3});
  ASSERT_TRUE(m.Invoke().ok());
  // 1.875 -> 15; negative -> 0 (RELU6); 12.5 -> 6.0 = 48; 0.75 -> 6
  ExpectEqual(m.GetOutput<int8_t>(0), std::vector<int8_t>{15, 0, 48, 6});
}

TEST(BinaryHandChecked, FixedPointPrimitives) {
  int32_t mult;
  int shift;
  RefQuantizeMultiplier(0.75, &mult, &shift);
  EXPECT_EQ(mult, 1610612736);
  EXPECT_EQ(shift, 0);
  RefQuantizeMultiplier(1.0, &mult, &shift);
  EXPECT_EQ(mult, 1 << 30);
  EXPECT_EQ(shift, 1);
  EXPECT_EQ(RefMultiplyByQuantizedMultiplier(100, 1610612736, 0), 75);
  EXPECT_EQ(RefMultiplyByQuantizedMultiplier(3, 1 << 30, 0), 2);    // 1.5 -> 2
  EXPECT_EQ(RefMultiplyByQuantizedMultiplier(-3, 1 << 30, 0), -1);  // -1.5 -> -1: the high mul rounds half up
  EXPECT_EQ(RefMultiplyByQuantizedMultiplier(-3, 1 << 30, -1), -1);  // -0.75 -> -1
  EXPECT_EQ(RefRoundingDivideByPOT(-3, 1), -2);                       // the shift rounds half away from zero
  // TFLite's x86 SIMD code and ruy: the shift rounds half up.
  EXPECT_EQ(RefRoundingRightShiftUp(-3, 1), -1);                          // -1.5 -> -1
  EXPECT_EQ(RefRoundingRightShiftUp(3, 1), 2);                            // 1.5 -> 2
  EXPECT_EQ(RefMultiplyByQuantizedMultiplierRoundUp(-3, 1 << 30, -1), 0);  // -1.5 -> -1, then -0.5 -> 0
  EXPECT_EQ(RefMultiplyByQuantizedMultiplier(-3, 1 << 30, -1), -1);        // ... the reference: -0.5 -> -1
  EXPECT_EQ(RefMultiplyByQuantizedMultiplierRoundUp(-5, 1 << 30, -2), 0);  // -2.5 -> -2, then -0.5 -> 0
}

}  // namespace
}  // namespace xbnn::testing
