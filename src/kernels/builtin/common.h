// Shared pieces of the TFLite builtin kernels: TFLite's fixed-point arithmetic (bit-exact),
// fused activations, conv/pool geometry, NumPy broadcasting, quantization parameter checks and
// the XNNPACK operator handle.
#pragma once

#include <xnnpack.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "kernels/binary/optimized/task_runner.h"
#include "kernels/builtin/vector_loops.h"
#include "ops/op_kernel.h"

namespace xbnn::kernels::optimized {
class PackKernel;
}  // namespace xbnn::kernels::optimized

namespace xbnn::kernels::builtin {

using graph::DType;
using runtime::OpContext;
using runtime::RuntimeTensor;
using runtime::ShapeString;

// ---------------------------------------------------------------------------------------------
// Fixed-point arithmetic, exactly as TFLite (gemmlowp) defines it. TFLite's default build uses
// the "double rounding" MultiplyByQuantizedMultiplier, which is what these implement.

// round(a * b / 2^31), ties away from zero except that the one overflow case saturates.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // division truncates toward zero
}

// x / 2^exponent rounded to nearest, ties away from zero. exponent in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// int32 multiplication that wraps like the two's-complement hardware TFLite runs on.
inline int32_t WrappingMul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift) {
  // A hostile multiplier (scales far apart) can ask for more than 31 bits: that result
  // saturates anyway, and a shift past the width would be undefined.
  const int left_shift = shift > 0 ? std::min(shift, 31) : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return RoundingDivideByPOT(
      SaturatingRoundingDoublingHighMul(WrappingMul(x, int32_t{1} << left_shift), multiplier),
      right_shift);
}

// shift <= 0 (a right shift by -shift).
inline int32_t MultiplyByQuantizedMultiplierSmallerThanOneExp(int32_t x, int32_t multiplier,
                                                              int shift) {
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, multiplier), -shift);
}

// ---- TFLite's default x86 kernels --------------------------------------------------------------
// LCE's interpreter runs TFLite 2.16's optimized kernels. On x86 these requantize int32
// accumulators with the same high multiply but a right shift that rounds ties up rather than away
// from zero: ruy's AVX2/AVX-512 kernels (CONV_2D, FULLY_CONNECTED; ruy/kernel_avx512.cc adds
// 2^(exponent-1) and shifts), TFLite's custom GEMV (batch-1 FULLY_CONNECTED,
// cpu_backend_gemm_custom_gemv.h: vshl, vqrdmulh, vrshl) and the NEON blocks that TFLite builds
// for x86 through its NEON-to-SSE header (optimized_ops::Quantize in depthwise conv,
// MultiplyByQuantizedMultiplier4Rows in MEAN). Only negative ties differ from the reference.

// x / 2^exponent rounded to nearest, ties toward +infinity (NEON vrshl by -exponent, computed wide
// as NEON does). exponent in [0, 31].
inline int32_t RoundingRightShiftUp(int32_t x, int exponent) {
  if (exponent == 0) return x;
  return static_cast<int32_t>((static_cast<int64_t>(x) + (int64_t{1} << (exponent - 1))) >>
                              exponent);
}

// Left shift, SaturatingRoundingDoublingHighMul (vqrdmulh rounds ties up as well), then the
// round-up right shift.
inline int32_t MultiplyByQuantizedMultiplierRoundUp(int32_t x, int32_t multiplier, int shift) {
  // A hostile multiplier (scales far apart) can ask for more than 31 bits: that result
  // saturates anyway, and a shift past the width would be undefined.
  const int left_shift = shift > 0 ? std::min(shift, 31) : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return RoundingRightShiftUp(
      SaturatingRoundingDoublingHighMul(WrappingMul(x, int32_t{1} << left_shift), multiplier),
      right_shift);
}

// Q31 significand and power-of-two exponent of `m` (TFLite's QuantizeMultiplier).
void QuantizeMultiplier(double m, int32_t* multiplier, int* shift);

// ---------------------------------------------------------------------------------------------
// Fused activations.

enum class Activation : int8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3 };

// Reads `fused_activation_function`; TANH, SIGN_BIT and unknown values are errors.
Status ReadActivation(const OpContext& ctx, Activation* act);
const char* ActivationName(Activation a);
void FloatActivationRange(Activation a, float* lo, float* hi);
// TFLite's CalculateActivationRangeQuantized for an output of type `type` (int8, uint8, int16).
Status QuantizedActivationRange(const OpContext& ctx, Activation a, float scale, int32_t zero_point,
                                DType type, int32_t* lo, int32_t* hi);
int32_t TypeMin(DType t);  // int8 -128, uint8 0, int16 -32768
int32_t TypeMax(DType t);

// ---------------------------------------------------------------------------------------------
// Quantization parameters.

struct QuantParams {
  float scale = 1;
  int32_t zero_point = 0;
};

// Per-tensor affine quantization of a quantized (int8/uint8/int16) tensor: positive finite scale,
// zero point inside the type's range (0 for int16). `what` names the tensor in errors.
Status GetQuant(const OpContext& ctx, const RuntimeTensor* t, const char* what, QuantParams* q);

// ---------------------------------------------------------------------------------------------
// Tensor and option checks with messages that name the problem.

Status ExpectInputCount(const OpContext& ctx, size_t min, size_t max);
Status ExpectOutputCount(const OpContext& ctx, size_t n);
Status ExpectRank(const OpContext& ctx, const RuntimeTensor* t, int rank, const char* what);
Status ExpectShape(const OpContext& ctx, const RuntimeTensor* t, const std::vector<int32_t>& shape,
                   const char* what);
Status ExpectConstant(const OpContext& ctx, const RuntimeTensor* t, const char* what);
Status ExpectTypeIn(const OpContext& ctx, const RuntimeTensor* t,
                    std::initializer_list<DType> types, const char* what);
std::string TensorName(const RuntimeTensor* t);  // "'name'"
// Reads a constant int32 (or int64, each value within int32) tensor's values.
Status ReadConstInts(const OpContext& ctx, const RuntimeTensor* t, const char* what,
                     std::vector<int64_t>* values);

// ---------------------------------------------------------------------------------------------
// Convolution and pooling geometry (TFLite's ComputePaddingHeightWidth).

enum class Padding : int8_t { kSame = 0, kValid = 1 };

struct AxisGeometry {
  int out = 0;
  int pad_before = 0;
  int pad_after = 0;
};

Status ReadPadding(const OpContext& ctx, Padding* padding);
// Output size and padding of one spatial axis; errors on non-positive sizes.
Status ComputeAxis(const OpContext& ctx, const char* axis, int in, int kernel, int stride,
                   int dilation, Padding padding, AxisGeometry* g);

// ---------------------------------------------------------------------------------------------
// NumPy broadcasting of two operands, up to rank kMaxBroadcastRank.

inline constexpr int kMaxBroadcastRank = 6;

struct Broadcast {
  bool same_shape = true;
  int rank = 0;                                        // of the output (at least 1)
  std::array<int64_t, kMaxBroadcastRank> dims{};       // output dims, outermost first
  std::array<int64_t, kMaxBroadcastRank> a_strides{};  // element strides, 0 where broadcast
  std::array<int64_t, kMaxBroadcastRank> b_strides{};
  std::vector<int32_t> out_shape;
};

// Checks that `a` and `b` broadcast and that `out` has the broadcast shape.
Status PlanBroadcast(const OpContext& ctx, const std::vector<int32_t>& a,
                     const std::vector<int32_t>& b, const RuntimeTensor* out, Broadcast* plan);

// Calls f(out_index, a_index, b_index) for every output element, in order.
template <typename F>
void ForEachBroadcast(const Broadcast& p, F&& f) {
  const int r = p.rank;
  std::array<int64_t, kMaxBroadcastRank> idx{};
  const int64_t inner = p.dims[r - 1];
  const int64_t sa = p.a_strides[r - 1], sb = p.b_strides[r - 1];
  int64_t total = 1;
  for (int i = 0; i < r; ++i) total *= p.dims[i];
  if (total == 0) return;
  int64_t o = 0;
  while (true) {
    int64_t ia = 0, ib = 0;
    for (int i = 0; i < r - 1; ++i) {
      ia += idx[i] * p.a_strides[i];
      ib += idx[i] * p.b_strides[i];
    }
    for (int64_t j = 0; j < inner; ++j) f(o + j, ia + j * sa, ib + j * sb);
    o += inner;
    int d = r - 2;
    while (d >= 0 && ++idx[d] == p.dims[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

// Calls f(out_index, a_index, b_index, n, a_step, b_step) for every innermost row of the output,
// in order: n elements whose operands advance by a_step and b_step (0 where broadcast, else 1).
template <typename F>
void ForEachBroadcastRow(const Broadcast& p, F&& f) {
  const int r = p.rank;
  std::array<int64_t, kMaxBroadcastRank> idx{};
  const int64_t inner = p.dims[r - 1];
  int64_t total = 1;
  for (int i = 0; i < r; ++i) total *= p.dims[i];
  if (total == 0) return;
  for (int64_t o = 0;; o += inner) {
    int64_t ia = 0, ib = 0;
    for (int i = 0; i < r - 1; ++i) {
      ia += idx[i] * p.a_strides[i];
      ib += idx[i] * p.b_strides[i];
    }
    f(o, ia, ib, inner, p.a_strides[r - 1], p.b_strides[r - 1]);
    int d = r - 2;
    while (d >= 0 && ++idx[d] == p.dims[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Threads: fn(thread, i) for every i in [0, n) on the interpreter's pool (serially without one).
// thread < NumThreads(ctx), and no two concurrent calls share it (per-thread scratch is safe).

inline int NumThreads(const OpContext& ctx) {
  return ctx.runner ? std::max(1, ctx.runner->num_threads()) : 1;
}

// Ops whose estimated single-thread time is below runtime::kMinParallelSeconds run on the calling
// thread (op_kernel.h says why). Estimates use single-thread rates measured on the 2-core AMD
// EPYC (AVX-512) with `xbnn bench --profile` (tests/builtin/README.md).
using runtime::kMinParallelSeconds;
inline constexpr double kConvMacsPerSecond =
    50e9;  // CONV_2D, batched FULLY_CONNECTED (XNNPACK GEMM)
// DEPTHWISE_CONV_2D with 32 or more channels; fewer fill fewer vector lanes (8 channels: ~7e9).
inline constexpr double kDepthwiseMacsPerSecond = 20e9;
inline double DepthwiseMacsPerSecond(int channels) {
  return kDepthwiseMacsPerSecond * (channels < 32 ? channels : 32) / 32.0;
}
// The direct 3x3 kernel (depthwise_direct.h) runs at 30-70e9 on one core; see DepthwiseConv2D for
// why its estimate is lower.
inline constexpr double kDirectDepthwiseMacsPerSecond = 8e9;
inline constexpr double kGemvMacsPerSecond =
    5e9;  // batch-1 FULLY_CONNECTED: reads every weight once
inline constexpr double kInt8MacsPerSecond = 2e9;    // the plain int8 loops
// Float elementwise ops (BinaryRowsF32), memory-bound: set low, so that those after a split op are
// split too and each thread reads its own core's rows.
inline constexpr double kElementwiseFloatsPerSecond = 4e9;
// Copies (CONCATENATION, SPLIT), memory-bound too, set low for the same reason.
inline constexpr double kCopyBytesPerSecond = 16e9;

// memcpy for the short rows of channel concatenations and splits, inlined for the common sizes
// (MeliusNet22's stem splits 112x112 pixels into 4 and 8 channels: its two SPLITs took 0.62 ms
// with a library call per 16 or 32 bytes, 0.51 ms with these, one thread on Zen 3).
inline void CopyRow(uint8_t* dst, const uint8_t* src, size_t n) {
  switch (n) {
    case 16:
      std::memcpy(dst, src, 16);
      return;
    case 32:
      std::memcpy(dst, src, 32);
      return;
    case 64:
      std::memcpy(dst, src, 64);
      return;
    case 128:
      std::memcpy(dst, src, 128);
      return;
    case 256:
      std::memcpy(dst, src, 256);
      return;
    default:
      std::memcpy(dst, src, n);
      return;
  }
}
inline constexpr double kPoolVisitsPerSecond = 9e9;  // pooling: output elements x window
// Float max pooling (window maxima in registers) runs at 38e9-60e9 visits/s on one Zen 4 core;
// the estimate is set lower so that QuickNet's three pools (55x55x64 down to 13x13x256) are split:
// each thread then pools the rows its own core wrote (task_runner.h), 1.03-1.05x faster at two
// threads end to end (interleaved A/B). Before the pool kept threads on their own rows, a split
// pool read half its input from the other core and measured no faster.
inline constexpr double kMaxPoolF32VisitsPerSecond = 15e9;

template <typename F>
void ParallelFor(const OpContext& ctx, int n, F& fn, double seconds) {
  if (!ctx.runner || ctx.runner->num_threads() <= 1 || n <= 1 || seconds < kMinParallelSeconds) {
    for (int i = 0; i < n; ++i) fn(0, i);
    return;
  }
  ctx.runner->ParallelFor(
      n, [](void* f, int thread, int i) { (*static_cast<F*>(f))(thread, i); }, &fn);
}

// fn(thread, r0, r1) over rows [0, rows) in contiguous chunks, in order, up to 8 per thread:
// each thread takes rows its core wrote in the op before (the row-wise elementwise and copy ops).
template <typename F>
void ParallelForRows(const OpContext& ctx, int64_t rows, double seconds, F&& fn) {
  if (rows <= 0) return;
  const int chunks = static_cast<int>(std::min<int64_t>(rows, 8 * NumThreads(ctx)));
  auto task = [&](int thread, int i) { fn(thread, rows * i / chunks, rows * (i + 1) / chunks); };
  ParallelFor(ctx, chunks, task, seconds);
}

// The float path of a broadcasting binary op (ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, PRELU):
// where each input either covers the output or is one row of the output's last dimension
// broadcast to every row (same shapes, a per-channel vector, a scalar: the common cases), the
// rows are split over the threads; otherwise a generic broadcast runs on the calling thread.
class FloatBroadcastRows {
 public:
  friend class FloatChain;
  friend class FusedInputRows;
  // `plan` is the op's PlanBroadcast of its inputs into `out`; both outlive Run.
  void Plan(const Broadcast& plan, const RuntimeTensor* out);
  // out = clamp(a op b, lo, hi) over the broadcast (see BinaryRowsF32).
  void Run(const OpContext& ctx, FloatBinary op, const float* a, const float* b, float* out,
           float lo, float hi) const;

 private:
  const Broadcast* plan_ = nullptr;
  // Rows found: rows_ rows of n_ outputs; per input its stride within a row (1, or 0 for a
  // scalar) and from one row to the next (n_, or 0 for a broadcast row). rows_ 0: none.
  int64_t rows_ = 0, n_ = 0, sa_ = 0, sb_ = 0, a_row_ = 0, b_row_ = 0;
  double seconds_ = 0;
};

// The float elementwise ops of a chain fusion (runtime/fusion.h, ChainFusion) run by the first
// op's kernel: per block of rows that fits in cache, the first op into a scratch block, each
// chained op from one scratch block into the other, the last into its output tensor, then the
// fused LceQuantize of those rows. The same BinaryRowsF32 calls on the same values as the
// separate ops, so the outputs are bit-identical.
class FloatChain {
 public:
  FloatChain();
  ~FloatChain();
  // ctx: the first op's context (its fused_chain and fused_packed); `first`: its float op, its
  // rows (Plan()ed) and activation range. Errors name the chained op that cannot run here.
  Status Prepare(const OpContext& ctx, FloatBinary first, const FloatBroadcastRows& rows, float lo,
                 float hi);
  bool active() const { return !steps_.empty() || pack_ != nullptr; }
  // a, b: the first op's inputs; out: its output, when nothing follows it (an LceQuantize only).
  // With `first`, first(self, q, m, dst) computes the first op's rows [q, q + m) into dst instead
  // (an ADD with a fused PAD).
  using FirstRows = void (*)(const void* self, int64_t q, int64_t m, float* dst);
  // And first_chain(self, q, m, steps, nsteps, out) runs the first op and then the steps on rows
  // [q, q + m) into out in vector registers (FloatRowsVector), or returns false to have `first`
  // and the steps run one pass at a time.
  using FirstChain = bool (*)(const void* self, int64_t q, int64_t m, const FloatStep* steps,
                              int nsteps, float* out);
  void Run(const OpContext& ctx, const float* a, const float* b, float* out,
           FirstRows first = nullptr, const void* self = nullptr,
           FirstChain first_chain = nullptr) const;
  // Rows [q, q + m) of the chain's last value into dst (m rows) on thread `thread`, as Run
  // computes them: in vector registers where *vector and the rows allow it (else *vector is
  // cleared), else one pass per op through the thread's scratch blocks.
  void ValueRows(int thread, const float* a, const float* b, int64_t q, int64_t m, float* dst,
                 bool* vector, FirstRows first = nullptr, const void* self = nullptr,
                 FirstChain first_chain = nullptr) const;
  int64_t channels() const { return rows_ ? rows_->n_ : 0; }

 private:
  struct Step {
    FloatBinary op = FloatBinary::kAdd;
    const RuntimeTensor* operand = nullptr;
    bool operand_first = false;  // the operand is the op's first input, the chain value its second
    int64_t s = 0, row = 0;      // the operand's stride within a row and from row to row
    float lo = 0, hi = 0;
    RuntimeTensor* out = nullptr;
  };
  FloatBinary first_ = FloatBinary::kAdd;
  const FloatBroadcastRows* rows_ = nullptr;
  float lo_ = 0, hi_ = 0;
  std::vector<Step> steps_;
  std::unique_ptr<optimized::PackKernel> pack_;
  RuntimeTensor* packed_ = nullptr;
  int64_t block_rows_ = 1;
  mutable std::vector<float> scratch_;  // per thread: two blocks
};

// ---------------------------------------------------------------------------------------------
// XNNPACK.

// xnn_initialize once per process; an error names the XNNPACK status.
Status InitXnnpack(const OpContext& ctx);
// The float path of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: a float32 filter (hybrid
// quantization is refused), float32 output and bias, and XNNPACK initialized.
Status PrepareFloatWeights(const OpContext& ctx, const RuntimeTensor* filter,
                           const RuntimeTensor* bias, const RuntimeTensor* out);
const char* XnnStatusName(xnn_status s);

struct XnnDeleter {
  void operator()(xnn_operator_t op) const {
    if (op) xnn_delete_operator(op);
  }
};
using XnnOperator = std::unique_ptr<xnn_operator, XnnDeleter>;

}  // namespace xbnn::kernels::builtin
