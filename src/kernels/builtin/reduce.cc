// MEAN (versions 1-2) over any set of axes, float32 and int8, keep_dims or not.
//
// int8 is TFLite's reference QuantizedMeanOrSum: the zero-point-offset integer sum times a Q31
// multiplier for input_scale / (count * output_scale), where 1/count is folded into the
// multiplier of input_scale / output_scale. The keep_dims mean of a 4-D tensor over axes {1, 2}
// (the global average pool) follows TFLite's default kernel instead (optimized_integer_ops::Mean,
// which reduce.cc picks for exactly that case): the raw int8 sum times a multiplier for the float
// input_scale / (count * output_scale), plus a float-computed bias; 16-channel NEON blocks round
// the final shift half up, the leftover channels half away from zero.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

constexpr int kMaxRank = 8;

class Mean final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 2));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, in_, {DType::kFloat32, DType::kInt8}, "input"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, in_->type(), "output"));
    std::vector<int64_t> axes;
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, ctx.input(1), "axis", &axes));
    const int rank = in_->rank();
    if (rank > kMaxRank) return ctx.Error("input rank " + std::to_string(rank) + " exceeds " + std::to_string(kMaxRank));
    reduced_.assign(static_cast<size_t>(rank), false);
    for (int64_t a : axes) {
      if (a < -rank || a >= rank) {
        return ctx.Error("axis " + std::to_string(a) + " is out of range for input of rank " + std::to_string(rank));
      }
      reduced_[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
    }
    const bool keep_dims = ctx.options().GetInt("keep_dims", 0) != 0;
    std::vector<int32_t> expected;
    count_ = 1;
    for (int d = 0; d < rank; ++d) {
      if (reduced_[d]) {
        count_ *= in_->dim(d);
        if (keep_dims) expected.push_back(1);
      } else {
        expected.push_back(in_->dim(d));
      }
    }
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, expected, "output"));
    // Output element strides of every input dimension (0 for reduced ones).
    dims_.assign(in_->shape().begin(), in_->shape().end());
    out_strides_.assign(static_cast<size_t>(rank), 0);
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; --d) {
      if (!reduced_[d]) {
        out_strides_[d] = s;
        s *= in_->dim(d);
      }
    }
    // Sums of the output's size (ctx.shapes_only: the output may be larger than any memory).
    const size_t sums = ctx.shapes_only ? 0 : static_cast<size_t>(out_->elements());
    if (in_->type() == DType::kFloat32) {
      fsum_.assign(sums, 0.0f);
      return Status::Ok();
    }
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi_));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo_));
    isum_.assign(sums, 0);
    std::vector<int64_t> raw_axes;
    if (ctx.input(1)->type() == DType::kInt32) raw_axes = axes;
    spatial_mean_ = keep_dims && rank == 4 && raw_axes.size() == 2 &&
                    ((raw_axes[0] == 1 && raw_axes[1] == 2) || (raw_axes[0] == 2 && raw_axes[1] == 1));
    if (spatial_mean_) {
      // Float arithmetic in TFLite's order (optimized_integer_ops::Mean).
      const float count = static_cast<float>(in_->dim(1) * in_->dim(2));
      float temp = static_cast<float>(qi_.zero_point) * qi_.scale / qo_.scale;
      temp = temp > 0 ? temp + 0.5f : temp - 0.5f;
      // A hostile quantization (a tiny output scale) must not overflow the int conversion.
      if (!(std::abs(temp) < 2147483520.0f)) {
        char what[160];
        std::snprintf(what, sizeof what,
                      "input zero point x input scale / output scale = %g is out of the int32 range "
                      "(output scale %g)",
                      static_cast<double>(temp), static_cast<double>(qo_.scale));
        return ctx.Error(what);
      }
      bias_ = qo_.zero_point - static_cast<int32_t>(temp);
      const float real_scale = qi_.scale / (count * qo_.scale);
      QuantizeMultiplier(real_scale, &mult_, &shift_);
      return Status::Ok();
    }
    const double real = static_cast<double>(qi_.scale) / static_cast<double>(qo_.scale);
    QuantizeMultiplier(real, &mult_, &shift_);
    if (count_ > 0) {
      // Fold 1/count into the multiplier: scale it up by 2^s (s = floor(log2(count)), kept within
      // what MultiplyByQuantizedMultiplier accepts), divide by the count, and shift s back.
      int s = 63 - __builtin_clzll(static_cast<uint64_t>(count_));
      s = std::min(s, 32);
      s = std::min(s, 31 + shift_);
      mult_ = static_cast<int32_t>((static_cast<int64_t>(mult_) << s) / count_);
      shift_ -= s;
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    if (in_->type() == DType::kFloat32) {
      Sum(in_->as<float>(), fsum_.data());
      float* out = out_->as<float>();
      const float n = static_cast<float>(count_);
      for (size_t i = 0; i < fsum_.size(); ++i) out[i] = count_ > 0 ? fsum_[i] / n : 0.0f;
      return;
    }
    int8_t* out = out_->as<int8_t>();
    const size_t n_out = isum_.size();
    if (count_ == 0) {
      std::memset(out, 0, n_out);
      return;
    }
    Sum(in_->as<int8_t>(), isum_.data());
    if (spatial_mean_) {
      const int channels = in_->dim(3);
      const int blocked = channels - channels % 16;
      for (size_t i = 0; i < n_out; ++i) {
        const int c = static_cast<int>(i % static_cast<size_t>(channels));
        const int32_t v = (c < blocked ? MultiplyByQuantizedMultiplierRoundUp(isum_[i], mult_, shift_)
                                       : MultiplyByQuantizedMultiplier(isum_[i], mult_, shift_)) +
                          bias_;
        out[i] = static_cast<int8_t>(std::min(std::max(v, -128), 127));
      }
      return;
    }
    const int32_t n = static_cast<int32_t>(count_);
    for (size_t i = 0; i < n_out; ++i) {
      const int32_t v = MultiplyByQuantizedMultiplier(isum_[i] - qi_.zero_point * n, mult_, shift_) + qo_.zero_point;
      out[i] = static_cast<int8_t>(std::min(std::max(v, -128), 127));
    }
  }

 private:
  // Sums the input into `acc` (one value per output element), visiting the input in order.
  template <typename T, typename Acc>
  void Sum(const T* in, Acc* acc) const {
    const size_t n_out = out_->elements() > 0 ? static_cast<size_t>(out_->elements()) : 0;
    for (size_t i = 0; i < n_out; ++i) acc[i] = 0;
    const int rank = static_cast<int>(dims_.size());
    const int64_t n = in_->elements();
    if (rank == 0 || n == 0) {
      if (n == 1 && n_out == 1) acc[0] = in[0];
      return;
    }
    const int64_t inner = dims_[rank - 1];
    const int64_t inner_stride = out_strides_[rank - 1];
    std::array<int64_t, kMaxRank> idx{};
    for (int64_t i = 0; i < n; i += inner) {
      int64_t o = 0;
      for (int d = 0; d < rank - 1; ++d) o += idx[d] * out_strides_[d];
      for (int64_t j = 0; j < inner; ++j) acc[o + j * inner_stride] += in[i + j];
      for (int d = rank - 2; d >= 0; --d) {
        if (++idx[d] < dims_[d]) break;
        idx[d] = 0;
      }
    }
  }

  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  std::vector<bool> reduced_;
  std::vector<int64_t> dims_, out_strides_;
  int64_t count_ = 1;
  std::vector<float> fsum_;
  std::vector<int32_t> isum_;
  QuantParams qi_, qo_;
  int32_t mult_ = 0, bias_ = 0;
  int shift_ = 0;
  bool spatial_mean_ = false;
};

std::optional<ops::Shape> ReduceShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  const ops::Values* axes = q.Val(1);
  if (!in || !axes) return std::nullopt;
  const int rank = static_cast<int>(in->size());
  std::vector<bool> reduced(in->size(), false);
  for (int64_t a : *axes) {
    if (a < -rank || a >= rank) return std::nullopt;
    reduced[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  }
  const bool keep = q.options().GetInt("keep_dims", 0) != 0;
  ops::Shape s;
  for (int d = 0; d < rank; ++d) {
    if (!reduced[static_cast<size_t>(d)]) {
      s.push_back((*in)[static_cast<size_t>(d)]);
    } else if (keep) {
      s.push_back(1);
    }
  }
  return s;
}

}  // namespace

extern const ops::OpDef kMeanOp{
    .signature = graph::BuiltinSignature(graph::op::kMean, 2, 2, graph::options_type::kReducer),
    .max_version = 2,
    .shape = ReduceShape,
    .create = ops::MakeKernel<Mean>,
};

}  // namespace xbnn::kernels
