// Unary activations: RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH, SIGN, ABS,
// ROUND and the binary PRELU. float32 everywhere; int8 as TFLite computes it (RELU* requantize
// then clamp, LEAKY_RELU and PRELU pick one of two multipliers, LOGISTIC and TANH use TFLite's
// float-built lookup table, HARD_SWISH its 16-bit fixed-point scheme). SIGN also takes int32;
// ROUND is float32 only.
#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

// Checks one input and one output of the same shape; the type must be one of `types`.
Status PrepareUnary(const OpContext& ctx, std::initializer_list<DType> types, RuntimeTensor** in,
                    RuntimeTensor** out) {
  XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 1, 1));
  XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
  *in = ctx.input(0);
  *out = ctx.output(0);
  XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, *in, types, "input"));
  XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, *out, (*in)->type(), "output"));
  return runtime::ExpectSameShape(ctx, *in, *out);
}

// ---- RELU, RELU6, RELU_N1_TO_1 --------------------------------------------------------------

class ReluX final : public runtime::OpKernel {
 public:
  ReluX(float lo, float hi) : lo_(lo), hi_(hi) {}

  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(PrepareUnary(ctx, {DType::kFloat32, DType::kInt8}, &in_, &out_));
    if (in_->type() == DType::kFloat32) return Status::Ok();
    QuantParams qi, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    in_zp_ = qi.zero_point;
    out_zp_ = qo.zero_point;
    const float real = qi.scale / qo.scale;
    QuantizeMultiplier(real, &mult_, &shift_);
    if (shift_ > 30) return ctx.Error("input/output scale ratio " + std::to_string(real) + " is too large");
    // TFLite rounds the bounds with roundf on the output scale; an infinite upper bound is the type's.
    // Bounds beyond int8 after scaling clamp there (a tiny output scale must not overflow int).
    auto bound = [&](float f) {
      const float t = std::round(f / qo.scale) + static_cast<float>(qo.zero_point);
      return !(t > -128.0f) ? -128 : !(t < 127.0f) ? 127 : static_cast<int32_t>(t);
    };
    qlo_ = std::max(-128, bound(lo_));
    qhi_ = std::isinf(hi_) ? 127 : std::min(127, bound(hi_));
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    if (in_->type() == DType::kFloat32) {
      const float* x = in_->as<float>();
      float* y = out_->as<float>();
      for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(x[i], lo_), hi_);
      return;
    }
    const int8_t* x = in_->as<int8_t>();
    int8_t* y = out_->as<int8_t>();
    for (int64_t i = 0; i < n; ++i) {
      int32_t v = out_zp_ + MultiplyByQuantizedMultiplier(x[i] - in_zp_, mult_, shift_);
      y[i] = static_cast<int8_t>(std::min(std::max(v, qlo_), qhi_));
    }
  }

 private:
  float lo_, hi_;
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int32_t in_zp_ = 0, out_zp_ = 0, mult_ = 0, qlo_ = -128, qhi_ = 127;
  int shift_ = 0;
};

// ---- LEAKY_RELU -------------------------------------------------------------------------------

class LeakyRelu final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(PrepareUnary(ctx, {DType::kFloat32, DType::kInt8}, &in_, &out_));
    alpha_ = static_cast<float>(ctx.options().GetFloat("alpha", 0.0));
    if (in_->type() == DType::kFloat32) return Status::Ok();
    QuantParams qi, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    in_zp_ = qi.zero_point;
    out_zp_ = qo.zero_point;
    const float real_alpha = qi.scale * alpha_ / qo.scale;
    const float real_identity = qi.scale / qo.scale;
    QuantizeMultiplier(real_alpha, &mult_alpha_, &shift_alpha_);
    QuantizeMultiplier(real_identity, &mult_id_, &shift_id_);
    if (shift_alpha_ > 30 || shift_id_ > 30) return ctx.Error("output scale is too small for the input scale and alpha");
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    if (in_->type() == DType::kFloat32) {
      const float* x = in_->as<float>();
      float* y = out_->as<float>();
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : x[i] * alpha_;
      return;
    }
    const int8_t* x = in_->as<int8_t>();
    int8_t* y = out_->as<int8_t>();
    for (int64_t i = 0; i < n; ++i) {
      const int32_t v = x[i] - in_zp_;
      const int32_t r = out_zp_ + (v >= 0 ? MultiplyByQuantizedMultiplier(v, mult_id_, shift_id_)
                                          : MultiplyByQuantizedMultiplier(v, mult_alpha_, shift_alpha_));
      y[i] = static_cast<int8_t>(std::min(std::max(r, -128), 127));
    }
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  float alpha_ = 0;
  int32_t in_zp_ = 0, out_zp_ = 0, mult_alpha_ = 0, mult_id_ = 0;
  int shift_alpha_ = 0, shift_id_ = 0;
};

// ---- PRELU ------------------------------------------------------------------------------------

class Prelu final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 2));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    alpha_ = ctx.input(1);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, in_, {DType::kFloat32, DType::kInt8}, "input"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, alpha_, in_->type(), "alpha"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, in_->type(), "output"));
    XBNN_RETURN_IF_ERROR(PlanBroadcast(ctx, in_->shape(), alpha_->shape(), out_, &plan_));
    if (out_->shape() != in_->shape()) {
      return ctx.Error("alpha " + ShapeString(alpha_->shape()) + " must broadcast to the input shape " +
                       ShapeString(in_->shape()));
    }
    if (in_->type() == DType::kFloat32) {
      rows_.Plan(plan_, out_);
      return chain_.Prepare(ctx, FloatBinary::kPrelu, rows_, 0, 0);
    }
    QuantParams qi, qa, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, alpha_, "alpha", &qa));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    in_off_ = -qi.zero_point;
    alpha_off_ = -qa.zero_point;
    out_zp_ = qo.zero_point;
    const double real1 = qi.scale / qo.scale;
    const double real2 = qi.scale * qa.scale / qo.scale;
    QuantizeMultiplier(real1, &mult1_, &shift1_);
    QuantizeMultiplier(real2, &mult2_, &shift2_);
    if (shift1_ > 30 || shift2_ > 30) return ctx.Error("output scale is too small for the input and alpha scales");
    return Status::Ok();
  }

  void Invoke(OpContext& ctx) override {
    if (in_->type() == DType::kFloat32) {
      // (A generic broadcast loop here took 3.9 ms on RealToBinaryNet's 112x112x64 PRELU.)
      if (chain_.active()) {
        chain_.Run(ctx, in_->as<float>(), alpha_->as<float>(), out_->as<float>());
      } else {
        rows_.Run(ctx, FloatBinary::kPrelu, in_->as<float>(), alpha_->as<float>(),
                  out_->as<float>(), 0, 0);
      }
      return;
    }
    const int8_t* x = in_->as<int8_t>();
    const int8_t* a = alpha_->as<int8_t>();
    int8_t* y = out_->as<int8_t>();
    ForEachBroadcast(plan_, [&](int64_t o, int64_t i, int64_t j) {
      const int32_t v = in_off_ + x[i];
      int32_t r = v >= 0 ? MultiplyByQuantizedMultiplier(v, mult1_, shift1_)
                         : MultiplyByQuantizedMultiplier(v * (alpha_off_ + a[j]), mult2_, shift2_);
      r += out_zp_;
      y[o] = static_cast<int8_t>(std::min(std::max(r, -128), 127));
    });
  }

 private:
  RuntimeTensor *in_ = nullptr, *alpha_ = nullptr, *out_ = nullptr;
  Broadcast plan_;
  FloatBroadcastRows rows_;  // the float path
  FloatChain chain_;         // elementwise ops fused after this one (runtime/fusion.h)
  int32_t in_off_ = 0, alpha_off_ = 0, out_zp_ = 0, mult1_ = 0, mult2_ = 0;
  int shift1_ = 0, shift2_ = 0;
};

// ---- LOGISTIC -----------------------------------------------------------------------------------

class Logistic final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(PrepareUnary(ctx, {DType::kFloat32, DType::kInt8}, &in_, &out_));
    if (in_->type() == DType::kFloat32) return Status::Ok();
    QuantParams qi, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    if (qo.scale != 1.0f / 256) {
      return ctx.Error("int8 output must have scale 1/256, found " + std::to_string(qo.scale));
    }
    // TFLite's table: dequantize, apply the float function, requantize with round half away.
    const float inverse_scale = 1 / qo.scale;
    for (int32_t v = -128; v <= 127; ++v) {
      const float x = qi.scale * static_cast<float>(v - qi.zero_point);
      const float y = 1.0f / (1.0f + std::exp(-x));
      const int32_t q = static_cast<int32_t>(std::round(y * inverse_scale) + static_cast<float>(qo.zero_point));
      table_[static_cast<uint8_t>(static_cast<int8_t>(v))] = static_cast<int8_t>(std::min(std::max(q, -128), 127));
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    if (in_->type() == DType::kFloat32) {
      const float* x = in_->as<float>();
      float* y = out_->as<float>();
      for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
      return;
    }
    const int8_t* x = in_->as<int8_t>();
    int8_t* y = out_->as<int8_t>();
    for (int64_t i = 0; i < n; ++i) y[i] = table_[static_cast<uint8_t>(x[i])];
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int8_t table_[256] = {};
};

// ---- TANH ---------------------------------------------------------------------------------------

// int8 output value q of a real value y (TFLite's lookup-table construction: round half away from
// zero, add the zero point, clamp). Clamped in float first, so that a tiny output scale cannot make
// the conversion overflow; inside int8's range that gives the same value.
int8_t QuantizeForTable(float y, float inverse_scale, int32_t zero_point) {
  const float q = std::round(y * inverse_scale) + static_cast<float>(zero_point);
  return static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
}

// float32: std::tanh. TFLite's default kernel uses XNNPACK's (or Eigen's) approximation instead,
// which differs from it by a few units in the last place; the int8 table is built from std::tanh
// in TFLite too, so int8 matches exactly. int16 (TFLite's version 3) is refused.
class Tanh final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(PrepareUnary(ctx, {DType::kFloat32, DType::kInt8}, &in_, &out_));
    if (in_->type() == DType::kFloat32) return Status::Ok();
    QuantParams qi, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    // Unlike LOGISTIC, TFLite's table path takes any output scale and zero point.
    const float inverse_scale = 1 / qo.scale;
    for (int32_t v = -128; v <= 127; ++v) {
      const float x = qi.scale * static_cast<float>(v - qi.zero_point);
      table_[static_cast<uint8_t>(static_cast<int8_t>(v))] =
          QuantizeForTable(std::tanh(x), inverse_scale, qo.zero_point);
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    if (in_->type() == DType::kFloat32) {
      const float* x = in_->as<float>();
      float* y = out_->as<float>();
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      return;
    }
    const int8_t* x = in_->as<int8_t>();
    int8_t* y = out_->as<int8_t>();
    for (int64_t i = 0; i < n; ++i) y[i] = table_[static_cast<uint8_t>(x[i])];
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int8_t table_[256] = {};
};

// ---- HARD_SWISH ---------------------------------------------------------------------------------

int16_t Srdhm16(int16_t a, int16_t b) {  // gemmlowp SaturatingRoundingDoublingHighMul, int16
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  const int32_t ab = static_cast<int32_t>(a) * static_cast<int32_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

int16_t Sdhm16(int16_t a, int16_t b) {  // the same, truncating instead of rounding
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((static_cast<int32_t>(a) * static_cast<int32_t>(b)) / (1 << 15));
}

int16_t RoundingDivideByPOT16(int16_t x, int exponent) {
  const int16_t mask = static_cast<int16_t>((1 << exponent) - 1);
  const int16_t remainder = static_cast<int16_t>(x & mask);
  const int16_t threshold = static_cast<int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
  return static_cast<int16_t>((x >> exponent) + (remainder > threshold ? 1 : 0));
}

int16_t SaturatingLeftShift16(int16_t v, int amount) {
  const int64_t r = static_cast<int64_t>(v) * (int64_t{1} << amount);
  return static_cast<int16_t>(std::min<int64_t>(std::max<int64_t>(r, -32768), 32767));
}

int16_t DownScaleToInt16(int32_t m) {
  if (m >= std::numeric_limits<int32_t>::max() - (1 << 15)) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((m + (1 << 15)) >> 16);
}

class HardSwish final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(PrepareUnary(ctx, {DType::kFloat32, DType::kInt8}, &in_, &out_));
    if (in_->type() == DType::kFloat32) return Status::Ok();
    QuantParams qi, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    in_zp_ = qi.zero_point;
    out_zp_ = qo.zero_point;
    const float hires_input_scale = (1.0f / 128.0f) * qi.scale;
    const float reluish_scale = 3.0f / 32768.0f;
    int32_t m32;
    QuantizeMultiplier(hires_input_scale / qo.scale, &m32, &out_exp_);
    out_mult_ = DownScaleToInt16(m32);
    if (out_exp_ > 0) return ctx.Error("output scale is too small for HARD_SWISH (multiplier exponent > 0)");
    QuantizeMultiplier(hires_input_scale / reluish_scale, &m32, &reluish_exp_);
    reluish_mult_ = DownScaleToInt16(m32);
    if (out_exp_ < -15 || reluish_exp_ < -15 || reluish_exp_ > 15) {
      return ctx.Error("quantization scales out of HARD_SWISH's fixed-point range");
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    if (in_->type() == DType::kFloat32) {
      const float* x = in_->as<float>();
      float* y = out_->as<float>();
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] * std::min(6.0f, std::max(0.0f, x[i] + 3)) / 6;
      return;
    }
    const int8_t* x = in_->as<int8_t>();
    int8_t* y = out_->as<int8_t>();
    for (int64_t i = 0; i < n; ++i) {
      const int16_t v = static_cast<int16_t>(x[i] - in_zp_);
      const int16_t hires = static_cast<int16_t>(v * (1 << 7));
      const int16_t preshift_out = Srdhm16(hires, out_mult_);
      int16_t reluish = hires;
      if (reluish_exp_ > 0) reluish = SaturatingLeftShift16(reluish, reluish_exp_ - 1);
      reluish = Srdhm16(reluish, reluish_mult_);
      if (reluish_exp_ > 0) reluish = SaturatingLeftShift16(reluish, 1);
      if (reluish_exp_ < 0) reluish = RoundingDivideByPOT16(reluish, -reluish_exp_);
      reluish = static_cast<int16_t>((reluish + (1 << 15)) >> 1);
      const int16_t pre = Sdhm16(reluish, preshift_out);
      int32_t r = RoundingDivideByPOT16(pre, -out_exp_) + out_zp_;
      y[i] = static_cast<int8_t>(std::min(std::max(r, -128), 127));
    }
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int32_t in_zp_ = 0, out_zp_ = 0;
  int16_t out_mult_ = 0, reluish_mult_ = 0;
  int out_exp_ = 0, reluish_exp_ = 0;
};

// ---- SIGN -----------------------------------------------------------------------------------------

class Sign final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    return PrepareUnary(ctx, {DType::kFloat32, DType::kInt32}, &in_, &out_);
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    if (in_->type() == DType::kFloat32) {
      const float* x = in_->as<float>();
      float* y = out_->as<float>();
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>((0.0f < x[i]) - (x[i] < 0.0f));
    } else {
      const int32_t* x = in_->as<int32_t>();
      int32_t* y = out_->as<int32_t>();
      for (int64_t i = 0; i < n; ++i) y[i] = (0 < x[i]) - (x[i] < 0);
    }
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
};

// ---- ABS ------------------------------------------------------------------------------------------

// int8 as TFLite's elementwise.cc: |x - input_zero_point|, rescaled by input_scale / output_scale
// (QuantizeMultiplier) only when the scales differ, plus the output zero point, clamped.
class Abs final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(PrepareUnary(ctx, {DType::kFloat32, DType::kInt8, DType::kInt32}, &in_, &out_));
    if (in_->type() != DType::kInt8) return Status::Ok();
    QuantParams qi, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    in_zp_ = qi.zero_point;
    out_zp_ = qo.zero_point;
    rescale_ = qi.scale != qo.scale;
    if (rescale_) {
      const double real = static_cast<double>(qi.scale) / static_cast<double>(qo.scale);
      QuantizeMultiplier(real, &mult_, &shift_);
      if (shift_ > 30) return ctx.Error("input/output scale ratio " + std::to_string(real) + " is too large");
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    if (in_->type() == DType::kFloat32) {
      const float* x = in_->as<float>();
      float* y = out_->as<float>();
      for (int64_t i = 0; i < n; ++i) y[i] = std::fabs(x[i]);
    } else if (in_->type() == DType::kInt32) {
      const int32_t* x = in_->as<int32_t>();
      int32_t* y = out_->as<int32_t>();
      // Wraps at INT32_MIN like the hardware.
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0 ? static_cast<int32_t>(0u - static_cast<uint32_t>(x[i])) : x[i];
    } else {
      const int8_t* x = in_->as<int8_t>();
      int8_t* y = out_->as<int8_t>();
      for (int64_t i = 0; i < n; ++i) {
        const int32_t v = std::abs(x[i] - in_zp_);
        const int32_t r = (rescale_ ? MultiplyByQuantizedMultiplier(v, mult_, shift_) : v) + out_zp_;
        y[i] = static_cast<int8_t>(std::min(std::max(r, -128), 127));
      }
    }
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int32_t in_zp_ = 0, out_zp_ = 0, mult_ = 0;
  int shift_ = 0;
  bool rescale_ = false;
};

// ---- ROUND --------------------------------------------------------------------------------------

// Nearest integer, ties to even, as TFLite: floor(x), plus one when the fraction is above one half
// or exactly one half with an odd floor. Differs from std::nearbyint only in the sign of a zero
// result: x in [-0.5, 0) gives +0 (floor -1, plus one), as in TFLite. Infinities stay, NaN stays.
inline float RoundHalfToEven(float x) {
  const float f = std::floor(x);
  const float frac = x - f;  // exact: x and f share their integer bits
  // |f| >= 2^24 has no fraction, so fmod decides parity only where it is exact.
  const bool up = frac > 0.5f || (frac == 0.5f && std::fmod(f, 2.0f) != 0.0f);
  return up ? f + 1.0f : f;
}

class Round final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    return PrepareUnary(ctx, {DType::kFloat32}, &in_, &out_);
  }

  void Invoke(OpContext&) override {
    const int64_t n = in_->elements();
    const float* x = in_->as<float>();
    float* y = out_->as<float>();
    for (int64_t i = 0; i < n; ++i) y[i] = RoundHalfToEven(x[i]);
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
};

std::unique_ptr<runtime::OpKernel> CreateRelu() {
  return std::make_unique<ReluX>(0.0f, std::numeric_limits<float>::infinity());
}
std::unique_ptr<runtime::OpKernel> CreateRelu6() { return std::make_unique<ReluX>(0.0f, 6.0f); }
std::unique_ptr<runtime::OpKernel> CreateReluN1To1() { return std::make_unique<ReluX>(-1.0f, 1.0f); }

}  // namespace

extern const ops::OpDef kReluOp{
    .signature = graph::BuiltinSignature(graph::op::kRelu, 1, 1, graph::options_type::kNone),
    .max_version = 2,
    .shape = ops::SameShapeAsInput0,
    .create = CreateRelu,
};

extern const ops::OpDef kRelu6Op{
    .signature = graph::BuiltinSignature(graph::op::kRelu6, 1, 1, graph::options_type::kNone),
    .max_version = 2,
    .shape = ops::SameShapeAsInput0,
    .create = CreateRelu6,
};

extern const ops::OpDef kReluN1To1Op{
    .signature = graph::BuiltinSignature(graph::op::kReluN1To1, 1, 1, graph::options_type::kNone),
    .max_version = 1,
    .shape = ops::SameShapeAsInput0,
    .create = CreateReluN1To1,
};

extern const ops::OpDef kLeakyReluOp{
    .signature =
        graph::BuiltinSignature(graph::op::kLeakyRelu, 1, 1, graph::options_type::kLeakyRelu),
    .max_version = 1,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<LeakyRelu>,
};

extern const ops::OpDef kPreluOp{
    .signature = graph::BuiltinSignature(graph::op::kPrelu, 2, 2, graph::options_type::kNone),
    .max_version = 1,
    .shape = ops::BroadcastInputs,
    .create = ops::MakeKernel<Prelu>,
};

extern const ops::OpDef kLogisticOp{
    .signature = graph::BuiltinSignature(graph::op::kLogistic, 1, 1, graph::options_type::kNone),
    .max_version = 2,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<Logistic>,
};

// Versions: 2 int8, 3 int16 (refused at Prepare).
extern const ops::OpDef kTanhOp{
    .signature = graph::BuiltinSignature(graph::op::kTanh, 1, 1, graph::options_type::kNone),
    .max_version = 3,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<Tanh>,
};

// One version, float32.
extern const ops::OpDef kRoundOp{
    .signature = graph::BuiltinSignature(graph::op::kRound, 1, 1, graph::options_type::kNone),
    .max_version = 1,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<Round>,
};

extern const ops::OpDef kHardSwishOp{
    .signature =
        graph::BuiltinSignature(graph::op::kHardSwish, 1, 1, graph::options_type::kHardSwish),
    .max_version = 1,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<HardSwish>,
};

// Versions: 2 int32.
extern const ops::OpDef kSignOp{
    .signature = graph::BuiltinSignature(graph::op::kSign, 1, 1, graph::options_type::kSign),
    .max_version = 2,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<Sign>,
};

// Versions: 2 int8, 4 int16 (refused at Prepare), 5 int32.
extern const ops::OpDef kAbsOp{
    .signature = graph::BuiltinSignature(graph::op::kAbs, 1, 1, graph::options_type::kAbs),
    .max_version = 5,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<Abs>,
};

}  // namespace xbnn::kernels
