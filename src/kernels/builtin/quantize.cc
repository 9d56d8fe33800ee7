// QUANTIZE (versions 1-2): float32 -> int8/uint8/int16 (affine, per tensor), and requantization
// int8/uint8 -> int8/uint8.
// DEQUANTIZE (versions 1-5): int8 (per tensor or per channel), uint8, int16 and float16 -> float32.
//
// QUANTIZE reproduces TFLite's default (optimized) kernel as it runs on x86-64, which is what
// LCE's interpreter and the recorded fixtures use, rather than TFLite's reference kernel: their
// results differ at rounding ties, and a float model's fake quantization of exact +1/-1 values
// hits a tie in every element. That kernel processes whole blocks with SIMD code and the last
// elements with scalar code, which round differently:
//  - float -> int: blocks of 8 compute rint(x * (1/scale)) (ties to even); the remaining elements
//    round(double(x) / double(scale)) (ties away from zero). XNNPACK rounds like the blocks.
//  - requantization: blocks of 16 round the final shift of MultiplyByQuantizedMultiplier half up
//    (ARM's rounding shift); the remaining elements half away from zero.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

// ---- QUANTIZE ---------------------------------------------------------------------------------

constexpr int64_t kFloatBlock = 8, kRequantBlock = 16;

// x86's float -> int32 conversion: out of range and NaN give INT32_MIN.
int32_t X86ToInt32(double v) {
  return v >= -2147483648.0 && v < 2147483648.0 ? static_cast<int32_t>(v) : std::numeric_limits<int32_t>::min();
}

int32_t WrappingAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// MultiplyByQuantizedMultiplier with the final shift rounding half up (NEON vrshl).
int32_t MultiplyByQuantizedMultiplierHalfUp(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int32_t t = SaturatingRoundingDoublingHighMul(WrappingMul(x, int32_t{1} << left), multiplier);
  if (right == 0) return t;
  return static_cast<int32_t>((static_cast<int64_t>(t) + (int64_t{1} << (right - 1))) >> right);
}

template <typename T>
const T* Data(const RuntimeTensor* t) {
  return reinterpret_cast<const T*>(t->data);
}

class Quantize final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 1, 1));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectSameShape(ctx, in_, out_));
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, in_, {DType::kFloat32, DType::kInt8, DType::kUInt8}, "input"));
    const graph::Quantization* oq = out_->quant();
    if (oq && oq->scale.size() > 1) {
      return ctx.Error("per-channel quantized output " + TensorName(out_) + " is not supported");
    }
    if (in_->type() == DType::kFloat32) {
      XBNN_RETURN_IF_ERROR(
          ExpectTypeIn(ctx, out_, {DType::kInt8, DType::kUInt8, DType::kInt16}, "output of a float input"));
      XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo_));
      return Status::Ok();
    }
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, out_, {DType::kInt8, DType::kUInt8}, "output of an 8-bit input"));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi_));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo_));
    const double effective = static_cast<double>(qi_.scale) / static_cast<double>(qo_.scale);
    QuantizeMultiplier(effective, &mult_, &shift_);
    if (shift_ > 30) return ctx.Error("requantization multiplier " + std::to_string(effective) + " is too large");
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    const DType ot = out_->type();
    const int32_t lo = TypeMin(ot), hi = TypeMax(ot);
    if (in_->type() == DType::kFloat32) {
      const float* x = in_->as<float>();
      const float inverse = 1.0f / qo_.scale;
      const double scale = qo_.scale;
      const int64_t blocked = n / kFloatBlock * kFloatBlock;
      for (int64_t i = 0; i < n; ++i) {
        const int32_t r = i < blocked ? X86ToInt32(std::nearbyint(x[i] * inverse))
                                      : X86ToInt32(std::round(static_cast<double>(x[i]) / scale));
        Store(ot, i, std::min(std::max(WrappingAdd(r, qo_.zero_point), lo), hi));
      }
      return;
    }
    const int64_t blocked = n / kRequantBlock * kRequantBlock;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t v = (in_->type() == DType::kInt8 ? Data<int8_t>(in_)[i] : Data<uint8_t>(in_)[i]) - qi_.zero_point;
      const int32_t q = (i < blocked ? MultiplyByQuantizedMultiplierHalfUp(v, mult_, shift_)
                                     : MultiplyByQuantizedMultiplier(v, mult_, shift_)) +
                        qo_.zero_point;
      Store(ot, i, std::min(std::max(q, lo), hi));
    }
  }

 private:
  void Store(DType t, int64_t i, int32_t v) {
    switch (t) {
      case DType::kInt8: out_->as<int8_t>()[i] = static_cast<int8_t>(v); break;
      case DType::kUInt8: out_->as<uint8_t>()[i] = static_cast<uint8_t>(v); break;
      default: out_->as<int16_t>()[i] = static_cast<int16_t>(v); break;
    }
  }

  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  QuantParams qi_, qo_;
  int32_t mult_ = 0;
  int shift_ = 0;
};

// ---- DEQUANTIZE -------------------------------------------------------------------------------

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

class Dequantize final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 1, 1));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kFloat32, "output"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectSameShape(ctx, in_, out_));
    XBNN_RETURN_IF_ERROR(
        ExpectTypeIn(ctx, in_, {DType::kInt8, DType::kUInt8, DType::kInt16, DType::kFloat16}, "input"));
    if (in_->type() == DType::kFloat16) return Status::Ok();
    const graph::Quantization* q = in_->quant();
    if (!q || q->scale.empty()) {
      return ctx.Error("input " + TensorName(in_) + " (" + graph::DTypeName(in_->type()) +
                       ") has no quantization parameters");
    }
    if (q->scale.size() == 1) {
      QuantParams qp;
      XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qp));
      scales_ = {qp.scale};
      zero_points_ = {qp.zero_point};
      return Status::Ok();
    }
    // Per channel along quantized_dimension.
    if (in_->type() != DType::kInt8) {
      return ctx.Error(std::string("per-channel dequantization needs int8, found ") + graph::DTypeName(in_->type()));
    }
    const int dim = q->quantized_dimension;
    if (dim < 0 || dim >= in_->rank() || in_->dim(dim) != static_cast<int32_t>(q->scale.size())) {
      return ctx.Error("input " + TensorName(in_) + " has " + std::to_string(q->scale.size()) +
                       " scales for quantized dimension " + std::to_string(dim) + " of shape " +
                       ShapeString(in_->shape()));
    }
    if (!q->zero_point.empty() && q->zero_point.size() != q->scale.size()) {
      return ctx.Error("input " + TensorName(in_) + " has " + std::to_string(q->zero_point.size()) +
                       " zero points for " + std::to_string(q->scale.size()) + " scales");
    }
    scales_ = q->scale;
    zero_points_.assign(q->scale.size(), 0);
    for (size_t c = 0; c < q->zero_point.size(); ++c) zero_points_[c] = static_cast<int32_t>(q->zero_point[c]);
    channels_ = in_->dim(dim);
    inner_ = 1;
    for (int d = dim + 1; d < in_->rank(); ++d) inner_ *= in_->dim(d);
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    float* y = out_->as<float>();
    switch (in_->type()) {
      case DType::kFloat16: {
        const uint16_t* x = Data<uint16_t>(in_);
        for (int64_t i = 0; i < n; ++i) y[i] = HalfToFloat(x[i]);
        return;
      }
      case DType::kUInt8: Affine(Data<uint8_t>(in_), n, y); return;
      case DType::kInt16: Affine(Data<int16_t>(in_), n, y); return;
      default: break;
    }
    const int8_t* x = Data<int8_t>(in_);
    if (scales_.size() == 1) {
      Affine(x, n, y);
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = (i / inner_) % channels_;
      y[i] = static_cast<float>(static_cast<double>(scales_[c]) * (x[i] - zero_points_[c]));
    }
  }

 private:
  // TFLite computes in double and rounds once to float.
  template <typename T>
  void Affine(const T* x, int64_t n, float* y) const {
    const double scale = scales_[0];
    const int32_t zp = zero_points_[0];
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(scale * (static_cast<int32_t>(x[i]) - zp));
  }

  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  std::vector<float> scales_;
  std::vector<int32_t> zero_points_;
  int64_t channels_ = 1, inner_ = 1;
};

}  // namespace

// Versions: 2 int16 output.
extern const ops::OpDef kQuantizeOp{
    .signature =
        graph::BuiltinSignature(graph::op::kQuantize, 1, 1, graph::options_type::kQuantize),
    .max_version = 2,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<Quantize>,
};

// Versions: 2 int8, 3 int16/fp16, 5 per channel.
extern const ops::OpDef kDequantizeOp{
    .signature =
        graph::BuiltinSignature(graph::op::kDequantize, 1, 1, graph::options_type::kDequantize),
    .max_version = 5,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<Dequantize>,
};

}  // namespace xbnn::kernels
