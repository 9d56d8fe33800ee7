// SPLIT, SPLIT_V, PACK, TRANSPOSE, SHAPE and ABS against plain index arithmetic.
#include <gmock/gmock.h>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;
using ::testing::HasSubstr;
constexpr int32_t kTranspose = 39, kSplit = 49, kShape = 77, kPack = 83, kAbs = 101, kSplitV = 102;
constexpr uint8_t kTransposeOptions = 26, kSplitOptions = 35, kShapeOptions = 55, kPackOptions = 59,
                  kAbsOptions = 78, kSplitVOptions = 79;

std::vector<float> Iota(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

// Element (i0..i3) of a row-major [d0,d1,d2,d3] tensor.
int64_t At(const std::vector<int32_t>& d, int64_t a, int64_t b, int64_t c, int64_t e) {
  return ((a * d[1] + b) * d[2] + c) * d[3] + e;
}

TEST(SplitTest, EqualPartsEveryAxis) {
  const std::vector<int32_t> shape = {2, 4, 6, 3};
  const auto x = Iota(2 * 4 * 6 * 3);
  for (int axis = -4; axis < 4; ++axis) {
    const int a = axis < 0 ? axis + 4 : axis;
    const int parts = shape[a] % 2 == 0 ? 2 : 3;
    std::vector<int32_t> part_shape = shape;
    part_shape[a] /= parts;
    OpModel m;
    const int ax = m.Const(DType::kInt32, {}, std::vector<int32_t>{axis});
    const int in = m.Input(DType::kFloat32, shape);
    std::vector<int32_t> outs;
    for (int p = 0; p < parts; ++p) outs.push_back(m.Output(DType::kFloat32, part_shape));
    m.Op(kSplit, {ax, in}, outs, kSplitOptions, {{"num_splits", int64_t{parts}}});
    ASSERT_TRUE(m.Build().ok()) << axis;
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    for (int p = 0; p < parts; ++p) {
      std::vector<float> want;
      for (int64_t i0 = 0; i0 < part_shape[0]; ++i0)
        for (int64_t i1 = 0; i1 < part_shape[1]; ++i1)
          for (int64_t i2 = 0; i2 < part_shape[2]; ++i2)
            for (int64_t i3 = 0; i3 < part_shape[3]; ++i3) {
              int64_t idx[4] = {i0, i1, i2, i3};
              idx[a] += static_cast<int64_t>(p) * part_shape[a];
              want.push_back(x[At(shape, idx[0], idx[1], idx[2], idx[3])]);
            }
      EXPECT_EQ(m.GetOutput<float>(p), want) << "axis " << axis << " part " << p;
    }
  }
}

// Channel splits large enough to run on several threads, rows of 16, 64 and 24 bytes (the
// inlined copies and the library call): every part on 1 to 3 threads.
TEST(SplitTest, ChannelsOnThreads) {
  const std::vector<int32_t> shape = {2, 40, 30, 48};
  const auto x = Iota(2 * 40 * 30 * 48);
  for (int parts : {12, 3, 8}) {
    std::vector<int32_t> part_shape = shape;
    part_shape[3] /= parts;
    for (int threads : {1, 2, 3}) {
      OpModel m;
      const int ax = m.Const(DType::kInt32, {}, std::vector<int32_t>{3});
      const int in = m.Input(DType::kFloat32, shape);
      std::vector<int32_t> outs;
      for (int p = 0; p < parts; ++p) outs.push_back(m.Output(DType::kFloat32, part_shape));
      m.Op(kSplit, {ax, in}, outs, kSplitOptions, {{"num_splits", int64_t{parts}}});
      ASSERT_TRUE(m.Build(threads).ok());
      m.SetInput(0, x);
      ASSERT_TRUE(m.Invoke().ok());
      for (int p = 0; p < parts; ++p) {
        std::vector<float> want;
        for (int64_t k = 0; k < 2 * 40 * 30; ++k)
          for (int c = 0; c < part_shape[3]; ++c) want.push_back(x[k * 48 + p * part_shape[3] + c]);
        EXPECT_EQ(m.GetOutput<float>(p), want) << parts << " parts, part " << p << ", " << threads;
      }
    }
  }
}

TEST(SplitTest, SizesWithMinusOneAndInt8) {
  OpModel m;
  const int in = m.Input(DType::kInt8, {3, 7}, Q(0.5f, 1));
  const int sizes = m.Const(DType::kInt32, {3}, std::vector<int32_t>{2, -1, 1});
  const int ax = m.Const(DType::kInt32, {1}, std::vector<int32_t>{1});
  const int o0 = m.Output(DType::kInt8, {3, 2}, Q(0.5f, 1));
  const int o1 = m.Output(DType::kInt8, {3, 4}, Q(0.5f, 1));
  const int o2 = m.Output(DType::kInt8, {3, 1}, Q(0.5f, 1));
  m.Op(kSplitV, {in, sizes, ax}, {o0, o1, o2}, kSplitVOptions, {{"num_splits", int64_t{3}}}, 2);
  ASSERT_TRUE(m.Build().ok());
  const auto x = RandomInt8(21, 5);
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  const int starts[] = {0, 2, 6}, widths[] = {2, 4, 1};
  for (int p = 0; p < 3; ++p) {
    std::vector<int8_t> want;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < widths[p]; ++c) want.push_back(x[r * 7 + starts[p] + c]);
    EXPECT_EQ(m.GetOutput<int8_t>(p), want);
  }
}

TEST(SplitTest, RefusesUnevenSplit) {
  OpModel m;
  const int ax = m.Const(DType::kInt32, {}, std::vector<int32_t>{0});
  const int in = m.Input(DType::kFloat32, {5, 2});
  const int o0 = m.Output(DType::kFloat32, {2, 2});
  const int o1 = m.Output(DType::kFloat32, {2, 2});
  m.Op(kSplit, {ax, in}, {o0, o1}, kSplitOptions, {{"num_splits", int64_t{2}}});
  const Status s = m.Build();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("does not split into 2 equal parts"));
}

TEST(PackTest, EveryAxis) {
  const std::vector<int32_t> shape = {2, 3};
  const auto x0 = Iota(6), x1 = Iota(6);
  for (int axis = -3; axis < 3; ++axis) {
    const int a = axis < 0 ? axis + 3 : axis;
    std::vector<int32_t> out_shape = shape;
    out_shape.insert(out_shape.begin() + a, 3);
    OpModel m;
    const int i0 = m.Input(DType::kFloat32, shape);
    const int i1 = m.Input(DType::kFloat32, shape);
    const int i2 = m.Const(DType::kFloat32, shape, std::vector<float>(6, -1.0f));
    const int out = m.Output(DType::kFloat32, out_shape);
    m.Op(kPack, {i0, i1, i2}, {out}, kPackOptions, {{"values_count", int64_t{3}}, {"axis", int64_t{axis}}});
    ASSERT_TRUE(m.Build().ok()) << axis;
    std::vector<float> b = Iota(6);
    for (float& v : b) v += 100;
    m.SetInput(0, x0);
    m.SetInput(1, b);
    ASSERT_TRUE(m.Invoke().ok());
    // out[..., k at axis, ...] = input k at the remaining indices.
    std::vector<float> want;
    for (int64_t o = 0; o < 18; ++o) {
      int64_t idx[3], rest = o;
      for (int d = 2; d >= 0; --d) idx[d] = rest % out_shape[d], rest /= out_shape[d];
      int64_t k = idx[a], in_idx[2], j = 0;
      for (int d = 0; d < 3; ++d) {
        if (d != a) in_idx[j++] = idx[d];
      }
      const int64_t flat = in_idx[0] * 3 + in_idx[1];
      want.push_back(k == 0 ? x0[flat] : k == 1 ? b[flat] : -1.0f);
    }
    EXPECT_EQ(m.GetOutput<float>(0), want) << "axis " << axis;
  }
}

TEST(TransposeTest, AllPermutationsOfRank4) {
  const std::vector<int32_t> shape = {2, 3, 4, 5};
  const auto x = Iota(120);
  std::vector<int32_t> perm = {0, 1, 2, 3};
  do {
    const std::vector<int32_t> out_shape = {shape[perm[0]], shape[perm[1]], shape[perm[2]], shape[perm[3]]};
    OpModel m;
    const int in = m.Input(DType::kFloat32, shape);
    const int p = m.Const(DType::kInt32, {4}, perm);
    const int out = m.Output(DType::kFloat32, out_shape);
    m.Op(kTranspose, {in, p}, {out}, kTransposeOptions);
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    std::vector<float> want;
    for (int64_t a = 0; a < out_shape[0]; ++a)
      for (int64_t b = 0; b < out_shape[1]; ++b)
        for (int64_t c = 0; c < out_shape[2]; ++c)
          for (int64_t d = 0; d < out_shape[3]; ++d) {
            int64_t idx[4];
            idx[perm[0]] = a, idx[perm[1]] = b, idx[perm[2]] = c, idx[perm[3]] = d;
            want.push_back(x[At(shape, idx[0], idx[1], idx[2], idx[3])]);
          }
    EXPECT_EQ(m.GetOutput<float>(0), want) << perm[0] << perm[1] << perm[2] << perm[3];
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(TransposeTest, Int8AndBadPerm) {
  {
    OpModel m;
    const int in = m.Input(DType::kInt8, {3, 2}, Q(0.1f, 0));
    const int p = m.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 0});
    const int out = m.Output(DType::kInt8, {2, 3}, Q(0.1f, 0));
    m.Op(kTranspose, {in, p}, {out}, kTransposeOptions);
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, std::vector<int8_t>{1, 2, 3, 4, 5, 6});
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<int8_t>(0), (std::vector<int8_t>{1, 3, 5, 2, 4, 6}));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {3, 2});
    const int p = m.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 1});
    const int out = m.Output(DType::kFloat32, {2, 3});
    m.Op(kTranspose, {in, p}, {out}, kTransposeOptions);
    const Status s = m.Build();
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("not a valid permutation"));
  }
}

TEST(ShapeTest, Int32AndInt64) {
  for (DType t : {DType::kInt32, DType::kInt64}) {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 5, 7});
    const int out = m.Output(t, {3});
    m.Op(kShape, {in}, {out}, kShapeOptions, {{"out_type", int64_t{t == DType::kInt32 ? 2 : 4}}});
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, Iota(70));
    ASSERT_TRUE(m.Invoke().ok());
    if (t == DType::kInt32) {
      EXPECT_EQ(m.GetOutput<int32_t>(0), (std::vector<int32_t>{2, 5, 7}));
    } else {
      EXPECT_EQ(m.GetOutput<int64_t>(0), (std::vector<int64_t>{2, 5, 7}));
    }
  }
}

TEST(AbsTest, FloatInt32Int8) {
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {5});
    const int out = m.Output(DType::kFloat32, {5});
    m.Op(kAbs, {in}, {out}, kAbsOptions);
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, std::vector<float>{-1.5f, 0.0f, 2.0f, -0.0f, -7.25f});
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<float>(0), (std::vector<float>{1.5f, 0.0f, 2.0f, 0.0f, 7.25f}));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kInt32, {3});
    const int out = m.Output(DType::kInt32, {3});
    m.Op(kAbs, {in}, {out}, kAbsOptions, {}, 5);
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, std::vector<int32_t>{-3, 4, -2147483647});
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<int32_t>(0), (std::vector<int32_t>{3, 4, 2147483647}));
  }
  for (bool same_scale : {true, false}) {
    // int8: |x - zi| rescaled by si / so when the scales differ, plus zo.
    const float si = 0.05f, so = same_scale ? 0.05f : 0.08f;
    const int32_t zi = -7, zo = same_scale ? -7 : -100;
    OpModel m;
    const int in = m.Input(DType::kInt8, {64}, Q(si, zi));
    const int out = m.Output(DType::kInt8, {64}, Q(so, zo));
    m.Op(kAbs, {in}, {out}, kAbsOptions, {}, 2);
    ASSERT_TRUE(m.Build().ok());
    const auto x = RandomInt8(64, 77);
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    int32_t mult;
    int shift;
    RefQuantizeMultiplier(double(si) / double(so), &mult, &shift);
    std::vector<int8_t> want;
    for (int8_t v : x) {
      const int32_t a = std::abs(v - zi);
      const int32_t r = (same_scale ? a : RefMultiplyByQuantizedMultiplier(a, mult, shift)) + zo;
      want.push_back(static_cast<int8_t>(std::min(std::max(r, -128), 127)));
    }
    ExpectEqual(m.GetOutput<int8_t>(0), want);
  }
}

}  // namespace
}  // namespace xbnn::testing
