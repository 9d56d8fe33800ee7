// FULLY_CONNECTED (versions 1-6): float32 on XNNPACK, int8 (per-tensor or per-channel weights)
// in TFLite's integer arithmetic. keep_num_dims and the optional bias are supported; shuffled
// weights and hybrid (float input, int8 weights) are not.
#include "kernels/builtin/common.h"
#include "kernels/builtin/conv_common.h"
#include "kernels/builtin/xnn_chunks.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

constexpr int kUnitsPerTask = 16;

class FullyConnected final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 3));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    filter_ = ctx.input(1);
    bias_ = ctx.input(2);
    out_ = ctx.output(0);
    const auto& o = ctx.options();
    XBNN_RETURN_IF_ERROR(ReadActivation(ctx, &act_));
    if (o.GetInt("weights_format", 0) != 0) {
      return ctx.Error("weights_format SHUFFLED4x16INT8 is not supported (only DEFAULT)");
    }
    XBNN_RETURN_IF_ERROR(ExpectRank(ctx, filter_, 2, "filter"));
    XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, filter_, "filter"));
    if (bias_) XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, bias_, "bias"));
    units_ = filter_->dim(0);
    depth_ = filter_->dim(1);
    if (units_ < 1 || depth_ < 1) return ctx.Error("filter has an empty shape " + ShapeString(filter_->shape()));
    if (in_->rank() < 1 || in_->elements() % depth_ != 0) {
      return ctx.Error("input " + TensorName(in_) + " of shape " + ShapeString(in_->shape()) +
                       " does not split into rows of the filter's " + std::to_string(depth_) + " values");
    }
    batch_ = static_cast<int>(in_->elements() / depth_);
    std::vector<int32_t> expected;
    if (o.GetInt("keep_num_dims", 0) != 0) {
      if (in_->shape().back() != depth_) {
        return ctx.Error("keep_num_dims needs the input's last dimension (" + std::to_string(in_->shape().back()) +
                         ") to equal the filter depth " + std::to_string(depth_));
      }
      expected = in_->shape();
      expected.back() = units_;
    } else {
      expected = {batch_, units_};
    }
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, expected, "output"));
    XBNN_RETURN_IF_ERROR(ExpectBiasLength(ctx, bias_, units_));
    const double macs = static_cast<double>(batch_) * units_ * depth_;
    seconds_ = macs / (in_->type() != DType::kFloat32 ? kInt8MacsPerSecond
                       : batch_ == 1                  ? kGemvMacsPerSecond
                                                      : kConvMacsPerSecond);
    if (in_->type() == DType::kFloat32) return PrepareFloat(ctx);
    if (in_->type() == DType::kInt8) return PrepareInt8(ctx);
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
    XnnFcDesc d;
    d.batch = batch_;
    d.depth = depth_;
    d.units = units_;
    d.filter = filter_->as<float>();
    d.bias = bias_ ? bias_->as<float>() : nullptr;
    d.min = lo;
    d.max = hi;
    d.input = in_->as<float>();
    d.output = out_->as<float>();
    d.seconds = seconds_;
    return CreateXnnFullyConnected(ctx, d, &xnn_);
  }

  Status PrepareInt8(OpContext& ctx) {
    if (filter_->type() != DType::kInt8) {
      return ctx.Error(std::string("int8 input needs an int8 filter, found ") + graph::DTypeName(filter_->type()));
    }
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kInt8, "output"));
    const graph::Quantization* fq = filter_->quant();
    if (fq && fq->scale.size() > 1) {
      // Per-channel weights: TFLite multiplies the scales in double, as for convolutions.
      return PrepareChannelRequant(ctx, in_, filter_, bias_, out_, units_, 0, act_, &rq_);
    }
    // Per-tensor weights, which may carry a zero point. TFLite forms the product of the input and
    // filter scales in float before widening to double (GetQuantizedConvolutionMultipler).
    QuantParams in_q, f_q, out_q;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &in_q));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, filter_, "filter", &f_q));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &out_q));
    const float product = in_q.scale * f_q.scale;
    if (bias_) {
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, bias_, DType::kInt32, "bias"));
      // TFLite refuses a bias whose scale is not (nearly) input_scale * filter_scale.
      const graph::Quantization* bq = bias_->quant();
      const double bias_scale = bq && !bq->scale.empty() ? bq->scale[0] : 0.0;
      const double input_product = static_cast<double>(in_q.scale) * static_cast<double>(f_q.scale);
      if (std::abs(input_product - bias_scale) / out_q.scale > 0.02) {
        return ctx.Error("bias " + TensorName(bias_) + " has scale " + std::to_string(bias_scale) +
                         ", but input_scale * filter_scale is " + std::to_string(input_product));
      }
    }
    const double real = static_cast<double>(product) / static_cast<double>(out_q.scale);
    rq_.multiplier.assign(units_, 0);
    rq_.shift.assign(units_, 0);
    QuantizeMultiplier(real, &rq_.multiplier[0], &rq_.shift[0]);
    if (rq_.shift[0] > 30) return ctx.Error("requantization multiplier " + std::to_string(real) + " is too large");
    for (int u = 1; u < units_; ++u) {
      rq_.multiplier[u] = rq_.multiplier[0];
      rq_.shift[u] = rq_.shift[0];
    }
    rq_.input_offset = -in_q.zero_point;
    rq_.output_offset = out_q.zero_point;
    filter_offset_ = -f_q.zero_point;
    return QuantizedActivationRange(ctx, act_, out_q.scale, out_q.zero_point, DType::kInt8, &rq_.act_min,
                                    &rq_.act_max);
  }

  void InvokeInt8(OpContext& ctx) {
    const int8_t* in = in_->as<int8_t>();
    const int8_t* w = filter_->as<int8_t>();
    const int32_t* bias = bias_ ? bias_->as<int32_t>() : nullptr;
    int8_t* out = out_->as<int8_t>();
    const int blocks = (units_ + kUnitsPerTask - 1) / kUnitsPerTask;
    const int32_t in_off = rq_.input_offset, f_off = filter_offset_;
    auto task = [&](int, int t) {
      const int b = t / blocks, u0 = (t % blocks) * kUnitsPerTask;
      const int u1 = std::min(units_, u0 + kUnitsPerTask);
      const int8_t* x = in + static_cast<int64_t>(b) * depth_;
      for (int u = u0; u < u1; ++u) {
        const int8_t* f = w + static_cast<int64_t>(u) * depth_;
        int32_t acc = 0;
        for (int k = 0; k < depth_; ++k) acc += (f[k] + f_off) * (x[k] + in_off);
        if (bias) acc += bias[u];
        out[static_cast<int64_t>(b) * units_ + u] = rq_.Apply(acc, u);
      }
    };
    ParallelFor(ctx, batch_ * blocks, task, seconds_);
  }

  RuntimeTensor *in_ = nullptr, *filter_ = nullptr, *bias_ = nullptr, *out_ = nullptr;
  int batch_ = 0, units_ = 0, depth_ = 0;
  int32_t filter_offset_ = 0;
  Activation act_ = Activation::kNone;
  double seconds_ = 0;            // estimated single-thread time
  XnnChunks xnn_;
  ChannelRequant rq_;
};

std::optional<ops::Shape> FullyConnectedShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  const ops::Shape* f = q.In(1);
  if (!in || !f || f->size() != 2 || in->empty() || (*f)[1] < 1) return std::nullopt;
  if (q.options().GetInt("keep_num_dims", 0) != 0) {
    if (in->back() != (*f)[1]) return std::nullopt;
    ops::Shape s = *in;
    s.back() = (*f)[0];
    return s;
  }
  const int64_t n = ops::Elements(*in);
  if (n % (*f)[1] != 0) return std::nullopt;
  return ops::Shape{static_cast<int32_t>(n / (*f)[1]), (*f)[0]};
}

ops::OpCost FullyConnectedCost(const ops::CostQuery& q) {
  return ops::DenseMacs(q.in, q.out.NumElements() * q.filter.shape.back());
}

}  // namespace

// Versions: 4 int8, 5 keep_num_dims, 6 no bias.
extern const ops::OpDef kFullyConnectedOp{
    .signature =
        graph::BuiltinSignature(graph::op::kFullyConnected, 2, 3,
                                graph::options_type::kFullyConnected, graph::OptionalInput(2)),
    .max_version = 6,
    .shape = FullyConnectedShape,
    .cost = FullyConnectedCost,
    .create = ops::MakeKernel<FullyConnected>,
};

}  // namespace xbnn::kernels
