// RESHAPE and SQUEEZE: any element type, a copy of the bytes into the output's shape. The shapes
// are static, so Prepare checks that the requested shape (shape tensor, new_shape option or
// squeeze_dims) gives exactly the output tensor's shape.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

Status CheckCopy(const OpContext& ctx, const RuntimeTensor* in, const RuntimeTensor* out) {
  XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out, in->type(), "output"));
  if (in->elements() != out->elements() || in->bytes != out->bytes) {
    return ctx.Error("input " + TensorName(in) + " " + ShapeString(in->shape()) + " and output " + TensorName(out) +
                     " " + ShapeString(out->shape()) + " have different element counts");
  }
  return Status::Ok();
}

class Reshape final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 1, 2));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(CheckCopy(ctx, in_, out_));
    // The requested shape: the shape tensor when it is a constant 1-D tensor, else the option.
    std::vector<int64_t> requested;
    bool have = false;
    const RuntimeTensor* shape = ctx.input(1);
    if (shape && shape->rank() == 1) {
      XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, shape, {DType::kInt32, DType::kInt64}, "shape"));
      if (shape->constant) {
        XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, shape, "shape", &requested));
        have = true;
      }
    } else if (const std::vector<int32_t>* ns = ctx.options().GetInts("new_shape")) {
      requested.assign(ns->begin(), ns->end());
      have = !(requested.empty() && out_->rank() != 0);
    }
    if (!have) return Status::Ok();  // a computed shape: the output tensor's shape stands
    int unknown = -1;
    int64_t known = 1;
    for (size_t i = 0; i < requested.size(); ++i) {
      if (requested[i] == -1) {
        if (unknown >= 0) return ctx.Error("requested shape has more than one -1");
        unknown = static_cast<int>(i);
      } else if (requested[i] < 0) {
        return ctx.Error("requested shape has a negative dimension " + std::to_string(requested[i]));
      } else {
        if (requested[i] > 0 && known > (int64_t{1} << 40) / requested[i]) {
          return ctx.Error("requested shape has too many elements (dimension " + std::to_string(requested[i]) + ")");
        }
        known *= requested[i];
      }
    }
    if (unknown >= 0) {
      if (known == 0 || in_->elements() % known != 0) {
        return ctx.Error("cannot infer the -1 dimension: " + std::to_string(in_->elements()) +
                         " elements into known dimensions of product " + std::to_string(known));
      }
      requested[unknown] = in_->elements() / known;
    }
    std::vector<int32_t> expected(requested.begin(), requested.end());
    if (expected != out_->shape()) {
      return ctx.Error("requested shape " + ShapeString(expected) + " differs from the output shape " +
                       ShapeString(out_->shape()));
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    if (in_->data != out_->data) std::memcpy(out_->data, in_->data, out_->bytes);
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
};

class Squeeze final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 1, 1));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(CheckCopy(ctx, in_, out_));
    const int rank = in_->rank();
    std::vector<bool> drop(static_cast<size_t>(rank), false);
    const std::vector<int32_t>* dims = ctx.options().GetInts("squeeze_dims");
    if (dims && !dims->empty()) {
      for (int32_t d : *dims) {
        if (d < -rank || d >= rank) {
          return ctx.Error("squeeze dimension " + std::to_string(d) + " is out of range for rank " + std::to_string(rank));
        }
        const int a = d < 0 ? d + rank : d;
        if (in_->dim(a) != 1) {
          return ctx.Error("cannot squeeze dimension " + std::to_string(d) + " of size " + std::to_string(in_->dim(a)));
        }
        drop[static_cast<size_t>(a)] = true;
      }
    } else {
      for (int d = 0; d < rank; ++d) drop[static_cast<size_t>(d)] = in_->dim(d) == 1;
    }
    std::vector<int32_t> expected;
    for (int d = 0; d < rank; ++d) {
      if (!drop[static_cast<size_t>(d)]) expected.push_back(in_->dim(d));
    }
    return ExpectShape(ctx, out_, expected, "output");
  }

  void Invoke(OpContext&) override {
    if (in_->data != out_->data) std::memcpy(out_->data, in_->data, out_->bytes);
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
};

std::optional<ops::Shape> ResolveReshape(const ops::Values& requested, int64_t elements) {
  ops::Shape s;
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    const int64_t d = requested[i];
    if (d == -1) {
      if (unknown >= 0) return std::nullopt;
      unknown = static_cast<int>(i);
      s.push_back(1);
      continue;
    }
    if (!ops::FitsDim(d)) return std::nullopt;
    if (d > 0 && known > ops::kMaxShapeElements / d) return std::nullopt;
    known *= d;
    s.push_back(static_cast<int32_t>(d));
  }
  if (unknown >= 0) {
    if (known == 0 || elements % known != 0 || !ops::FitsDim(elements / known)) return std::nullopt;
    s[static_cast<size_t>(unknown)] = static_cast<int32_t>(elements / known);
  }
  return s;
}

std::optional<ops::Shape> ReshapeShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  if (!in) return std::nullopt;
  const ops::Shape* shape_in = q.In(1);
  if (shape_in && shape_in->size() == 1) {
    const ops::Values* v = q.Val(1);
    if (!v) return std::nullopt;
    return ResolveReshape(*v, ops::Elements(*in));
  }
  if (const std::vector<int32_t>* ns = q.options().GetInts("new_shape")) {
    if (ns->empty()) return std::nullopt;  // ambiguous (scalar or unset): keep the file's shape
    return ResolveReshape(ops::Values(ns->begin(), ns->end()), ops::Elements(*in));
  }
  return std::nullopt;
}

std::optional<ops::Shape> SqueezeShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  if (!in) return std::nullopt;
  const int rank = static_cast<int>(in->size());
  std::vector<bool> drop(in->size(), false);
  const std::vector<int32_t>* dims = q.options().GetInts("squeeze_dims");
  if (dims && !dims->empty()) {
    for (int32_t d : *dims) {
      if (d < -rank || d >= rank) return std::nullopt;
      drop[static_cast<size_t>(d < 0 ? d + rank : d)] = true;
    }
  } else {
    for (int d = 0; d < rank; ++d)
      drop[static_cast<size_t>(d)] = (*in)[static_cast<size_t>(d)] == 1;
  }
  ops::Shape s;
  for (int d = 0; d < rank; ++d) {
    if (!drop[static_cast<size_t>(d)]) s.push_back((*in)[static_cast<size_t>(d)]);
  }
  return s;
}

}  // namespace

// The shape input (1) is optional: the new_shape option stands in.
extern const ops::OpDef kReshapeOp{
    .signature = graph::BuiltinSignature(graph::op::kReshape, 1, 2, graph::options_type::kReshape,
                                         graph::OptionalInput(1)),
    .max_version = 1,
    .shape = ReshapeShape,
    .values = ops::ForwardValues,
    .create = ops::MakeKernel<Reshape>,
};

extern const ops::OpDef kSqueezeOp{
    .signature = graph::BuiltinSignature(graph::op::kSqueeze, 1, 1, graph::options_type::kSqueeze),
    .max_version = 1,
    .shape = SqueezeShape,
    .values = ops::ForwardValues,
    .create = ops::MakeKernel<Squeeze>,
};

}  // namespace xbnn::kernels
