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
    PoolGeometry pg;
    XBNN_RETURN_IF_ERROR(ReadPool(ctx, &pg));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    act_ = pg.act;
    batch_ = pg.batch;
    in_h_ = pg.rows.in_h;
    in_w_ = pg.rows.in_w;
    c_ = pg.rows.channels;
    f_h_ = pg.rows.filter_h;
    f_w_ = pg.rows.filter_w;
    stride_h_ = pg.rows.stride_h;
    stride_w_ = pg.rows.stride_w;
    gh_ = pg.gh;
    gw_ = pg.gw;
    seconds_ = pg.seconds;
    geometry_ = pg.rows;
    if (in_->type() == DType::kFloat32) {
      flo_ = pg.rows.lo;
      fhi_ = pg.rows.hi;
    } else {
      QuantParams qi, qo;
      XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &qi));
      XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &qo));
      if (std::abs(qi.scale - qo.scale) > 1e-6f || qi.zero_point != qo.zero_point) {
        return ctx.Error("int8 pooling needs the output quantized like the input: input scale " +
                         std::to_string(qi.scale) + " zero point " + std::to_string(qi.zero_point) +
                         ", output scale " + std::to_string(qo.scale) + " zero point " +
                         std::to_string(qo.zero_point));
      }
      XBNN_RETURN_IF_ERROR(
          QuantizedActivationRange(ctx, act_, qo.scale, qo.zero_point, DType::kInt8, &ilo_, &ihi_));
      iacc_.assign(static_cast<size_t>(NumThreads(ctx)) * c_, 0);
    }
    return Status::Ok();
  }

  void Invoke(OpContext& ctx) override {
    if (in_->type() == DType::kFloat32 && kind_ == PoolKind::kMax) {
      auto row = [&](int, int task) {
        MaxPoolRowF32(geometry_, in_->as<float>(), out_->as<float>(), task / gh_.out,
                      task % gh_.out);
      };
      ParallelFor(ctx, batch_ * gh_.out, row, seconds_);
    } else if (in_->type() == DType::kFloat32) {
      auto row = [&](int, int task) {
        AvgPoolRowF32(geometry_, in_->as<float>(), out_->as<float>(), task / gh_.out,
                      task % gh_.out);
      };
      ParallelFor(ctx, batch_ * gh_.out, row, seconds_);
    } else {
      auto row = [&](int thread, int task) { Row<int8_t>(thread, task, iacc_.data()); };
      ParallelFor(ctx, batch_ * gh_.out, row, seconds_);
    }
  }

 private:
  template <typename T, typename Acc>
  void Row(int thread, int task, Acc* acc_all) {
    const T* in = in_->as<T>();
    T* out = out_->as<T>();
    Acc* acc = acc_all + static_cast<size_t>(thread) * c_;
    const int b = task / gh_.out, oy = task % gh_.out;
    const int y0 = oy * stride_h_ - gh_.pad_before;
    const int ky0 = std::max(0, -y0), ky1 = std::min(f_h_, in_h_ - y0);
    for (int ox = 0; ox < gw_.out; ++ox) {
      const int x0 = ox * stride_w_ - gw_.pad_before;
      const int kx0 = std::max(0, -x0), kx1 = std::min(f_w_, in_w_ - x0);
      const Acc init = kind_ == PoolKind::kMax ? std::numeric_limits<Acc>::lowest() : Acc(0);
      for (int c = 0; c < c_; ++c) acc[c] = init;
      int count = 0;
      for (int ky = ky0; ky < ky1; ++ky) {
        for (int kx = kx0; kx < kx1; ++kx) {
          const T* px = in + ((static_cast<int64_t>(b) * in_h_ + y0 + ky) * in_w_ + x0 + kx) * c_;
          if (kind_ == PoolKind::kMax) {
            for (int c = 0; c < c_; ++c) acc[c] = std::max<Acc>(acc[c], px[c]);
          } else {
            for (int c = 0; c < c_; ++c) acc[c] += px[c];
          }
          ++count;
        }
      }
      T* po = out + ((static_cast<int64_t>(b) * gh_.out + oy) * gw_.out + ox) * c_;
      for (int c = 0; c < c_; ++c) {
        int32_t v = acc[c];
        if (kind_ == PoolKind::kAverage)
          v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
        po[c] = static_cast<T>(std::min(std::max(v, ilo_), ihi_));
      }
    }
  }

  PoolKind kind_;
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  Activation act_ = Activation::kNone;
  int batch_ = 0, in_h_ = 0, in_w_ = 0, c_ = 0, f_h_ = 1, f_w_ = 1, stride_h_ = 1, stride_w_ = 1;
  AxisGeometry gh_, gw_;
  float flo_ = 0, fhi_ = 0;
  int32_t ilo_ = -128, ihi_ = 127;
  std::vector<int32_t> iacc_;
  double seconds_ = 0;  // estimated single-thread time
  MaxPoolGeometry geometry_;
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
