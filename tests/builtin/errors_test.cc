// Prepare refuses wrong types, shapes, options and versions with messages that name the problem.
#include <gmock/gmock.h>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;
using ::testing::HasSubstr;

std::string ErrorOf(OpModel& m) {
  const Status s = m.Build();
  EXPECT_FALSE(s.ok()) << "expected Prepare to fail";
  return s.message();
}

std::vector<Field> Conv(int padding = 1, int act = 0, int stride = 1) {
  return {{"padding", int64_t{padding}}, {"stride_w", int64_t{stride}}, {"stride_h", int64_t{stride}},
          {"fused_activation_function", int64_t{act}}};
}

TEST(ErrorsTest, Conv2D) {
  {  // hybrid: float input, int8 weights
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 4, 4, 2});
    const int w = m.Const(DType::kInt8, {3, 1, 1, 2}, std::vector<int8_t>(6, 1), Q(0.1f, 0));
    const int out = m.Output(DType::kFloat32, {1, 4, 4, 3});
    m.Op(op::kConv2D, {in, w}, {out}, opt::kConv2D, Conv(), 2);
    EXPECT_THAT(ErrorOf(m), HasSubstr("hybrid quantization) is not supported"));
  }
  {  // a wrong output shape in the file: the inferred one wins, as in TFLite
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 4, 4, 2});
    const int w = m.Const(DType::kFloat32, {3, 3, 3, 2}, std::vector<float>(54, 1));
    const int out = m.Output(DType::kFloat32, {1, 4, 4, 3});  // VALID gives 2x2
    m.Op(op::kConv2D, {in, w}, {out}, opt::kConv2D, Conv(1));
    ASSERT_TRUE(m.Build().ok());
    EXPECT_EQ(m.interpreter().output_info(0).shape, (std::vector<int32_t>{1, 2, 2, 3}));
  }
  {  // TANH activation
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 4, 4, 2});
    const int w = m.Const(DType::kFloat32, {3, 1, 1, 2}, std::vector<float>(6, 1));
    const int out = m.Output(DType::kFloat32, {1, 4, 4, 3});
    m.Op(op::kConv2D, {in, w}, {out}, opt::kConv2D, Conv(1, 4));
    EXPECT_THAT(ErrorOf(m), HasSubstr("fused activation TANH is not supported"));
  }
  {  // bad padding value
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 4, 4, 2});
    const int w = m.Const(DType::kFloat32, {3, 1, 1, 2}, std::vector<float>(6, 1));
    const int out = m.Output(DType::kFloat32, {1, 4, 4, 3});
    m.Op(op::kConv2D, {in, w}, {out}, opt::kConv2D, Conv(5));
    EXPECT_THAT(ErrorOf(m), HasSubstr("padding must be SAME (0) or VALID (1), found 5"));
  }
  {  // groups that do not divide
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 4, 4, 5});
    const int w = m.Const(DType::kFloat32, {3, 1, 1, 2}, std::vector<float>(6, 1));
    const int out = m.Output(DType::kFloat32, {1, 4, 4, 3});
    m.Op(op::kConv2D, {in, w}, {out}, opt::kConv2D, Conv(), 6);
    EXPECT_THAT(ErrorOf(m), HasSubstr("filter depth 2 does not divide the input's 5 channels into groups"));
  }
  {  // non-constant filter
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 4, 4, 2});
    const int w = m.Input(DType::kFloat32, {3, 1, 1, 2});
    const int out = m.Output(DType::kFloat32, {1, 4, 4, 3});
    m.Op(op::kConv2D, {in, w}, {out}, opt::kConv2D, Conv());
    EXPECT_THAT(ErrorOf(m), HasSubstr("must be a constant tensor"));
  }
  {  // int8 without quantization; per-channel scales of the wrong count
    OpModel m;
    const int in = m.Input(DType::kInt8, {1, 4, 4, 2});
    const int w = m.Const(DType::kInt8, {3, 1, 1, 2}, std::vector<int8_t>(6, 1), Q(0.1f, 0));
    const int out = m.Output(DType::kInt8, {1, 4, 4, 3}, Q(0.1f, 0));
    m.Op(op::kConv2D, {in, w}, {out}, opt::kConv2D, Conv(), 3);
    EXPECT_THAT(ErrorOf(m), HasSubstr("has no quantization parameters"));
    OpModel m2;
    const int in2 = m2.Input(DType::kInt8, {1, 4, 4, 2}, Q(0.1f, 0));
    const int w2 = m2.Const(DType::kInt8, {3, 1, 1, 2}, std::vector<int8_t>(6, 1), Quant{{0.1f, 0.2f}, {0, 0}, 3});
    const int out2 = m2.Output(DType::kInt8, {1, 4, 4, 3}, Q(0.1f, 0));
    m2.Op(op::kConv2D, {in2, w2}, {out2}, opt::kConv2D, Conv(), 3);
    EXPECT_THAT(ErrorOf(m2), HasSubstr("has 2 scales, expected 1 or 3"));
  }
  {  // an op version beyond what xbnn implements
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 4, 4, 2});
    const int w = m.Const(DType::kFloat32, {3, 1, 1, 2}, std::vector<float>(6, 1));
    const int out = m.Output(DType::kFloat32, {1, 4, 4, 3});
    m.Op(op::kConv2D, {in, w}, {out}, opt::kConv2D, Conv(), 7);
    EXPECT_THAT(ErrorOf(m), HasSubstr("operator CONV_2D version 7 is not supported (xbnn implements up to version 6)"));
  }
}

TEST(ErrorsTest, DepthwiseAndFullyConnected) {
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 4, 4, 2});
    const int w = m.Const(DType::kFloat32, {1, 3, 3, 4}, std::vector<float>(36, 1));
    const int out = m.Output(DType::kFloat32, {1, 4, 4, 4});
    auto f = Conv(0);
    f.push_back({"depth_multiplier", int64_t{3}});
    m.Op(op::kDepthwiseConv2D, {in, w}, {out}, opt::kDepthwiseConv2D, f);
    EXPECT_THAT(ErrorOf(m), HasSubstr("depth_multiplier 3 disagrees with the shapes"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 10});
    const int w = m.Const(DType::kFloat32, {4, 10}, std::vector<float>(40, 1));
    const int out = m.Output(DType::kFloat32, {2, 4});
    m.Op(op::kFullyConnected, {in, w}, {out}, opt::kFullyConnected, {{"weights_format", int64_t{1}}});
    EXPECT_THAT(ErrorOf(m), HasSubstr("weights_format SHUFFLED4x16INT8 is not supported"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 9});
    const int w = m.Const(DType::kFloat32, {4, 10}, std::vector<float>(40, 1));
    const int out = m.Output(DType::kFloat32, {2, 4});
    m.Op(op::kFullyConnected, {in, w}, {out}, opt::kFullyConnected);
    EXPECT_THAT(ErrorOf(m), HasSubstr("does not split into rows of the filter's 10 values"));
  }
}

TEST(ErrorsTest, Elementwise) {
  {
    OpModel m;
    const int a = m.Input(DType::kFloat32, {2, 3});
    const int b = m.Input(DType::kInt32, {2, 3});
    const int out = m.Output(DType::kFloat32, {2, 3});
    m.Op(op::kAdd, {a, b}, {out}, opt::kAdd);
    EXPECT_THAT(ErrorOf(m), HasSubstr("input types differ: float32 and int32"));
  }
  {
    OpModel m;
    const int a = m.Input(DType::kFloat32, {2, 3});
    const int b = m.Input(DType::kFloat32, {4, 3});
    const int out = m.Output(DType::kFloat32, {4, 3});
    m.Op(op::kMul, {a, b}, {out}, opt::kMul);
    EXPECT_THAT(ErrorOf(m), HasSubstr("shapes [2,3] and [4,3] do not broadcast"));
  }
  {
    OpModel m;
    const int a = m.Input(DType::kFloat32, {2, 3});
    const int b = m.Input(DType::kFloat32, {3});
    const int out = m.Output(DType::kFloat32, {3, 3});  // wrong in the file: inferred [2,3]
    m.Op(op::kSub, {a, b}, {out}, opt::kSub);
    ASSERT_TRUE(m.Build().ok());
    EXPECT_EQ(m.interpreter().output_info(0).shape, (std::vector<int32_t>{2, 3}));
  }
  {
    OpModel m;
    const int a = m.Input(DType::kInt8, {3}, Q(0.1f, 0));
    const int b = m.Input(DType::kInt8, {3}, Q(0.1f, 0));
    const int out = m.Output(DType::kInt8, {3}, Q(0.1f, 0));
    m.Op(op::kDiv, {a, b}, {out}, opt::kDiv);
    EXPECT_THAT(ErrorOf(m), HasSubstr("has type int8, supported: float32"));
  }
  {
    OpModel m;
    const int a = m.Input(DType::kInt8, {3}, Q(0.1f, 0));
    const int b = m.Input(DType::kInt8, {3}, Q(0.1f, 300));
    const int out = m.Output(DType::kInt8, {3}, Q(0.1f, 0));
    m.Op(op::kAdd, {a, b}, {out}, opt::kAdd, {}, 2);
    EXPECT_THAT(ErrorOf(m), HasSubstr("zero point 300 outside [-128, 127]"));
  }
  {
    // An op that reads a value an op after it computes from constants (folded at load): refused
    // by name, not read after the later folded op released it (a fuzzer's model, crashed before).
    OpModel m;
    const int a = m.Input(DType::kFloat32, {2, 3});
    const int c = m.Const(DType::kFloat32, {1}, std::vector<float>{2.0f});
    const int t = m.Temp(DType::kFloat32, {1});
    const int y = m.Output(DType::kFloat32, {2, 3});
    const int z = m.Output(DType::kFloat32, {1});
    m.Op(op::kAdd, {a, t}, {y}, opt::kAdd);
    m.Op(op::kMul, {c, c}, {t}, opt::kMul);
    m.Op(op::kAdd, {t, c}, {z}, opt::kAdd);
    EXPECT_THAT(ErrorOf(m), HasSubstr("op 0 (ADD) reads tensor"));
    EXPECT_THAT(ErrorOf(m), HasSubstr("which no earlier op writes"));
  }
  for (const bool folded : {true, false}) {
    // An op that writes a model input: refused by name, also where the op runs at load time (its
    // inputs all constant), which had left the input a constant without memory to fill (a
    // fuzzer's model: invoking it wrote through a null input pointer).
    OpModel m;
    const int a = m.Input(DType::kFloat32, {3});
    const int c = m.Const(DType::kFloat32, {3}, std::vector<float>{1.0f, 2.0f, 3.0f});
    const int b = folded ? c : m.Input(DType::kFloat32, {3});
    const int y = m.Output(DType::kFloat32, {3});
    m.Op(op::kMul, {c, b}, {a}, opt::kMul);
    m.Op(op::kAdd, {a, c}, {y}, opt::kAdd);
    EXPECT_THAT(ErrorOf(m), HasSubstr("op 0 (MUL) writes tensor 0"));
    EXPECT_THAT(ErrorOf(m), HasSubstr("which is a model input"));
  }
}

TEST(ErrorsTest, PoolReduceShape) {
  {
    OpModel m;
    const int in = m.Input(DType::kInt8, {1, 4, 4, 2}, Q(0.1f, 0));
    const int out = m.Output(DType::kInt8, {1, 2, 2, 2}, Q(0.2f, 0));
    m.Op(op::kAveragePool2D, {in}, {out}, opt::kPool2D,
         {{"padding", int64_t{1}}, {"stride_w", int64_t{2}}, {"stride_h", int64_t{2}}, {"filter_width", int64_t{2}},
          {"filter_height", int64_t{2}}},
         2);
    EXPECT_THAT(ErrorOf(m), HasSubstr("int8 pooling needs the output quantized like the input"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {1, 2, 2, 2});
    const int out = m.Output(DType::kFloat32, {1, 1, 1, 2});
    m.Op(op::kMaxPool2D, {in}, {out}, opt::kPool2D,
         {{"padding", int64_t{1}}, {"stride_w", int64_t{1}}, {"stride_h", int64_t{1}}, {"filter_width", int64_t{3}},
          {"filter_height", int64_t{3}}});
    EXPECT_THAT(ErrorOf(m), HasSubstr("VALID padding leaves no output"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 3});
    const int axes = m.Const(DType::kInt32, {1}, std::vector<int32_t>{2});
    const int out = m.Output(DType::kFloat32, {2});
    m.Op(op::kMean, {in, axes}, {out}, opt::kReducer);
    EXPECT_THAT(ErrorOf(m), HasSubstr("axis 2 is out of range for input of rank 2"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 3});
    const int out = m.Output(DType::kFloat32, {7});
    m.Op(op::kReshape, {in}, {out});
    EXPECT_THAT(ErrorOf(m), HasSubstr("have different element counts"));
  }
  {
    OpModel m;
    const int a = m.Input(DType::kInt8, {2, 3}, Q(0.1f, 0));
    const int b = m.Input(DType::kInt8, {2, 3}, Q(0.2f, 0));
    const int out = m.Output(DType::kInt8, {4, 3}, Q(0.1f, 0));
    m.Op(op::kConcatenation, {a, b}, {out}, opt::kConcatenation, {{"axis", int64_t{0}}}, 2);
    EXPECT_THAT(ErrorOf(m), HasSubstr("must be quantized like the output"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 3});
    const int pads = m.Const(DType::kInt32, {2, 2}, std::vector<int32_t>{0, -1, 0, 0});
    const int out = m.Output(DType::kFloat32, {1, 3});
    m.Op(op::kPad, {in, pads}, {out}, opt::kPad);
    EXPECT_THAT(ErrorOf(m), HasSubstr("negative padding"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {2, 3});
    const int pads = m.Input(DType::kInt32, {2, 2});
    const int out = m.Output(DType::kFloat32, {2, 3});
    m.Op(op::kPad, {in, pads}, {out}, opt::kPad);
    EXPECT_THAT(ErrorOf(m), HasSubstr("paddings 't1' must be a constant tensor"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {3, 4});
    const int b = m.Const(DType::kInt32, {2}, std::vector<int32_t>{0, 0});
    const int e = m.Const(DType::kInt32, {2}, std::vector<int32_t>{3, 4});
    const int s = m.Const(DType::kInt32, {2}, std::vector<int32_t>{1, 1});
    const int out = m.Output(DType::kFloat32, {3, 4});
    m.Op(op::kStridedSlice, {in, b, e, s}, {out}, opt::kStridedSlice, {{"ellipsis_mask", int64_t{1}}});
    EXPECT_THAT(ErrorOf(m), HasSubstr("ellipsis_mask is not supported"));
  }
}

TEST(ErrorsTest, ActivationsAndQuantize) {
  {
    OpModel m;
    const int in = m.Input(DType::kInt8, {4}, Q(0.1f, 0));
    const int out = m.Output(DType::kInt8, {4}, Q(0.1f, 0));
    m.Op(op::kLogistic, {in}, {out}, 0, {}, 2);
    EXPECT_THAT(ErrorOf(m), HasSubstr("int8 output must have scale 1/256"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {4});
    const int out = m.Output(DType::kFloat32, {4});
    m.Op(op::kQuantize, {in}, {out});
    EXPECT_THAT(ErrorOf(m), HasSubstr("has type float32, supported: int8, uint8, int16"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kInt8, {4});
    const int out = m.Output(DType::kFloat32, {4});
    m.Op(op::kDequantize, {in}, {out}, 0, {}, 2);
    EXPECT_THAT(ErrorOf(m), HasSubstr("has no quantization parameters"));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kFloat32, {4});
    const int out = m.Output(DType::kFloat32, {5});  // wrong in the file: inferred [4]
    m.Op(op::kRelu, {in}, {out});
    ASSERT_TRUE(m.Build().ok());
    EXPECT_EQ(m.interpreter().output_info(0).shape, (std::vector<int32_t>{4}));
  }
  {
    OpModel m;
    const int in = m.Input(DType::kUInt8, {4}, Q(0.1f, 0));
    const int out = m.Output(DType::kUInt8, {4}, Q(0.1f, 0));
    m.Op(op::kSoftmax, {in}, {out}, opt::kSoftmax, {{"beta", 1.0}});
    EXPECT_THAT(ErrorOf(m), HasSubstr("has type uint8, supported: float32, int8"));
  }
}

}  // namespace
}  // namespace xbnn::testing
