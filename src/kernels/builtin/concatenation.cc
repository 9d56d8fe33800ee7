// CONCATENATION (versions 1-2) along any axis, for float32 (with a fused activation), int8 (inputs
// quantized like the output, as TFLite requires), and the plain types int32, uint8, int16, int64
// and bool.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

class Concatenation final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    if (ctx.num_inputs() < 1) return ctx.Error("expects at least 1 input, found 0");
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, out_,
                                      {DType::kFloat32, DType::kInt8, DType::kInt32, DType::kUInt8, DType::kInt16,
                                       DType::kInt64, DType::kBool},
                                      "output"));
    XBNN_RETURN_IF_ERROR(ReadActivation(ctx, &act_));
    if (act_ != Activation::kNone && out_->type() != DType::kFloat32) {
      return ctx.Error(std::string("fused activation ") + ActivationName(act_) + " needs float32, found " +
                       graph::DTypeName(out_->type()));
    }
    const int rank = out_->rank();
    int64_t axis = ctx.options().GetInt("axis", 0);
    if (axis < -rank || axis >= rank) {
      return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    if (axis < 0) axis += rank;
    QuantParams qo;
    if (out_->type() == DType::kInt8) XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
    int64_t axis_total = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const RuntimeTensor* t = ctx.input(i);
      const std::string what = "input " + std::to_string(i);
      if (!t) return ctx.Error(what + " is missing");
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, t, out_->type(), what.c_str()));
      if (t->rank() != rank) {
        return ctx.Error(what + " " + TensorName(t) + " has rank " + std::to_string(t->rank()) + ", expected " +
                         std::to_string(rank));
      }
      for (int d = 0; d < rank; ++d) {
        if (d != axis && t->dim(d) != out_->dim(d)) {
          return ctx.Error(what + " " + TensorName(t) + " has shape " + ShapeString(t->shape()) +
                           ", which does not match the output " + ShapeString(out_->shape()) + " outside axis " +
                           std::to_string(axis));
        }
      }
      axis_total += t->dim(static_cast<int>(axis));
      if (out_->type() == DType::kInt8) {
        QuantParams q;
        XBNN_RETURN_IF_ERROR(GetQuant(ctx, t, what.c_str(), &q));
        if (q.scale != qo.scale || q.zero_point != qo.zero_point) {
          return ctx.Error("int8 " + what + " " + TensorName(t) + " must be quantized like the output (scale " +
                           std::to_string(qo.scale) + ", zero point " + std::to_string(qo.zero_point) + "), found scale " +
                           std::to_string(q.scale) + ", zero point " + std::to_string(q.zero_point));
        }
      }
      inputs_.push_back(t);
    }
    if (axis_total != out_->dim(static_cast<int>(axis))) {
      return ctx.Error("inputs add up to " + std::to_string(axis_total) + " along axis " + std::to_string(axis) +
                       ", but the output has " + std::to_string(out_->dim(static_cast<int>(axis))));
    }
    outer_ = 1;
    for (int d = 0; d < axis; ++d) outer_ *= out_->dim(d);
    for (const RuntimeTensor* t : inputs_) chunk_bytes_.push_back(outer_ > 0 ? t->bytes / outer_ : 0);
    if (out_->type() == DType::kFloat32) FloatActivationRange(act_, &lo_, &hi_);
    return Status::Ok();
  }

  void Invoke(OpContext& ctx) override {
    size_t row = 0;  // output bytes per outer index
    for (size_t n : chunk_bytes_) row += n;
    // Chunks of outer rows on the threads (MeliusNet22 and BinaryDenseNet28 concatenate MBs per
    // block: on the calling thread alone, MeliusNet22's took 9% of its time at two threads).
    auto task = [&](int, int64_t k0, int64_t k1) {
      uint8_t* o = out_->data + static_cast<size_t>(k0) * row;
      for (int64_t k = k0; k < k1; ++k) {
        for (size_t i = 0; i < inputs_.size(); ++i) {
          const size_t n = chunk_bytes_[i];
          CopyRow(o, inputs_[i]->data + k * n, n);
          o += n;
        }
      }
      if (act_ != Activation::kNone) {
        float* y = reinterpret_cast<float*>(out_->data + static_cast<size_t>(k0) * row);
        const int64_t n = static_cast<int64_t>((k1 - k0) * row / sizeof(float));
        for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(y[i], lo_), hi_);
      }
    };
    ParallelForRows(ctx, outer_, static_cast<double>(out_->bytes) / kCopyBytesPerSecond, task);
  }

 private:
  RuntimeTensor* out_ = nullptr;
  std::vector<const RuntimeTensor*> inputs_;
  std::vector<size_t> chunk_bytes_;
  int64_t outer_ = 1;
  Activation act_ = Activation::kNone;
  float lo_ = 0, hi_ = 0;
};

std::optional<ops::Shape> ConcatenationShape(const ops::ShapeQuery& q) {
  const ops::Shape* first = q.In(0);
  if (!first || first->empty()) return std::nullopt;
  const int rank = static_cast<int>(first->size());
  const std::optional<int64_t> axis = ops::NormalizeAxis(q.options().GetInt("axis", 0), rank);
  if (!axis) return std::nullopt;
  ops::Shape s = *first;
  int64_t total = 0;
  for (size_t i = 0; i < q.num_inputs(); ++i) {
    const ops::Shape* t = q.In(i);
    if (!t || t->size() != first->size()) return std::nullopt;
    for (int d = 0; d < rank; ++d) {
      if (d != *axis && (*t)[static_cast<size_t>(d)] != s[static_cast<size_t>(d)])
        return std::nullopt;
    }
    total += (*t)[static_cast<size_t>(*axis)];
  }
  if (!ops::FitsDim(total)) return std::nullopt;
  s[static_cast<size_t>(*axis)] = static_cast<int32_t>(total);
  return s;
}

}  // namespace

extern const ops::OpDef kConcatenationOp{
    .signature = graph::BuiltinSignature(graph::op::kConcatenation, 1, graph::kManyTensors,
                                         graph::options_type::kConcatenation),
    .max_version = 2,
    .shape = ConcatenationShape,
    .values = ops::ConcatValuesAlongAxis0,
    .create = ops::MakeKernel<Concatenation>,
};

}  // namespace xbnn::kernels
