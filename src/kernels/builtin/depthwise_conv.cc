// DEPTHWISE_CONV_2D (versions 1-3): float32 on XNNPACK, int8 with per-tensor or per-channel
// weights in TFLite's integer arithmetic. Any depth multiplier, dilation, padding and stride.
#include "kernels/builtin/common.h"
#include "kernels/builtin/conv_common.h"
#include "kernels/builtin/xnn_chunks.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

constexpr int kQuantizeBlock = 8;

class DepthwiseConv2D final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 3));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    filter_ = ctx.input(1);
    bias_ = ctx.input(2);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(ExpectRank(ctx, in_, 4, "input"));
    XBNN_RETURN_IF_ERROR(ExpectRank(ctx, filter_, 4, "filter"));
    XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, filter_, "filter"));
    if (bias_) XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, bias_, "bias"));
    if (filter_->dim(0) != 1) {
      return ctx.Error("filter " + TensorName(filter_) + " must have shape [1, KH, KW, C*M], found " +
                       ShapeString(filter_->shape()));
    }
    batch_ = in_->dim(0);
    in_h_ = in_->dim(1);
    in_w_ = in_->dim(2);
    in_c_ = in_->dim(3);
    k_h_ = filter_->dim(1);
    k_w_ = filter_->dim(2);
    out_c_ = filter_->dim(3);
    if (in_c_ < 1 || out_c_ % in_c_ != 0) {
      return ctx.Error("filter has " + std::to_string(out_c_) + " output channels, not a multiple of the input's " +
                       std::to_string(in_c_));
    }
    // The multiplier follows from the shapes (as TFLite computes it); the option must agree when set.
    mult_ = out_c_ / in_c_;
    const auto& o = ctx.options();
    const int64_t opt_mult = o.GetInt("depth_multiplier", 0);
    if (opt_mult != 0 && opt_mult != mult_ && in_c_ != 1) {
      return ctx.Error("depth_multiplier " + std::to_string(opt_mult) + " disagrees with the shapes: " +
                       std::to_string(in_c_) + " input and " + std::to_string(out_c_) + " output channels");
    }
    XBNN_RETURN_IF_ERROR(ReadPadding(ctx, &padding_));
    XBNN_RETURN_IF_ERROR(ReadActivation(ctx, &act_));
    stride_h_ = static_cast<int>(o.GetInt("stride_h", 1));
    stride_w_ = static_cast<int>(o.GetInt("stride_w", 1));
    dil_h_ = static_cast<int>(o.GetInt("dilation_h_factor", 1));
    dil_w_ = static_cast<int>(o.GetInt("dilation_w_factor", 1));
    XBNN_RETURN_IF_ERROR(ComputeAxis(ctx, "h", in_h_, k_h_, stride_h_, dil_h_, padding_, &gh_));
    XBNN_RETURN_IF_ERROR(ComputeAxis(ctx, "w", in_w_, k_w_, stride_w_, dil_w_, padding_, &gw_));
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, {batch_, gh_.out, gw_.out, out_c_}, "output"));
    if (bias_ && bias_->elements() != out_c_) {
      return ctx.Error("bias " + TensorName(bias_) + " has " + std::to_string(bias_->elements()) +
                       " values, expected " + std::to_string(out_c_));
    }
    const double macs = static_cast<double>(batch_) * gh_.out * gw_.out * out_c_ * k_h_ * k_w_;
    seconds_ = macs / (in_->type() == DType::kFloat32 ? kDepthwiseMacsPerSecond : kInt8MacsPerSecond);
    if (in_->type() == DType::kFloat32) return PrepareFloat(ctx);
    if (in_->type() == DType::kInt8) {
      if (filter_->type() != DType::kInt8) {
        return ctx.Error(std::string("int8 input needs an int8 filter, found ") + graph::DTypeName(filter_->type()));
      }
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kInt8, "output"));
      XBNN_RETURN_IF_ERROR(PrepareChannelRequant(ctx, in_, filter_, bias_, out_, out_c_, 3, act_, &rq_));
      // TFLite's x86 depthwise conv (DepthwiseConvGeneral) requantizes through
      // optimized_ops::Quantize: NEON blocks of 8 channels round ties up, the last out_c % 8
      // channels take the scalar MultiplyByQuantizedMultiplier.
      rq_.round_up_channels = out_c_ - out_c_ % kQuantizeBlock;
      acc_.assign(static_cast<size_t>(NumThreads(ctx)) * out_c_, 0);
      return Status::Ok();
    }
    return ctx.Error("input " + TensorName(in_) + " has type " + graph::DTypeName(in_->type()) +
                     ", supported: float32, int8");
  }

  void Invoke(OpContext& ctx) override {
    if (!xnn_.empty()) {
      xnn_.Run(ctx);
    } else {
      InvokeInt8(ctx);
    }
  }

 private:
  Status PrepareFloat(OpContext& ctx) {
    XBNN_RETURN_IF_ERROR(PrepareFloatWeights(ctx, filter_, bias_, out_));
    float lo, hi;
    FloatActivationRange(act_, &lo, &hi);
    // A depthwise convolution is a grouped convolution with one input channel per group; the
    // DEPTHWISE flag tells XNNPACK the weights are TFLite's [1, KH, KW, C*M] layout.
    XnnConvDesc d;
    d.batch = batch_;
    d.in_h = in_h_;
    d.in_w = in_w_;
    d.in_c = in_c_;
    d.out_h = gh_.out;
    d.out_w = gw_.out;
    d.out_c = out_c_;
    d.kernel_h = k_h_;
    d.kernel_w = k_w_;
    d.stride_h = stride_h_;
    d.stride_w = stride_w_;
    d.dilation_h = dil_h_;
    d.dilation_w = dil_w_;
    d.pad_top = gh_.pad_before;
    d.pad_bottom = gh_.pad_after;
    d.pad_left = gw_.pad_before;
    d.pad_right = gw_.pad_after;
    d.groups = in_c_;
    d.group_in = 1;
    d.group_out = mult_;
    d.filter = filter_->as<float>();
    d.bias = bias_ ? bias_->as<float>() : nullptr;
    d.min = lo;
    d.max = hi;
    d.flags = XNN_FLAG_DEPTHWISE_CONVOLUTION;
    d.input = in_->as<float>();
    d.output = out_->as<float>();
    d.seconds = seconds_;
    d.what = "depthwise convolution";
    return CreateXnnConv2D(ctx, d, &xnn_);
  }

  void InvokeInt8(OpContext& ctx) {
    const int8_t* in = in_->as<int8_t>();
    const int8_t* w = filter_->as<int8_t>();
    const int32_t* bias = bias_ ? bias_->as<int32_t>() : nullptr;
    int8_t* out = out_->as<int8_t>();
    const int32_t in_off = rq_.input_offset;
    auto row = [&](int thread, int task) {
      const int b = task / gh_.out, oy = task % gh_.out;
      int32_t* acc = acc_.data() + static_cast<size_t>(thread) * out_c_;
      for (int ox = 0; ox < gw_.out; ++ox) {
        for (int oc = 0; oc < out_c_; ++oc) acc[oc] = 0;
        for (int ky = 0; ky < k_h_; ++ky) {
          const int iy = oy * stride_h_ - gh_.pad_before + ky * dil_h_;
          if (iy < 0 || iy >= in_h_) continue;
          for (int kx = 0; kx < k_w_; ++kx) {
            const int ix = ox * stride_w_ - gw_.pad_before + kx * dil_w_;
            if (ix < 0 || ix >= in_w_) continue;
            const int8_t* x = in + ((static_cast<int64_t>(b) * in_h_ + iy) * in_w_ + ix) * in_c_;
            const int8_t* f = w + (static_cast<int64_t>(ky) * k_w_ + kx) * out_c_;
            if (mult_ == 1) {
              for (int c = 0; c < in_c_; ++c) acc[c] += static_cast<int32_t>(f[c]) * (x[c] + in_off);
            } else {
              for (int c = 0; c < in_c_; ++c) {
                const int32_t xv = x[c] + in_off;
                for (int m = 0; m < mult_; ++m) acc[c * mult_ + m] += static_cast<int32_t>(f[c * mult_ + m]) * xv;
              }
            }
          }
        }
        int8_t* po = out + ((static_cast<int64_t>(b) * gh_.out + oy) * gw_.out + ox) * out_c_;
        for (int oc = 0; oc < out_c_; ++oc) po[oc] = rq_.Apply(acc[oc] + (bias ? bias[oc] : 0), oc);
      }
    };
    ParallelFor(ctx, batch_ * gh_.out, row, seconds_);
  }

  RuntimeTensor *in_ = nullptr, *filter_ = nullptr, *bias_ = nullptr, *out_ = nullptr;
  int batch_ = 0, in_h_ = 0, in_w_ = 0, in_c_ = 0, out_c_ = 0, k_h_ = 0, k_w_ = 0, mult_ = 1;
  int stride_h_ = 1, stride_w_ = 1, dil_h_ = 1, dil_w_ = 1;
  Padding padding_ = Padding::kSame;
  Activation act_ = Activation::kNone;
  AxisGeometry gh_, gw_;
  double seconds_ = 0;            // estimated single-thread time
  XnnChunks xnn_;
  ChannelRequant rq_;
  std::vector<int32_t> acc_;
};

// Filter [1, KH, KW, Cout]: every output value takes KH * KW MACs.
ops::OpCost DepthwiseCost(const ops::CostQuery& q) {
  if (q.filter.shape.size() != 4 || q.out.shape.size() != 4) return {};
  return ops::DenseMacs(q.in,
                        ops::DimProduct(q.out.shape, 0, 4) * q.filter.shape[1] * q.filter.shape[2]);
}

std::optional<ops::Shape> DepthwiseShape(const ops::ShapeQuery& q) {
  return ops::ConvShape(q, true);
}

}  // namespace

// Versions: 2 dilation, 3 int8.
extern const ops::OpDef kDepthwiseConv2DOp{
    .signature =
        graph::BuiltinSignature(graph::op::kDepthwiseConv2D, 2, 3,
                                graph::options_type::kDepthwiseConv2D, graph::OptionalInput(2)),
    .max_version = 3,
    .shape = DepthwiseShape,
    .cost = DepthwiseCost,
    .create = ops::MakeKernel<DepthwiseConv2D>,
};

}  // namespace xbnn::kernels
