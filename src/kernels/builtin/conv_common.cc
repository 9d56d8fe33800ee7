#include "kernels/builtin/conv_common.h"

namespace xbnn::kernels::builtin {

Status PrepareChannelRequant(const OpContext& ctx, const RuntimeTensor* input, const RuntimeTensor* filter,
                             const RuntimeTensor* bias, const RuntimeTensor* output, int channels, int channel_dim,
                             Activation act, ChannelRequant* r) {
  QuantParams in_q, out_q;
  XBNN_RETURN_IF_ERROR(GetQuant(ctx, input, "input", &in_q));
  XBNN_RETURN_IF_ERROR(GetQuant(ctx, output, "output", &out_q));
  XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, filter, DType::kInt8, "filter"));
  const graph::Quantization* fq = filter->quant();
  if (!fq || fq->scale.empty()) return ctx.Error("filter " + TensorName(filter) + " has no quantization parameters");
  const bool per_channel = fq->scale.size() > 1;
  if (per_channel) {
    if (static_cast<int>(fq->scale.size()) != channels) {
      return ctx.Error("filter " + TensorName(filter) + " has " + std::to_string(fq->scale.size()) +
                       " scales, expected 1 or " + std::to_string(channels) + " (one per output channel)");
    }
    if (fq->quantized_dimension != channel_dim) {
      return ctx.Error("filter " + TensorName(filter) + " is quantized along dimension " +
                       std::to_string(fq->quantized_dimension) + ", expected " + std::to_string(channel_dim));
    }
  }
  for (int64_t zp : fq->zero_point) {
    if (zp != 0) return ctx.Error("filter " + TensorName(filter) + " must be symmetric (zero point 0), found " + std::to_string(zp));
  }
  for (float s : fq->scale) {
    if (!(s > 0) || !std::isfinite(s)) {
      return ctx.Error("filter " + TensorName(filter) + " has invalid scale " + std::to_string(s));
    }
  }
  if (bias) {
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, bias, DType::kInt32, "bias"));
    if (bias->elements() != channels) {
      return ctx.Error("bias " + TensorName(bias) + " has " + std::to_string(bias->elements()) + " values, expected " +
                       std::to_string(channels));
    }
  }
  r->multiplier.resize(channels);
  r->shift.resize(channels);
  for (int c = 0; c < channels; ++c) {
    const double filter_scale = static_cast<double>(per_channel ? fq->scale[c] : fq->scale[0]);
    const double effective = static_cast<double>(in_q.scale) * filter_scale / static_cast<double>(out_q.scale);
    QuantizeMultiplier(effective, &r->multiplier[c], &r->shift[c]);
    if (r->shift[c] > 30) {
      return ctx.Error("requantization multiplier " + std::to_string(effective) + " of channel " + std::to_string(c) +
                       " is too large");
    }
  }
  r->input_offset = -in_q.zero_point;
  r->output_offset = out_q.zero_point;
  return QuantizedActivationRange(ctx, act, out_q.scale, out_q.zero_point, DType::kInt8, &r->act_min, &r->act_max);
}

XnnConvDesc ConvGeometry::Xnn(const RuntimeTensor* in, const RuntimeTensor* filter,
                              const RuntimeTensor* bias, const RuntimeTensor* out,
                              double seconds) const {
  float lo, hi;
  FloatActivationRange(act, &lo, &hi);
  XnnConvDesc d;
  d.batch = batch;
  d.in_h = in_h;
  d.in_w = in_w;
  d.in_c = in_c;
  d.out_h = gh.out;
  d.out_w = gw.out;
  d.out_c = out_c;
  d.kernel_h = k_h;
  d.kernel_w = k_w;
  d.stride_h = stride_h;
  d.stride_w = stride_w;
  d.dilation_h = dil_h;
  d.dilation_w = dil_w;
  d.pad_top = gh.pad_before;
  d.pad_bottom = gh.pad_after;
  d.pad_left = gw.pad_before;
  d.pad_right = gw.pad_after;
  d.filter = filter->as<float>();
  d.bias = bias ? bias->as<float>() : nullptr;
  d.min = lo;
  d.max = hi;
  d.input = in->as<float>();
  d.output = out->as<float>();
  d.seconds = seconds;
  return d;
}

Status PrepareConvGeometry(const OpContext& ctx, const RuntimeTensor* out,
                           const RuntimeTensor* bias, ConvGeometry* g) {
  const auto& o = ctx.options();
  XBNN_RETURN_IF_ERROR(ReadPadding(ctx, &g->padding));
  XBNN_RETURN_IF_ERROR(ReadActivation(ctx, &g->act));
  g->stride_h = static_cast<int>(o.GetInt("stride_h", 1));
  g->stride_w = static_cast<int>(o.GetInt("stride_w", 1));
  g->dil_h = static_cast<int>(o.GetInt("dilation_h_factor", 1));
  g->dil_w = static_cast<int>(o.GetInt("dilation_w_factor", 1));
  XBNN_RETURN_IF_ERROR(
      ComputeAxis(ctx, "h", g->in_h, g->k_h, g->stride_h, g->dil_h, g->padding, &g->gh));
  XBNN_RETURN_IF_ERROR(
      ComputeAxis(ctx, "w", g->in_w, g->k_w, g->stride_w, g->dil_w, g->padding, &g->gw));
  XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out, {g->batch, g->gh.out, g->gw.out, g->out_c}, "output"));
  return ExpectBiasLength(ctx, bias, g->out_c);
}

Status ExpectBiasLength(const OpContext& ctx, const RuntimeTensor* bias, int n) {
  if (bias && bias->elements() != n) {
    return ctx.Error("bias " + TensorName(bias) + " has " + std::to_string(bias->elements()) +
                     " values, expected " + std::to_string(n));
  }
  return Status::Ok();
}

}  // namespace xbnn::kernels::builtin
