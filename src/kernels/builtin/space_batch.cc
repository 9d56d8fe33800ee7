// SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (versions 1-3) for 3-D and 4-D tensors of any
// fixed-size type: the TFLite converter's rewrite of dilated convolutions. Padding takes 0, or the
// output zero point for int8/uint8.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

class SpaceBatch final : public runtime::OpKernel {
 public:
  explicit SpaceBatch(bool to_batch) : to_batch_(to_batch) {}

  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 3, 3));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, in_->type(), "output"));
    elem_ = graph::DTypeSize(in_->type());
    if (elem_ <= 0) return ctx.Error(std::string("type ") + graph::DTypeName(in_->type()) + " is not supported");
    const int rank = in_->rank();
    if (rank != 3 && rank != 4) {
      return ctx.Error("input " + TensorName(in_) + " must have rank 3 or 4, found shape " + ShapeString(in_->shape()));
    }
    const int spatial = rank - 2;
    std::vector<int64_t> block, pads;
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, ctx.input(1), "block_shape", &block));
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, ctx.input(2), to_batch_ ? "paddings" : "crops", &pads));
    if (static_cast<int>(block.size()) != spatial || static_cast<int>(pads.size()) != 2 * spatial) {
      return ctx.Error("block_shape must have " + std::to_string(spatial) + " values and " +
                       (to_batch_ ? "paddings " : "crops ") + std::to_string(2 * spatial) + " for a rank-" +
                       std::to_string(rank) + " input, found " + std::to_string(block.size()) + " and " +
                       std::to_string(pads.size()));
    }
    // View rank 3 as [B, H, 1, C].
    b_ = in_->dim(0);
    h_ = in_->dim(1);
    w_ = rank == 4 ? in_->dim(2) : 1;
    c_ = in_->dim(rank - 1);
    bh_ = block[0];
    bw_ = spatial == 2 ? block[1] : 1;
    top_ = pads[0];
    const int64_t bottom = pads[1];
    left_ = spatial == 2 ? pads[2] : 0;
    const int64_t right = spatial == 2 ? pads[3] : 0;
    if (bh_ < 1 || bw_ < 1 || bh_ > 4096 || bw_ > 4096) {
      return ctx.Error("block_shape values must be in [1, 4096], found " + std::to_string(bh_) + "x" +
                       std::to_string(bw_));
    }
    if (top_ < 0 || bottom < 0 || left_ < 0 || right < 0) {
      return ctx.Error(std::string(to_batch_ ? "paddings" : "crops") + " must not be negative");
    }
    std::vector<int32_t> expected;
    if (to_batch_) {
      const int64_t ph = h_ + top_ + bottom, pw = w_ + left_ + right;
      if (ph % bh_ != 0 || pw % bw_ != 0) {
        return ctx.Error("padded spatial size " + std::to_string(ph) + "x" + std::to_string(pw) +
                         " is not a multiple of the block shape " + std::to_string(bh_) + "x" + std::to_string(bw_));
      }
      oh_ = ph / bh_;
      ow_ = pw / bw_;
      ob_ = b_ * bh_ * bw_;
    } else {
      if (b_ % (bh_ * bw_) != 0) {
        return ctx.Error("input batch " + std::to_string(b_) + " is not a multiple of the block size " +
                         std::to_string(bh_ * bw_));
      }
      ob_ = b_ / (bh_ * bw_);
      oh_ = h_ * bh_ - top_ - bottom;
      ow_ = w_ * bw_ - left_ - right;
      if (oh_ < 0 || ow_ < 0) return ctx.Error("crops are larger than the output");
    }
    expected = {static_cast<int32_t>(ob_), static_cast<int32_t>(oh_)};
    if (rank == 4) expected.push_back(static_cast<int32_t>(ow_));
    expected.push_back(c_);
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, expected, "output"));
    pad_byte_ = 0;
    if (to_batch_ && (in_->type() == DType::kInt8 || in_->type() == DType::kUInt8)) {
      QuantParams q;
      XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &q));
      pad_byte_ = static_cast<uint8_t>(q.zero_point);
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    const size_t px = static_cast<size_t>(c_) * elem_;
    const uint8_t* in = in_->data;
    uint8_t* out = out_->data;
    if (to_batch_) {
      for (int64_t ob = 0; ob < ob_; ++ob) {
        const int64_t ib = ob % b_, sw = (ob / b_) % bw_, sh = (ob / b_) / bw_;
        for (int64_t oy = 0; oy < oh_; ++oy) {
          for (int64_t ox = 0; ox < ow_; ++ox) {
            uint8_t* o = out + ((ob * oh_ + oy) * ow_ + ox) * px;
            const int64_t y = oy * bh_ + sh - top_, x = ox * bw_ + sw - left_;
            if (y < 0 || y >= h_ || x < 0 || x >= w_) {
              std::memset(o, pad_byte_, px);
            } else {
              std::memcpy(o, in + ((ib * h_ + y) * w_ + x) * px, px);
            }
          }
        }
      }
      return;
    }
    for (int64_t ib = 0; ib < b_; ++ib) {
      const int64_t ob = ib % ob_, s = ib / ob_;
      for (int64_t iy = 0; iy < h_; ++iy) {
        const int64_t y = iy * bh_ + s / bw_ - top_;
        if (y < 0 || y >= oh_) continue;
        for (int64_t ix = 0; ix < w_; ++ix) {
          const int64_t x = ix * bw_ + s % bw_ - left_;
          if (x < 0 || x >= ow_) continue;
          std::memcpy(out + ((ob * oh_ + y) * ow_ + x) * px, in + ((ib * h_ + iy) * w_ + ix) * px, px);
        }
      }
    }
  }

 private:
  bool to_batch_;
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int elem_ = 0;
  int64_t b_ = 0, h_ = 0, w_ = 0, c_ = 0, bh_ = 1, bw_ = 1, top_ = 0, left_ = 0, ob_ = 0, oh_ = 0, ow_ = 0;
  uint8_t pad_byte_ = 0;
};

template <bool kToBatch>
std::optional<ops::Shape> SpaceBatchShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  const ops::Values* block = q.Val(1);
  const ops::Values* pads = q.Val(2);
  if (!in || !block || !pads || (in->size() != 3 && in->size() != 4)) return std::nullopt;
  const size_t spatial = in->size() - 2;
  if (block->size() != spatial || pads->size() != 2 * spatial) return std::nullopt;
  ops::Shape s = *in;
  int64_t prod = 1;
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t b = (*block)[i], lo = (*pads)[2 * i], hi = (*pads)[2 * i + 1];
    if (b < 1 || b > 4096 || lo < 0 || hi < 0) return std::nullopt;
    prod *= b;
    int64_t d;
    if (kToBatch) {
      const int64_t padded = (*in)[i + 1] + lo + hi;
      if (padded % b != 0) return std::nullopt;
      d = padded / b;
    } else {
      d = (*in)[i + 1] * b - lo - hi;
      if (d < 0) return std::nullopt;
    }
    if (!ops::FitsDim(d)) return std::nullopt;
    s[i + 1] = static_cast<int32_t>(d);
  }
  const int64_t batch = kToBatch ? (*in)[0] * prod : ((*in)[0] % prod == 0 ? (*in)[0] / prod : -1);
  if (!ops::FitsDim(batch)) return std::nullopt;
  s[0] = static_cast<int32_t>(batch);
  return s;
}

}  // namespace

extern const ops::OpDef kSpaceToBatchNDOp{
    .signature = graph::BuiltinSignature(graph::op::kSpaceToBatchND, 3, 3,
                                         graph::options_type::kSpaceToBatchND),
    .max_version = 3,
    .shape = SpaceBatchShape<true>,
    .create = ops::MakeKernel<SpaceBatch, true>,
};

extern const ops::OpDef kBatchToSpaceNDOp{
    .signature = graph::BuiltinSignature(graph::op::kBatchToSpaceND, 3, 3,
                                         graph::options_type::kBatchToSpaceND),
    .max_version = 3,
    .shape = SpaceBatchShape<false>,
    .create = ops::MakeKernel<SpaceBatch, false>,
};

}  // namespace xbnn::kernels
