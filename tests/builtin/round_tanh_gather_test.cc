// ROUND, TANH and GATHER against hand-computed values: ROUND's ties to even (and TFLite's sign of
// zero), TANH's saturation and its int8 table, GATHER's axes, batch_dims, index types, load-time
// folding and its out-of-range errors (at load for constant indices, from Invoke otherwise).
#include <gmock/gmock.h>

#include <limits>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;
using ::testing::HasSubstr;
constexpr uint8_t kGatherOptions = 23;
constexpr int32_t kShape = 77, kReshape = 22;
constexpr uint8_t kShapeOptions = 55;

std::string ErrorOf(OpModel& m) {
  const Status s = m.Build();
  EXPECT_FALSE(s.ok()) << "expected the model to be refused";
  return s.message();
}

// ---- ROUND ------------------------------------------------------------------------------------

std::vector<float> RunFloatUnary(int32_t code, const std::vector<float>& x, int version = 1) {
  OpModel m;
  const int in = m.Input(DType::kFloat32, {static_cast<int32_t>(x.size())});
  const int out = m.Output(DType::kFloat32, {static_cast<int32_t>(x.size())});
  m.Op(code, {in}, {out}, 0, {}, version);
  const Status s = m.Build();
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return {};
  m.SetInput(0, x);
  EXPECT_TRUE(m.Invoke().ok());
  return m.GetOutput<float>(0);
}

TEST(RoundTest, TiesToEven) {
  const float inf = std::numeric_limits<float>::infinity();
  const float below_half = std::nextafter(0.5f, 0.0f), above_half = std::nextafter(0.5f, 1.0f);
  const std::vector<float> x = {
      0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, -3.5f, below_half, above_half, 2.4f, -2.6f, 0.0f, 7.0f,
      -7.0f, 1e30f, -1e30f,
      // 2^22 + 0.5 and 2^22 + 1.5 are ties; 2^23 + 1 is an odd integer already.
      4194304.5f, 4194305.5f, 8388609.0f, -8388609.0f, inf, -inf};
  const std::vector<float> want = {0.0f,       2.0f,        2.0f,  0.0f,   -2.0f,      -2.0f,
                                   -4.0f,      0.0f,        1.0f,  2.0f,   -3.0f,      0.0f,
                                   7.0f,       -7.0f,       1e30f, -1e30f, 4194304.0f, 4194306.0f,
                                   8388609.0f, -8388609.0f, inf,   -inf};
  EXPECT_EQ(RunFloatUnary(op::kRound, x), want);
}

TEST(RoundTest, SignOfZeroAndNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto y = RunFloatUnary(op::kRound, {-0.5f, -0.3f, -0.0f, 0.3f, nan});
  ASSERT_EQ(y.size(), 5u);
  // TFLite adds one to floor(x) = -1: +0, where std::nearbyint gives -0.
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_FALSE(std::signbit(y[0]));
  EXPECT_FALSE(std::signbit(y[1]));
  EXPECT_TRUE(std::signbit(y[2]));  // floor(-0) is -0, nothing added
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_TRUE(std::isnan(y[4]));
}

TEST(RoundTest, RefusesIntegerTypesAndNewerVersions) {
  {
    OpModel m;
    const int in = m.Input(DType::kInt8, {4}, Q(0.5f, 0));
    const int out = m.Output(DType::kInt8, {4}, Q(0.5f, 0));
    m.Op(op::kRound, {in}, {out});
    const std::string e = ErrorOf(m);
    EXPECT_THAT(e, HasSubstr("(ROUND)"));
    EXPECT_THAT(e, HasSubstr("has type int8, supported: float32"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {4});
    const int out = m.Output(DType::kFloat32, {4});
    m.Op(op::kRound, {in}, {out}, 0, {}, 2);
    EXPECT_THAT(
        ErrorOf(m),
        HasSubstr("operator ROUND version 2 is not supported (xbnn implements up to version 1)"));
  }
}

// ---- TANH -------------------------------------------------------------------------------------

TEST(TanhTest, FloatValuesAndSaturation) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f,  0.5f,  -0.5f,  1.0f,   -3.0f,  1e-8f, 9.0f,
                                -9.0f, 20.0f, -20.0f, 100.0f, -1e30f, inf,   -inf};
  const auto y = RunFloatUnary(op::kTanh, x);
  ASSERT_EQ(y.size(), x.size());
  // tanh(0.5) = 0.46211715726, tanh(1) = 0.76159415596, tanh(3) = 0.99505475369; within 1 ulp-ish
  // of the correctly rounded float (std::tanh of glibc is within 1 ulp).
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_NEAR(y[1], 0.46211715726f, 1e-7);
  EXPECT_NEAR(y[2], -0.46211715726f, 1e-7);
  EXPECT_NEAR(y[3], 0.76159415596f, 1e-7);
  EXPECT_NEAR(y[4], -0.99505475369f, 1e-7);
  EXPECT_NEAR(y[5], 1e-8f, 1e-15);  // tanh(x) = x for tiny x
  // tanh(9) = 1 - 3.05e-8: within one float ulp below 1 of 1.
  EXPECT_NEAR(y[6], 1.0f, 6e-8);
  EXPECT_NEAR(y[7], -1.0f, 6e-8);
  for (size_t i = 8; i < x.size(); ++i) EXPECT_EQ(y[i], x[i] > 0 ? 1.0f : -1.0f) << "x = " << x[i];
}

// A sweep over [-10, 10] against tanh in double (what tflite_crosscheck.py compares with TFLite's
// approximation too).
TEST(TanhTest, FloatSweep) {
  std::vector<float> x(20001);
  for (size_t i = 0; i < x.size(); ++i) x[i] = -10.0f + 0.001f * static_cast<float>(i);
  const auto y = RunFloatUnary(op::kTanh, x);
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = static_cast<float>(std::tanh(double{x[i]}));
  ExpectClose(y, want, 2e-7);
}

TEST(TanhTest, Int8Table) {
  std::vector<int8_t> q(256);
  for (int i = 0; i < 256; ++i) q[i] = static_cast<int8_t>(i - 128);
  // Any output quantization: TFLite's table takes it as it is (here scale 1/100, zero point -10).
  for (const auto& [qi, qo] :
       {std::pair{Q(0.05f, 3), Q(1.0f / 128, 0)}, std::pair{Q(0.02f, -20), Q(0.01f, -10)}}) {
    OpModel m;
    const int in = m.Input(DType::kInt8, {256}, qi);
    const int out = m.Output(DType::kInt8, {256}, qo);
    m.Op(op::kTanh, {in}, {out}, 0, {}, 2);
    ASSERT_TRUE(m.Build().ok()) << m.Build().message();
    m.SetInput(0, q);
    ASSERT_TRUE(m.Invoke().ok());
    const auto got = m.GetOutput<int8_t>(0);
    std::vector<int8_t> want(256);
    for (int i = 0; i < 256; ++i) {
      const float x = qi.scale[0] * static_cast<float>(q[i] - qi.zero_point[0]);
      const float r = std::round(std::tanh(x) / qo.scale[0]) + static_cast<float>(qo.zero_point[0]);
      want[i] = static_cast<int8_t>(std::min(std::max(r, -128.0f), 127.0f));
    }
    ExpectEqual(got, want);
  }
  // Hand-checked entries of the first table (input scale 0.05, zero point 3; output 1/128, 0).
  OpModel m;
  const int in = m.Input(DType::kInt8, {5}, Q(0.05f, 3));
  const int out = m.Output(DType::kInt8, {5}, Q(1.0f / 128, 0));
  m.Op(op::kTanh, {in}, {out}, 0, {}, 2);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, std::vector<int8_t>{3, 13, 23, -7, -128});
  ASSERT_TRUE(m.Invoke().ok());
  // x = 0, 0.5, 1, -0.5, -6.55: 128 tanh(x) = 0, 59.15, 97.48, -59.15, -127.9995 (clamped to -128).
  EXPECT_EQ(m.GetOutput<int8_t>(0), (std::vector<int8_t>{0, 59, 97, -59, -128}));
}

TEST(TanhTest, RefusesInt16AndNewerVersions) {
  {
    OpModel m;
    const int in = m.Input(DType::kInt16, {4}, Q(1.0f / 4096, 0));
    const int out = m.Output(DType::kInt16, {4}, Q(1.0f / 32768, 0));
    m.Op(op::kTanh, {in}, {out}, 0, {}, 3);
    const std::string e = ErrorOf(m);
    EXPECT_THAT(e, HasSubstr("(TANH)"));
    EXPECT_THAT(e, HasSubstr("has type int16, supported: float32, int8"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {4});
    const int out = m.Output(DType::kFloat32, {4});
    m.Op(op::kTanh, {in}, {out}, 0, {}, 4);
    EXPECT_THAT(
        ErrorOf(m),
        HasSubstr("operator TANH version 4 is not supported (xbnn implements up to version 3)"));
  }
}

// ---- GATHER -----------------------------------------------------------------------------------

std::vector<Field> GatherFields(int64_t axis, int64_t batch_dims = 0) {
  return {{"axis", axis}, {"batch_dims", batch_dims}};
}

std::vector<float> Iota(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  return v;
}

// GATHER of float params (a model input) by constant int32 indices; checks the inferred shape.
std::vector<float> GatherFloat(const std::vector<int32_t>& params_shape,
                               const std::vector<float>& params,
                               const std::vector<int32_t>& indices_shape,
                               const std::vector<int32_t>& indices, int64_t axis,
                               int64_t batch_dims, const std::vector<int32_t>& want_shape) {
  OpModel m;
  const int p = m.Input(DType::kFloat32, params_shape);
  const int i = m.Const(DType::kInt32, indices_shape, indices);
  const int out = m.Output(DType::kFloat32, {1});  // wrong in the file: inferred
  m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(axis, batch_dims),
       batch_dims != 0 ? 5 : 1);
  const Status s = m.Build();
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return {};
  EXPECT_EQ(m.interpreter().output_info(0).shape, want_shape);
  m.SetInput(0, params);
  EXPECT_TRUE(m.Invoke().ok());
  return m.GetOutput<float>(0);
}

TEST(GatherTest, Axes) {
  // params [[0 1] [2 3] [4 5]], rows 2, 0, 2.
  EXPECT_EQ(GatherFloat({3, 2}, Iota(6), {3}, {2, 0, 2}, 0, 0, {3, 2}),
            (std::vector<float>{4, 5, 0, 1, 4, 5}));
  // params [[0 1 2] [3 4 5]], columns 2, 0.
  EXPECT_EQ(GatherFloat({2, 3}, Iota(6), {2}, {2, 0}, 1, 0, {2, 2}),
            (std::vector<float>{2, 0, 5, 3}));
  // axis -1 of [2, 2, 3] with a scalar index: element 1 of every row, rank 2 out.
  EXPECT_EQ(GatherFloat({2, 2, 3}, Iota(12), {}, {1}, -1, 0, {2, 2}),
            (std::vector<float>{1, 4, 7, 10}));
  // axis -2 of [2, 2, 3]: the same as axis 1.
  EXPECT_EQ(GatherFloat({2, 2, 3}, Iota(12), {1}, {1}, -2, 0, {2, 1, 3}),
            (std::vector<float>{3, 4, 5, 9, 10, 11}));
  // 2-D indices into a vector: the output takes the indices' shape.
  EXPECT_EQ(GatherFloat({4}, {10, 20, 30, 40}, {2, 2}, {3, 0, 1, 1}, 0, 0, {2, 2}),
            (std::vector<float>{40, 10, 20, 20}));
  // The middle axis with 2-D indices: [2] + [2, 2] + [2].
  EXPECT_EQ(GatherFloat({2, 3, 2}, Iota(12), {2, 2}, {2, 0, 1, 1}, 1, 0, {2, 2, 2, 2}),
            (std::vector<float>{4, 5, 0, 1, 2, 3, 2, 3, 10, 11, 6, 7, 8, 9, 8, 9}));
}

TEST(GatherTest, BatchDims) {
  // Row b of params [[0 1 2] [3 4 5]] picks by row b of indices [[0 2] [1 1]].
  EXPECT_EQ(GatherFloat({2, 3}, Iota(6), {2, 2}, {0, 2, 1, 1}, 1, 1, {2, 2}),
            (std::vector<float>{0, 2, 4, 4}));
  // batch_dims -1 counts from the rank of indices (2): the same as 1.
  EXPECT_EQ(GatherFloat({2, 3}, Iota(6), {2, 2}, {0, 2, 1, 1}, 1, -1, {2, 2}),
            (std::vector<float>{0, 2, 4, 4}));
  // batch_dims 1 and axis 2 of [2, 2, 3] with indices [2, 1] = [[2] [0]]: out [2, 2, 1], batch 0
  // takes element 2 of rows (0 1 2) and (3 4 5), batch 1 element 0 of (6 7 8) and (9 10 11).
  EXPECT_EQ(GatherFloat({2, 2, 3}, Iota(12), {2, 1}, {2, 0}, 2, 1, {2, 2, 1}),
            (std::vector<float>{2, 5, 6, 9}));
}

TEST(GatherTest, ParamAndIndexTypes) {
  {  // int8 params keep their bytes (and quantization); int64 indices.
    OpModel m;
    const int p = m.Input(DType::kInt8, {4}, Q(0.5f, 3));
    const int i = m.Const(DType::kInt64, {3}, std::vector<int64_t>{3, 0, 3});
    const int out = m.Output(DType::kInt8, {3}, Q(0.5f, 3));
    m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(0), 2);
    ASSERT_TRUE(m.Build().ok()) << m.Build().message();
    m.SetInput(0, std::vector<int8_t>{-128, 5, 6, 127});
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<int8_t>(0), (std::vector<int8_t>{127, -128, 127}));
  }
  {  // int32 params by int64 indices along axis 1.
    OpModel m;
    const int p = m.Input(DType::kInt32, {2, 3});
    const int i = m.Const(DType::kInt64, {2}, std::vector<int64_t>{1, 2});
    const int out = m.Output(DType::kInt32, {2, 2});
    m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(1));
    ASSERT_TRUE(m.Build().ok()) << m.Build().message();
    m.SetInput(0, std::vector<int32_t>{-7, 1 << 30, 9, 4, -5, 6});
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<int32_t>(0), (std::vector<int32_t>{1 << 30, 9, -5, 6}));
  }
  {  // int64 params, int64 indices read from a model input.
    OpModel m;
    const int p = m.Input(DType::kInt64, {3});
    const int i = m.Input(DType::kInt64, {2});
    const int out = m.Output(DType::kInt64, {2});
    m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(0));
    ASSERT_TRUE(m.Build().ok()) << m.Build().message();
    m.SetInput(0, std::vector<int64_t>{int64_t{1} << 40, -3, 5});
    m.SetInput(1, std::vector<int64_t>{2, 0});
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<int64_t>(0), (std::vector<int64_t>{5, int64_t{1} << 40}));
  }
}

TEST(GatherTest, ConstantIndexOutOfRangeFailsAtLoad) {
  for (int32_t bad : {3, -1}) {  // TFLite does not wrap negative indices either
    OpModel m;
    const int p = m.Input(DType::kFloat32, {3, 2});
    const int i = m.Const(DType::kInt32, {2}, std::vector<int32_t>{0, bad});
    const int out = m.Output(DType::kFloat32, {2, 2});
    m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(0));
    const std::string e = ErrorOf(m);
    EXPECT_THAT(
        e, HasSubstr("op 0 (GATHER): index " + std::to_string(bad) + " (element 1 of indices"));
    EXPECT_THAT(e, HasSubstr("is outside [0, 3) along axis 0"));
  }
}

// As TFLite: params with a zero dimension before the axis read no index, so none is out of range.
TEST(GatherTest, EmptyParamsReadNoIndex) {
  OpModel m;
  const int p = m.Input(DType::kFloat32, {0, 2});
  const int i = m.Input(DType::kInt32, {1});
  const int out = m.Output(DType::kFloat32, {0, 1});
  m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(1));
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  m.SetInput(1, std::vector<int32_t>{7});
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_TRUE(m.GetOutput<float>(0).empty());
}

// Constant indices with zero elements (the converter writes no bytes for them, so the tensor's
// buffer is empty): as in TFLite, an empty constant, and the output has zero rows along the axis.
TEST(GatherTest, EmptyConstantIndicesGiveAnEmptyOutput) {
  for (bool two_readers : {false, true}) {
    OpModel m;
    const int p = m.Input(DType::kFloat32, {2, 3});
    const int i = m.Const(DType::kInt32, {0}, std::vector<int32_t>{});
    const int out = m.Output(DType::kFloat32, {2, 0});
    m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(1));
    if (two_readers) {
      // A second reader of the empty constant, so that it is not just one op's input.
      const int out2 = m.Output(DType::kFloat32, {0, 3});
      m.Op(op::kGather, {p, i}, {out2}, kGatherOptions, GatherFields(0));
    }
    const Status s = m.Build();
    ASSERT_TRUE(s.ok()) << s.message();
    m.SetInput(0, Iota(6));
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_TRUE(m.GetOutput<float>(0).empty());
    EXPECT_EQ(m.interpreter().output(0).shape(), (std::vector<int32_t>{2, 0}));
  }
}

TEST(GatherTest, DynamicIndexOutOfRangeFailsInvoke) {
  OpModel m;
  const int p = m.Input(DType::kFloat32, {2, 3});
  const int i = m.Input(DType::kInt32, {2});
  const int out = m.Output(DType::kFloat32, {2, 2});
  m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(-1));
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  m.SetInput(0, Iota(6));
  m.SetInput(1, std::vector<int32_t>{1, 3});
  Status s = m.Invoke();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("op 0 (GATHER): index 3 (element 1 of indices"));
  EXPECT_THAT(s.message(), HasSubstr("is outside [0, 3) along axis 1"));
  m.SetInput(1, std::vector<int32_t>{-2147483647 - 1, 0});
  s = m.Invoke();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("index -2147483648 (element 0"));
  // The error does not stick: valid indices run again.
  m.SetInput(1, std::vector<int32_t>{2, 0});
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_EQ(m.GetOutput<float>(0), (std::vector<float>{2, 0, 5, 3}));
}

TEST(GatherTest, DynamicInt64IndexBeyondInt32FailsInvoke) {
  OpModel m;
  const int p = m.Input(DType::kFloat32, {3});
  const int i = m.Input(DType::kInt64, {1});
  const int out = m.Output(DType::kFloat32, {1});
  m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(0));
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  m.SetInput(0, std::vector<float>{1, 2, 3});
  m.SetInput(1, std::vector<int64_t>{(int64_t{1} << 32) + 1});  // 1 when truncated to 32 bits
  const Status s = m.Invoke();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("index 4294967297 (element 0"));
}

// GATHER of a shape vector (tf.shape(x)[...]) is evaluated at load time, so RESHAPE gets a
// constant shape.
TEST(GatherTest, ShapeVectorFoldsAtLoad) {
  OpModel m;
  const int in = m.Input(DType::kFloat32, {2, 3, 4});
  const int shp = m.Temp(DType::kInt32, {3});
  const int order = m.Const(DType::kInt32, {3}, std::vector<int32_t>{2, 0, 1});
  const int permuted = m.Temp(DType::kInt32, {3});
  const int out = m.Output(DType::kFloat32, {24});  // wrong in the file on purpose
  m.Op(kShape, {in}, {shp}, kShapeOptions, {{"out_type", int64_t{2}}});
  m.Op(op::kGather, {shp, order}, {permuted}, kGatherOptions, GatherFields(0));
  m.Op(kReshape, {in, permuted}, {out});
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  EXPECT_EQ(m.interpreter().output_info(0).shape, (std::vector<int32_t>{4, 2, 3}));
  m.SetInput(0, Iota(24));
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_EQ(m.GetOutput<float>(0), Iota(24));
}

TEST(GatherTest, RefusesBadAxesTypesAndVersions) {
  struct Case {
    std::vector<int32_t> params, indices;
    int64_t axis, batch_dims;
    DType index_type;
    int version;
    std::string message;
  };
  const Case cases[] = {
      {{2, 3}, {2}, 2, 0, DType::kInt32, 1, "axis 2 is outside [-2, 2) for params [2,3]"},
      {{2, 3}, {2}, -3, 0, DType::kInt32, 1, "axis -3 is outside [-2, 2)"},
      {{2, 3}, {2, 2}, 0, 1, DType::kInt32, 5, "batch_dims 1 must be in [-2, 2]"},  // > axis
      {{2, 3}, {2}, 1, 2, DType::kInt32, 5, "batch_dims 2 must be in [-1, 1]"},
      {{2, 3}, {2}, 1, -2, DType::kInt32, 5, "batch_dims -2 must be in [-1, 1]"},
      {{2, 3},
       {3, 1},
       1,
       1,
       DType::kInt32,
       5,
       "batch dimension 0 differs: params [2,3], indices [3,1]"},
      {{2, 3}, {2}, 0, 0, DType::kInt16, 6, "indices 't1' has type int16, supported: int32, int64"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    OpModel m;
    const int p = m.Input(DType::kFloat32, c.params);
    const int i = m.Input(c.index_type, c.indices);
    const int out = m.Output(DType::kFloat32, {1});
    m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(c.axis, c.batch_dims), c.version);
    const std::string e = ErrorOf(m);
    EXPECT_THAT(e, HasSubstr("(GATHER)"));
    EXPECT_THAT(e, HasSubstr(c.message));
  }
  OpModel m;
  const int p = m.Input(DType::kFloat32, {2});
  const int i = m.Input(DType::kInt32, {1});
  const int out = m.Output(DType::kFloat32, {1});
  m.Op(op::kGather, {p, i}, {out}, kGatherOptions, GatherFields(0), 8);
  EXPECT_THAT(
      ErrorOf(m),
      HasSubstr("operator GATHER version 8 is not supported (xbnn implements up to version 7)"));
}

}  // namespace
}  // namespace xbnn::testing
