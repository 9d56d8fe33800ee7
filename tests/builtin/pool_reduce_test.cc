// MAX_POOL_2D, AVERAGE_POOL_2D, MEAN and SOFTMAX against plain loops; int8 exactly as TFLite.
#include <cmath>
#include <cstring>
#include <limits>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

struct PoolCase {
  int n, h, w, c, fh, fw, sh, sw;
  bool same;
  int act;
};

class PoolTest : public ::testing::TestWithParam<std::tuple<PoolCase, bool>> {};

std::vector<Field> PoolOptions(const PoolCase& c) {
  return {{"padding", int64_t{c.same ? 0 : 1}}, {"stride_w", int64_t{c.sw}},
          {"stride_h", int64_t{c.sh}},          {"filter_width", int64_t{c.fw}},
          {"filter_height", int64_t{c.fh}},     {"fused_activation_function", int64_t{c.act}}};
}

// Calls f(out_index, list of in-window input indices).
template <typename F>
void ForWindows(const PoolCase& c, F&& f) {
  const int oh = OutSize(c.h, c.fh, c.sh, 1, c.same), ow = OutSize(c.w, c.fw, c.sw, 1, c.same);
  const int pt = PadBefore(c.h, c.fh, c.sh, 1, c.same), pl = PadBefore(c.w, c.fw, c.sw, 1, c.same);
  for (int b = 0; b < c.n; ++b)
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x)
        for (int ch = 0; ch < c.c; ++ch) {
          std::vector<int64_t> taps;
          for (int ky = 0; ky < c.fh; ++ky)
            for (int kx = 0; kx < c.fw; ++kx) {
              const int iy = y * c.sh - pt + ky, ix = x * c.sw - pl + kx;
              if (iy >= 0 && iy < c.h && ix >= 0 && ix < c.w)
                taps.push_back(((int64_t(b) * c.h + iy) * c.w + ix) * c.c + ch);
            }
          f(((int64_t(b) * oh + y) * ow + x) * c.c + ch, taps);
        }
}

// The float pool of case c on `threads` threads, or its reference (plain loops in double).
std::vector<float> RunFloatPool(const PoolCase& c, const std::vector<float>& x, bool average,
                                int threads) {
  const int oh = OutSize(c.h, c.fh, c.sh, 1, c.same), ow = OutSize(c.w, c.fw, c.sw, 1, c.same);
  OpModel m;
  const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.c});
  const int out = m.Output(DType::kFloat32, {c.n, oh, ow, c.c});
  m.Op(average ? op::kAveragePool2D : op::kMaxPool2D, {in}, {out}, opt::kPool2D, PoolOptions(c));
  if (!m.Build(threads).ok()) {
    ADD_FAILURE() << "build failed at " << threads << " thread(s)";
    return {};
  }
  m.SetInput(0, x);
  if (!m.Invoke().ok()) {
    ADD_FAILURE() << "invoke failed at " << threads << " thread(s)";
    return {};
  }
  return m.GetOutput<float>(0);
}

std::vector<float> ReferenceFloatPool(const PoolCase& c, const std::vector<float>& x,
                                      bool average) {
  const int oh = OutSize(c.h, c.fh, c.sh, 1, c.same), ow = OutSize(c.w, c.fw, c.sw, 1, c.same);
  float lo, hi;
  RefFloatActivation(c.act, &lo, &hi);
  std::vector<float> want(static_cast<size_t>(c.n) * oh * ow * c.c);
  ForWindows(c, [&](int64_t o, const std::vector<int64_t>& taps) {
    double v = average ? 0.0 : -1e30;
    for (int64_t t : taps) v = average ? v + x[t] : std::max<double>(v, x[t]);
    if (average) v /= static_cast<double>(taps.size());
    want[o] = std::min(std::max(static_cast<float>(v), lo), hi);
  });
  return want;
}

TEST_P(PoolTest, Float) {
  const PoolCase c = std::get<0>(GetParam());
  const bool average = std::get<1>(GetParam());
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.c, 91, -3, 8);
  ExpectClose(RunFloatPool(c, x, average, 1), ReferenceFloatPool(c, x, average));
}

TEST_P(PoolTest, Int8) {
  const PoolCase c = std::get<0>(GetParam());
  const bool average = std::get<1>(GetParam());
  const int oh = OutSize(c.h, c.fh, c.sh, 1, c.same), ow = OutSize(c.w, c.fw, c.sw, 1, c.same);
  auto x = RandomInt8(static_cast<size_t>(c.n) * c.h * c.w * c.c, 92);
  const float s = 0.05f;
  const int32_t zp = -20;
  OpModel m;
  const int in = m.Input(DType::kInt8, {c.n, c.h, c.w, c.c}, Q(s, zp));
  const int out = m.Output(DType::kInt8, {c.n, oh, ow, c.c}, Q(s, zp));
  m.Op(average ? op::kAveragePool2D : op::kMaxPool2D, {in}, {out}, opt::kPool2D, PoolOptions(c), 2);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  int32_t lo, hi;
  RefActivationRange(c.act, s, zp, &lo, &hi);
  std::vector<int8_t> want(static_cast<size_t>(c.n) * oh * ow * c.c);
  ForWindows(c, [&](int64_t o, const std::vector<int64_t>& taps) {
    int32_t v = average ? 0 : -128;
    for (int64_t t : taps) v = average ? v + x[t] : std::max<int32_t>(v, x[t]);
    if (average) {
      // The integer average rounds half away from zero.
      const int32_t n = static_cast<int32_t>(taps.size());
      v = v > 0 ? (v + n / 2) / n : (v - n / 2) / n;
    }
    want[o] = static_cast<int8_t>(std::min(std::max(v, lo), hi));
  });
  ExpectEqual(m.GetOutput<int8_t>(0), want);
}

// Random inputs of case c with signed zeros, infinities, NaN and near-overflow values at every
// `every`-th element.
std::vector<float> WithSpecials(const PoolCase& c, uint32_t seed, size_t every) {
  auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.c, seed, -3, 8);
  const float specials[] = {-0.0f, 0.0f, INFINITY, -INFINITY, NAN, 3e38f, -3e38f};
  for (size_t i = 0; i < x.size(); i += every) x[i] = specials[(i / every) % 7];
  return x;
}

// TFLite's float activation ranges: the unbounded sides are the largest finite floats.
void TfliteFloatActivation(int act, float* lo, float* hi) {
  RefFloatActivation(act, lo, hi);
  *lo = std::max(*lo, std::numeric_limits<float>::lowest());
  *hi = std::min(*hi, std::numeric_limits<float>::max());
}

// Bit for bit; NaNs compare by kind only (the sign of x86's default NaN is not the reference's
// business).
void ExpectSameBits(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      ADD_FAILURE() << "output " << i << ": got " << got[i] << ", want " << want[i];
      ++bad;
    }
  }
}

// The float average bit for bit: TFLite's float kernel sums the window from zero in window order
// in float, divides by the pixels inside the input and clamps (infinities to the largest finite
// floats without an activation, as TFLite). Signed zeros (0 + -0 is +0),
// infinities, NaN and sums that overflow go through every vector width and the scalar tail.
TEST_P(PoolTest, FloatAverageExact) {
  const PoolCase c = std::get<0>(GetParam());
  if (!std::get<1>(GetParam())) GTEST_SKIP() << "average pooling only";
  const std::vector<float> x = WithSpecials(c, 94, 3);
  float lo, hi;
  TfliteFloatActivation(c.act, &lo, &hi);
  std::vector<float> want(RunFloatPool(c, x, true, 1).size());
  ForWindows(c, [&](int64_t o, const std::vector<int64_t>& taps) {
    float v = 0;
    for (int64_t t : taps) v += x[t];
    v /= static_cast<float>(taps.size());
    want[o] = std::min(std::max(v, lo), hi);
  });
  ExpectSameBits(RunFloatPool(c, x, true, 1), want);
}

// The float max bit for bit: the window's first pixel, then acc > x ? acc : x in window order
// (the kernels' expression, which lets a NaN through where it comes later), then the clamp of a
// fused activation; signed zeros, infinities and NaN through the interior loop (windows inside
// the input, whole vectors of channels), the border loop and the scalar tail alike.
TEST_P(PoolTest, FloatMaxExact) {
  const PoolCase c = std::get<0>(GetParam());
  if (std::get<1>(GetParam())) GTEST_SKIP() << "max pooling only";
  const std::vector<float> x = WithSpecials(c, 95, 5);
  float lo, hi;
  TfliteFloatActivation(c.act, &lo, &hi);
  const std::vector<float> got = RunFloatPool(c, x, false, 1);
  std::vector<float> want(got.size());
  ForWindows(c, [&](int64_t o, const std::vector<int64_t>& taps) {
    float v = x[taps[0]];
    for (size_t t = 1; t < taps.size(); ++t) v = v > x[taps[t]] ? v : x[taps[t]];
    if (c.act != 0) {
      const float t = v < lo ? lo : v;
      v = hi < t ? hi : t;
    }
    want[o] = v;
  });
  ExpectSameBits(got, want);
}

// A map large enough for the pool to split its rows over the threads (common.h's estimates):
// every thread count gives the same output as one thread, bit for bit.
TEST(PoolTest, MultiThreadedMatchesSingleThread) {
  const PoolCase c{1, 30, 30, 64, 3, 3, 1, 1, true, 3};
  auto x = RandomFloats(static_cast<size_t>(c.h) * c.w * c.c, 93, -3, 8);
  for (bool average : {false, true}) {
    const std::vector<float> one = RunFloatPool(c, x, average, 1);
    ExpectClose(one, ReferenceFloatPool(c, x, average));
    ExpectEqual(RunFloatPool(c, x, average, 2), one);
    ExpectEqual(RunFloatPool(c, x, average, 3), one);
  }
}

// A global average pooling (one output row) splits its channels among the threads, in 16-channel
// blocks: on 2 and 3 threads the same bits as TFLite's sum order gives (special values, channel
// counts that end inside a block, two images, a fused activation), as on one thread.
TEST(PoolTest, GlobalAverageSplitsChannelsExactly) {
  for (const PoolCase& c : {PoolCase{1, 28, 28, 64, 28, 28, 28, 28, false, 0},
                            PoolCase{2, 7, 9, 83, 7, 9, 1, 1, false, 1},
                            PoolCase{1, 14, 14, 200, 14, 14, 14, 14, true, 0},
                            PoolCase{1, 5, 5, 40, 5, 5, 1, 1, false, 3}}) {
    SCOPED_TRACE(std::to_string(c.n) + "x" + std::to_string(c.h) + "x" + std::to_string(c.w) + "x" +
                 std::to_string(c.c));
    const std::vector<float> x = WithSpecials(c, 96, 3);
    float lo, hi;
    TfliteFloatActivation(c.act, &lo, &hi);
    std::vector<float> want(static_cast<size_t>(c.n) * c.c);
    ForWindows(c, [&](int64_t o, const std::vector<int64_t>& taps) {
      float v = 0;
      for (int64_t t : taps) v += x[t];
      v /= static_cast<float>(taps.size());
      want[o] = std::min(std::max(v, lo), hi);
    });
    for (int threads : {1, 2, 3}) ExpectSameBits(RunFloatPool(c, x, true, threads), want);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Grid, PoolTest,
    ::testing::Combine(::testing::Values(PoolCase{1, 6, 6, 3, 2, 2, 2, 2, false, 0},
                                         PoolCase{1, 7, 7, 4, 3, 3, 2, 2, true, 1},
                                         PoolCase{2, 5, 8, 2, 3, 2, 1, 2, true, 3},
                                         PoolCase{1, 9, 9, 5, 3, 3, 2, 2, false, 2},
                                         PoolCase{1, 4, 4, 16, 4, 4, 1, 1, false, 0},
                                         PoolCase{1, 11, 11, 64, 3, 3, 2, 2, true, 0},
                                         // 64 + 16 + 3 and 64 + 32 + 16 + 3 channels: every
                                         // vector width
                                         PoolCase{1, 9, 9, 83, 3, 3, 1, 1, true, 1},
                                         PoolCase{1, 8, 7, 115, 2, 2, 1, 1, false, 0},
                                         PoolCase{2, 6, 7, 32, 2, 3, 2, 1, false, 3},
                                         // QuickNet's transition pooling; a window of more taps
                                         // than the interior loop takes (the general loop then)
                                         PoolCase{1, 12, 13, 64, 2, 2, 1, 1, false, 0},
                                         // its sliding form over 64 + 48 channels, with a clamp,
                                         // batch 2, SAME padding (the border columns apart)
                                         PoolCase{2, 9, 11, 112, 2, 2, 1, 1, true, 3},
                                         PoolCase{1, 10, 10, 8, 9, 9, 1, 1, false, 1}),
                       ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<PoolCase, bool>>& i) {
      const PoolCase& c = std::get<0>(i.param);
      return std::string(std::get<1>(i.param) ? "avg_" : "max_") + std::to_string(c.h) + "x" +
             std::to_string(c.w) + "x" + std::to_string(c.c) + "_f" + std::to_string(c.fh) +
             std::to_string(c.fw) + "_s" + std::to_string(c.sh) + std::to_string(c.sw) +
             (c.same ? "_same" : "_valid") + "_act" + std::to_string(c.act);
    });

// ---- MEAN --------------------------------------------------------------------------------

struct MeanCase {
  std::vector<int32_t> shape;
  std::vector<int32_t> axes;
  bool keep_dims;
};

std::vector<int32_t> MeanOutShape(const MeanCase& c, std::vector<bool>* reduced) {
  const int r = static_cast<int>(c.shape.size());
  reduced->assign(r, false);
  for (int32_t a : c.axes) (*reduced)[a < 0 ? a + r : a] = true;
  std::vector<int32_t> out;
  for (int d = 0; d < r; ++d) {
    if (!(*reduced)[d])
      out.push_back(c.shape[d]);
    else if (c.keep_dims)
      out.push_back(1);
  }
  return out;
}

// Sums per output element (input order) and the count of reduced elements.
template <typename T>
void MeanGroups(const MeanCase& c, const std::vector<bool>& reduced, const std::vector<T>& x,
                std::vector<double>* sums, int64_t* count) {
  const int r = static_cast<int>(c.shape.size());
  *count = 1;
  for (int d = 0; d < r; ++d) *count *= reduced[d] ? c.shape[d] : 1;
  const int64_t n_out = Elements(c.shape) / *count;
  sums->assign(static_cast<size_t>(n_out), 0.0);
  std::vector<int32_t> idx(r, 0);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t o = 0;
    for (int d = 0; d < r; ++d) {
      if (!reduced[d]) o = o * c.shape[d] + idx[d];
    }
    (*sums)[o] += x[i];
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[d] < c.shape[d]) break;
      idx[d] = 0;
    }
  }
}

class MeanTest : public ::testing::TestWithParam<MeanCase> {};

TEST_P(MeanTest, Float) {
  const MeanCase c = GetParam();
  std::vector<bool> reduced;
  const auto out_shape = MeanOutShape(c, &reduced);
  auto x = RandomFloats(static_cast<size_t>(Elements(c.shape)), 93);
  OpModel m;
  const int in = m.Input(DType::kFloat32, c.shape);
  const int axes = m.Const(DType::kInt32, {static_cast<int32_t>(c.axes.size())}, c.axes);
  const int out = m.Output(DType::kFloat32, out_shape);
  m.Op(op::kMean, {in, axes}, {out}, opt::kReducer, {{"keep_dims", int64_t{c.keep_dims}}});
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<double> sums;
  int64_t count;
  MeanGroups(c, reduced, x, &sums, &count);
  std::vector<float> want(sums.size());
  for (size_t i = 0; i < sums.size(); ++i) want[i] = static_cast<float>(sums[i] / count);
  ExpectClose(m.GetOutput<float>(0), want);
}

// int8 MEAN is TFLite's reference QuantizedMeanOrSum, with equal and different quantization.
TEST_P(MeanTest, Int8) {
  const MeanCase c = GetParam();
  std::vector<bool> reduced;
  const auto out_shape = MeanOutShape(c, &reduced);
  auto x = RandomInt8(static_cast<size_t>(Elements(c.shape)), 94);
  for (bool same_quant : {true, false}) {
    SCOPED_TRACE(same_quant ? "same quantization" : "rescaled");
    const float si = 0.06f, so = same_quant ? 0.06f : 0.021f;
    const int32_t zi = 7, zo = same_quant ? 7 : -11;
    OpModel m;
    const int in = m.Input(DType::kInt8, c.shape, Q(si, zi));
    const int axes = m.Const(DType::kInt32, {static_cast<int32_t>(c.axes.size())}, c.axes);
    const int out = m.Output(DType::kInt8, out_shape, Q(so, zo));
    m.Op(op::kMean, {in, axes}, {out}, opt::kReducer, {{"keep_dims", int64_t{c.keep_dims}}}, 2);
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    std::vector<double> sums;
    int64_t count;
    MeanGroups(c, reduced, x, &sums, &count);
    std::vector<int8_t> want(sums.size());
    const bool spatial = c.keep_dims && c.shape.size() == 4 && c.axes.size() == 2 &&
                         ((c.axes[0] == 1 && c.axes[1] == 2) || (c.axes[0] == 2 && c.axes[1] == 1));
    for (size_t i = 0; i < sums.size() && spatial; ++i) {
      // TFLite's default kernel for the keep_dims spatial mean (optimized_integer_ops::Mean): the
      // raw sum, a multiplier for the float input_scale / (count * output_scale) and a bias from
      // float arithmetic; 16-channel blocks round the final shift half up.
      const float n = static_cast<float>(count);
      float t = static_cast<float>(zi) * si / so;
      t = t > 0 ? t + 0.5f : t - 0.5f;
      const int32_t bias = zo - static_cast<int32_t>(t);
      int32_t mult;
      int shift;
      RefQuantizeMultiplier(static_cast<double>(si / (n * so)), &mult, &shift);
      const int ch = c.shape[3];
      const int32_t sum = static_cast<int32_t>(sums[i]);
      const bool blocked = static_cast<int>(i % static_cast<size_t>(ch)) < ch - ch % 16;
      const int32_t v = (blocked ? RefMultiplyByQuantizedMultiplierRoundUp(sum, mult, shift)
                                 : RefMultiplyByQuantizedMultiplier(sum, mult, shift)) +
                        bias;
      want[i] = static_cast<int8_t>(std::min(std::max(v, -128), 127));
    }
    for (size_t i = 0; i < sums.size() && !spatial; ++i) {
      const int32_t sum = static_cast<int32_t>(sums[i]);
      const int32_t n = static_cast<int32_t>(count);
      int32_t mult;
      int shift;
      RefQuantizeMultiplier(double(si) / double(so), &mult, &shift);
      // QuantizedMeanOrSum: 1/n folded into the multiplier with s = floor(log2(n)) extra bits.
      int s = 0;
      while ((int64_t{2} << s) <= n) ++s;
      s = std::min({s, 32, 31 + shift});
      const int32_t m2 = static_cast<int32_t>((static_cast<int64_t>(mult) << s) / n);
      const int32_t v = std::min(
          std::max(RefMultiplyByQuantizedMultiplier(sum - zi * n, m2, shift - s) + zo, -128), 127);
      want[i] = static_cast<int8_t>(v);
    }
    ExpectEqual(m.GetOutput<int8_t>(0), want);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Axes, MeanTest,
    ::testing::Values(MeanCase{{1, 5, 5, 8}, {1, 2}, false}, MeanCase{{2, 4, 3, 6}, {1, 2}, true},
                      MeanCase{{2, 4, 3, 6}, {2, 1}, true}, MeanCase{{3, 4, 5}, {-1}, false},
                      MeanCase{{3, 4, 5}, {0, 2}, true}, MeanCase{{2, 3, 4, 5}, {1, 1, 3}, false},
                      MeanCase{{6, 7}, {0, 1}, false}, MeanCase{{1, 7, 7, 33}, {-3, -2}, true},
                      MeanCase{{2, 3, 4, 37}, {1, 2}, true}),
    [](const ::testing::TestParamInfo<MeanCase>& i) {
      std::string s = "in";
      for (int32_t d : i.param.shape) s += "_" + std::to_string(d);
      s += "_axes";
      for (int32_t a : i.param.axes)
        s += "_" + std::string(a < 0 ? "m" : "") + std::to_string(std::abs(a));
      return s + (i.param.keep_dims ? "_keep" : "");
    });

// ---- SOFTMAX -------------------------------------------------------------------------------

TEST(SoftmaxTest, FloatWithBeta) {
  for (float beta : {1.0f, 0.5f, 2.0f}) {
    auto x = RandomFloats(3 * 10, 95, -5, 5);
    OpModel m;
    const int in = m.Input(DType::kFloat32, {3, 10});
    const int out = m.Output(DType::kFloat32, {3, 10});
    m.Op(op::kSoftmax, {in}, {out}, opt::kSoftmax, {{"beta", double{beta}}});
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    std::vector<float> want(x.size());
    for (int r = 0; r < 3; ++r) {
      double mx = -1e30, sum = 0;
      for (int j = 0; j < 10; ++j) mx = std::max<double>(mx, x[r * 10 + j]);
      for (int j = 0; j < 10; ++j) sum += std::exp((x[r * 10 + j] - mx) * beta);
      for (int j = 0; j < 10; ++j)
        want[r * 10 + j] = static_cast<float>(std::exp((x[r * 10 + j] - mx) * beta) / sum);
    }
    ExpectClose(m.GetOutput<float>(0), want);
  }
}

// TFLite's int8 softmax on x86: a float table of exp over the distance from the row maximum.
TEST(SoftmaxTest, Int8) {
  auto x = RandomInt8(4 * 33, 96);
  const float si = 0.1f;
  OpModel m;
  const int in = m.Input(DType::kInt8, {1, 4, 33}, Q(si, 3));
  const int out = m.Output(DType::kInt8, {1, 4, 33}, Q(1.0f / 256, -128));
  m.Op(op::kSoftmax, {in}, {out}, opt::kSoftmax, {{"beta", 1.0}}, 2);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<int8_t> want(x.size());
  for (int r = 0; r < 4; ++r) {
    int mx = -128;
    for (int j = 0; j < 33; ++j) mx = std::max<int>(mx, x[r * 33 + j]);
    float sum = 0;
    for (int j = 0; j < 33; ++j) sum += std::exp(-si * static_cast<float>(mx - x[r * 33 + j]));
    const float inv = 1.0f / (sum * (1.0f / 256));
    for (int j = 0; j < 33; ++j) {
      const float p = std::exp(-si * static_cast<float>(mx - x[r * 33 + j])) * inv;
      want[r * 33 + j] =
          static_cast<int8_t>(std::min(std::max(static_cast<int>(std::round(p)) - 128, -128), 127));
    }
  }
  ExpectEqual(m.GetOutput<int8_t>(0), want);
}

}  // namespace
}  // namespace xbnn::testing
