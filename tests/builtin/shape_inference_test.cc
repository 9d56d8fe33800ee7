// The interpreter's shape inference (runtime/shape_inference.h) and load-time folding: files with
// wrong shapes (the stock converter's dilated convolutions), RESHAPE shapes computed from SHAPE,
// and ops on constants only.
#include <gmock/gmock.h>

#include "builtin/op_test_util.h"
#include "runtime/shape_inference.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;
constexpr int32_t kSpaceToBatchND = 38, kBatchToSpaceND = 37, kShape = 77, kPack = 83, kTranspose = 39;
constexpr uint8_t kShapeOptions = 55, kPackOptions = 59, kTransposeOptions = 26;

std::vector<float> DirectDilatedConv(const std::vector<float>& x, int h, int w, int cin, const std::vector<float>& f,
                                     int cout, int k, int d, int pad, int oh, int ow) {
  std::vector<float> y(static_cast<size_t>(oh) * ow * cout, 0.0f);
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int o = 0; o < cout; ++o) {
        double s = 0;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            const int iy = oy - pad + ky * d, ix = ox - pad + kx * d;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (int c = 0; c < cin; ++c) {
              s += double(x[(static_cast<size_t>(iy) * w + ix) * cin + c]) * f[((static_cast<size_t>(o) * k + ky) * k + kx) * cin + c];
            }
          }
        y[(static_cast<size_t>(oy) * ow + ox) * cout + o] = static_cast<float>(s);
      }
  return y;
}

// The stock converter's dilated SAME convolution: SPACE_TO_BATCH_ND -> CONV_2D (VALID) ->
// BATCH_TO_SPACE_ND, with batch 1 written for the two middle tensors where the real batch is 4.
TEST(ShapeInferenceTest, DilatedConvWithWrongBatchInFile) {
  const int h = 6, w = 6, cin = 3, cout = 4, k = 3, d = 2;
  OpModel m;
  const int in = m.Input(DType::kFloat32, {1, h, w, cin});
  const int block = m.Const(DType::kInt32, {2}, std::vector<int32_t>{d, d});
  const int pads = m.Const(DType::kInt32, {2, 2}, std::vector<int32_t>{2, 2, 2, 2});
  const int s2b = m.Temp(DType::kFloat32, {1, 5, 5, cin});  // really [4, 5, 5, 3]
  const auto f = RandomFloats(static_cast<size_t>(cout) * k * k * cin, 3);
  const int wt = m.Const(DType::kFloat32, {cout, k, k, cin}, f);
  const int conv = m.Temp(DType::kFloat32, {1, 3, 3, cout});  // really [4, 3, 3, 4]
  const int zero_bias = m.Const(DType::kFloat32, {cout}, std::vector<float>(cout, 0.0f));
  const int crops = m.Const(DType::kInt32, {2, 2}, std::vector<int32_t>{0, 0, 0, 0});
  const int out = m.Output(DType::kFloat32, {1, h, w, cout});
  m.Op(kSpaceToBatchND, {in, block, pads}, {s2b}, opt::kSpaceToBatchND);
  m.Op(op::kConv2D, {s2b, wt, zero_bias}, {conv}, opt::kConv2D,
       {{"padding", int64_t{1}}, {"stride_w", int64_t{1}}, {"stride_h", int64_t{1}}});
  m.Op(kBatchToSpaceND, {conv, block, crops}, {out}, opt::kBatchToSpaceND);
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  EXPECT_EQ(m.interpreter().output_info(0).shape, (std::vector<int32_t>{1, h, w, cout}));
  const auto x = RandomFloats(static_cast<size_t>(h) * w * cin, 4);
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  ExpectClose(m.GetOutput<float>(0), DirectDilatedConv(x, h, w, cin, f, cout, k, d, 2, h, w));
  // The profile reports the inferred shapes.
  EXPECT_EQ(m.interpreter().op_profile()[1].output_shape, (std::vector<int32_t>{4, 3, 3, cout}));
}

TEST(ShapeInferenceTest, OutputInfoReportsInferredShape) {
  // The file says [1, 5, 5, 3] for the S2B output, which is a model output here.
  OpModel m;
  const int in = m.Input(DType::kFloat32, {1, 6, 6, 3});
  const int block = m.Const(DType::kInt32, {2}, std::vector<int32_t>{2, 2});
  const int pads = m.Const(DType::kInt32, {2, 2}, std::vector<int32_t>{2, 2, 2, 2});
  const int out = m.Output(DType::kFloat32, {1, 5, 5, 3});
  m.Op(kSpaceToBatchND, {in, block, pads}, {out}, opt::kSpaceToBatchND);
  ASSERT_TRUE(m.Build().ok());
  EXPECT_EQ(m.interpreter().output_info(0).shape, (std::vector<int32_t>{4, 5, 5, 3}));
  EXPECT_EQ(m.interpreter().output(0).bytes(), 4u * 5 * 5 * 3 * 4);
}

// RealToBinaryNet.float: RESHAPE's shape comes from SHAPE -> STRIDED_SLICE -> PACK at run time;
// the interpreter evaluates it at load time and folds the three ops away.
TEST(ShapeInferenceTest, ReshapeShapeComputedFromShape) {
  OpModel m;
  const int in = m.Input(DType::kFloat32, {2, 6});
  const int shp = m.Temp(DType::kInt32, {2});
  const int b0 = m.Const(DType::kInt32, {1}, std::vector<int32_t>{0});
  const int b1 = m.Const(DType::kInt32, {1}, std::vector<int32_t>{1});
  const int batch = m.Temp(DType::kInt32, {});
  const int one = m.Const(DType::kInt32, {}, std::vector<int32_t>{1});
  const int minus = m.Const(DType::kInt32, {}, std::vector<int32_t>{-1});
  const int packed = m.Temp(DType::kInt32, {4});
  const int out = m.Output(DType::kFloat32, {1, 1, 1, 1});  // wrong in the file on purpose
  m.Op(kShape, {in}, {shp}, kShapeOptions, {{"out_type", int64_t{2}}});
  m.Op(op::kStridedSlice, {shp, b0, b1, b1}, {batch}, opt::kStridedSlice, {{"shrink_axis_mask", int64_t{1}}});
  m.Op(kPack, {batch, one, one, minus}, {packed}, kPackOptions, {{"values_count", int64_t{4}}, {"axis", int64_t{0}}});
  m.Op(op::kReshape, {in, packed}, {out});
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  EXPECT_EQ(m.interpreter().output_info(0).shape, (std::vector<int32_t>{2, 1, 1, 6}));
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i) - 3;
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_EQ(m.GetOutput<float>(0), x);
  // The shape ops are not run.
  ASSERT_TRUE(m.Invoke().ok());
  EXPECT_EQ(m.interpreter().op_profile().size(), 4u);
}

// XNORNet: ops whose inputs are all constants (weight scaling, TRANSPOSE) run once at load, and a
// CONV_2D whose filter they compute gets a constant filter.
TEST(ShapeInferenceTest, OpsOnConstantsAreFoldedAtLoad) {
  const int cin = 2, cout = 3;
  OpModel m;
  // filter stored as [1, 1, cin, cout] (HWIO), transposed to OHWI and scaled by 2.
  std::vector<float> hwio(static_cast<size_t>(cin) * cout);
  for (size_t i = 0; i < hwio.size(); ++i) hwio[i] = static_cast<float>(i) - 2.5f;
  const int raw = m.Const(DType::kFloat32, {1, 1, cin, cout}, hwio);
  const int two = m.Const(DType::kFloat32, {}, std::vector<float>{2.0f});
  const int scaled = m.Temp(DType::kFloat32, {1, 1, cin, cout});
  const int perm = m.Const(DType::kInt32, {4}, std::vector<int32_t>{3, 0, 1, 2});
  const int ohwi = m.Temp(DType::kFloat32, {cout, 1, 1, cin});
  const int in = m.Input(DType::kFloat32, {1, 2, 2, cin});
  const int out = m.Output(DType::kFloat32, {1, 2, 2, cout});
  const int zero_bias = m.Const(DType::kFloat32, {cout}, std::vector<float>(cout, 0.0f));
  m.Op(op::kMul, {raw, two}, {scaled}, opt::kMul);
  m.Op(kTranspose, {scaled, perm}, {ohwi}, kTransposeOptions);
  m.Op(op::kConv2D, {in, ohwi, zero_bias}, {out}, opt::kConv2D, {{"padding", int64_t{1}}, {"stride_w", int64_t{1}}, {"stride_h", int64_t{1}}});
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  m.SetInput(0, x);
  ASSERT_TRUE(m.Invoke().ok());
  std::vector<float> want;
  for (int p = 0; p < 4; ++p)
    for (int o = 0; o < cout; ++o) {
      float s = 0;
      for (int c = 0; c < cin; ++c) s += x[p * cin + c] * 2.0f * hwio[c * cout + o];
      want.push_back(s);
    }
  ExpectClose(m.GetOutput<float>(0), want);
  // The folded filter is memory the interpreter keeps.
  EXPECT_GE(m.interpreter().memory().prepared_bytes, hwio.size() * sizeof(float));
}

TEST(ShapeInferenceTest, InferShapesDirectly) {
  // CONCATENATION, PAD, MEAN, broadcasting and FULLY_CONNECTED with the file's shapes all wrong.
  OpModel m;
  const int a = m.Input(DType::kFloat32, {1, 4, 4, 2});
  const int b = m.Input(DType::kFloat32, {1, 4, 4, 3});
  const int cat = m.Temp(DType::kFloat32, {9});
  const int pads = m.Const(DType::kInt32, {4, 2}, std::vector<int32_t>{0, 0, 1, 1, 2, 0, 0, 0});
  const int padded = m.Temp(DType::kFloat32, {9});
  const int axes = m.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int mean = m.Temp(DType::kFloat32, {9});
  const int bias = m.Const(DType::kFloat32, {5}, std::vector<float>(5, 1.0f));
  const int sum = m.Temp(DType::kFloat32, {9});
  const int wt = m.Const(DType::kFloat32, {7, 5}, std::vector<float>(35, 0.5f));
  const int fc = m.Output(DType::kFloat32, {9});
  m.Op(op::kConcatenation, {a, b}, {cat}, opt::kConcatenation, {{"axis", int64_t{-1}}});
  m.Op(op::kPad, {cat, pads}, {padded}, opt::kPad);
  m.Op(op::kMean, {padded, axes}, {mean}, opt::kReducer, {{"keep_dims", int64_t{1}}}, 1);
  m.Op(op::kAdd, {mean, bias}, {sum}, opt::kAdd);
  m.Op(op::kFullyConnected, {sum, wt, -1}, {fc}, opt::kFullyConnected, {}, 6);
  runtime::InferredShapes r;
  ASSERT_TRUE(runtime::InferShapes(m.graph(), m.graph().subgraphs[0], &r).ok());
  EXPECT_EQ(r.shapes[cat], (std::vector<int32_t>{1, 4, 4, 5}));
  EXPECT_EQ(r.shapes[padded], (std::vector<int32_t>{1, 6, 6, 5}));
  EXPECT_EQ(r.shapes[mean], (std::vector<int32_t>{1, 1, 1, 5}));
  EXPECT_EQ(r.shapes[sum], (std::vector<int32_t>{1, 1, 1, 5}));
  EXPECT_EQ(r.shapes[fc], (std::vector<int32_t>{1, 7}));
  for (bool f : r.folded) EXPECT_FALSE(f);
  ASSERT_TRUE(m.Build().ok()) << m.Build().message();
  EXPECT_EQ(m.interpreter().output_info(0).shape, (std::vector<int32_t>{1, 7}));
}

TEST(ShapeInferenceTest, HostileShapesAreRefused) {
  // Paddings that take the output past the element limit.
  OpModel m;
  const int in = m.Input(DType::kFloat32, {1, 4, 4, 1});
  const int block = m.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 1});
  const int pads = m.Const(DType::kInt32, {2, 2}, std::vector<int32_t>{0, 2000000000, 0, 0});
  const int out = m.Output(DType::kFloat32, {1, 4, 4, 1});
  m.Op(kSpaceToBatchND, {in, block, pads}, {out}, opt::kSpaceToBatchND);
  runtime::InferredShapes r;
  const Status s = runtime::InferShapes(m.graph(), m.graph().subgraphs[0], &r);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("op 0 (SPACE_TO_BATCH_ND): inferred output shape exceeds"));
}

}  // namespace
}  // namespace xbnn::testing
