// Binary elementwise operators with NumPy broadcasting (up to rank 6) and fused activations:
// ADD, SUB, MUL (float32, int32, int8), DIV (float32), MAXIMUM, MINIMUM (float32, int32, int8).
// int8 follows TFLite's integer arithmetic: ADD/SUB rescale both inputs to a common scale with
// left_shift 20, MUL requantizes the product of the offset inputs, MAXIMUM/MINIMUM compare the
// stored values (the converter gives inputs and output one scale).
#include "kernels/builtin/builtin_ops.h"
#include "kernels/builtin/common.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

enum class BinOp { kAdd, kSub, kMul, kDiv, kMax, kMin };

struct AddSubParams {
  int32_t in1_offset = 0, in2_offset = 0, out_offset = 0;
  int32_t in1_mult = 0, in2_mult = 0, out_mult = 0;
  int in1_shift = 0, in2_shift = 0, out_shift = 0;
  int left_shift = 20;
};

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
      case DType::kFloat32: FloatActivationRange(act_, &flo_, &fhi_); return Status::Ok();
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

  void Invoke(OpContext&) override {
    switch (type_) {
      case DType::kFloat32: InvokeFloat(); break;
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

  void InvokeFloat() {
    const float* a = a_->as<float>();
    const float* b = b_->as<float>();
    float* out = out_->as<float>();
    const float lo = flo_, hi = fhi_;
    auto clamp = [lo, hi](float x) { return std::min(std::max(x, lo), hi); };
    switch (op_) {
      case BinOp::kAdd: Run(a, b, out, [&](float x, float y) { return clamp(x + y); }); break;
      case BinOp::kSub: Run(a, b, out, [&](float x, float y) { return clamp(x - y); }); break;
      case BinOp::kMul: Run(a, b, out, [&](float x, float y) { return clamp(x * y); }); break;
      case BinOp::kDiv: Run(a, b, out, [&](float x, float y) { return clamp(x / y); }); break;
      case BinOp::kMax: Run(a, b, out, [](float x, float y) { return x > y ? x : y; }); break;
      case BinOp::kMin: Run(a, b, out, [](float x, float y) { return x < y ? x : y; }); break;
    }
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

  void InvokeInt8() {
    const int8_t* a = a_->as<int8_t>();
    const int8_t* b = b_->as<int8_t>();
    int8_t* out = out_->as<int8_t>();
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
  int32_t ilo_ = 0, ihi_ = 0;
  AddSubParams as_;
};

}  // namespace

std::unique_ptr<runtime::OpKernel> CreateAdd() { return std::make_unique<Binary>(BinOp::kAdd); }
std::unique_ptr<runtime::OpKernel> CreateSub() { return std::make_unique<Binary>(BinOp::kSub); }
std::unique_ptr<runtime::OpKernel> CreateMul() { return std::make_unique<Binary>(BinOp::kMul); }
std::unique_ptr<runtime::OpKernel> CreateDiv() { return std::make_unique<Binary>(BinOp::kDiv); }
std::unique_ptr<runtime::OpKernel> CreateMaximum() { return std::make_unique<Binary>(BinOp::kMax); }
std::unique_ptr<runtime::OpKernel> CreateMinimum() { return std::make_unique<Binary>(BinOp::kMin); }

}  // namespace xbnn::kernels
