// GATHER (versions 1-7): slices of `params` along `axis` picked by `indices`, with TFLite's
// batch_dims. params of any type TFLite takes that has a fixed element size (float32, float16,
// int8, uint8, int16, int32, int64, bool; the op copies bytes, so quantized params keep their
// values); indices int32 or int64. Refused: int4 and string params (version 7 and the string
// path), int16 indices (version 6).
//
// An index outside [0, params.shape[axis]) is an error, as in TFLite: at load time when the
// indices are constant, else from Interpreter::Invoke (the kernel checks every index before it
// reads anything).
#include <cstring>
#include <string>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

// The gather as TFLite lays it out: for each of `batch` x `outer` blocks of params, `coords`
// indices pick rows of `inner` elements out of `axis_size`.
struct GatherPlan {
  int64_t axis = 0, batch_dims = 0;
  int64_t batch = 1, outer = 1, axis_size = 0, inner = 1, coords = 1;
  ops::Shape out;
};

// TFLite's rules for axis and batch_dims: axis in [-rank(params), rank(params)); a negative
// batch_dims counts from rank(indices); then 0 <= batch_dims <= axis and batch_dims <=
// rank(indices), and the first batch_dims dimensions of params and indices are equal. Returns an
// empty string, or what is wrong.
std::string PlanGather(const ops::Shape& params, const ops::Shape& indices, int64_t axis_option,
                       int64_t batch_dims_option, GatherPlan* p) {
  const auto rank_p = static_cast<int64_t>(params.size());
  const auto rank_i = static_cast<int64_t>(indices.size());
  const std::optional<int64_t> axis = ops::NormalizeAxis(axis_option, rank_p);
  if (!axis) {
    return "axis " + std::to_string(axis_option) + " is outside [-" + std::to_string(rank_p) +
           ", " + std::to_string(rank_p) + ") for params " + ShapeString(params);
  }
  const int64_t b = batch_dims_option < 0 ? batch_dims_option + rank_i : batch_dims_option;
  if (b < 0 || b > rank_i || b > *axis) {
    return "batch_dims " + std::to_string(batch_dims_option) + " must be in [-" +
           std::to_string(rank_i) + ", " + std::to_string(rank_i) + "] (the rank of indices " +
           ShapeString(indices) + ") and at most the axis " + std::to_string(*axis);
  }
  for (int64_t d = 0; d < b; ++d) {
    if (params[static_cast<size_t>(d)] != indices[static_cast<size_t>(d)]) {
      return "batch dimension " + std::to_string(d) + " differs: params " + ShapeString(params) +
             ", indices " + ShapeString(indices);
    }
  }
  p->axis = *axis;
  p->batch_dims = b;
  p->batch = ops::DimProduct(params, 0, static_cast<size_t>(b));
  p->outer = ops::DimProduct(params, static_cast<size_t>(b), static_cast<size_t>(*axis));
  p->axis_size = params[static_cast<size_t>(*axis)];
  p->inner = ops::DimProduct(params, static_cast<size_t>(*axis) + 1, params.size());
  p->coords = ops::DimProduct(indices, static_cast<size_t>(b), indices.size());
  // params[:axis] + indices[batch_dims:] + params[axis+1:]
  p->out.assign(params.begin(), params.begin() + *axis);
  p->out.insert(p->out.end(), indices.begin() + b, indices.end());
  p->out.insert(p->out.end(), params.begin() + *axis + 1, params.end());
  return "";
}

// The position of the first index outside [0, axis_size), or -1.
template <typename I>
int64_t FirstBadIndex(const I* idx, int64_t n, int64_t axis_size) {
  for (int64_t i = 0; i < n; ++i) {
    if (idx[i] < 0 || static_cast<int64_t>(idx[i]) >= axis_size) return i;
  }
  return -1;
}

class Gather final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 2));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    params_ = ctx.input(0);
    indices_ = ctx.input(1);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(
        ExpectTypeIn(ctx, params_,
                     {DType::kFloat32, DType::kFloat16, DType::kInt8, DType::kUInt8, DType::kInt16,
                      DType::kInt32, DType::kInt64, DType::kBool},
                     "params"));
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, indices_, {DType::kInt32, DType::kInt64}, "indices"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, params_->type(), "output"));
    const std::string why =
        PlanGather(params_->shape(), indices_->shape(), ctx.options().GetInt("axis", 0),
                   ctx.options().GetInt("batch_dims", 0), &plan_);
    if (!why.empty()) return ctx.Error(why);
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, plan_.out, "output"));
    row_bytes_ =
        static_cast<size_t>(plan_.inner) * static_cast<size_t>(graph::DTypeSize(params_->type()));
    // Constant indices are checked once, here; others on every Invoke.
    check_at_invoke_ = !indices_->constant;
    if (!check_at_invoke_) {
      const int64_t bad = BadIndex();
      if (bad >= 0) return ctx.Error(IndexError(bad));
    }
    return Status::Ok();
  }

  void Invoke(OpContext& ctx) override {
    if (check_at_invoke_) {
      const int64_t bad = BadIndex();
      if (bad >= 0) {
        ctx.invoke_error = ctx.Error(IndexError(bad));
        return;
      }
    }
    if (indices_->type() == DType::kInt32) {
      Copy(indices_->as<int32_t>());
    } else {
      Copy(indices_->as<int64_t>());
    }
  }

 private:
  int64_t BadIndex() const {
    // As TFLite, which checks each index as it copies: params without blocks (a zero dimension
    // before the axis) read no index.
    if (plan_.batch * plan_.outer == 0) return -1;
    const int64_t n = indices_->elements();
    return indices_->type() == DType::kInt32
               ? FirstBadIndex(indices_->as<int32_t>(), n, plan_.axis_size)
               : FirstBadIndex(indices_->as<int64_t>(), n, plan_.axis_size);
  }

  std::string IndexError(int64_t position) const {
    const int64_t v = indices_->type() == DType::kInt32 ? indices_->as<int32_t>()[position]
                                                        : indices_->as<int64_t>()[position];
    return "index " + std::to_string(v) + " (element " + std::to_string(position) + " of indices " +
           TensorName(indices_) + ") is outside [0, " + std::to_string(plan_.axis_size) +
           ") along axis " + std::to_string(plan_.axis) + " of params " + TensorName(params_) +
           " " + ShapeString(params_->shape());
  }

  template <typename I>
  void Copy(const I* idx) {
    if (row_bytes_ == 0 || out_->elements() == 0) return;  // nothing to copy (data may be null)
    const uint8_t* in = params_->data;
    uint8_t* out = out_->data;
    for (int64_t b = 0; b < plan_.batch; ++b) {
      for (int64_t o = 0; o < plan_.outer; ++o) {
        const uint8_t* block =
            in + static_cast<size_t>((b * plan_.outer + o) * plan_.axis_size) * row_bytes_;
        for (int64_t c = 0; c < plan_.coords; ++c) {
          const auto row = static_cast<size_t>(idx[b * plan_.coords + c]);
          std::memcpy(out, block + row * row_bytes_, row_bytes_);
          out += row_bytes_;
        }
      }
    }
  }

  RuntimeTensor *params_ = nullptr, *indices_ = nullptr, *out_ = nullptr;
  GatherPlan plan_;
  size_t row_bytes_ = 0;
  bool check_at_invoke_ = true;
};

// The plan of the op in a shape query; nullopt when the inputs' shapes are unknown or invalid.
std::optional<GatherPlan> PlanOf(const ops::ShapeQuery& q) {
  const ops::Shape* params = q.In(0);
  const ops::Shape* indices = q.In(1);
  if (!params || !indices) return std::nullopt;
  GatherPlan p;
  if (!PlanGather(*params, *indices, q.options().GetInt("axis", 0),
                  q.options().GetInt("batch_dims", 0), &p)
           .empty())
    return std::nullopt;
  return p;
}

std::optional<ops::Shape> GatherShape(const ops::ShapeQuery& q) {
  const std::optional<GatherPlan> p = PlanOf(q);
  return p ? std::optional<ops::Shape>(p->out) : std::nullopt;
}

// Gathered values of known integer params (shape vectors: tf.shape(x)[i] may convert to GATHER),
// so the op folds away. Anything invalid is left to the kernel, which reports it.
std::optional<ops::Values> GatherValues(const ops::ShapeQuery& q, const ops::Shape&) {
  const ops::Values* pv = q.Val(0);
  const ops::Values* iv = q.Val(1);
  const std::optional<GatherPlan> plan = PlanOf(q);
  if (!pv || !iv || !plan) return std::nullopt;
  const GatherPlan& p = *plan;
  if (static_cast<int64_t>(pv->size()) != ops::Elements(*q.In(0)) ||
      static_cast<int64_t>(iv->size()) != ops::Elements(*q.In(1)) ||
      FirstBadIndex(iv->data(), static_cast<int64_t>(iv->size()), p.axis_size) >= 0) {
    return std::nullopt;
  }
  ops::Values out;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t o = 0; o < p.outer; ++o) {
      for (int64_t c = 0; c < p.coords; ++c) {
        const int64_t row = (*iv)[static_cast<size_t>(b * p.coords + c)];
        const int64_t first = ((b * p.outer + o) * p.axis_size + row) * p.inner;
        out.insert(out.end(), pv->begin() + first, pv->begin() + first + p.inner);
      }
    }
  }
  return out;
}

}  // namespace

// Versions: 2 int8, 3 bool, 4 int16 params, 5 batch_dims, 6 int16 indices and 7 int4 params
// (both refused at Prepare, naming the type).
extern const ops::OpDef kGatherOp{
    .signature = graph::BuiltinSignature(graph::op::kGather, 2, 2, graph::options_type::kGather),
    .max_version = 7,
    .shape = GatherShape,
    .values = GatherValues,
    .create = ops::MakeKernel<Gather>,
};

}  // namespace xbnn::kernels
