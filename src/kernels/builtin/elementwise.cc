// Binary elementwise operators with NumPy broadcasting (up to rank 6) and fused activations:
// ADD, SUB, MUL (float32, int32, int8), DIV (float32), MAXIMUM, MINIMUM (float32, int32, int8).
// int8 follows TFLite's integer arithmetic: ADD/SUB rescale both inputs to a common scale with
// left_shift 20, MUL requantizes the product of the offset inputs, MAXIMUM/MINIMUM compare the
// stored values (the converter gives inputs and output one scale). ADD and MUL reproduce TFLite's
// default x86 kernels, whose SIMD blocks compute differently from the leftovers (see below).
// Float rows run in vector_loops.cc.
#include "kernels/builtin/chain_bits.h"
#include "kernels/builtin/chain_pool.h"
#include "kernels/builtin/common.h"
#include "kernels/builtin/fused_input.h"
#include "kernels/builtin/vector_loops.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

enum class BinOp { kAdd, kSub, kMul, kDiv, kMax, kMin };

struct AddSubParams {
  int32_t in1_offset = 0, in2_offset = 0, out_offset = 0;
  int32_t in1_mult = 0, in2_mult = 0, out_mult = 0;
  int in1_shift = 0, in2_shift = 0, out_shift = 0;
  int left_shift = 20;
  int32_t act_min = -128, act_max = 127;
};

// ---- int8 ADD as TFLite's default x86 kernel computes it (optimized_integer_ops::Add and
// BroadcastAddDispatch, NEON code built for x86 through TFLite's NEON-to-SSE header) ------------
//
// Full blocks of 16 elements (AddElementwise) fold each input's right shift into its left shift
// before the high multiply; blocks of 8 against a broadcast scalar (AddScalarBroadcast) truncate
// the input shifts (vshl by a negative amount); both narrow the result to int16 (vmovn, wrapping)
// before adding the output offset and saturating to int8. Leftover elements take the reference
// formula.

int32_t VectorShift(int32_t x, int shift) {  // NEON vshl: left wraps, right truncates
  return shift >= 0 ? WrappingMul(x, int32_t{1} << shift) : (x >> -shift);
}

int8_t AddNarrow(int32_t s, const AddSubParams& p) {
  const int16_t narrowed = static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint32_t>(s)));
  const int16_t with_offset = static_cast<int16_t>(static_cast<uint16_t>(narrowed + p.out_offset));
  const int32_t saturated = std::min(std::max<int32_t>(with_offset, -128), 127);
  return static_cast<int8_t>(std::min(std::max(saturated, p.act_min), p.act_max));
}

int8_t AddScalar(int8_t x, int8_t y, const AddSubParams& p) {
  const int32_t sx = (x + p.in1_offset) * (1 << p.left_shift);
  const int32_t sy = (y + p.in2_offset) * (1 << p.left_shift);
  const int32_t qx = MultiplyByQuantizedMultiplierSmallerThanOneExp(sx, p.in1_mult, p.in1_shift);
  const int32_t qy = MultiplyByQuantizedMultiplierSmallerThanOneExp(sy, p.in2_mult, p.in2_shift);
  const int32_t raw = MultiplyByQuantizedMultiplierSmallerThanOneExp(qx + qy, p.out_mult, p.out_shift) + p.out_offset;
  return static_cast<int8_t>(std::min(std::max(raw, p.act_min), p.act_max));
}

int8_t AddOutput(int32_t sum, const AddSubParams& p) {
  return AddNarrow(RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(sum, p.out_mult), -p.out_shift), p);
}

void AddElementwise(int64_t n, const AddSubParams& p, const int8_t* a, const int8_t* b, int8_t* out) {
  const int s1 = p.left_shift + p.in1_shift, s2 = p.left_shift + p.in2_shift;
  const int64_t blocked = n - n % 16;
  int64_t i = 0;
  for (; i < blocked; ++i) {
    const int32_t x = SaturatingRoundingDoublingHighMul(VectorShift(a[i] + p.in1_offset, s1), p.in1_mult);
    const int32_t y = SaturatingRoundingDoublingHighMul(VectorShift(b[i] + p.in2_offset, s2), p.in2_mult);
    out[i] = AddOutput(static_cast<int32_t>(static_cast<uint32_t>(x) + static_cast<uint32_t>(y)), p);
  }
  for (; i < n; ++i) out[i] = AddScalar(a[i], b[i], p);
}

// `a` is one value broadcast against n values of `b`.
void AddScalarBroadcast(int64_t n, const AddSubParams& p, int8_t a, const int8_t* b, int8_t* out) {
  const int32_t x = VectorShift(
      SaturatingRoundingDoublingHighMul(VectorShift(a + p.in1_offset, p.left_shift), p.in1_mult), p.in1_shift);
  const int64_t blocked = n - n % 8;
  int64_t i = 0;
  for (; i < blocked; ++i) {
    const int32_t y = VectorShift(
        SaturatingRoundingDoublingHighMul(VectorShift(b[i] + p.in2_offset, p.left_shift), p.in2_mult), p.in2_shift);
    out[i] = AddOutput(static_cast<int32_t>(static_cast<uint32_t>(x) + static_cast<uint32_t>(y)), p);
  }
  for (; i < n; ++i) out[i] = AddScalar(a, b[i], p);
}

// int8 MUL (optimized_integer_ops::Mul, BroadcastMulFivefold): blocks of 8 compute as the scalar
// code but narrow to int16 without saturation (vmovn) before adding the output offset, which
// only matters when the output scale is far too small for the product.
int8_t MulScalar(int8_t x, int8_t y, const AddSubParams& p) {
  const int32_t v = MultiplyByQuantizedMultiplier((x + p.in1_offset) * (y + p.in2_offset), p.out_mult, p.out_shift);
  return static_cast<int8_t>(std::min(std::max(v + p.out_offset, p.act_min), p.act_max));
}

int8_t MulBlock(int8_t x, int8_t y, const AddSubParams& p) {
  return AddNarrow(MultiplyByQuantizedMultiplier((x + p.in1_offset) * (y + p.in2_offset), p.out_mult, p.out_shift), p);
}

void MulElementwise(int64_t n, const AddSubParams& p, const int8_t* a, const int8_t* b, int8_t* out) {
  const int64_t blocked = n - n % 8;
  int64_t i = 0;
  for (; i < blocked; ++i) out[i] = MulBlock(a[i], b[i], p);
  for (; i < n; ++i) out[i] = MulScalar(a[i], b[i], p);
}

void MulScalarBroadcast(int64_t n, const AddSubParams& p, int8_t a, const int8_t* b, int8_t* out) {
  const int64_t blocked = n - n % 8;
  int64_t i = 0;
  for (; i < blocked; ++i) out[i] = MulBlock(a, b[i], p);
  for (; i < n; ++i) out[i] = MulScalar(a, b[i], p);
}

// TFLite's ProcessBroadcastShapes: how the two shapes broadcast, and the five loop counts of
// BroadcastAddFivefold (input `first` has the unit dimensions of y3, the other those of y1).
enum class BroadcastCategory { kNone, kFirstFast, kSecondFast, kGeneric };
struct Fivefold {
  BroadcastCategory category = BroadcastCategory::kNone;
  std::array<int64_t, 5> y{1, 1, 1, 1, 1};
};

Fivefold ProcessBroadcastShapes(const std::vector<int32_t>& s0, const std::vector<int32_t>& s1) {
  Fivefold f;
  const int n = static_cast<int>(std::max(s0.size(), s1.size()));
  std::vector<int64_t> e0(static_cast<size_t>(n), 1), e1(static_cast<size_t>(n), 1);
  for (size_t i = 0; i < s0.size(); ++i) e0[n - s0.size() + i] = s0[i];
  for (size_t i = 0; i < s1.size(); ++i) e1[n - s1.size() + i] = s1[i];
  if (e0 == e1) return f;
  f.category = BroadcastCategory::kGeneric;
  for (int i = n - 1; i >= 0; --i) {
    if (e0[i] == e1[i]) continue;
    if (e0[i] == 1) {
      f.category = BroadcastCategory::kFirstFast;
    } else if (e1[i] == 1) {
      f.category = BroadcastCategory::kSecondFast;
    } else {
      return f;
    }
    break;
  }
  const bool swap = f.category == BroadcastCategory::kSecondFast;
  const std::vector<int64_t>& a = swap ? e1 : e0;
  const std::vector<int64_t>& b = swap ? e0 : e1;
  int i = n - 1;
  while (i >= 0 && a[i] == b[i]) f.y[4] *= b[i--];
  while (i >= 0 && a[i] == 1) f.y[3] *= b[i--];
  while (i >= 0 && a[i] == b[i]) f.y[2] *= a[i--];
  while (i >= 0 && b[i] == 1) f.y[1] *= a[i--];
  while (i >= 0 && a[i] == b[i]) f.y[0] *= b[i--];
  if (i >= 0) f.category = BroadcastCategory::kGeneric;
  return f;
}

class Binary final : public runtime::OpKernel {
 public:
  explicit Binary(BinOp op) : op_(op) {}

  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 2));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    a_ = ctx.input(0);
    b_ = ctx.input(1);
    out_ = ctx.output(0);
    if (a_->type() != b_->type()) {
      return ctx.Error(std::string("input types differ: ") + graph::DTypeName(a_->type()) + " and " +
                       graph::DTypeName(b_->type()));
    }
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, a_->type(), "output"));
    const bool has_activation = op_ == BinOp::kAdd || op_ == BinOp::kSub || op_ == BinOp::kMul || op_ == BinOp::kDiv;
    if (has_activation) XBNN_RETURN_IF_ERROR(ReadActivation(ctx, &act_));
    XBNN_RETURN_IF_ERROR(PlanBroadcast(ctx, a_->shape(), b_->shape(), out_, &plan_));
    type_ = a_->type();
    switch (type_) {
      case DType::kFloat32:
        FloatActivationRange(act_, &flo_, &fhi_);
        rows_.Plan(plan_, out_);
        XBNN_RETURN_IF_ERROR(chain_.Prepare(ctx, FloatKind(), rows_, flo_, fhi_));
        XBNN_RETURN_IF_ERROR(
            fused_input_.Prepare(ctx, FloatKind(), rows_, a_, b_, out_, flo_, fhi_));
        bits_only_ = ctx.chain_bits_only;
        if (bits_only_) return bits_.Prepare(ctx);
        return pool_.Prepare(ctx,
                             ctx.fused_chain.empty() ? out_ : ctx.fused_chain.back()->output(0));
      case DType::kInt32:
        if (op_ == BinOp::kDiv) break;
        IntActivationRange();
        return Status::Ok();
      case DType::kInt8:
        if (op_ == BinOp::kDiv) break;
        return PrepareInt8(ctx);
      default: break;
    }
    const char* supported = op_ == BinOp::kDiv ? "float32" : "float32, int32, int8";
    return ctx.Error("input " + TensorName(a_) + " has type " + graph::DTypeName(type_) + ", supported: " + supported);
  }

  void Invoke(OpContext& ctx) override {
    switch (type_) {
      case DType::kFloat32:
        if (bits_only_) {
          bits_.Run(ctx);
        } else if (pool_.active() && fused_input_.active()) {
          fused_input_.RunPool(ctx, chain_, pool_);
        } else if (pool_.active()) {
          pool_.Run(ctx, chain_, a_->as<float>(), b_->as<float>());
        } else if (fused_input_.active()) {
          fused_input_.Run(ctx, chain_, out_->as<float>());
        } else if (chain_.active()) {
          chain_.Run(ctx, a_->as<float>(), b_->as<float>(), out_->as<float>());
        } else {
          rows_.Run(ctx, FloatKind(), a_->as<float>(), b_->as<float>(), out_->as<float>(), flo_,
                    fhi_);
        }
        break;
      case DType::kInt32: InvokeInt32(); break;
      default: InvokeInt8(); break;
    }
  }

 private:
  template <typename T, typename F>
  void Run(const T* a, const T* b, T* out, F&& f) const {
    if (plan_.same_shape) {
      const int64_t n = out_->elements();
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    } else {
      ForEachBroadcast(plan_, [&](int64_t o, int64_t ia, int64_t ib) { out[o] = f(a[ia], b[ib]); });
    }
  }

  FloatBinary FloatKind() const {
    static constexpr FloatBinary kKinds[] = {FloatBinary::kAdd, FloatBinary::kSub,
                                             FloatBinary::kMul, FloatBinary::kDiv,
                                             FloatBinary::kMax, FloatBinary::kMin};
    return kKinds[static_cast<int>(op_)];
  }

  void InvokeInt32() {
    const int32_t* a = a_->as<int32_t>();
    const int32_t* b = b_->as<int32_t>();
    int32_t* out = out_->as<int32_t>();
    const int32_t lo = ilo_, hi = ihi_;
    auto clamp = [lo, hi](int32_t x) { return std::min(std::max(x, lo), hi); };
    // Wrapping arithmetic, like the hardware TFLite runs on.
    auto wrap = [](int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); };
    switch (op_) {
      case BinOp::kAdd: Run(a, b, out, [&](int32_t x, int32_t y) { return clamp(wrap(int64_t{x} + y)); }); break;
      case BinOp::kSub: Run(a, b, out, [&](int32_t x, int32_t y) { return clamp(wrap(int64_t{x} - y)); }); break;
      case BinOp::kMul: Run(a, b, out, [&](int32_t x, int32_t y) { return clamp(WrappingMul(x, y)); }); break;
      case BinOp::kMax: Run(a, b, out, [](int32_t x, int32_t y) { return x > y ? x : y; }); break;
      case BinOp::kMin: Run(a, b, out, [](int32_t x, int32_t y) { return x < y ? x : y; }); break;
      case BinOp::kDiv: break;  // rejected at Prepare
    }
  }

  // TFLite's BroadcastAddFivefold / BroadcastMulFivefold: `x` is the input whose unit dimensions
  // broadcast fastest (TFLite swaps the operands and their parameters so that it comes first);
  // elementwise(n, p, x, y, out) runs over y4 > 1 elements, scalar(n, p, x_value, y, out) over y3.
  template <typename Elementwise, typename Scalar>
  void RunFivefold(const int8_t* in0, const int8_t* in1, int8_t* out, Elementwise elementwise, Scalar scalar) const {
    const bool unswitched = fivefold_.category == BroadcastCategory::kFirstFast;
    AddSubParams p = as_;
    if (!unswitched) {
      std::swap(p.in1_offset, p.in2_offset);
      std::swap(p.in1_mult, p.in2_mult);
      std::swap(p.in1_shift, p.in2_shift);
    }
    const int8_t* x = unswitched ? in0 : in1;
    const int8_t* y_reset = unswitched ? in1 : in0;
    const auto& y = fivefold_.y;
    for (int64_t i0 = 0; i0 < y[0]; ++i0) {
      const int8_t* yp = nullptr;
      for (int64_t i1 = 0; i1 < y[1]; ++i1) {
        yp = y_reset;
        for (int64_t i2 = 0; i2 < y[2]; ++i2) {
          if (y[4] > 1) {
            for (int64_t i3 = 0; i3 < y[3]; ++i3) {
              elementwise(y[4], p, x, yp, out);
              yp += y[4];
              out += y[4];
            }
            x += y[4];
          } else {
            scalar(y[3], p, *x, yp, out);
            yp += y[3];
            out += y[3];
            x += 1;
          }
        }
      }
      y_reset = yp;
    }
  }

  void InvokeInt8() {
    const int8_t* a = a_->as<int8_t>();
    const int8_t* b = b_->as<int8_t>();
    int8_t* out = out_->as<int8_t>();
    if (op_ == BinOp::kAdd && fivefold_.category != BroadcastCategory::kGeneric) {
      if (fivefold_.category == BroadcastCategory::kNone) {
        AddElementwise(out_->elements(), as_, a, b, out);
      } else {
        RunFivefold(a, b, out, AddElementwise, AddScalarBroadcast);
      }
      return;
    }
    // (With a multiplier >= 1 TFLite's NEON blocks skip the left shift; xbnn keeps the scalar
    // formula there, which differs only when the result overflows int16.)
    if (op_ == BinOp::kMul && fivefold_.category != BroadcastCategory::kGeneric && as_.out_shift <= 0) {
      if (fivefold_.category == BroadcastCategory::kNone) {
        MulElementwise(out_->elements(), as_, a, b, out);
      } else {
        RunFivefold(a, b, out, MulElementwise, MulScalarBroadcast);
      }
      return;
    }
    const int32_t lo = ilo_, hi = ihi_;
    auto clamp8 = [lo, hi](int32_t x) { return static_cast<int8_t>(std::min(std::max(x, lo), hi)); };
    const AddSubParams& p = as_;
    switch (op_) {
      case BinOp::kAdd:
      case BinOp::kSub: {
        const bool sub = op_ == BinOp::kSub;
        Run(a, b, out, [&](int8_t x, int8_t y) {
          const int32_t sx = (x + p.in1_offset) * (1 << p.left_shift);
          const int32_t sy = (y + p.in2_offset) * (1 << p.left_shift);
          const int32_t qx = MultiplyByQuantizedMultiplierSmallerThanOneExp(sx, p.in1_mult, p.in1_shift);
          const int32_t qy = MultiplyByQuantizedMultiplierSmallerThanOneExp(sy, p.in2_mult, p.in2_shift);
          const int32_t raw = sub ? qx - qy : qx + qy;
          return clamp8(MultiplyByQuantizedMultiplierSmallerThanOneExp(raw, p.out_mult, p.out_shift) + p.out_offset);
        });
        break;
      }
      case BinOp::kMul:
        Run(a, b, out, [&](int8_t x, int8_t y) {
          const int32_t prod = (x + p.in1_offset) * (y + p.in2_offset);
          return clamp8(MultiplyByQuantizedMultiplier(prod, p.out_mult, p.out_shift) + p.out_offset);
        });
        break;
      case BinOp::kMax: Run(a, b, out, [](int8_t x, int8_t y) { return x > y ? x : y; }); break;
      case BinOp::kMin: Run(a, b, out, [](int8_t x, int8_t y) { return x < y ? x : y; }); break;
      case BinOp::kDiv: break;  // rejected at Prepare
    }
  }

  void IntActivationRange() {
    switch (act_) {
      case Activation::kNone:
        ilo_ = std::numeric_limits<int32_t>::min();
        ihi_ = std::numeric_limits<int32_t>::max();
        break;
      case Activation::kRelu:
        ilo_ = 0;
        ihi_ = std::numeric_limits<int32_t>::max();
        break;
      case Activation::kReluN1To1:
        ilo_ = -1;
        ihi_ = 1;
        break;
      case Activation::kRelu6:
        ilo_ = 0;
        ihi_ = 6;
        break;
    }
  }

  Status PrepareInt8(OpContext& ctx) {
    if (op_ == BinOp::kMax || op_ == BinOp::kMin) {
      ilo_ = -128;
      ihi_ = 127;
      return Status::Ok();
    }
    QuantParams q1, q2, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, a_, "input 0", &q1));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, b_, "input 1", &q2));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    XBNN_RETURN_IF_ERROR(QuantizedActivationRange(ctx, act_, qo.scale, qo.zero_point, DType::kInt8, &ilo_, &ihi_));
    as_.act_min = ilo_;
    as_.act_max = ihi_;
    fivefold_ = ProcessBroadcastShapes(a_->shape(), b_->shape());
    as_.in1_offset = -q1.zero_point;
    as_.in2_offset = -q2.zero_point;
    as_.out_offset = qo.zero_point;
    if (op_ == BinOp::kMul) {
      // TFLite forms the real multiplier in float, then widens it.
      const double real = q1.scale * q2.scale / qo.scale;
      QuantizeMultiplier(real, &as_.out_mult, &as_.out_shift);
      if (as_.out_shift > 30) return ctx.Error("output scale is too small for the product of the input scales");
      return Status::Ok();
    }
    const double twice_max = 2 * std::max(q1.scale, q2.scale);
    const double real1 = q1.scale / twice_max;
    const double real2 = q2.scale / twice_max;
    const double real_out = twice_max / ((1 << as_.left_shift) * qo.scale);
    if (!(real_out < 1.0)) {
      return ctx.Error("output scale " + std::to_string(qo.scale) + " is too small for input scales " +
                       std::to_string(q1.scale) + " and " + std::to_string(q2.scale));
    }
    QuantizeMultiplier(real1, &as_.in1_mult, &as_.in1_shift);
    QuantizeMultiplier(real2, &as_.in2_mult, &as_.in2_shift);
    QuantizeMultiplier(real_out, &as_.out_mult, &as_.out_shift);
    return Status::Ok();
  }

  BinOp op_;
  RuntimeTensor *a_ = nullptr, *b_ = nullptr, *out_ = nullptr;
  DType type_ = DType::kFloat32;
  Activation act_ = Activation::kNone;
  Broadcast plan_;
  float flo_ = 0, fhi_ = 0;
  FloatBroadcastRows rows_;  // the float path
  FloatChain chain_;         // elementwise ops fused after this one (runtime/fusion.h)
  FusedInputRows fused_input_;  // a fused PAD or CONCATENATION input (runtime/fusion.h)
  bool bits_only_ = false;      // its chain's LceQuantize bits come from ChainBits jobs
  ChainBitsRunner bits_;        // those this op runs
  ChainPool pool_;              // a MAX_POOL_2D of its chain\'s value (runtime/fusion.h)
  int32_t ilo_ = 0, ihi_ = 0;
  AddSubParams as_;
  Fivefold fivefold_;
};

}  // namespace

extern const ops::OpDef kAddOp{
    .signature = graph::BuiltinSignature(graph::op::kAdd, 2, 2, graph::options_type::kAdd),
    .max_version = 2,
    .shape = ops::BroadcastInputs,
    .create = ops::MakeKernel<Binary, BinOp::kAdd>,
};

// Versions: 3 broadcast rank 5.
extern const ops::OpDef kSubOp{
    .signature = graph::BuiltinSignature(graph::op::kSub, 2, 2, graph::options_type::kSub),
    .max_version = 3,
    .shape = ops::BroadcastInputs,
    .create = ops::MakeKernel<Binary, BinOp::kSub>,
};

// Versions: 3 int8 rescale >= 1.
extern const ops::OpDef kMulOp{
    .signature = graph::BuiltinSignature(graph::op::kMul, 2, 2, graph::options_type::kMul),
    .max_version = 3,
    .shape = ops::BroadcastInputs,
    .create = ops::MakeKernel<Binary, BinOp::kMul>,
};

extern const ops::OpDef kDivOp{
    .signature = graph::BuiltinSignature(graph::op::kDiv, 2, 2, graph::options_type::kDiv),
    .max_version = 2,
    .shape = ops::BroadcastInputs,
    .create = ops::MakeKernel<Binary, BinOp::kDiv>,
};

extern const ops::OpDef kMaximumOp{
    .signature =
        graph::BuiltinSignature(graph::op::kMaximum, 2, 2, graph::options_type::kMaximumMinimum),
    .max_version = 3,
    .shape = ops::BroadcastInputs,
    .create = ops::MakeKernel<Binary, BinOp::kMax>,
};

extern const ops::OpDef kMinimumOp{
    .signature =
        graph::BuiltinSignature(graph::op::kMinimum, 2, 2, graph::options_type::kMaximumMinimum),
    .max_version = 3,
    .shape = ops::BroadcastInputs,
    .create = ops::MakeKernel<Binary, BinOp::kMin>,
};

}  // namespace xbnn::kernels
