// MAX_POOL_2D and AVERAGE_POOL_2D (versions 1-2): float32 and int8, SAME/VALID padding, any
// stride, fused activations. Float pooling is a vectorized loop (vector_loops.h); for max pooling
// it measured faster than XNNPACK's on QuickNet's shapes. Padded positions are left out
// of the window (the average divides by the number of positions inside the input), as in TFLite.
// int8 pooling works on the stored values and needs the output quantized like the input; the int8
// average rounds half away from zero, as TFLite's integer kernel does.
#include "kernels/builtin/pooling.h"

#include "kernels/builtin/common.h"
#include "kernels/builtin/vector_loops.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

enum class PoolKind { kMax, kAverage };

}  // namespace

Status builtin::ReadPool(const OpContext& ctx, PoolGeometry* p) {
  XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 1, 1));
  XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
  const RuntimeTensor* in = ctx.input(0);
  const RuntimeTensor* out = ctx.output(0);
  XBNN_RETURN_IF_ERROR(ExpectRank(ctx, in, 4, "input"));
  XBNN_RETURN_IF_ERROR(ExpectTypeIn(ctx, in, {DType::kFloat32, DType::kInt8}, "input"));
  XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out, in->type(), "output"));
  const auto& o = ctx.options();
  Padding padding;
  XBNN_RETURN_IF_ERROR(ReadPadding(ctx, &padding));
  XBNN_RETURN_IF_ERROR(ReadActivation(ctx, &p->act));
  MaxPoolGeometry& g = p->rows;
  g.stride_h = static_cast<int>(o.GetInt("stride_h", 1));
  g.stride_w = static_cast<int>(o.GetInt("stride_w", 1));
  g.filter_h = static_cast<int>(o.GetInt("filter_height", 1));
  g.filter_w = static_cast<int>(o.GetInt("filter_width", 1));
  p->batch = in->dim(0);
  g.in_h = in->dim(1);
  g.in_w = in->dim(2);
  g.channels = in->dim(3);
  XBNN_RETURN_IF_ERROR(ComputeAxis(ctx, "h", g.in_h, g.filter_h, g.stride_h, 1, padding, &p->gh));
  XBNN_RETURN_IF_ERROR(ComputeAxis(ctx, "w", g.in_w, g.filter_w, g.stride_w, 1, padding, &p->gw));
  XBNN_RETURN_IF_ERROR(
      ExpectShape(ctx, out, {p->batch, p->gh.out, p->gw.out, g.channels}, "output"));
  g.out_h = p->gh.out;
  g.out_w = p->gw.out;
  g.pad_top = p->gh.pad_before;
  g.pad_left = p->gw.pad_before;
  g.clamp = p->act != Activation::kNone;
  FloatActivationRange(p->act, &g.lo, &g.hi);
  // Float pooling runs vectorized rows (MaxPoolRowF32, AvgPoolRowF32), int8 plain loops.
  const bool vector_rows = in->type() == DType::kFloat32;
  p->seconds = static_cast<double>(p->batch) * p->gh.out * p->gw.out * g.channels * g.filter_h *
               g.filter_w / (vector_rows ? kMaxPoolF32VisitsPerSecond : kPoolVisitsPerSecond);
  return Status::Ok();
}

namespace {

class Pool2D final : public runtime::OpKernel {
 public:
  explicit Pool2D(PoolKind kind) : kind_(kind) {}

  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ReadPool(ctx, &p_));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    if (in_->type() == DType::kInt8) {
      QuantParams qi, qo;
      XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
      XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
      if (std::abs(qi.scale - qo.scale) > 1e-6f || qi.zero_point != qo.zero_point) {
        return ctx.Error("int8 pooling needs the output quantized like the input: input scale " +
                         std::to_string(qi.scale) + " zero point " + std::to_string(qi.zero_point) +
                         ", output scale " + std::to_string(qo.scale) + " zero point " +
                         std::to_string(qo.zero_point));
      }
      XBNN_RETURN_IF_ERROR(QuantizedActivationRange(ctx, p_.act, qo.scale, qo.zero_point,
                                                    DType::kInt8, &ilo_, &ihi_));
      iacc_.assign(static_cast<size_t>(NumThreads(ctx)) * p_.rows.channels, 0);
    }
    return Status::Ok();
  }

  void Invoke(OpContext& ctx) override {
    const int out_h = p_.gh.out;
    if (in_->type() == DType::kFloat32) {
      const int rows = p_.batch * out_h;
      const int channels = p_.rows.channels;
      // Fewer output rows than threads (a global average pooling has one): the channels split
      // among the threads too, in 16-channel blocks; each channel's sum is the same in any split.
      const int blocks = (channels + 15) / 16;
      const int parts =
          kind_ != PoolKind::kMax && rows < NumThreads(ctx) ? std::min(NumThreads(ctx), blocks) : 1;
      auto row = [&](int, int task) {
        const int64_t row_floats = int64_t{p_.rows.out_w} * channels;
        const int r = task / parts, part = task % parts;
        float* out = out_->as<float>() + r * row_floats;
        if (kind_ == PoolKind::kMax) {
          MaxPoolRowF32(p_.rows, in_->as<float>(), out, r / out_h, r % out_h);
        } else {
          AvgPoolRowF32(p_.rows, in_->as<float>(), out, r / out_h, r % out_h,
                        std::min(channels, part * blocks / parts * 16),
                        std::min(channels, (part + 1) * blocks / parts * 16));
        }
      };
      ParallelFor(ctx, rows * parts, row, p_.seconds);
    } else {
      auto row = [&](int thread, int task) { RowInt8(thread, task); };
      ParallelFor(ctx, p_.batch * out_h, row, p_.seconds);
    }
  }

 private:
  void RowInt8(int thread, int task) {
    const MaxPoolGeometry& g = p_.rows;
    const int channels = g.channels;
    const int8_t* in = in_->as<int8_t>();
    int8_t* out = out_->as<int8_t>();
    int32_t* acc = iacc_.data() + static_cast<size_t>(thread) * channels;
    const int b = task / g.out_h, oy = task % g.out_h;
    const int y0 = oy * g.stride_h - g.pad_top;
    const int ky0 = std::max(0, -y0), ky1 = std::min(g.filter_h, g.in_h - y0);
    for (int ox = 0; ox < g.out_w; ++ox) {
      const int x0 = ox * g.stride_w - g.pad_left;
      const int kx0 = std::max(0, -x0), kx1 = std::min(g.filter_w, g.in_w - x0);
      const int32_t init = kind_ == PoolKind::kMax ? std::numeric_limits<int32_t>::lowest() : 0;
      for (int c = 0; c < channels; ++c) acc[c] = init;
      int count = 0;
      for (int ky = ky0; ky < ky1; ++ky) {
        for (int kx = kx0; kx < kx1; ++kx) {
          const int8_t* px =
              in + ((static_cast<int64_t>(b) * g.in_h + y0 + ky) * g.in_w + x0 + kx) * channels;
          if (kind_ == PoolKind::kMax) {
            for (int c = 0; c < channels; ++c) acc[c] = std::max<int32_t>(acc[c], px[c]);
          } else {
            for (int c = 0; c < channels; ++c) acc[c] += px[c];
          }
          ++count;
        }
      }
      int8_t* po = out + ((static_cast<int64_t>(b) * g.out_h + oy) * g.out_w + ox) * channels;
      for (int c = 0; c < channels; ++c) {
        int32_t v = acc[c];
        if (kind_ == PoolKind::kAverage)
          v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
        po[c] = static_cast<int8_t>(std::min(std::max(v, ilo_), ihi_));
      }
    }
  }

  PoolKind kind_;
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  PoolGeometry p_;  // options, shapes and the float rows' geometry (ReadPool)
  int32_t ilo_ = -128, ihi_ = 127;
  std::vector<int32_t> iacc_;
};

std::optional<ops::Shape> PoolShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  if (!in || in->size() != 4) return std::nullopt;
  const auto& o = q.options();
  const int64_t h = ops::SpatialOut(o, (*in)[1], o.GetInt("filter_height", 1), "stride_h", nullptr);
  const int64_t w = ops::SpatialOut(o, (*in)[2], o.GetInt("filter_width", 1), "stride_w", nullptr);
  if (h < 1 || w < 1) return std::nullopt;
  return ops::Shape{(*in)[0], static_cast<int32_t>(h), static_cast<int32_t>(w), (*in)[3]};
}

}  // namespace

extern const ops::OpDef kMaxPool2DOp{
    .signature = graph::BuiltinSignature(graph::op::kMaxPool2D, 1, 1, graph::options_type::kPool2D),
    .max_version = 2,
    .shape = PoolShape,
    .create = ops::MakeKernel<Pool2D, PoolKind::kMax>,
};

extern const ops::OpDef kAveragePool2DOp{
    .signature =
        graph::BuiltinSignature(graph::op::kAveragePool2D, 1, 1, graph::options_type::kPool2D),
    .max_version = 2,
    .shape = PoolShape,
    .create = ops::MakeKernel<Pool2D, PoolKind::kAverage>,
};

}  // namespace xbnn::kernels
