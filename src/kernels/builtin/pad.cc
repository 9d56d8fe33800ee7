// PAD and PADV2 (versions 1-4): constant padding of tensors up to rank 5 (rank 6 accepted too) of
// any fixed-size type. PAD pads with 0 (float/int) or the output zero point (int8/uint8); PADV2
// with its constant_values scalar (the stored value for quantized types, as TFLite uses it).
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

constexpr int kMaxPadRank = 6;

class Pad final : public runtime::OpKernel {
 public:
  explicit Pad(bool v2) : v2_(v2) {}

  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, v2_ ? 3 : 2));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, in_->type(), "output"));
    elem_ = graph::DTypeSize(in_->type());
    if (elem_ <= 0) return ctx.Error(std::string("type ") + graph::DTypeName(in_->type()) + " cannot be padded");
    rank_ = in_->rank();
    if (rank_ > kMaxPadRank) {
      return ctx.Error("input rank " + std::to_string(rank_) + " exceeds the supported " + std::to_string(kMaxPadRank));
    }
    const RuntimeTensor* paddings = ctx.input(1);
    std::vector<int64_t> p;
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, paddings, "paddings", &p));
    if (paddings->shape() != std::vector<int32_t>{rank_, 2}) {
      return ctx.Error("paddings " + TensorName(paddings) + " must have shape [" + std::to_string(rank_) +
                       ",2], found " + ShapeString(paddings->shape()));
    }
    std::vector<int32_t> expected(static_cast<size_t>(rank_));
    for (int d = 0; d < rank_; ++d) {
      before_[d] = p[2 * d];
      const int64_t after = p[2 * d + 1];
      if (before_[d] < 0 || after < 0) {
        return ctx.Error("negative padding " + std::to_string(before_[d]) + "," + std::to_string(after) +
                         " in dimension " + std::to_string(d));
      }
      expected[d] = static_cast<int32_t>(in_->dim(d) + before_[d] + after);
    }
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, expected, "output"));
    // The pad value as bytes of one element.
    std::memset(pad_value_, 0, sizeof(pad_value_));
    const RuntimeTensor* value = v2_ ? ctx.input(2) : nullptr;
    if (value) {
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, value, in_->type(), "constant_values"));
      XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, value, "constant_values"));
      if (value->elements() != 1) {
        return ctx.Error("constant_values " + TensorName(value) + " must hold one value, found " +
                         std::to_string(value->elements()));
      }
      std::memcpy(pad_value_, value->data, static_cast<size_t>(elem_));
    } else if (in_->type() == DType::kInt8 || in_->type() == DType::kUInt8) {
      QuantParams q;
      XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &q));
      pad_value_[0] = static_cast<uint8_t>(q.zero_point);
    }
    for (int d = 0; d < rank_; ++d) {
      in_dims_[d] = in_->dim(d);
      out_dims_[d] = out_->dim(d);
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    // Fill with the pad value, then copy every innermost input row to its place.
    const int64_t n_out = out_->elements();
    uint8_t* out = out_->data;
    if (IsZero()) {
      std::memset(out, 0, out_->bytes);
    } else {
      for (int64_t i = 0; i < n_out; ++i) std::memcpy(out + i * elem_, pad_value_, static_cast<size_t>(elem_));
    }
    if (in_->elements() == 0) return;
    if (rank_ == 0) {
      std::memcpy(out, in_->data, static_cast<size_t>(elem_));
      return;
    }
    const int64_t row = in_dims_[rank_ - 1] * elem_;
    const int64_t rows = in_->elements() / in_dims_[rank_ - 1];
    std::array<int64_t, kMaxPadRank> idx{};
    for (int64_t r = 0; r < rows; ++r) {
      int64_t o = 0;
      for (int d = 0; d < rank_; ++d) o = o * out_dims_[d] + (d < rank_ - 1 ? idx[d] : 0) + before_[d];
      std::memcpy(out + o * elem_, in_->data + r * row, static_cast<size_t>(row));
      for (int d = rank_ - 2; d >= 0; --d) {
        if (++idx[d] < in_dims_[d]) break;
        idx[d] = 0;
      }
    }
  }

 private:
  bool IsZero() const {
    for (int i = 0; i < elem_; ++i) {
      if (pad_value_[i] != 0) return false;
    }
    return true;
  }

  bool v2_;
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int elem_ = 0, rank_ = 0;
  std::array<int64_t, kMaxPadRank> before_{}, in_dims_{}, out_dims_{};
  uint8_t pad_value_[16] = {};
};

std::optional<ops::Shape> PadShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  const ops::Values* p = q.Val(1);
  if (!in || !p || p->size() != 2 * in->size()) return std::nullopt;
  ops::Shape s = *in;
  for (size_t d = 0; d < s.size(); ++d) {
    const int64_t v = s[d] + (*p)[2 * d] + (*p)[2 * d + 1];
    if ((*p)[2 * d] < 0 || (*p)[2 * d + 1] < 0 || !ops::FitsDim(v)) return std::nullopt;
    s[d] = static_cast<int32_t>(v);
  }
  return s;
}

}  // namespace

// Versions: 3 int16, 4 rank 5.
extern const ops::OpDef kPadOp{
    .signature = graph::BuiltinSignature(graph::op::kPad, 2, 2, graph::options_type::kPad),
    .max_version = 4,
    .shape = PadShape,
    .create = ops::MakeKernel<Pad, false>,
};

extern const ops::OpDef kPadV2Op{
    .signature = graph::BuiltinSignature(graph::op::kPadV2, 3, 3, graph::options_type::kPadV2),
    .max_version = 4,
    .shape = PadShape,
    .create = ops::MakeKernel<Pad, true>,
};

}  // namespace xbnn::kernels
