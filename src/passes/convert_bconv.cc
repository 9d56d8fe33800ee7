// Binary convolution: LCE prepare's PrepareBConv patterns and TF's dilated-conv recognition turn
// CONV_2D on binarized input with +-s weights into LceBconv2d; then LCE optimize's patterns fold
// MUL/DIV/ADD/SUB and activations into it.
#include <algorithm>
#include <cmath>

#include "graph/lce_options.h"
#include "passes/convert_internal.h"

namespace xbnn::passes::convert_internal {

namespace op = graph::op;
using graph::DType;
using graph::Operator;
using graph::Tensor;

namespace {
// ---------------------------------------------------------------------------------------------
// Binary convolution (LCE prepare PrepareBConv patterns + TF's dilated-conv recognition, then the
// optimize patterns that fold MUL/DIV/ADD/SUB and activations).

struct AxisPadding {
  int before = 0, after = 0;
};

// TFLite SAME padding of one axis.
AxisPadding SamePadding(int in, int k_eff, int stride) {
  int64_t out = (int64_t{in} + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + k_eff - in, 0);
  return {static_cast<int>(total / 2), static_cast<int>(total - total / 2)};
}

// Checks that the per-channel constant `vals` fits an [..., channels] tensor: one value, or
// `channels` values along the last axis.
bool PerChannel(const Ctx& c, int32_t t, size_t channels, size_t rank) {
  const Tensor& k = c.sg.tensors[t];
  int64_t n = k.NumElements();
  if (n == 1) return k.shape.size() <= rank;
  if (static_cast<size_t>(n) != channels || k.shape.empty() || k.shape.size() > rank) return false;
  for (size_t i = 0; i + 1 < k.shape.size(); ++i) {
    if (k.shape[i] != 1) return false;
  }
  return k.shape.back() == static_cast<int32_t>(channels);
}

// Tries to fold the single consumer of bconv `bi`'s output into it. Returns false when nothing
// (more) folds.
bool FoldOne(Ctx& c, BconvInfo& bi) {
  int32_t t = c.sg.operators[bi.op].outputs[0];
  if (c.is_output[t] || c.consumers[t].size() != 1) return false;
  int f = c.consumers[t][0];
  const Operator& fo = c.sg.operators[f];
  int32_t code = c.Builtin(f);
  const size_t channels = static_cast<size_t>(bi.out_channels);
  if (fo.outputs.size() != 1) return false;
  int32_t out = fo.outputs[0];
  const Tensor& tt = c.sg.tensors[t];
  if (c.sg.tensors[out].type != DType::kFloat32 || c.sg.tensors[out].shape != tt.shape)
    return false;
  std::string what;
  if (code == op::kMul || code == op::kDiv || code == op::kAdd || code == op::kSub) {
    if (fo.inputs.size() != 2 || FusedActivation(fo) != 0) return false;
    int side = fo.inputs[0] == t ? 0 : 1;
    if (fo.inputs[side] != t || fo.inputs[1 - side] == t) return false;
    if (side == 1 && (code == op::kDiv || code == op::kSub)) return false;
    int32_t k = fo.inputs[1 - side];
    auto vals = c.ConstFloats(k);
    if (!vals || !PerChannel(c, k, channels, tt.shape.size())) return false;
    for (float v : *vals) {
      if (!std::isfinite(v) || (code == op::kDiv && v == 0.0f)) return false;
    }
    for (size_t ch = 0; ch < channels; ++ch) {
      float v = (*vals)[vals->size() == 1 ? 0 : ch];
      if (code == op::kMul) {
        bi.multiplier[ch] *= v;
        bi.bias[ch] *= v;
      } else if (code == op::kDiv) {
        bi.multiplier[ch] /= v;
        bi.bias[ch] /= v;
      } else if (code == op::kAdd) {
        bi.bias[ch] += v;
      } else {
        bi.bias[ch] -= v;
      }
    }
    what = graph::BuiltinOpName(code);
  } else if (int act = ActivationOfOp(code); act != 0) {
    if (bi.activation != 0 || !AllEqual(bi.bias, 0.0f)) return false;
    bool positive =
        std::all_of(bi.multiplier.begin(), bi.multiplier.end(), [](float m) { return m > 0.0f; });
    // clamp(y) * m == act(y * m) holds for m == 1, and for RELU with any m > 0.
    if (!(AllEqual(bi.multiplier, 1.0f) || (act == 1 && positive))) return false;
    if (!bi.OnePaddedOrValid()) {
      c.Skipped(c.Label(f) +
                ": not fused into the LceBconv2d before it: LCE fuses activations only into "
                "VALID or one-padded convolutions");
      return false;
    }
    bi.activation = act;
    what = ActivationName(act);
  } else {
    return false;
  }
  c.sg.operators[bi.op].outputs[0] = out;
  c.Kill(f);
  c.Index();
  c.report.folded_ops++;
  c.Applied(c.Label(f) + ": " + what + " folded into the LceBconv2d");
  return true;
}

// What TryBconv found around one CONV_2D: the ops it fuses and the padding regions per spatial axis
// ([pz0 zeros][q0 v][x][q1 v][pz1 zeros], output crops cr0/cr1).
struct BconvMatch {
  int conv = -1, s2b = -1, pad = -1, b2s = -1;
  int32_t x = -1;                   // the +-1 float input (LceDequantize's output)
  int32_t packed = -1;              // the bitpacked tensor LceDequantize reads
  int32_t out = -1;                 // the tensor the LceBconv2d ends up writing
  std::vector<int32_t> packed_pad;  // +1 padding of the bitpacked input instead of a PADV2
  int conv_padding = 0, act = 0, groups = 1;
  int q[2][2] = {{0, 0}, {0, 0}}, pz[2][2] = {{0, 0}, {0, 0}}, cr[2][2] = {{0, 0}, {0, 0}};
  int pad_value = 0;
};

constexpr int kMaxFactor = 1 << 16;  // keeps the geometry arithmetic far from int overflow

// CONV_2D reading LceDequantize, possibly through PAD/PADV2 and SPACE_TO_BATCH_ND: false when the
// input is not binarized (nothing to report).
bool MatchBinarizedInput(const Ctx& c, int i, BconvMatch& m) {
  const Operator& conv = c.sg.operators[i];
  if (conv.inputs.size() < 2 || conv.outputs.size() != 1) return false;
  m.conv = i;
  m.x = conv.inputs[0];
  m.out = conv.outputs[0];
  int p = c.Producer(m.x);
  if (c.IsBuiltin(p, op::kSpaceToBatchND) && !c.sg.operators[p].inputs.empty()) {
    m.s2b = p;
    m.x = c.sg.operators[p].inputs[0];
    p = c.Producer(m.x);
  }
  if (c.IsBuiltin(p, op::kPad) || c.IsBuiltin(p, op::kPadV2)) {
    m.pad = p;
    m.x = c.sg.operators[p].inputs[0];
    p = c.Producer(m.x);
  }
  if (!c.IsCustom(p, graph::kLceDequantize)) return false;
  m.packed = c.sg.operators[p].inputs.empty() ? -1 : c.sg.operators[p].inputs[0];
  if (m.packed < 0) return false;
  // SAME after a PADV2 with +1 (a binary value) at the bottom/right: the bitpacked tensor is
  // padded instead (int32 zeros are +1 bits), e.g. the ONNX importer's PyTorch alignment.
  if (m.pad >= 0 && m.s2b < 0 && conv.builtin_options.GetInt("padding", 0) == 0 &&
      c.Builtin(m.pad) == op::kPadV2) {
    const Operator& po = c.sg.operators[m.pad];
    auto v = c.ConstFloats(po.inputs.size() > 2 ? po.inputs[2] : -1);
    auto a = c.ConstInts(po.inputs.size() > 1 ? po.inputs[1] : -1);
    bool ok = v && v->size() == 1 && (*v)[0] == 1.0f && a && a->size() == 8 && (*a)[0] == 0 &&
              (*a)[1] == 0 && (*a)[6] == 0 && (*a)[7] == 0;
    for (size_t e = 0; ok && e < 8; ++e) ok = (*a)[e] >= 0 && (*a)[e] <= 1 << 20;
    if (ok) {
      for (int64_t e : *a) m.packed_pad.push_back(static_cast<int32_t>(e));
      m.x = conv.inputs[0];
      m.pad = -1;
    }
  }
  return true;
}

// The filter must be +-s per output channel (s > 0), the bias constant. Fills the constants of
// `bi`; returns why not, or "".
std::string ReadBinaryFilter(const Ctx& c, const Operator& conv, int cin, BconvMatch& m,
                             BconvInfo& bi) {
  const int32_t ft = conv.inputs[1];
  auto w = c.ConstFloats(ft);
  if (!w || c.sg.tensors[ft].shape.size() != 4)
    return "the filter is not a constant float32 [O,KH,KW,I] tensor";
  const Tensor& ftt = c.sg.tensors[ft];
  const int O = ftt.shape[0], KH = ftt.shape[1], KW = ftt.shape[2], I = ftt.shape[3];
  if (O <= 0 || KH <= 0 || KW <= 0 || I <= 0) return "empty filter";
  if (cin % I != 0) {
    return "filter input channels " + std::to_string(I) + " do not divide the input channels " +
           std::to_string(cin);
  }
  m.groups = cin / I;
  if (m.groups > 1 && I % 32 != 0) {
    return "grouped convolution with " + std::to_string(I) +
           " channels per group; LceBconv2d needs a multiple of 32";
  }
  if (m.groups > 1 && O % m.groups != 0) {
    return std::to_string(O) + " output channels do not split into " + std::to_string(m.groups) +
           " groups";
  }
  const size_t per = static_cast<size_t>(KH) * KW * I;
  bi.out_channels = O;
  bi.kernel_h = KH;
  bi.kernel_w = KW;
  bi.in_per_group = I;
  bi.channels_in = cin;
  bi.filter_name = ftt.name;
  bi.negative.resize(per * O);
  bi.multiplier.resize(O);
  bi.bias.assign(O, 0.0f);
  for (int o = 0; o < O; ++o) {
    const float* wo = w->data() + per * o;
    const float s = std::fabs(wo[0]);
    if (!(s > 0.0f) || !std::isfinite(s)) {
      return "output channel " + std::to_string(o) + " has weight " + Num(wo[0]) +
             " (a binary filter needs +-s with s > 0)";
    }
    for (size_t e = 0; e < per; ++e) {
      if (std::fabs(wo[e]) != s) {
        size_t kh = e / (static_cast<size_t>(KW) * I), kw = e / I % KW, ci = e % I;
        return "weights of output channel " + std::to_string(o) + " are not +-" + Num(s) + ": " +
               Num(wo[e]) + " at [" + std::to_string(o) + "," + std::to_string(kh) + "," +
               std::to_string(kw) + "," + std::to_string(ci) + "]";
      }
      bi.negative[per * o + e] = std::signbit(wo[e]) ? 1 : 0;
    }
    bi.multiplier[o] = s;
  }
  if (conv.inputs.size() > 2 && conv.inputs[2] >= 0) {
    auto b = c.ConstFloats(conv.inputs[2]);
    if (!b || b->size() != static_cast<size_t>(O))
      return "the bias is not a constant float32 [O] tensor";
    bi.bias = *b;
  }
  return "";
}

// Strides, dilations and the fused activation from the CONV_2D's options.
std::string ReadConvOptions(const Operator& conv, BconvMatch& m, BconvInfo& bi) {
  const graph::BuiltinOptions& opt = conv.builtin_options;
  m.conv_padding = static_cast<int>(opt.GetInt("padding", 0));
  bi.stride_h = static_cast<int>(opt.GetInt("stride_h", 1));
  bi.stride_w = static_cast<int>(opt.GetInt("stride_w", 1));
  bi.dilation_h = static_cast<int>(opt.GetInt("dilation_h_factor", 1));
  bi.dilation_w = static_cast<int>(opt.GetInt("dilation_w_factor", 1));
  m.act = FusedActivation(conv);
  if (m.act < 0 || m.act > 3)
    return std::string("fused activation ") + ActivationName(m.act) + " has no LceBconv2d form";
  if (bi.stride_h <= 0 || bi.stride_w <= 0 || bi.dilation_h <= 0 || bi.dilation_w <= 0 ||
      bi.stride_h > kMaxFactor || bi.stride_w > kMaxFactor || bi.dilation_h > kMaxFactor ||
      bi.dilation_w > kMaxFactor || bi.kernel_h > kMaxFactor || bi.kernel_w > kMaxFactor) {
    return "stride, dilation or kernel size out of range";
  }
  return "";
}

// The amounts and value of an explicit PAD / PADV2 before the convolution.
std::string ReadExplicitPadding(const Ctx& c, BconvMatch& m) {
  if (m.pad < 0) return "";
  const Operator& po = c.sg.operators[m.pad];
  if (m.conv_padding != 1) return "PAD before a SAME convolution";
  auto amounts = c.ConstInts(po.inputs.size() > 1 ? po.inputs[1] : -1);
  if (!amounts || amounts->size() != 8) return "PAD amounts are not a constant [4,2] tensor";
  const auto& a = *amounts;
  if (a[0] != 0 || a[1] != 0 || a[6] != 0 || a[7] != 0)
    return "PAD pads the batch or channel dimension";
  for (int ax = 0; ax < 2; ++ax) {
    for (int e = 0; e < 2; ++e) {
      if (a[2 + 2 * ax + e] < 0 || a[2 + 2 * ax + e] > 1 << 20) return "bad PAD amounts";
      m.q[ax][e] = static_cast<int>(a[2 + 2 * ax + e]);
    }
  }
  if (c.Builtin(m.pad) == op::kPadV2) {
    auto v = c.ConstFloats(po.inputs.size() > 2 ? po.inputs[2] : -1);
    if (!v || v->size() != 1) return "PADV2 value is not a constant scalar";
    if ((*v)[0] == 1.0f) {
      m.pad_value = 1;
    } else if ((*v)[0] != 0.0f) {
      return "pads the +-1 input with " + Num((*v)[0]) +
             "; only +1 (one-padding) and 0 (zero-padding) are binary paddings";
    }
  }
  return "";
}

// TF's dilated convolution: SPACE_TO_BATCH_ND -> CONV_2D (VALID, stride 1) -> BATCH_TO_SPACE_ND.
std::string ReadSpaceToBatch(const Ctx& c, BconvMatch& m, BconvInfo& bi) {
  if (m.s2b < 0) return "";
  const Operator& so = c.sg.operators[m.s2b];
  if (m.conv_padding != 1 || bi.stride_h != 1 || bi.stride_w != 1 || bi.dilation_h != 1 ||
      bi.dilation_w != 1) {
    return "SPACE_TO_BATCH_ND before a convolution that is not VALID with stride 1 and dilation 1";
  }
  if (c.is_output[m.out] || c.consumers[m.out].size() != 1 ||
      !c.IsBuiltin(c.consumers[m.out][0], op::kBatchToSpaceND)) {
    return "SPACE_TO_BATCH_ND without a BATCH_TO_SPACE_ND as the convolution's only consumer";
  }
  m.b2s = c.consumers[m.out][0];
  const Operator& bo = c.sg.operators[m.b2s];
  if (bo.outputs.size() != 1) return "BATCH_TO_SPACE_ND without one output";
  auto block = c.ConstInts(so.inputs.size() > 1 ? so.inputs[1] : -1);
  auto pads = c.ConstInts(so.inputs.size() > 2 ? so.inputs[2] : -1);
  auto block2 = c.ConstInts(bo.inputs.size() > 1 ? bo.inputs[1] : -1);
  auto crops = c.ConstInts(bo.inputs.size() > 2 ? bo.inputs[2] : -1);
  if (!block || !pads || !block2 || !crops || block->size() != 2 || pads->size() != 4 ||
      *block != *block2 || crops->size() != 4) {
    return "SPACE_TO_BATCH_ND/BATCH_TO_SPACE_ND with non-constant or mismatched block shapes";
  }
  for (int ax = 0; ax < 2; ++ax) {
    if ((*block)[ax] < 1 || (*block)[ax] > kMaxFactor) return "bad block shape";
    for (int e = 0; e < 2; ++e) {
      if ((*pads)[2 * ax + e] < 0 || (*crops)[2 * ax + e] < 0 || (*pads)[2 * ax + e] > 1 << 20 ||
          (*crops)[2 * ax + e] > 1 << 20) {
        return "bad SPACE_TO_BATCH_ND paddings or crops";
      }
      m.pz[ax][e] = static_cast<int>((*pads)[2 * ax + e]);
      m.cr[ax][e] = static_cast<int>((*crops)[2 * ax + e]);
    }
  }
  bi.dilation_h = static_cast<int>((*block)[0]);
  bi.dilation_w = static_cast<int>((*block)[1]);
  m.out = bo.outputs[0];
  return "";
}

// The padding the fused ops amount to must be VALID or SAME (zero- or one-padded), and the
// result's spatial size the one LceBconv2d computes.
std::string ResolvePadding(const Ctx& c, const Tensor& xt, BconvMatch& m, BconvInfo& bi) {
  const int64_t k_eff64[2] = {int64_t{bi.kernel_h - 1} * bi.dilation_h + 1,
                              int64_t{bi.kernel_w - 1} * bi.dilation_w + 1};
  if (k_eff64[0] > xt.shape[1] + int64_t{1 << 20} || k_eff64[1] > xt.shape[2] + int64_t{1 << 20}) {
    return "the dilated kernel is far larger than the input";
  }
  const int k_eff[2] = {static_cast<int>(k_eff64[0]), static_cast<int>(k_eff64[1])};
  const int strides[2] = {bi.stride_h, bi.stride_w};
  const char* axis_name[2] = {"height", "width"};
  bi.padding = 1;
  bi.pad_values = 0;
  if (m.conv_padding == 0) {
    if (m.pad >= 0 || m.s2b >= 0) return "SAME convolution after explicit padding";
    bi.padding = 0;  // SAME with zero-padding, as the stock converter writes pad_values=0
  } else {
    AxisPadding eff[2];
    for (int ax = 0; ax < 2; ++ax) {
      if (m.pad_value == 0) {
        eff[ax].before = m.pz[ax][0] + m.q[ax][0] - m.cr[ax][0];
        eff[ax].after = m.pz[ax][1] + m.q[ax][1] - m.cr[ax][1];
      } else {
        if (m.cr[ax][0] < m.pz[ax][0] || m.cr[ax][1] < m.pz[ax][1]) {
          return "SPACE_TO_BATCH_ND zero padding would mix with the one-padding on the " +
                 std::string(axis_name[ax]) + " axis";
        }
        eff[ax].before = m.q[ax][0] - (m.cr[ax][0] - m.pz[ax][0]);
        eff[ax].after = m.q[ax][1] - (m.cr[ax][1] - m.pz[ax][1]);
      }
      if (eff[ax].before < 0 || eff[ax].after < 0)
        return "BATCH_TO_SPACE_ND crops remove input positions";
    }
    bool valid = true, same = true;
    for (int ax = 0; ax < 2; ++ax) {
      AxisPadding s = SamePadding(xt.shape[1 + ax], k_eff[ax], strides[ax]);
      valid &= eff[ax].before == 0 && eff[ax].after == 0;
      same &= eff[ax].before == s.before && eff[ax].after == s.after;
    }
    if (valid) {
      bi.padding = 1;
    } else if (same) {
      bi.padding = 0;
      bi.pad_values = m.pad_value;
    } else {
      std::string d;
      for (int ax = 0; ax < 2; ++ax) {
        AxisPadding s = SamePadding(xt.shape[1 + ax], k_eff[ax], strides[ax]);
        d += std::string(ax ? "; " : "") + axis_name[ax] + " (" + std::to_string(eff[ax].before) +
             "," + std::to_string(eff[ax].after) + ") vs SAME (" + std::to_string(s.before) + "," +
             std::to_string(s.after) + ")";
      }
      return "padding amounts match neither VALID nor SAME: " + d;
    }
  }
  const Tensor& ot = c.sg.tensors[m.out];
  for (int ax = 0; ax < 2; ++ax) {
    int in = xt.shape[1 + ax];
    int64_t expect = bi.padding == 0 ? (int64_t{in} + strides[ax] - 1) / strides[ax]
                                     : (int64_t{in} - k_eff[ax]) / strides[ax] + 1;
    if (ot.shape.size() != 4 || ot.shape[1 + ax] != expect || ot.shape[3] != bi.out_channels ||
        ot.shape[0] != xt.shape[0]) {
      return "output shape " + ShapeText(ot.shape) + " is not the LceBconv2d output shape";
    }
  }
  if (ot.type != DType::kFloat32) return "output is not float32";
  return "";
}

// Replaces the matched ops by LceBconv2d (after a PAD of the bitpacked input where the match
// found one), with the conv's activation fused or kept after it, then folds what follows.
void EmitBconv(Ctx& c, const BconvMatch& m, BconvInfo bi, const Tensor& xt) {
  const int i = m.conv;
  const Tensor ot = c.sg.tensors[m.out];
  // The conv's fused activation acts on s*y + b; LceBconv2d's acts on y.
  int32_t bconv_out = m.out;
  int standalone = 0;
  if (m.act != 0) {
    bool positive =
        std::all_of(bi.multiplier.begin(), bi.multiplier.end(), [](float v) { return v > 0.0f; });
    bool fusable = bi.OnePaddedOrValid() && AllEqual(bi.bias, 0.0f) &&
                   (AllEqual(bi.multiplier, 1.0f) || (m.act == 1 && positive));
    if (fusable) {
      bi.activation = m.act;
    } else {
      standalone = m.act;
      Tensor mid = ot;
      mid.name = ot.name + "/bconv";
      mid.buffer = 0;
      mid.quantization.reset();
      bconv_out = c.AddTensor(std::move(mid));
    }
  }
  const double k = c.key[i];
  int32_t bconv_in = m.packed;
  if (!m.packed_pad.empty()) {
    Tensor pt = c.sg.tensors[m.packed];
    pt.name += "/padded";
    pt.shape = PackedShape(xt.shape);
    pt.shape_signature.clear();
    pt.buffer = 0;
    bconv_in = c.AddTensor(std::move(pt));
    int32_t amounts = c.AddConstTensor(c.sg.tensors[m.packed].name + "/paddings", DType::kInt32,
                                       {4, 2}, Bytes(m.packed_pad));
    Operator po;
    po.opcode_index = c.Opcode(op::kPad);
    po.inputs = {m.packed, amounts};
    po.outputs = {bconv_in};
    po.builtin_options.type = 22;  // PadOptions
    c.AddOp(std::move(po), k - 0.25);
  }
  Operator b;
  b.opcode_index = c.Opcode(op::kCustom, graph::kLceBconv2d);
  b.inputs = {bconv_in, -1, -1, -1, -1};
  b.outputs = {bconv_out};
  c.Kill(i);
  if (m.b2s >= 0) c.Kill(m.b2s);
  bi.op = c.AddOp(std::move(b), k);
  c.report.new_bconv++;
  const int dil_h = bi.dilation_h, dil_w = bi.dilation_w;
  std::string desc =
      std::string(bi.padding == 1 ? "VALID"
                  : bi.pad_values ? "SAME one-padded"
                                  : "SAME zero-padded") +
      ", " + std::to_string(bi.kernel_h) + "x" + std::to_string(bi.kernel_w) +
      (m.groups > 1 ? ", " + std::to_string(m.groups) + " groups" : "") +
      (dil_h > 1 || dil_w > 1 ? ", dilation " + std::to_string(dil_h) + "x" + std::to_string(dil_w)
                              : "");
  c.Applied(c.Label(i) + ": -> LceBconv2d (" + desc + ")" +
            (m.pad >= 0 ? ", " + c.Label(m.pad) + " fused" : "") +
            (m.packed_pad.empty() ? "" : ", +1 padding of the bitpacked input") +
            (m.s2b >= 0 ? ", " + c.Label(m.s2b) + " and " + c.Label(m.b2s) + " fused" : ""));
  if (standalone) {
    Operator a;
    a.opcode_index = c.Opcode(ActivationOpCode(standalone));
    a.inputs = {bconv_out};
    a.outputs = {m.out};
    c.AddOp(std::move(a), k + 0.25);
    c.Applied(c.Label(i) + ": fused " + ActivationName(standalone) +
              " acts after the folded multiplier/bias; kept as a separate op");
  } else {
    while (FoldOne(c, bi)) {
    }
  }
  c.bconvs.push_back(std::move(bi));
}

// CONV_2D on binarized input -> LceBconv2d, or a note saying why it stays.
void TryBconv(Ctx& c, int i) {
  BconvMatch m;
  if (!MatchBinarizedInput(c, i, m)) return;
  const Operator conv = c.sg.operators[i];
  auto fail = [&](const std::string& why) {
    c.Skipped(c.Label(i) + ": binarized input, but stays CONV_2D: " + why);
  };
  const Tensor xt = c.sg.tensors[m.x];
  if (xt.type != DType::kFloat32 || xt.shape.size() != 4 ||
      std::any_of(xt.shape.begin(), xt.shape.end(), [](int32_t d) { return d <= 0; })) {
    return fail("input " + c.TensorLabel(m.x) + " is not a float32 NHWC tensor of known shape");
  }
  BconvInfo bi;
  std::string why = ReadBinaryFilter(c, conv, xt.shape[3], m, bi);
  if (why.empty()) why = ReadConvOptions(conv, m, bi);
  if (why.empty()) why = ReadExplicitPadding(c, m);
  if (why.empty()) why = ReadSpaceToBatch(c, m, bi);
  if (why.empty()) why = ResolvePadding(c, xt, m, bi);
  if (!why.empty()) return fail(why);
  EmitBconv(c, m, std::move(bi), xt);
}

}  // namespace

bool FoldIntoBconv(Ctx& c, BconvInfo& bi) { return FoldOne(c, bi); }

void ConvertConvs(Ctx& c) {
  const int n = c.NumOps();
  for (int i = 0; i < n; ++i) {
    if (c.IsBuiltin(i, op::kConv2D)) TryBconv(c, i);
  }
  for (int i = 0; i < n; ++i) {
    // Binarized inputs into other float ops keep their LceDequantize: say so for the weighted ones.
    if (!c.Live(i)) continue;
    int32_t code = c.Builtin(i);
    if (code != op::kDepthwiseConv2D && (code != op::kFullyConnected || c.binary_dense)) continue;
    int p = c.Producer(c.sg.operators[i].inputs.empty() ? -1 : c.sg.operators[i].inputs[0]);
    if (c.IsCustom(p, graph::kLceDequantize)) {
      c.Skipped(c.Label(i) + ": binarized input, but LCE has no binary form of " +
                graph::BuiltinOpName(code) + "; it reads the +-1 floats from LceDequantize" +
                (code == op::kFullyConnected ? " (--binary-dense makes it a 1x1 LceBconv2d)" : ""));
    }
  }
  c.RemoveDeadOps();
}

}  // namespace xbnn::passes::convert_internal
