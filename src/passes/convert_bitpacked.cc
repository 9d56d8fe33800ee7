// Binary max pool, bitpacked activations and the final LceBconv2d constants (LCE optimize).
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "graph/lce_options.h"
#include "passes/convert_internal.h"

namespace xbnn::passes::convert_internal {

namespace op = graph::op;
using graph::DType;
using graph::Operator;
using graph::Tensor;

// ---------------------------------------------------------------------------------------------
// Binary max pool (LCE optimize: LceQuantize(MaxPool(x)) -> LceBMaxPool2d(LceQuantize(x))).

void ConvertMaxPools(Ctx& c) {
  std::set<int> reported;
  bool changed = true;
  while (changed) {
    changed = false;
    for (int qi = 0; qi < c.NumOps(); ++qi) {
      if (!c.IsCustom(qi, graph::kLceQuantize)) continue;
      int32_t x = c.sg.operators[qi].inputs[0];
      int mp = c.Producer(x);
      if (!c.IsBuiltin(mp, op::kMaxPool2D)) continue;
      const Operator pool = c.sg.operators[mp];
      auto note = [&](const std::string& why) {
        if (reported.insert(mp).second)
          c.Skipped(c.Label(mp) + ": followed by binarization, but stays float: " + why);
      };
      if (!c.SoleConsumer(x, qi)) {
        note("its output is also read elsewhere");
        continue;
      }
      if (FusedActivation(pool) != 0) {
        note("it has a fused activation");
        continue;
      }
      int32_t y = pool.inputs[0];
      if (y < 0 || c.sg.tensors[y].type != DType::kFloat32 || c.sg.tensors[y].shape.size() != 4) {
        note("its input is not a float32 NHWC tensor");
        continue;
      }
      graph::LceBMaxPool2dOptions o;
      o.padding = static_cast<int32_t>(pool.builtin_options.GetInt("padding", 0));
      o.stride_height = static_cast<int32_t>(pool.builtin_options.GetInt("stride_h", 1));
      o.stride_width = static_cast<int32_t>(pool.builtin_options.GetInt("stride_w", 1));
      o.filter_height = static_cast<int32_t>(pool.builtin_options.GetInt("filter_height", 1));
      o.filter_width = static_cast<int32_t>(pool.builtin_options.GetInt("filter_width", 1));
      const double k = c.key[mp];
      int32_t qout = c.sg.operators[qi].outputs[0];
      c.Kill(qi);
      c.Kill(mp);
      c.packed_of.erase(x);
      c.Index();
      int32_t packed = c.Packed(y, k - 0.5);
      Operator b;
      b.opcode_index = c.Opcode(op::kCustom, graph::kLceBMaxPool2d);
      b.inputs = {packed};
      b.outputs = {qout};
      graph::SetLceOptions(b, o);
      c.AddOp(std::move(b), k);
      c.report.new_bmaxpool++;
      c.Applied(c.Label(mp) + ": binarization moved before it -> LceBMaxPool2d");
      changed = true;
    }
  }
  c.RemoveDeadOps();
}

// ---------------------------------------------------------------------------------------------
// Bitpacked activations (LCE optimize WriteBitpackedActivationsPat and
// ComputeWriteBitpackedOutputThresholds in larq_compute_engine/mlir/transforms/optimize.cc).

namespace {

void ComputeThresholds(BconvInfo& bi) {
  const int32_t a_int = bi.kernel_h * bi.kernel_w * bi.in_per_group;  // backtransform_add
  int32_t cmin = -a_int, cmax = a_int;
  if (bi.activation == 1) {
    cmin = 0;
  } else if (bi.activation == 2) {
    cmin = -1;
    cmax = 1;
  } else if (bi.activation == 3) {
    cmin = 0;
    cmax = 6;
  }
  const float a = static_cast<float>(a_int), clamp_min = static_cast<float>(cmin),
              clamp_max = static_cast<float>(cmax);
  constexpr int32_t kNegInf = std::numeric_limits<int32_t>::min();
  constexpr int32_t kPosInf = std::numeric_limits<int32_t>::max();
  bi.thresholds.assign(bi.out_channels, 0);
  const size_t per = static_cast<size_t>(bi.kernel_h) * bi.kernel_w * bi.in_per_group;
  for (int ch = 0; ch < bi.out_channels; ++ch) {
    const float mult = bi.multiplier[ch], bias = bi.bias[ch];
    // Weights of channels with a negative multiplier are flipped (LCE multiplies the filter by
    // the sign of the multiplier, with sign(0) = +1), which turns the multiplier positive.
    if (!(mult >= 0.0f)) {
      for (size_t e = 0; e < per; ++e) bi.negative[per * ch + e] ^= 1;
    }
    if (mult == 0.0f) {
      bi.thresholds[ch] = bias < 0.0f ? kNegInf : kPosInf;
      continue;
    }
    float eff_min = clamp_min, eff_max = clamp_max;
    if (!(mult > 0.0f)) {
      eff_min = -1 * clamp_max;
      eff_max = -1 * clamp_min;
    }
    const float abs_mult = std::abs(mult);
    const float start_scaled = eff_min * abs_mult;
    const float start = start_scaled + bias;
    const float end_scaled = eff_max * abs_mult;
    const float end = end_scaled + bias;
    if (start < 0 && end < 0) {
      bi.thresholds[ch] = kNegInf;
    } else if (start >= 0 && end >= 0) {
      bi.thresholds[ch] = kPosInf;
    } else {
      const float ratio = bias / abs_mult;
      const float shifted = ratio + a;
      const double tau = std::floor(0.5 * static_cast<double>(shifted));
      // A NaN multiplier or bias gives NaN, which binarizes to +1 (NaN < 0 is false): bit 0 always.
      bi.thresholds[ch] = std::isnan(tau)
                              ? kPosInf
                              : static_cast<int32_t>(std::clamp<double>(tau, kNegInf, kPosInf));
    }
  }
}

}  // namespace

void WriteBitpacked(Ctx& c) {
  for (BconvInfo& bi : c.bconvs) {
    if (!c.Live(bi.op) || bi.bitpacked) continue;
    int32_t out = c.sg.operators[bi.op].outputs[0];
    if (c.sg.tensors[out].type != DType::kFloat32 || c.is_output[out] ||
        c.consumers[out].size() != 1)
      continue;
    int q = c.consumers[out][0];
    if (!c.IsCustom(q, graph::kLceQuantize)) continue;
    if (!bi.OnePaddedOrValid() && !c.zero_padded_fusion) {
      c.Skipped("LceBconv2d from " + bi.filter_name +
                ": writes float32 for its binarization, not bitpacked output: LCE writes bitpacked "
                "output "
                "only for VALID or one-padded SAME convolutions (this one is zero-padded)");
      continue;
    }
    ComputeThresholds(bi);
    bi.bitpacked = true;
    c.sg.operators[bi.op].outputs[0] = c.sg.operators[q].outputs[0];
    c.Kill(q);
    c.packed_of.erase(out);
    c.Index();
    c.Applied("LceBconv2d from " + bi.filter_name + ": writes bitpacked output with thresholds");
  }
  c.RemoveDeadOps();
}

// Writes the constants of every LceBconv2d and its options.
void FinalizeBconvs(Ctx& c) {
  for (BconvInfo& bi : c.bconvs) {
    if (!c.Live(bi.op)) continue;
    const int words = (bi.in_per_group + 31) / 32;
    std::vector<int32_t> filter(
        static_cast<size_t>(bi.out_channels) * bi.kernel_h * bi.kernel_w * words, 0);
    const size_t pixels = static_cast<size_t>(bi.out_channels) * bi.kernel_h * bi.kernel_w;
    for (size_t px = 0; px < pixels; ++px) {
      for (int ci = 0; ci < bi.in_per_group; ++ci) {
        if (bi.negative[px * bi.in_per_group + ci]) {
          filter[px * words + ci / 32] |= static_cast<int32_t>(uint32_t{1} << (ci % 32));
        }
      }
    }
    Operator& o = c.sg.operators[bi.op];
    std::string base = bi.filter_name.empty() ? c.sg.tensors[o.outputs[0]].name : bi.filter_name;
    std::vector<int32_t> inputs = {o.inputs[0], -1, -1, -1, -1};
    inputs[1] = c.AddConstTensor(base + "/bitpacked", DType::kInt32,
                                 {bi.out_channels, bi.kernel_h, bi.kernel_w, words}, Bytes(filter));
    if (bi.bitpacked) {
      inputs[4] = c.AddConstTensor(base + "/thresholds", DType::kInt32, {bi.out_channels},
                                   Bytes(bi.thresholds));
    } else {
      inputs[2] = c.AddConstTensor(base + "/multiplier", DType::kFloat32, {bi.out_channels},
                                   Bytes(bi.multiplier));
      inputs[3] =
          c.AddConstTensor(base + "/bias", DType::kFloat32, {bi.out_channels}, Bytes(bi.bias));
    }
    graph::LceBconv2dOptions opt;
    opt.channels_in = bi.channels_in;
    opt.stride_height = bi.stride_h;
    opt.stride_width = bi.stride_w;
    opt.dilation_height_factor = bi.dilation_h;
    opt.dilation_width_factor = bi.dilation_w;
    opt.padding = bi.padding;
    opt.pad_values = bi.pad_values;
    opt.fused_activation_function = bi.activation;
    Operator& o2 = c.sg.operators[bi.op];  // AddConstTensor does not move operators
    o2.inputs = inputs;
    graph::SetLceOptions(o2, opt);
  }
  c.Index();
}

}  // namespace xbnn::passes::convert_internal
