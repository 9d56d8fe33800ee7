// PACK (versions 1-4): N tensors of one shape and any fixed-size type stacked along a new axis.
// int8 inputs must be quantized like the output (TFLite copies the stored values).
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

class Pack final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    if (ctx.num_inputs() < 1) return ctx.Error("expects at least 1 input, found 0");
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    out_ = ctx.output(0);
    const int64_t count = ctx.options().GetInt("values_count", 0);
    if (count != 0 && count != static_cast<int64_t>(ctx.num_inputs())) {
      return ctx.Error("values_count is " + std::to_string(count) + " but the op has " +
                       std::to_string(ctx.num_inputs()) + " inputs");
    }
    const RuntimeTensor* first = ctx.input(0);
    if (!first) return ctx.Error("input 0 is missing");
    const int elem = graph::DTypeSize(first->type());
    if (elem <= 0) return ctx.Error(std::string("type ") + graph::DTypeName(first->type()) + " is not supported");
    const int rank = first->rank() + 1;
    int64_t axis = ctx.options().GetInt("axis", 0);
    if (axis < -rank || axis >= rank) {
      return ctx.Error("axis " + std::to_string(axis) + " is out of range for output rank " + std::to_string(rank));
    }
    if (axis < 0) axis += rank;
    QuantParams qo;
    const bool int8 = first->type() == DType::kInt8;
    if (int8) XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    inputs_.clear();
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const RuntimeTensor* t = ctx.input(i);
      const std::string what = "input " + std::to_string(i);
      if (!t) return ctx.Error(what + " is missing");
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, t, first->type(), what.c_str()));
      XBNN_RETURN_IF_ERROR(ExpectShape(ctx, t, first->shape(), what.c_str()));
      if (int8) {
        QuantParams q;
        XBNN_RETURN_IF_ERROR(GetQuant(ctx, t, what.c_str(), &q));
        if (q.scale != qo.scale || q.zero_point != qo.zero_point) {
          return ctx.Error("int8 " + what + " " + TensorName(t) + " must be quantized like the output");
        }
      }
      inputs_.push_back(t);
    }
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, first->type(), "output"));
    std::vector<int32_t> expected = first->shape();
    expected.insert(expected.begin() + axis, static_cast<int32_t>(inputs_.size()));
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, expected, "output"));
    outer_ = 1;
    for (int d = 0; d < axis; ++d) outer_ *= first->dim(d);
    chunk_ = outer_ > 0 ? first->bytes / static_cast<size_t>(outer_) : 0;
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    uint8_t* o = out_->data;
    for (int64_t k = 0; k < outer_; ++k) {
      for (const RuntimeTensor* t : inputs_) {
        std::memcpy(o, t->data + static_cast<size_t>(k) * chunk_, chunk_);
        o += chunk_;
      }
    }
  }

 private:
  RuntimeTensor* out_ = nullptr;
  std::vector<const RuntimeTensor*> inputs_;
  int64_t outer_ = 1;
  size_t chunk_ = 0;
};

std::optional<ops::Shape> PackShape(const ops::ShapeQuery& q) {
  const ops::Shape* first = q.In(0);
  if (!first) return std::nullopt;
  for (size_t i = 1; i < q.num_inputs(); ++i) {
    const ops::Shape* t = q.In(i);
    if (!t || *t != *first) return std::nullopt;
  }
  const int rank = static_cast<int>(first->size()) + 1;
  const std::optional<int64_t> axis = ops::NormalizeAxis(q.options().GetInt("axis", 0), rank);
  if (!axis) return std::nullopt;
  ops::Shape s = *first;
  s.insert(s.begin() + *axis, static_cast<int32_t>(q.num_inputs()));
  return s;
}

}  // namespace

extern const ops::OpDef kPackOp{
    .signature = graph::BuiltinSignature(graph::op::kPack, 1, graph::kManyTensors,
                                         graph::options_type::kPack),
    .max_version = 4,
    .shape = PackShape,
    .values = ops::ConcatValuesAlongAxis0,
    .create = ops::MakeKernel<Pack>,
};

}  // namespace xbnn::kernels
