// Small models built in code around one (or a few) builtin ops, run through the Interpreter, and
// the plain reference arithmetic the tests compare against.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "xbnn/interpreter.h"
#include "xbnn/model.h"

namespace xbnn::testing {

using graph::DType;

// TFLite BuiltinOptions union types used by the tests.
namespace opt {
inline constexpr uint8_t kConv2D = 1, kDepthwiseConv2D = 2, kPool2D = 5, kFullyConnected = 8,
                         kSoftmax = 9, kConcatenation = 10, kAdd = 11, kReshape = 17, kMul = 21,
                         kPad = 22, kBatchToSpaceND = 24, kSpaceToBatchND = 25, kReducer = 27,
                         kSub = 28, kDiv = 29, kSqueeze = 30, kStridedSlice = 32, kSplit = 35,
                         kDequantize = 38, kMaximumMinimum = 39, kPadV2 = 43, kGreaterEqual = 45,
                         kLeakyRelu = 75, kQuantize = 89, kHardSwish = 91, kSelectV2 = 98,
                         kSign = 123;
}

struct Quant {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t dim = 0;
};
inline Quant Q(float scale, int64_t zero_point) { return Quant{{scale}, {zero_point}, 0}; }

using Field = std::pair<std::string, graph::OptionValue>;

// One subgraph under construction; Build() writes it to bytes and makes an Interpreter.
class OpModel {
 public:
  OpModel();

  int Input(DType t, std::vector<int32_t> shape, std::optional<Quant> q = std::nullopt);
  int Output(DType t, std::vector<int32_t> shape, std::optional<Quant> q = std::nullopt);
  int Temp(DType t, std::vector<int32_t> shape, std::optional<Quant> q = std::nullopt);  // intermediate
  template <typename T>
  int Const(DType t, std::vector<int32_t> shape, const std::vector<T>& values, std::optional<Quant> q = std::nullopt) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return ConstBytes(t, std::move(shape), std::move(bytes), std::move(q));
  }
  int ConstBytes(DType t, std::vector<int32_t> shape, std::vector<uint8_t> bytes, std::optional<Quant> q);

  // Adds an op; options_type 0 means no options table.
  void Op(int32_t code, std::vector<int32_t> inputs, std::vector<int32_t> outputs, uint8_t options_type = 0,
          std::vector<Field> fields = {}, int version = 1);

  graph::Graph& graph() { return g_; }
  // A custom op without options (LceQuantize).
  void CustomOp(const std::string& name, std::vector<int32_t> inputs, std::vector<int32_t> outputs);

  Status Build(int threads = 1, FloatPrecision precision = FloatPrecision::kFloat32, bool fuse_ops = true);
  Interpreter& interpreter() { return *interp_; }

  template <typename T>
  void SetInput(size_t i, const std::vector<T>& v) {
    TensorView t = interp_->input(i);
    ASSERT_EQ(t.bytes(), v.size() * sizeof(T)) << "input " << i;
    if (t.bytes() != 0) std::memcpy(t.raw(), v.data(), t.bytes());  // (no pointers when empty)
    inputs_.resize(std::max(inputs_.size(), i + 1));
    inputs_[i].assign(reinterpret_cast<const uint8_t*>(v.data()),
                      reinterpret_cast<const uint8_t*>(v.data()) + t.bytes());
  }
  Status Invoke();
  template <typename T>
  std::vector<T> GetOutput(size_t i) {
    TensorView t = interp_->output(i);
    std::vector<T> v(t.bytes() / sizeof(T));
    if (t.bytes() != 0) std::memcpy(v.data(), t.raw(), t.bytes());  // (no pointers when empty)
    return v;
  }

 private:
  int AddTensor(DType t, std::vector<int32_t> shape, uint32_t buffer, std::optional<Quant> q);
  graph::Graph g_;
  std::vector<uint8_t> bytes_;
  std::unique_ptr<Interpreter> interp_;
  std::vector<std::vector<uint8_t>> inputs_;
};

// Builds, sets nothing, and returns the Create() status (for error tests).
Status BuildStatus(OpModel& m);

// ---- data ----------------------------------------------------------------------------------------

std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo = -1, float hi = 1);
std::vector<int8_t> RandomInt8(size_t n, uint32_t seed, int lo = -128, int hi = 127);
std::vector<int32_t> RandomInt32(size_t n, uint32_t seed, int lo, int hi);
int64_t Elements(const std::vector<int32_t>& shape);

// |got - want| <= tol * max(1, max|want|) for every element; reports the first few mismatches.
void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, double tol = 1e-5);
template <typename T>
void ExpectEqual(const std::vector<T>& got, const std::vector<T>& want) {
  ASSERT_EQ(got.size(), want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 8; ++i) {
    if (got[i] != want[i]) {
      ADD_FAILURE() << "element " << i << ": got " << +got[i] << ", want " << +want[i];
      ++bad;
    }
  }
}

// ---- TFLite's integer arithmetic, written out again for the tests -------------------------------

int32_t RefSrdhm(int32_t a, int32_t b);
int32_t RefRoundingDivideByPOT(int32_t x, int exponent);
int32_t RefMultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift);
void RefQuantizeMultiplier(double m, int32_t* multiplier, int* shift);
// TFLite's default x86 kernels (ruy, the custom GEMV, NEON blocks through NEON_2_SSE): the same
// high multiply, then a right shift that rounds ties toward +infinity.
int32_t RefRoundingRightShiftUp(int32_t x, int exponent);
int32_t RefMultiplyByQuantizedMultiplierRoundUp(int32_t x, int32_t multiplier, int shift);
// int8 ADD of TFLite's default kernel (optimized_integer_ops::Add / BroadcastAddDispatch), by
// output index: which formula an element gets depends on its place in TFLite's SIMD blocks.
struct RefAddParams {
  int32_t z1 = 0, z2 = 0, zo = 0, lo = -128, hi = 127;
  float s1 = 1, s2 = 1, so = 1;
};
std::vector<int8_t> RefAddInt8Optimized(const std::vector<int32_t>& a_shape, const std::vector<int8_t>& a,
                                        const std::vector<int32_t>& b_shape, const std::vector<int8_t>& b,
                                        const RefAddParams& p);
// Quantized activation range of an int8 output (TFLite's CalculateActivationRangeQuantized).
void RefActivationRange(int act, float scale, int32_t zp, int32_t* lo, int32_t* hi);
void RefFloatActivation(int act, float* lo, float* hi);

// The options of a square MAX_POOL_2D / AVERAGE_POOL_2D window.
std::vector<Field> SquarePoolOptions(int filter, int stride, bool same, int activation);

// NHWC geometry helpers.
int OutSize(int in, int k, int stride, int dilation, bool same);
int PadBefore(int in, int k, int stride, int dilation, bool same);

}  // namespace xbnn::testing
