// RESHAPE, SQUEEZE, CONCATENATION, PAD, PADV2, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, STRIDED_SLICE.
#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;
constexpr int32_t kSpaceToBatchND = 38, kBatchToSpaceND = 37;

std::vector<float> Iota(size_t n, float start = 0) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

TEST(ReshapeTest, ShapeTensorOptionAndMinusOne) {
  for (int variant = 0; variant < 3; ++variant) {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 3, 4});
    const int out = m.Output(DType::kFloat32, {4, 6});
    if (variant == 0) {
      const int shape = m.Const(DType::kInt32, {2}, std::vector<int32_t>{4, -1});
      m.Op(op::kReshape, {in, shape}, {out});
    } else if (variant == 1) {
      m.Op(op::kReshape, {in}, {out}, opt::kReshape, {{"new_shape", std::vector<int32_t>{-1, 6}}});
    } else {
      const int shape = m.Const(DType::kInt32, {2}, std::vector<int32_t>{4, 6});
      m.Op(op::kReshape, {in, shape}, {out}, opt::kReshape, {{"new_shape", std::vector<int32_t>{4, 6}}});
    }
    ASSERT_TRUE(m.Build().ok()) << variant;
    const auto x = Iota(24);
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<float>(0), x);
  }
}

// A shape tensor of zero elements (an empty constant: no bytes in the file) reshapes to a scalar,
// as in TFLite (tf.reshape(x, [])).
TEST(ReshapeTest, EmptyShapeTensorGivesAScalar) {
  OpModel m;
  const int in = m.Input(DType::kFloat32, {1, 1});
  const int shape = m.Const(DType::kInt32, {0}, std::vector<int32_t>{});
  const int out = m.Output(DType::kFloat32, {});
  m.Op(op::kReshape, {in, shape}, {out});
  const Status s = m.Build();
  ASSERT_TRUE(s.ok()) << s.message();
  m.SetInput(0, std::vector<float>{2.5f});
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_EQ(m.GetOutput<float>(0), std::vector<float>{2.5f});
  EXPECT_TRUE(m.interpreter().output(0).shape().empty());
}

// An empty constant input (no bytes in the file) reshapes to an empty output; the copy of zero
// bytes must not pass a null pointer (UBSan found it by fuzzing).
TEST(ReshapeTest, EmptyConstantInputGivesAnEmptyOutput) {
  OpModel m;
  const int x = m.Input(DType::kFloat32, {1});
  const int in = m.Const(DType::kFloat32, {0, 2}, std::vector<float>{});
  const int shape = m.Const(DType::kInt32, {2}, std::vector<int32_t>{2, 0});
  const int out = m.Output(DType::kFloat32, {2, 0});
  const int y = m.Output(DType::kFloat32, {1});
  m.Op(op::kReshape, {in, shape}, {out});
  m.Op(op::kRelu, {x}, {y});
  const Status s = m.Build();
  ASSERT_TRUE(s.ok()) << s.message();
  m.SetInput(0, std::vector<float>{-1.5f});
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_TRUE(m.GetOutput<float>(0).empty());
  EXPECT_EQ(m.interpreter().output(0).shape(), (std::vector<int32_t>{2, 0}));
  EXPECT_EQ(m.GetOutput<float>(1), std::vector<float>{0.0f});
}

TEST(ReshapeTest, Int8KeepsBytes) {
  OpModel m;
  const int in = m.Input(DType::kInt8, {1, 2, 2, 3}, Q(0.1f, 2));
  const int shape = m.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 12});
  const int out = m.Output(DType::kInt8, {1, 12}, Q(0.1f, 2));
  m.Op(op::kReshape, {in, shape}, {out});
  ASSERT_TRUE(m.Build().ok());
  auto x = RandomInt8(12, 101);
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_EQ(m.GetOutput<int8_t>(0), x);
}

TEST(SqueezeTest, ListedAndAllUnitDims) {
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 3, 1, 2});
    const int out = m.Output(DType::kFloat32, {3, 1, 2});
    m.Op(op::kSqueeze, {in}, {out}, opt::kSqueeze, {{"squeeze_dims", std::vector<int32_t>{0}}});
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, Iota(6));
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<float>(0), Iota(6));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 3, 1, 2});
    const int out = m.Output(DType::kFloat32, {3, 2});
    m.Op(op::kSqueeze, {in}, {out}, opt::kSqueeze);
    ASSERT_TRUE(m.Build().ok());
    m.SetInput(0, Iota(6));
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<float>(0), Iota(6));
  }
}

// A channel concatenation large enough to run on several threads, rows of 96, 32 and 64 bytes,
// with RELU: the same output on 1 to 3 threads.
TEST(ConcatenationTest, ChannelsOnThreads) {
  const std::vector<int32_t> counts = {24, 8, 16};
  std::vector<std::vector<float>> xs;
  for (size_t i = 0; i < counts.size(); ++i) {
    xs.push_back(RandomFloats(static_cast<size_t>(2 * 40 * 30 * counts[i]), 131 + i, -5, 5));
  }
  std::vector<float> want;
  for (int64_t k = 0; k < 2 * 40 * 30; ++k)
    for (size_t i = 0; i < counts.size(); ++i)
      for (int c = 0; c < counts[i]; ++c) want.push_back(std::max(xs[i][k * counts[i] + c], 0.0f));
  for (int threads : {1, 2, 3}) {
    OpModel m;
    std::vector<int32_t> ins;
    for (int32_t c : counts) ins.push_back(m.Input(DType::kFloat32, {2, 40, 30, c}));
    const int out = m.Output(DType::kFloat32, {2, 40, 30, 48});
    m.Op(op::kConcatenation, ins, {out}, opt::kConcatenation,
         {{"axis", int64_t{-1}}, {"fused_activation_function", int64_t{1}}});
    ASSERT_TRUE(m.Build(threads).ok());
    for (size_t i = 0; i < xs.size(); ++i) m.SetInput(i, xs[i]);
    ASSERT_TRUE(m.Invoke().ok());
    EXPECT_EQ(m.GetOutput<float>(0), want) << threads << " thread(s)";
  }
}

// Concatenates three inputs along every axis (negative too) and checks element by element.
TEST(ConcatenationTest, EveryAxisFloatAndInt8) {
  const std::vector<int32_t> base = {2, 3, 2, 4};
  for (int axis = -4; axis < 4; ++axis) {
    const int a = axis < 0 ? axis + 4 : axis;
    std::vector<std::vector<int32_t>> shapes(3, base);
    shapes[1][a] = 1;
    shapes[2][a] = 2;
    std::vector<int32_t> out_shape = base;
    out_shape[a] = base[a] + 3;
    for (bool int8 : {false, true}) {
      OpModel m;
      std::vector<int32_t> ins;
      for (const auto& s : shapes) ins.push_back(int8 ? m.Input(DType::kInt8, s, Q(0.2f, 1)) : m.Input(DType::kFloat32, s));
      const int out = int8 ? m.Output(DType::kInt8, out_shape, Q(0.2f, 1)) : m.Output(DType::kFloat32, out_shape);
      m.Op(op::kConcatenation, ins, {out}, opt::kConcatenation,
           {{"axis", int64_t{axis}}, {"fused_activation_function", int64_t{int8 ? 0 : 1}}}, int8 ? 2 : 1);
      ASSERT_TRUE(m.Build().ok()) << axis;
      std::vector<std::vector<float>> xs;
      for (int i = 0; i < 3; ++i) {
        xs.push_back(RandomFloats(static_cast<size_t>(Elements(shapes[i])), 102 + i, -50, 50));
        for (float& v : xs.back()) v = std::round(v);
        if (int8) {
          std::vector<int8_t> q(xs.back().begin(), xs.back().end());
          m.SetInput(i, q);
        } else {
          m.SetInput(i, xs.back());
        }
      }
      ASSERT_TRUE(m.Invoke().ok());
      // Reference: walk the output and pick the input by the index along the axis.
      std::vector<float> want;
      std::vector<int32_t> idx(4, 0);
      for (int64_t k = 0; k < Elements(out_shape); ++k) {
        int src = 0, pos = idx[a];
        while (pos >= shapes[src][a]) pos -= shapes[src][a], ++src;
        int64_t off = 0;
        for (int d = 0; d < 4; ++d) off = off * shapes[src][d] + (d == a ? pos : idx[d]);
        float v = xs[src][off];
        if (!int8) v = std::max(v, 0.0f);  // RELU
        want.push_back(v);
        for (int d = 3; d >= 0; --d) {
          if (++idx[d] < out_shape[d]) break;
          idx[d] = 0;
        }
      }
      if (int8) {
        ExpectEqual(m.GetOutput<int8_t>(0), std::vector<int8_t>(want.begin(), want.end()));
      } else {
        EXPECT_EQ(m.GetOutput<float>(0), want);
      }
    }
  }
}

// ---- PAD / PADV2 ---------------------------------------------------------------------------

template <typename T>
std::vector<T> RefPad(const std::vector<int32_t>& shape, const std::vector<int32_t>& pads, const std::vector<T>& x,
                      T value, std::vector<int32_t>* out_shape) {
  const int r = static_cast<int>(shape.size());
  out_shape->resize(r);
  for (int d = 0; d < r; ++d) (*out_shape)[d] = shape[d] + pads[2 * d] + pads[2 * d + 1];
  std::vector<T> out(static_cast<size_t>(Elements(*out_shape)), value);
  std::vector<int32_t> idx(r, 0);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t o = 0;
    for (int d = 0; d < r; ++d) o = o * (*out_shape)[d] + idx[d] + pads[2 * d];
    out[o] = x[i];
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

TEST(PadTest, FloatInt8AndRank5) {
  struct Case {
    std::vector<int32_t> shape, pads;
  };
  const Case cases[] = {{{1, 3, 3, 2}, {0, 0, 1, 1, 2, 0, 0, 0}},
                        {{2, 3}, {1, 2, 0, 3}},
                        {{2, 1, 2, 3, 2}, {0, 1, 1, 0, 2, 2, 0, 1, 1, 1}},
                        {{4}, {3, 0}}};
  for (const Case& c : cases) {
    const int r = static_cast<int>(c.shape.size());
    std::vector<int32_t> out_shape;
    auto x = RandomFloats(static_cast<size_t>(Elements(c.shape)), 110);
    for (int v2 = 0; v2 < 2; ++v2) {
      // float
      {
        auto want = RefPad<float>(c.shape, c.pads, x, v2 ? 2.5f : 0.0f, &out_shape);
        OpModel m;
        const int in = m.Input(DType::kFloat32, c.shape);
        const int pads = m.Const(DType::kInt32, {r, 2}, c.pads);
        const int out = m.Output(DType::kFloat32, out_shape);
        std::vector<int32_t> inputs = {in, pads};
        if (v2) inputs.push_back(m.Const(DType::kFloat32, {}, std::vector<float>{2.5f}));
        m.Op(v2 ? op::kPadV2 : op::kPad, inputs, {out}, v2 ? opt::kPadV2 : opt::kPad, {}, r > 4 ? 4 : 1);
        ASSERT_TRUE(m.Build().ok());
        m.SetInput(0, x);
        ASSERT_TRUE(m.Invoke().ok());
        EXPECT_EQ(m.GetOutput<float>(0), want);
      }
      // int8: PAD pads with the zero point, PADV2 with its stored constant
      {
        auto x8 = RandomInt8(x.size(), 111);
        auto want = RefPad<int8_t>(c.shape, c.pads, x8, v2 ? int8_t{-77} : int8_t{9}, &out_shape);
        OpModel m;
        const int in = m.Input(DType::kInt8, c.shape, Q(0.3f, 9));
        const int pads = m.Const(DType::kInt32, {r, 2}, c.pads);
        const int out = m.Output(DType::kInt8, out_shape, Q(0.3f, 9));
        std::vector<int32_t> inputs = {in, pads};
        if (v2) inputs.push_back(m.Const(DType::kInt8, {}, std::vector<int8_t>{-77}, Q(0.3f, 9)));
        m.Op(v2 ? op::kPadV2 : op::kPad, inputs, {out}, v2 ? opt::kPadV2 : opt::kPad, {}, r > 4 ? 4 : 2);
        ASSERT_TRUE(m.Build().ok());
        m.SetInput(0, x8);
        ASSERT_TRUE(m.Invoke().ok());
        EXPECT_EQ(m.GetOutput<int8_t>(0), want);
      }
    }
  }
}

// ---- SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND: the converter's dilated convolution ----------------

TEST(SpaceBatchTest, RoundTripAndLayout) {
  // [1, 4, 6, 2] with block 2x3, paddings (1, 1), (0, 3) -> [6, 3, 3, 2]
  const std::vector<int32_t> shape = {1, 4, 6, 2};
  const auto x = Iota(48, 1);
  OpModel m;
  const int in = m.Input(DType::kFloat32, shape);
  const int block = m.Const(DType::kInt32, {2}, std::vector<int32_t>{2, 3});
  const int pads = m.Const(DType::kInt32, {2, 2}, std::vector<int32_t>{1, 1, 0, 3});
  const int mid = m.Output(DType::kFloat32, {6, 3, 3, 2});
  const int crops = m.Const(DType::kInt32, {2, 2}, std::vector<int32_t>{1, 1, 0, 3});
  const int back = m.Output(DType::kFloat32, shape);
  m.Op(kSpaceToBatchND, {in, block, pads}, {mid}, opt::kSpaceToBatchND);
  m.Op(kBatchToSpaceND, {mid, block, crops}, {back}, opt::kBatchToSpaceND);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_EQ(m.GetOutput<float>(1), x);
  // Reference layout: out[b'][y][x] = padded[y*bh + b'/(bw)][x*bw + b'%bw] for batch 1.
  const auto mid_out = m.GetOutput<float>(0);
  for (int ob = 0; ob < 6; ++ob)
    for (int y = 0; y < 3; ++y)
      for (int xx = 0; xx < 3; ++xx)
        for (int c = 0; c < 2; ++c) {
          const int py = y * 2 + ob / 3 - 1, px = xx * 3 + ob % 3;
          const float want = (py < 0 || py >= 4 || px >= 6) ? 0.0f : x[(py * 6 + px) * 2 + c];
          ASSERT_EQ(mid_out[((ob * 3 + y) * 3 + xx) * 2 + c], want) << ob << " " << y << " " << xx << " " << c;
        }
}

TEST(SpaceBatchTest, Int8PadsWithZeroPoint) {
  OpModel m;
  const int in = m.Input(DType::kInt8, {1, 2, 2, 1}, Q(0.5f, -4));
  const int block = m.Const(DType::kInt32, {2}, std::vector<int32_t>{2, 2});
  const int pads = m.Const(DType::kInt32, {2, 2}, std::vector<int32_t>{1, 1, 1, 1});
  const int out = m.Output(DType::kInt8, {4, 2, 2, 1}, Q(0.5f, -4));
  m.Op(kSpaceToBatchND, {in, block, pads}, {out}, opt::kSpaceToBatchND, {}, 2);
  ASSERT_TRUE(m.Build().ok());
  m.SetInput(0, std::vector<int8_t>{1, 2, 3, 4});
  ASSERT_TRUE(m.Invoke().ok());
  // padded 4x4: row0 zp, row1 [zp 1 2 zp], row2 [zp 3 4 zp], row3 zp.
  ExpectEqual(m.GetOutput<int8_t>(0), std::vector<int8_t>{-4, -4, -4, 4, -4, -4, 3, -4, -4, 2, -4, -4, 1, -4, -4, -4});
}

// ---- STRIDED_SLICE ---------------------------------------------------------------------------

TEST(StridedSliceTest, MasksNegativeIndicesAndStrides) {
  struct Case {
    std::vector<int32_t> begin, end, strides;
    int begin_mask, end_mask, shrink;
    std::vector<int32_t> out_shape;
  };
  // Input [3, 4, 5] holding its flat index.
  const Case cases[] = {
      {{0, 1, 0}, {3, 3, 5}, {1, 1, 2}, 0, 0, 0, {3, 2, 3}},
      {{-1, 0, 0}, {0, 4, 5}, {-1, 1, 1}, 0, 6, 0, {2, 4, 5}},
      {{1, 0, 0}, {2, 0, 0}, {1, 1, 1}, 0, 6, 1, {4, 5}},
      {{0, -1, 1}, {0, 0, -1}, {1, -2, 1}, 1, 3, 0, {3, 2, 3}},
      {{0, 0, 4}, {3, 4, 5}, {1, 1, 1}, 0, 0, 4, {3, 4}},
  };
  const auto x = Iota(60);
  for (const Case& c : cases) {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {3, 4, 5});
    const int b = m.Const(DType::kInt32, {3}, c.begin);
    const int e = m.Const(DType::kInt32, {3}, c.end);
    const int s = m.Const(DType::kInt32, {3}, c.strides);
    const int out = m.Output(DType::kFloat32, c.out_shape);
    m.Op(op::kStridedSlice, {in, b, e, s}, {out}, opt::kStridedSlice,
         {{"begin_mask", int64_t{c.begin_mask}}, {"end_mask", int64_t{c.end_mask}},
          {"shrink_axis_mask", int64_t{c.shrink}}});
    ASSERT_TRUE(m.Build().ok()) << m.Build().message();
    m.SetInput(0, x);
    ASSERT_TRUE(m.Invoke().ok());
    // Reference: Python-style slicing per axis.
    const int dims[3] = {3, 4, 5};
    std::vector<std::vector<int>> picks(3);
    for (int a = 0; a < 3; ++a) {
      const int st = c.strides[a];
      int start = (c.begin_mask >> a & 1) ? (st > 0 ? 0 : dims[a] - 1) : c.begin[a];
      if (start < 0) start += dims[a];
      start = st > 0 ? std::clamp(start, 0, dims[a]) : std::clamp(start, -1, dims[a] - 1);
      int stop;
      if (c.shrink >> a & 1) {
        stop = start + 1;
      } else {
        stop = (c.end_mask >> a & 1) ? (st > 0 ? dims[a] : -1) : c.end[a];
        if (!(c.end_mask >> a & 1) && stop < 0) stop += dims[a];
        stop = st > 0 ? std::clamp(stop, 0, dims[a]) : std::clamp(stop, -1, dims[a] - 1);
      }
      for (int i = start; st > 0 ? i < stop : i > stop; i += st) picks[a].push_back(i);
    }
    std::vector<float> want;
    for (int i : picks[0])
      for (int j : picks[1])
        for (int k : picks[2]) want.push_back(x[(i * 4 + j) * 5 + k]);
    EXPECT_EQ(m.GetOutput<float>(0), want);
  }
}

}  // namespace
}  // namespace xbnn::testing
