// Reference LceBconv2d: direct convolution with plain loops, bit-exact with LCE.
//
// Where the facts come from (LCE sources, larq/compute-engine):
//  - core/bconv2d/reference.h: acc = popcount(input XOR filter) over the window, padding reads as
//    bit 0 (+1); with SAME zero-padding each outside tap adds channels_per_group / 2 to acc
//    instead, which makes it contribute 0 to y = K - 2*acc.
//  - core/bconv2d/output_transform.h: float/int8 out = float(clamp(2*acc)) * mul' + bias' with
//    the clamp in int32; int8 then rounds with std::round (half away from zero) and saturates;
//    bitpacked output bit = acc > threshold.
//  - tflite/kernels/bconv2d.cc: how mul', bias' and the clamp are folded (FoldOutputTransform,
//    ComputeOutputClamp in geometry.cc), and that the default (optimized) kernels run SAME
//    zero-padding only for float output without activation: they compute the one-padded result
//    and add a per-pixel border correction (core/bconv2d/zero_padding_correction.h).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/binary/binary_ops.h"

namespace xbnn::kernels::reference {
namespace {

// LCE's int8 conversion: round half away from zero, saturate. Clamping first keeps the
// conversion defined for any float (LCE's static_cast of an out-of-range value is not); NaN
// gives -128, as LCE gives on x86.
int8_t RoundToInt8(float value) {
  if (!(value >= -128.0f)) return -128;
  if (value > 127.0f) return 127;
  return static_cast<int8_t>(std::round(value));
}

// What one output pixel and channel sums up, before the output transform.
struct WindowSum {
  int64_t acc_inside = 0;           // popcount(input XOR filter) over taps inside the input
  int64_t outside_taps = 0;         // taps in the padding
  int64_t outside_filter_bits = 0;  // popcount(filter) over taps in the padding
  float outside_correction = 0;     // LCE's float sum over outside taps of (channels - 2*popcount)
};

}  // namespace

void BConv2D(const BConv2DParams& p, const BConv2DGeometry& g, const BConv2DArgs& args) {
  const int in_words = PackedWords(p.channels_in);
  const int group_words = g.packed_channels_per_group;
  const bool zero_padding = p.padding == Padding::kSame && p.pad_values == 0;
  // The one zero-padded case LCE's default kernels run, with their border-correction arithmetic.
  const bool lce_border_correction =
      zero_padding && p.output_type == BOutputType::kFloat32 && p.activation == Activation::kNone;

  const OutputClamp clamp = ComputeOutputClamp(p, g);
  std::vector<float> folded_multiplier;
  std::vector<float> folded_bias;
  if (p.output_type != BOutputType::kBitpacked) {
    folded_multiplier.resize(p.out_channels);
    folded_bias.resize(p.out_channels);
    FoldOutputTransform(p, g, args.multiplier, args.bias, folded_multiplier.data(),
                        folded_bias.data());
  }
  const int out_words = PackedWords(p.out_channels);

  for (int b = 0; b < p.batch; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int64_t pixel = (int64_t{b} * g.out_h + oy) * g.out_w + ox;
        if (p.output_type == BOutputType::kBitpacked) {
          int32_t* out = static_cast<int32_t*>(args.output) + pixel * out_words;
          for (int w = 0; w < out_words; ++w) out[w] = 0;  // unused bits stay 0
        }
        for (int oc = 0; oc < p.out_channels; ++oc) {
          const int group = oc / g.out_channels_per_group;
          WindowSum sum;
          for (int ky = 0; ky < p.kernel_h; ++ky) {
            for (int kx = 0; kx < p.kernel_w; ++kx) {
              const int64_t iy = int64_t{oy} * p.stride_h - g.pad_top + int64_t{ky} * p.dilation_h;
              const int64_t ix = int64_t{ox} * p.stride_w - g.pad_left + int64_t{kx} * p.dilation_w;
              const bool inside = iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w;
              const int32_t* filter =
                  args.filter + ((int64_t{oc} * p.kernel_h + ky) * p.kernel_w + kx) * group_words;
              if (inside) {
                const int32_t* input = args.input +
                                       ((int64_t{b} * p.in_h + iy) * p.in_w + ix) * in_words +
                                       int64_t{group} * group_words;
                for (int w = 0; w < group_words; ++w) {
                  sum.acc_inside += std::popcount(static_cast<uint32_t>(input[w] ^ filter[w]));
                }
              } else {
                int filter_bits = 0;
                for (int w = 0; w < group_words; ++w) {
                  filter_bits += std::popcount(static_cast<uint32_t>(filter[w]));
                }
                sum.outside_taps += 1;
                sum.outside_filter_bits += filter_bits;
                // The tap's +1/-1 filter sum, accumulated in float in tap order as LCE caches it.
                sum.outside_correction +=
                    static_cast<float>(g.channels_per_group - 2 * filter_bits);
              }
            }
          }

          // x = K - y. One-padding: padding reads as +1, so an outside tap adds popcount(filter)
          // to acc and x = 2*acc. Zero-padding: an outside tap contributes 0 to y, i.e.
          // channels_per_group to x (LCE's reference adds channels / 2 to acc).
          const int64_t acc_one_padded = sum.acc_inside + sum.outside_filter_bits;
          const int64_t x_one_padded = 2 * acc_one_padded;
          const int64_t x = zero_padding
                                ? 2 * sum.acc_inside + sum.outside_taps * g.channels_per_group
                                : x_one_padded;

          if (p.output_type == BOutputType::kBitpacked) {
            // acc > threshold, in terms of x = 2*acc (exact for odd x too), in 64 bits.
            if (x > 2 * int64_t{args.thresholds[oc]}) {
              int32_t* out = static_cast<int32_t*>(args.output) + pixel * out_words;
              out[oc / 32] = static_cast<int32_t>(static_cast<uint32_t>(out[oc / 32]) |
                                                  (uint32_t{1} << (oc % 32)));
            }
            continue;
          }

          const int64_t transformed_x = lce_border_correction ? x_one_padded : x;
          const int32_t clamped =
              static_cast<int32_t>(std::clamp<int64_t>(transformed_x, clamp.min, clamp.max));
          // Product and sum in separate statements: never contracted into an FMA.
          const float product = static_cast<float>(clamped) * folded_multiplier[oc];
          float value = product + folded_bias[oc];
          if (lce_border_correction && sum.outside_taps > 0) {
            // LCE caches (-1.0f * multiplier) and adds its product with the correction to the
            // one-padded output. The negation goes through memory, as in LCE's cache: GCC may
            // rewrite (-m) * c as -(m * c), whose NaN (inf * 0) has the other sign.
            const volatile float neg_multiplier = -1.0f * args.multiplier[oc];
            const float correction = neg_multiplier * sum.outside_correction;
            value = value + correction;
          }
          const int64_t index = pixel * p.out_channels + oc;
          if (p.output_type == BOutputType::kFloat32) {
            static_cast<float*>(args.output)[index] = value;
          } else {
            static_cast<int8_t*>(args.output)[index] = RoundToInt8(value);
          }
        }
      }
    }
  }
}

}  // namespace xbnn::kernels::reference
