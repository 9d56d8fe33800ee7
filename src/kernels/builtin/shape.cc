// SHAPE (version 1): the input's shape as an int32 or int64 vector. Shapes are known at load time,
// so the interpreter normally folds this op away (runtime/shape_inference.h); the kernel covers
// the rest.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

class Shape final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 1, 1));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, out_, {DType::kInt32, DType::kInt64}, "output"));
    const RuntimeTensor* in = ctx.input(0);
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, {in->rank()}, "output"));
    dims_.assign(in->shape().begin(), in->shape().end());
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    for (size_t i = 0; i < dims_.size(); ++i) {
      if (out_->type() == DType::kInt32) {
        const int32_t v = static_cast<int32_t>(dims_[i]);
        std::memcpy(out_->data + 4 * i, &v, 4);
      } else {
        std::memcpy(out_->data + 8 * i, &dims_[i], 8);
      }
    }
  }

 private:
  RuntimeTensor* out_ = nullptr;
  std::vector<int64_t> dims_;
};

std::optional<ops::Shape> ShapeShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  return in ? std::optional<ops::Shape>(ops::Shape{static_cast<int32_t>(in->size())})
            : std::nullopt;
}

// SHAPE's values are its input's shape: known at load time, so the op is folded away.
std::optional<ops::Values> ShapeValues(const ops::ShapeQuery& q, const ops::Shape&) {
  const ops::Shape* in = q.In(0);
  return in ? std::optional<ops::Values>(ops::Values(in->begin(), in->end())) : std::nullopt;
}

}  // namespace

extern const ops::OpDef kShapeOp{
    .signature = graph::BuiltinSignature(graph::op::kShape, 1, 1, graph::options_type::kShape),
    .max_version = 1,
    .shape = ShapeShape,
    .values = ShapeValues,
    .create = ops::MakeKernel<Shape>,
};

}  // namespace xbnn::kernels
