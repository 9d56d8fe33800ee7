// Pieces shared by CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: per-channel requantization of
// int32 accumulators, exactly as TFLite's PopulateConvolutionQuantizationParams computes it.
#pragma once

#include <vector>

#include "kernels/builtin/common.h"
#include "kernels/builtin/xnn_chunks.h"

namespace xbnn::kernels::builtin {

struct ChannelRequant {
  std::vector<int32_t> multiplier;  // one per output channel
  std::vector<int> shift;
  int32_t input_offset = 0;   // -input zero point
  int32_t output_offset = 0;  // output zero point
  int32_t act_min = -128, act_max = 127;
  // Channels below this requantize as TFLite's SIMD code does
  // (MultiplyByQuantizedMultiplierRoundUp), the rest as its scalar code. CONV_2D and
  // FULLY_CONNECTED (ruy, GEMV): all channels.
  int round_up_channels = std::numeric_limits<int>::max();

  int8_t Apply(int32_t acc, int channel) const {
    int32_t v =
        (channel < round_up_channels
             ? MultiplyByQuantizedMultiplierRoundUp(acc, multiplier[channel], shift[channel])
             : MultiplyByQuantizedMultiplier(acc, multiplier[channel], shift[channel])) +
        output_offset;
    v = std::max(v, act_min);
    v = std::min(v, act_max);
    return static_cast<int8_t>(v);
  }
};

// int8 input, int8 filter (per tensor or per channel along `channel_dim`, zero points 0), optional
// int32 bias of `channels` values, int8 output. The multiplier of channel c is
// double(input_scale) * double(filter_scale[c]) / double(output_scale), as in TFLite's conv and
// depthwise conv.
Status PrepareChannelRequant(const OpContext& ctx, const RuntimeTensor* input,
                             const RuntimeTensor* filter, const RuntimeTensor* bias,
                             const RuntimeTensor* output, int channels, int channel_dim,
                             Activation act, ChannelRequant* r);

// The geometry of a 2-D convolution over NHWC input (CONV_2D, DEPTHWISE_CONV_2D). The kernel sets
// the sizes; PrepareConvGeometry reads the options and derives the rest.
struct ConvGeometry {
  int batch = 0, in_h = 0, in_w = 0, in_c = 0, out_c = 0, k_h = 0, k_w = 0;
  int stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  Padding padding = Padding::kSame;
  Activation act = Activation::kNone;
  AxisGeometry gh, gw;

  // The float32 XNNPACK descriptor of this convolution; the caller sets the grouping.
  XnnConvDesc Xnn(const RuntimeTensor* in, const RuntimeTensor* filter, const RuntimeTensor* bias,
                  const RuntimeTensor* out, double seconds) const;
};

// Reads padding, fused activation, strides and dilations, computes both spatial axes and checks
// the output shape [batch, out_h, out_w, out_c] and the bias length.
Status PrepareConvGeometry(const OpContext& ctx, const RuntimeTensor* out,
                           const RuntimeTensor* bias, ConvGeometry* g);

// One output row of an int8 CONV_2D or DEPTHWISE_CONV_2D (task = batch * out_h + y): per output
// pixel, `acc` (out_c values) is zeroed, tap(acc, px, ky, kx) adds every in-bounds kernel tap
// (px: the input pixel's channels), and acc + bias is requantized into the output.
template <class Tap>
void Int8ConvRow(const ConvGeometry& g, const ChannelRequant& rq, const int8_t* in,
                 const int32_t* bias, int8_t* out, int32_t* acc, int task, Tap tap) {
  const int b = task / g.gh.out, oy = task % g.gh.out;
  for (int ox = 0; ox < g.gw.out; ++ox) {
    for (int oc = 0; oc < g.out_c; ++oc) acc[oc] = 0;
    for (int ky = 0; ky < g.k_h; ++ky) {
      const int iy = oy * g.stride_h - g.gh.pad_before + ky * g.dil_h;
      if (iy < 0 || iy >= g.in_h) continue;
      for (int kx = 0; kx < g.k_w; ++kx) {
        const int ix = ox * g.stride_w - g.gw.pad_before + kx * g.dil_w;
        if (ix < 0 || ix >= g.in_w) continue;
        tap(acc, in + ((static_cast<int64_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c, ky, kx);
      }
    }
    int8_t* po = out + ((static_cast<int64_t>(b) * g.gh.out + oy) * g.gw.out + ox) * g.out_c;
    for (int oc = 0; oc < g.out_c; ++oc) po[oc] = rq.Apply(acc[oc] + (bias ? bias[oc] : 0), oc);
  }
}

// A bias (when present) has one value per output channel or unit.
Status ExpectBiasLength(const OpContext& ctx, const RuntimeTensor* bias, int n);

}  // namespace xbnn::kernels::builtin
