// GREATER_EQUAL (versions 1-2) and SELECT_V2 (version 1), with NumPy broadcasting: the two ops of
// `tf.where(x >= 0, 1, -1)` binarizers. GREATER_EQUAL takes float32, int32 and int8 (int8 with
// different scales compares TFLite's rescaled values); SELECT_V2 any fixed-size type.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

class GreaterEqual final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 2));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    a_ = ctx.input(0);
    b_ = ctx.input(1);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, a_, {DType::kFloat32, DType::kInt32, DType::kInt8}, "input 0"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, b_, a_->type(), "input 1"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kBool, "output"));
    XBNN_RETURN_IF_ERROR(PlanBroadcast(ctx, a_->shape(), b_->shape(), out_, &plan_));
    if (a_->type() != DType::kInt8) return Status::Ok();
    QuantParams q1, q2;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, a_, "input 0", &q1));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, b_, "input 1", &q2));
    rescale_ = q1.scale != q2.scale || q1.zero_point != q2.zero_point;
    off1_ = -q1.zero_point;
    off2_ = -q2.zero_point;
    if (rescale_) {
      if (!(q1.scale < 1) || !(q2.scale < 1)) {
        return ctx.Error("int8 comparison of differently quantized inputs needs scales below 1, found " +
                         std::to_string(q1.scale) + " and " + std::to_string(q2.scale));
      }
      QuantizeMultiplier(q1.scale, &m1_, &s1_);
      QuantizeMultiplier(q2.scale, &m2_, &s2_);
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    bool* y = out_->as<bool>();
    switch (a_->type()) {
      case DType::kFloat32: Compare(a_->as<float>(), b_->as<float>(), y, [](float u, float v) { return u >= v; }); break;
      case DType::kInt32:
        Compare(a_->as<int32_t>(), b_->as<int32_t>(), y, [](int32_t u, int32_t v) { return u >= v; });
        break;
      default:
        if (!rescale_) {
          Compare(a_->as<int8_t>(), b_->as<int8_t>(), y, [](int8_t u, int8_t v) { return u >= v; });
        } else {
          Compare(a_->as<int8_t>(), b_->as<int8_t>(), y, [this](int8_t u, int8_t v) {
            const int32_t su = MultiplyByQuantizedMultiplierSmallerThanOneExp((u + off1_) * (1 << 8), m1_, s1_);
            const int32_t sv = MultiplyByQuantizedMultiplierSmallerThanOneExp((v + off2_) * (1 << 8), m2_, s2_);
            return su >= sv;
          });
        }
        break;
    }
  }

 private:
  template <typename T, typename F>
  void Compare(const T* a, const T* b, bool* y, F&& f) {
    ForEachBroadcast(plan_, [&](int64_t o, int64_t i, int64_t j) { y[o] = f(a[i], b[j]); });
  }

  RuntimeTensor *a_ = nullptr, *b_ = nullptr, *out_ = nullptr;
  Broadcast plan_;
  bool rescale_ = false;
  int32_t off1_ = 0, off2_ = 0, m1_ = 0, m2_ = 0;
  int s1_ = 0, s2_ = 0;
};

class SelectV2 final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 3, 3));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    cond_ = ctx.input(0);
    x_ = ctx.input(1);
    y_ = ctx.input(2);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, cond_, DType::kBool, "condition"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, y_, x_->type(), "input 2"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, x_->type(), "output"));
    elem_ = graph::DTypeSize(x_->type());
    if (elem_ <= 0) return ctx.Error(std::string("type ") + graph::DTypeName(x_->type()) + " is not supported");
    // Broadcast all three: first x with y, then the condition with that shape.
    Broadcast xy;
    XBNN_RETURN_IF_ERROR(PlanBroadcast(ctx, x_->shape(), y_->shape(), nullptr, &xy));
    XBNN_RETURN_IF_ERROR(PlanBroadcast(ctx, cond_->shape(), xy.out_shape, out_, &plan_));
    const int r = plan_.rank;
    auto strides = [&](const std::vector<int32_t>& shape, std::array<int64_t, kMaxBroadcastRank>* s) {
      const int rs = static_cast<int>(shape.size());
      int64_t acc = 1;
      for (int i = r - 1; i >= 0; --i) {
        const int k = i - (r - rs);
        const int64_t d = k >= 0 ? shape[k] : 1;
        (*s)[i] = d == 1 ? 0 : acc;
        acc *= d;
      }
    };
    strides(x_->shape(), &x_strides_);
    strides(y_->shape(), &y_strides_);
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const bool* c = cond_->as<bool>();
    const uint8_t* x = x_->data;
    const uint8_t* y = y_->data;
    uint8_t* out = out_->data;
    const size_t e = static_cast<size_t>(elem_);
    // Walk the output in order, tracking the flat x and y offsets alongside.
    const int r = plan_.rank;
    std::array<int64_t, kMaxBroadcastRank> idx{};
    const int64_t n = out_->elements();
    for (int64_t o = 0; o < n; ++o) {
      int64_t ic = 0, ix = 0, iy = 0;
      for (int d = 0; d < r; ++d) {
        ic += idx[d] * plan_.a_strides[d];
        ix += idx[d] * x_strides_[d];
        iy += idx[d] * y_strides_[d];
      }
      std::memcpy(out + o * e, c[ic] ? x + ix * e : y + iy * e, e);
      for (int d = r - 1; d >= 0; --d) {
        if (++idx[d] < plan_.dims[d]) break;
        idx[d] = 0;
      }
    }
  }

 private:
  RuntimeTensor *cond_ = nullptr, *x_ = nullptr, *y_ = nullptr, *out_ = nullptr;
  Broadcast plan_;
  std::array<int64_t, kMaxBroadcastRank> x_strides_{}, y_strides_{};
  int elem_ = 0;
};

// The three inputs broadcast together.
std::optional<ops::Shape> SelectShape(const ops::ShapeQuery& q) {
  const ops::Shape* x = q.In(0);
  const ops::Shape* y = q.In(1);
  const ops::Shape* z = q.In(2);
  if (!x || !y || !z) return std::nullopt;
  auto xy = ops::Broadcast(*x, *y);
  return xy ? ops::Broadcast(*xy, *z) : std::nullopt;
}

}  // namespace

extern const ops::OpDef kGreaterEqualOp{
    .signature =
        graph::BuiltinSignature(graph::op::kGreaterEqual, 2, 2, graph::options_type::kGreaterEqual),
    .max_version = 2,
    .shape = ops::BroadcastInputs,
    .create = ops::MakeKernel<GreaterEqual>,
};

extern const ops::OpDef kSelectV2Op{
    .signature =
        graph::BuiltinSignature(graph::op::kSelectV2, 3, 3, graph::options_type::kSelectV2),
    .max_version = 1,
    .shape = SelectShape,
    .create = ops::MakeKernel<SelectV2>,
};

// SELECT (same-shape or rank-1 condition) has no kernel: models with it are validated, named and
// refused at load time.
extern const ops::OpDef kSelectOp{
    .signature = graph::BuiltinSignature(graph::op::kSelect, 3, 3, graph::options_type::kSelect),
    .max_version = 1,
    .shape = SelectShape,
};

}  // namespace xbnn::kernels
