// DEQUANTIZE: int8 (or uint8/int16) affine -> float32, per tensor or per channel.
#include <cmath>

#include "kernels/builtin/builtin_ops.h"

namespace xbnn::kernels {
namespace {

using graph::DType;
using runtime::OpContext;
using runtime::RuntimeTensor;

class Dequantize final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kFloat32, "output"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectSameShape(ctx, in_, out_));
    if (in_->type() != DType::kInt8) {
      return ctx.Error(std::string("input must be int8, found ") + graph::DTypeName(in_->type()));
    }
    if (!in_->PerTensorQuant(&scale_, &zero_point_)) return ctx.Error("input has no quantization parameters");
    return Status::Ok();
  }
  void Invoke(OpContext&) override {
    const int8_t* x = in_->as<int8_t>();
    float* y = out_->as<float>();
    const int64_t n = in_->elements();
    for (int64_t i = 0; i < n; ++i) y[i] = scale_ * static_cast<float>(static_cast<int32_t>(x[i]) - zero_point_);
  }

 private:
  RuntimeTensor* in_ = nullptr;
  RuntimeTensor* out_ = nullptr;
  float scale_ = 1;
  int32_t zero_point_ = 0;
};

}  // namespace

std::unique_ptr<runtime::OpKernel> CreateDequantize() { return std::make_unique<Dequantize>(); }

}  // namespace xbnn::kernels
