// Conv, MaxPool, AveragePool, Gemm and MatMul for the ONNX importer. The geometry keeps
// PyTorch's alignment exactly: explicit pads that match neither VALID nor TFLite's SAME become a
// PAD (float) or, for a binarized input, SAME on an input extended at the bottom/right followed by
// a crop of the outputs that read the extension (so the binary convolution stays zero-padded and
// aligned as in PyTorch).
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "passes/onnx/onnx_builder.h"

namespace xbnn::onnx_import::internal {
namespace {

namespace op = graph::op;

struct Axis {
  int64_t in = 0, k = 1, stride = 1, dilation = 1, before = 0, after = 0, out = 0;
  int64_t KEff() const { return (k - 1) * dilation + 1; }
};

// TFLite SAME padding of one axis (the smaller half before).
std::pair<int64_t, int64_t> SamePads(int64_t in, int64_t k_eff, int64_t stride) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + k_eff - in, 0);
  return {total / 2, total - total / 2};
}

// Reads kernel, strides, dilations, pads and auto_pad into two axes; fills `out`.
Status Geometry(const Node& n, const std::string& who, int64_t h, int64_t w, int64_t kh, int64_t kw,
                Axis ax[2], bool ceil_mode) {
  auto strides = n.Ints("strides", {1, 1});
  auto dil = n.Ints("dilations", {1, 1});
  auto pads = n.Ints("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dil.size() != 2 || pads.size() != 4)
    return Status::Error(who + ": only 2-D is supported");
  const std::string auto_pad = n.String("auto_pad", "NOTSET");
  const int64_t in[2] = {h, w}, k[2] = {kh, kw};
  for (int a = 0; a < 2; ++a) {
    ax[a] = {in[a], k[a], strides[a], dil[a], pads[a], pads[a + 2], 0};
    if (ax[a].stride < 1 || ax[a].dilation < 1 || ax[a].k < 1 || ax[a].before < 0 ||
        ax[a].after < 0 || ax[a].stride > 1 << 16 || ax[a].dilation > 1 << 16 ||
        ax[a].k > 1 << 16 || ax[a].before > 1 << 16 || ax[a].after > 1 << 16) {
      return Status::Error(who + ": kernel, stride, dilation or pads out of range");
    }
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      auto [b, e] = SamePads(in[a], ax[a].KEff(), ax[a].stride);
      ax[a].before = auto_pad == "SAME_UPPER" ? b : e;
      ax[a].after = auto_pad == "SAME_UPPER" ? e : b;
    } else if (auto_pad == "VALID") {
      ax[a].before = ax[a].after = 0;
    } else if (auto_pad != "NOTSET") {
      return Status::Error(who + ": auto_pad '" + auto_pad + "' is not supported");
    }
    const int64_t span = in[a] + ax[a].before + ax[a].after - ax[a].KEff();
    if (span < 0) return Status::Error(who + ": the kernel is larger than the padded input");
    ax[a].out = (ceil_mode ? (span + ax[a].stride - 1) / ax[a].stride : span / ax[a].stride) + 1;
    // As ONNX Runtime and PyTorch: with ceil_mode, a last window that would start past the
    // input (in the end padding only) is dropped.
    if (ceil_mode && (ax[a].out - 1) * ax[a].stride >= in[a] + ax[a].before) --ax[a].out;
  }
  return Status::Ok();
}

bool IsValid(const Axis& a) { return a.before == 0 && a.after == 0; }
bool IsSame(const Axis& a) {
  auto [b, e] = SamePads(a.in, a.KEff(), a.stride);
  return a.before == b && a.after == e && a.out == (a.in + a.stride - 1) / a.stride;
}

// Rows to add at the end so that SAME on in+ext reads PyTorch's windows for the first `out`
// outputs, none of them touching the added rows; -1 when no such extension exists.
int64_t Extension(const Axis& a) {
  for (int64_t ext = 0; ext <= a.KEff() + a.stride; ++ext) {
    const int64_t in = a.in + ext;
    auto [b, e] = SamePads(in, a.KEff(), a.stride);
    const int64_t same_out = (in + a.stride - 1) / a.stride;
    if (b != a.before || same_out < a.out) continue;
    const int64_t last_row = (a.out - 1) * a.stride - a.before + a.KEff() - 1;
    if (ext > 0 && last_row >= a.in) continue;
    if (ext == 0 && last_row >= a.in + e) continue;
    return ext;
  }
  return -1;
}

// PAD (or PADV2 with `value`) of NHWC tensor x by the axes' before/after amounts.
int32_t PadTensor(Builder& b, int32_t x, const Axis ax[2], const std::string& name,
                  std::optional<float> value) {
  std::vector<int32_t> p = {0,
                            0,
                            static_cast<int32_t>(ax[0].before),
                            static_cast<int32_t>(ax[0].after),
                            static_cast<int32_t>(ax[1].before),
                            static_cast<int32_t>(ax[1].after),
                            0,
                            0};
  std::vector<int32_t> shape = b.sg().tensors[x].shape;
  shape[1] += p[2] + p[3];
  shape[2] += p[4] + p[5];
  int32_t pt = b.AddConstI32(name + "/paddings", {4, 2}, p);
  int32_t out = b.AddTensor(name + "/padded", shape);
  if (value) {
    int32_t v = b.AddConst(name + "/pad_value", {}, {*value});
    b.AddOp(op::kPadV2, {x, pt, v}, {out}, opt::kPadV2);
  } else {
    b.AddOp(op::kPad, {x, pt}, {out}, opt::kPad);
  }
  return out;
}

// `out` = the leading part of NHWC `in` (STRIDED_SLICE from 0 to out's shape).
void Crop(Builder& b, int32_t in, int32_t out, const std::string& name) {
  int32_t begin = b.AddConstI32(name + "/crop_begin", {4}, {0, 0, 0, 0});
  int32_t end = b.AddConstI32(name + "/crop_end", {4}, b.sg().tensors[out].shape);
  int32_t step = b.AddConstI32(name + "/crop_strides", {4}, {1, 1, 1, 1});
  b.AddOp(op::kStridedSlice, {in, begin, end, step}, {out}, opt::kStridedSlice, {});
}

Status Pool(Builder& b, const Node& n, const std::string& who, const Value& xv, int32_t x) {
  const bool max = n.op_type == "MaxPool";
  auto k = n.Ints("kernel_shape");
  if (k.size() != 2) return Status::Error(who + ": only 2-D pooling is supported");
  if (max && n.outputs.size() > 1 && !n.outputs[1].empty())
    return Status::Error(who + ": Indices output not supported");
  if (n.Ints("dilations", {1, 1}) != std::vector<int64_t>{1, 1})
    return Status::Error(who + ": dilated pooling");
  const bool ceil_mode = n.Int("ceil_mode", 0) != 0;
  Axis ax[2];
  XBNN_RETURN_IF_ERROR(Geometry(n, who, xv.shape[2], xv.shape[3], k[0], k[1], ax, ceil_mode));
  int padding = 1;  // VALID
  const bool include_pad = n.Int("count_include_pad", 0) != 0;
  if (ceil_mode) {
    for (Axis& a : ax) {
      // The last window starts inside the padded input; extend the end padding to hold it.
      const int64_t need = (a.out - 1) * a.stride + a.KEff() - (a.in + a.before + a.after);
      if (need > 0) {
        if (!max)
          return Status::Error(who +
                               ": ceil_mode average pooling with partial windows is not supported");
        a.after += need;
      }
    }
  }
  if (IsValid(ax[0]) && IsValid(ax[1])) {
    padding = 1;
  } else if (IsSame(ax[0]) && IsSame(ax[1]) && (max || !include_pad)) {
    padding = 0;
  } else if (max && Extension(ax[0]) >= 0 && Extension(ax[1]) >= 0) {
    // Max pooling skips SAME padding, as PyTorch's -inf pads do: SAME on the input extended at
    // the end by rows only cropped-away outputs read, then a crop (cheaper than PADV2 -inf).
    padding = 0;
    Axis e[2] = {ax[0], ax[1]};
    for (int a = 0; a < 2; ++a) {
      e[a].before = 0;
      e[a].after = Extension(ax[a]);
    }
    if (e[0].after || e[1].after) x = PadTensor(b, x, e, n.outputs[0], std::nullopt);
  } else if (max) {
    x = PadTensor(b, x, ax, n.outputs[0], -FLT_MAX);
  } else if (include_pad) {
    x = PadTensor(b, x, ax, n.outputs[0], std::nullopt);
  } else {
    return Status::Error(
        who + ": average pooling that excludes padding not of TFLite's SAME form is not supported");
  }
  int32_t out =
      b.NewActivation(n.outputs[0], {xv.shape[0], xv.shape[1], ax[0].out, ax[1].out}, true);
  const std::vector<int32_t> in_shape = b.sg().tensors[x].shape;
  int32_t pool_out = out;
  if (padding == 0) {
    const int32_t oh = (in_shape[1] + int32_t(ax[0].stride) - 1) / int32_t(ax[0].stride);
    const int32_t ow = (in_shape[2] + int32_t(ax[1].stride) - 1) / int32_t(ax[1].stride);
    if (oh != ax[0].out || ow != ax[1].out) {
      pool_out = b.AddTensor(n.outputs[0] + "/uncropped", {in_shape[0], oh, ow, in_shape[3]});
    }
  }
  b.AddOp(max ? op::kMaxPool2D : op::kAveragePool2D, {x}, {pool_out}, opt::kPool2D,
          {{"padding", int64_t{padding}},
           {"stride_w", ax[1].stride},
           {"stride_h", ax[0].stride},
           {"filter_width", ax[1].k},
           {"filter_height", ax[0].k},
           {"fused_activation_function", int64_t{0}}});
  if (pool_out != out) Crop(b, pool_out, out, n.outputs[0]);
  return Status::Ok();
}

// Binary weights and their note; `binary` says whether the input should be binarized for it.
void CheckWeights(Builder& b, const std::string& who, const Value& xv, std::vector<float>& w,
                  size_t rows, bool* binary) {
  *binary = false;
  if (xv.bin == Bin::kNone) return;
  std::string note = SnapBinaryWeights(w, rows, b.options().weight_tolerance, binary);
  if (*binary && !note.empty()) b.report().snapped_weights++;
  if (!note.empty()) b.Note(who + ": " + note);
}

}  // namespace

std::string SnapBinaryWeights(std::vector<float>& w, size_t rows, float tolerance, bool* binary) {
  *binary = false;
  if (rows == 0 || w.size() % rows != 0 || w.empty())
    return "weights do not split into output channels";
  const size_t per = w.size() / rows;
  std::vector<float> alpha(rows);
  double worst = 0;
  for (size_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (size_t e = 0; e < per; ++e) sum += std::fabs(static_cast<double>(w[r * per + e]));
    const float a = static_cast<float>(sum / static_cast<double>(per));
    if (!(a > 0.0f) || !std::isfinite(a))
      return "output channel " + std::to_string(r) + " has zero weights: not binary";
    for (size_t e = 0; e < per; ++e) {
      if (w[r * per + e] == 0.0f) {
        return "weights stay float: output channel " + std::to_string(r) +
               " has a zero weight (sign(0) = 0 makes it ternary, not binary)";
      }
      const double dev = std::fabs(std::fabs(static_cast<double>(w[r * per + e])) - a) / a;
      worst = std::max(worst, dev);
      if (dev > tolerance) {
        return "weights stay float: output channel " + std::to_string(r) +
               " has |w| = " + std::to_string(std::fabs(w[r * per + e])) + " where +-" +
               std::to_string(a) + " would be binary (relative difference " + std::to_string(dev) +
               ")";
      }
    }
    alpha[r] = a;
  }
  *binary = true;
  if (worst == 0) return "";
  for (size_t r = 0; r < rows; ++r) {
    for (size_t e = 0; e < per; ++e)
      w[r * per + e] = std::signbit(w[r * per + e]) ? -alpha[r] : alpha[r];
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2g", worst);
  return std::string(
             "weights snapped to exact +-alpha per output channel (largest relative difference ") +
         buf + ")";
}

Status TranslateConv(Builder& b, const Node& n) {
  const std::string who = n.Label();
  auto xvp = b.Get(n.inputs[0], who);
  if (!xvp.ok()) return xvp.status();
  const Value xv = **xvp;
  if (xv.shape.size() != 4 || !(xv.nhwc || xv.bin != Bin::kNone))
    return Status::Error(who + ": input is not 4-D NCHW");
  if (n.op_type != "Conv") {
    auto x = b.Float(n.inputs[0]);
    if (!x.ok()) return x.status();
    return Pool(b, n, who, xv, *x);
  }
  const Value* wv = b.Find(n.inputs.size() > 1 ? n.inputs[1] : "");
  if (!wv || !wv->konst || wv->konst->dims.size() != 4 || !wv->konst->is_float) {
    return Status::Error(who + ": weights are not a constant 4-D float tensor");
  }
  XBNN_RETURN_IF_ERROR(RequireFloat32(b, who, "weights W", n.inputs[1]));
  const Constant& wc = *wv->konst;
  const int64_t O = wc.dims[0], I = wc.dims[1], KH = wc.dims[2], KW = wc.dims[3], C = xv.shape[1];
  // The geometry follows the weights; an attribute that says otherwise is a malformed model.
  if (const Attribute* ks = n.Find("kernel_shape");
      ks && ks->ints != std::vector<int64_t>{KH, KW}) {
    return Status::Error(who + ": attribute kernel_shape " + ShapeText(ks->ints) +
                         " does not match the spatial dims " + ShapeText({KH, KW}) +
                         " of the weights '" + n.inputs[1] + "' " + ShapeText(wc.dims));
  }
  const int64_t group = n.Int("group", 1);
  if (O < 1 || group < 1 || I * group != C || O % group != 0)
    return Status::Error(who + ": weights do not match the input channels");
  Axis ax[2];
  XBNN_RETURN_IF_ERROR(Geometry(n, who, xv.shape[2], xv.shape[3], KH, KW, ax, false));
  std::vector<float> w = wc.f;  // [O, I, KH, KW]
  bool binary = false;
  CheckWeights(b, who, xv, w, static_cast<size_t>(O), &binary);
  const bool depthwise = group == C && group > 1 && I == 1;
  if (depthwise) binary = false;   // LCE has no binary depthwise convolution
  std::vector<float> f(w.size());  // CONV_2D [O, KH, KW, I]; DEPTHWISE [1, KH, KW, O]
  for (int64_t o = 0; o < O; ++o)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t h = 0; h < KH; ++h)
        for (int64_t x = 0; x < KW; ++x) {
          float v = w[((o * I + i) * KH + h) * KW + x];
          if (depthwise) {
            f[(h * KW + x) * O + o] = v;
          } else {
            f[((o * KH + h) * KW + x) * I + i] = v;
          }
        }
  std::vector<int32_t> fshape =
      depthwise ? std::vector<int32_t>{1, int32_t(KH), int32_t(KW), int32_t(O)}
                : std::vector<int32_t>{int32_t(O), int32_t(KH), int32_t(KW), int32_t(I)};
  int32_t ft = b.AddConst(n.outputs[0] + "/filter", fshape, f);
  int32_t bias = -1;
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const Value* bv = b.Find(n.inputs[2]);
    if (!bv || !bv->konst) return Status::Error(who + ": bias is not a constant");
    // ONNX's B is 1-D [M]; another shape of M values (e.g. [1, M]) is a malformed model.
    if (bv->konst->dims != std::vector<int64_t>{O} || bv->konst->size() != static_cast<size_t>(O)) {
      return Status::Error(who + ": bias '" + n.inputs[2] + "' has shape " +
                           ShapeText(bv->konst->dims) + "; ONNX requires 1-D [" +
                           std::to_string(O) + "] (one value per output channel)");
    }
    XBNN_RETURN_IF_ERROR(RequireFloat32(b, who, "bias B", n.inputs[2]));
    std::vector<float> bb(static_cast<size_t>(O));
    for (size_t k = 0; k < bb.size(); ++k) bb[k] = static_cast<float>(bv->konst->at(k));
    bias = b.AddConst(n.outputs[0] + "/bias", {int32_t(O)}, bb);
  }
  // Geometry: VALID, SAME, or (binary) SAME on an extended input then a crop, or PAD + VALID.
  int padding = 1;
  int64_t ext[2] = {0, 0};
  bool pad_op = false;
  if (IsValid(ax[0]) && IsValid(ax[1])) {
    padding = 1;
  } else if (IsSame(ax[0]) && IsSame(ax[1])) {
    padding = 0;
  } else if (binary && (ext[0] = Extension(ax[0])) >= 0 && (ext[1] = Extension(ax[1])) >= 0) {
    padding = 0;
    b.Note(who + ": pads (" + std::to_string(ax[0].before) + "," + std::to_string(ax[0].after) +
           "),(" + std::to_string(ax[1].before) + "," + std::to_string(ax[1].after) +
           ") are not TFLite SAME: kept PyTorch's alignment with SAME on an input extended by " +
           std::to_string(ext[0]) + "x" + std::to_string(ext[1]) + " and a crop");
  } else {
    ext[0] = ext[1] = 0;
    pad_op = true;
  }
  auto x = binary ? b.Binary(n.inputs[0], static_cast<int>(ext[0]), static_cast<int>(ext[1]))
                  : b.Float(n.inputs[0]);
  if (!x.ok()) return x.status();
  int32_t in = pad_op ? PadTensor(b, *x, ax, n.outputs[0], std::nullopt) : *x;
  const std::vector<int32_t> in_shape = b.sg().tensors[in].shape;
  int64_t conv_out[2];
  for (int a = 0; a < 2; ++a) {
    conv_out[a] = padding == 0 ? (in_shape[1 + a] + ax[a].stride - 1) / ax[a].stride
                               : (in_shape[1 + a] - ax[a].KEff()) / ax[a].stride + 1;
  }
  const bool crop = conv_out[0] != ax[0].out || conv_out[1] != ax[1].out;
  int32_t out = b.NewActivation(n.outputs[0], {xv.shape[0], O, ax[0].out, ax[1].out}, true);
  int32_t conv_t =
      crop ? b.AddTensor(n.outputs[0] + "/uncropped", {int32_t(xv.shape[0]), int32_t(conv_out[0]),
                                                       int32_t(conv_out[1]), int32_t(O)})
           : out;
  std::vector<std::pair<std::string, graph::OptionValue>> o = {
      {"padding", int64_t{padding}},
      {"stride_w", ax[1].stride},
      {"stride_h", ax[0].stride},
      {"fused_activation_function", int64_t{0}},
      {"dilation_w_factor", ax[1].dilation},
      {"dilation_h_factor", ax[0].dilation}};
  if (depthwise) o.insert(o.begin() + 3, {"depth_multiplier", O / C});
  // TFLite's float CONV_2D needs a bias tensor: zeros where the ONNX Conv has none.
  if (bias < 0)
    bias = b.AddConst(n.outputs[0] + "/bias", {int32_t(O)}, std::vector<float>(size_t(O), 0.0f));
  std::vector<int32_t> ins = {in, ft, bias};
  b.AddOp(depthwise ? op::kDepthwiseConv2D : op::kConv2D, ins, {conv_t},
          depthwise ? opt::kDepthwiseConv2D : opt::kConv2D, o);
  if (crop) Crop(b, conv_t, out, n.outputs[0]);
  return Status::Ok();
}

Status TranslateGemm(Builder& b, const Node& n) {
  const std::string who = n.Label();
  const bool gemm = n.op_type == "Gemm";
  auto avp = b.Get(n.inputs[0], who);
  if (!avp.ok()) return avp.status();
  const Value av = **avp;
  if (av.shape.size() != 2 || av.nhwc)
    return Status::Error(who + ": input is not a 2-D activation");
  if (gemm && n.Int("transA", 0) != 0) return Status::Error(who + ": transA is not supported");
  const Value* bv = b.Find(n.inputs.size() > 1 ? n.inputs[1] : "");
  if (!bv || !bv->konst || bv->konst->dims.size() != 2 || !bv->konst->is_float) {
    return Status::Error(who + ": weights are not a constant 2-D float tensor");
  }
  XBNN_RETURN_IF_ERROR(RequireFloat32(b, who, "weights B", n.inputs[1]));
  const bool trans_b = gemm && n.Int("transB", 0) != 0;
  const Constant& wc = *bv->konst;
  const int64_t K = trans_b ? wc.dims[1] : wc.dims[0], N = trans_b ? wc.dims[0] : wc.dims[1];
  if (K != av.shape[1]) return Status::Error(who + ": weights do not match the input width");
  const float alpha = gemm ? n.Float("alpha", 1.0f) : 1.0f,
              beta = gemm ? n.Float("beta", 1.0f) : 1.0f;
  std::vector<float> w(static_cast<size_t>(N * K));  // FULLY_CONNECTED [N, K]
  for (int64_t r = 0; r < N; ++r)
    for (int64_t k = 0; k < K; ++k)
      w[r * K + k] = alpha * (trans_b ? wc.f[r * K + k] : wc.f[k * N + r]);
  bool binary = false;
  CheckWeights(b, who, av, w, static_cast<size_t>(N), &binary);
  int32_t bias = -1;
  if (gemm && n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const Value* cv = b.Find(n.inputs[2]);
    // One value, or N along the last axis ([N], [1, N]): C broadcasts over the rows. ([M, 1]
    // has N values when M == N but adds one per row.)
    const std::vector<int64_t>& cd = cv && cv->konst ? cv->konst->dims : std::vector<int64_t>{};
    const bool per_column = !cd.empty() && cd.back() == N &&
                            std::all_of(cd.begin(), cd.end() - 1, [](int64_t d) { return d == 1; });
    if (!cv || !cv->konst || (cv->konst->size() != 1 && !per_column)) {
      return Status::Error(who + ": C is not a constant of N values along its last axis (shape " +
                           ShapeText(cd) + ")");
    }
    XBNN_RETURN_IF_ERROR(RequireFloat32(b, who, "C", n.inputs[2]));
    std::vector<float> bb(static_cast<size_t>(N));
    for (size_t k = 0; k < bb.size(); ++k)
      bb[k] = beta * static_cast<float>(cv->konst->at(cv->konst->size() == 1 ? 0 : k));
    bias = b.AddConst(n.outputs[0] + "/bias", {int32_t(N)}, bb);
  }
  auto x = binary ? b.Binary(n.inputs[0]) : b.Float(n.inputs[0]);
  if (!x.ok()) return x.status();
  int32_t wt = b.AddConst(n.outputs[0] + "/weights", {int32_t(N), int32_t(K)}, w);
  int32_t out = b.NewActivation(n.outputs[0], {av.shape[0], N}, false);
  b.AddOp(op::kFullyConnected, {*x, wt, bias}, {out}, opt::kFullyConnected,
          {{"fused_activation_function", int64_t{0}}, {"keep_num_dims", int64_t{0}}});
  return Status::Ok();
}

}  // namespace xbnn::onnx_import::internal
