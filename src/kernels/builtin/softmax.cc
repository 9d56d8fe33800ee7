// SOFTMAX (versions 1-2) over the last dimension, with beta. int8 reproduces what TFLite runs on
// x86: a float table of exp(-input_scale * beta * d) for the 256 distances d from the row maximum,
// a float sum, and rounding of table[d] / (sum * output_scale) half away from zero.
#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

class Softmax final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 1, 1));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, in_, {DType::kFloat32, DType::kInt8}, "input"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, in_->type(), "output"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectSameShape(ctx, in_, out_));
    if (in_->rank() < 1) return ctx.Error("input " + TensorName(in_) + " must have rank >= 1");
    beta_ = static_cast<float>(ctx.options().GetFloat("beta", 1.0));
    depth_ = in_->shape().back();
    rows_ = depth_ > 0 ? in_->elements() / depth_ : 0;
    if (in_->type() == DType::kFloat32) return Status::Ok();
    QuantParams qi, qo;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    out_scale_ = qo.scale;
    out_zp_ = qo.zero_point;
    const float scale = -qi.scale * beta_;
    for (int32_t d = 0; d <= 255; ++d) table_[255 - d] = std::exp(scale * static_cast<float>(d));
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    if (in_->type() == DType::kFloat32) {
      InvokeFloat();
    } else {
      InvokeInt8();
    }
  }

 private:
  void InvokeFloat() {
    const float* x = in_->as<float>();
    float* y = out_->as<float>();
    for (int64_t r = 0; r < rows_; ++r, x += depth_, y += depth_) {
      float max = x[0];
      for (int j = 1; j < depth_; ++j) max = std::max(max, x[j]);
      float sum = 0;
      for (int j = 0; j < depth_; ++j) {
        y[j] = std::exp((x[j] - max) * beta_);
        sum += y[j];
      }
      const float inv = 1.0f / sum;
      for (int j = 0; j < depth_; ++j) y[j] *= inv;
    }
  }

  void InvokeInt8() {
    const int8_t* x = in_->as<int8_t>();
    int8_t* y = out_->as<int8_t>();
    for (int64_t r = 0; r < rows_; ++r, x += depth_, y += depth_) {
      int32_t max = -128;
      for (int j = 0; j < depth_; ++j) max = std::max<int32_t>(max, x[j]);
      // table_[255 - (max - x)] = exp(-input_scale * beta * (max - x)).
      const int32_t offset = 255 - max;
      float sum = 0;
      for (int j = 0; j < depth_; ++j) sum += table_[offset + x[j]];
      const float inv = 1.0f / (sum * out_scale_);
      for (int j = 0; j < depth_; ++j) {
        const int32_t q = static_cast<int32_t>(std::round(table_[offset + x[j]] * inv)) + out_zp_;
        y[j] = static_cast<int8_t>(std::min(std::max(q, -128), 127));
      }
    }
  }

  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  float beta_ = 1;
  int depth_ = 0;
  int64_t rows_ = 0;
  float out_scale_ = 1;
  int32_t out_zp_ = 0;
  float table_[256] = {};
};

}  // namespace

extern const ops::OpDef kSoftmaxOp{
    .signature = graph::BuiltinSignature(graph::op::kSoftmax, 1, 1, graph::options_type::kSoftmax),
    .max_version = 2,
    .shape = ops::SameShapeAsInput0,
    .create = ops::MakeKernel<Softmax>,
};

}  // namespace xbnn::kernels
