// The conversion pass: see convert.h for the list of rewrites. The order follows LCE's MLIR
// pipeline (prepare: binarization and binary convolutions; optimize: folding, binary max pool,
// bitpacked activations; quantize: int8 next to fake quantization), so that the result has the
// LCE ops LCE's converter would make. Every rewrite checks that it keeps the model's outputs; a
// pattern that cannot be converted exactly is left alone and reported.
#include "graph/passes/convert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <queue>
#include <set>
#include <sstream>

#include "format/model_io.h"
#include "graph/lce_options.h"
#include "graph/passes/convert_internal.h"
#include "graph/passes/io_passes.h"

namespace xbnn::passes {
namespace convert_internal {

namespace op = graph::op;
using graph::DType;
using graph::Operator;
using graph::Tensor;

namespace {

std::string Num(double v) {
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

std::string ShapeText(const std::vector<int32_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

int FusedActivation(const Operator& o) {
  return static_cast<int>(o.builtin_options.GetInt("fused_activation_function", 0));
}

const char* ActivationName(int a) {
  switch (a) {
    case 0: return "NONE";
    case 1: return "RELU";
    case 2: return "RELU_N1_TO_1";
    case 3: return "RELU6";
    case 4: return "TANH";
    case 5: return "SIGN_BIT";
  }
  return "unknown";
}

int32_t ActivationOpCode(int a) {
  switch (a) {
    case 1: return op::kRelu;
    case 2: return op::kReluN1To1;
    case 3: return op::kRelu6;
  }
  return -1;
}

int ActivationOfOp(int32_t builtin) {
  if (builtin == op::kRelu) return 1;
  if (builtin == op::kReluN1To1) return 2;
  if (builtin == op::kRelu6) return 3;
  return 0;
}

template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

bool AllEqual(const std::vector<float>& v, float x) {
  return std::all_of(v.begin(), v.end(), [x](float e) { return e == x; });
}

}  // namespace

std::vector<int32_t> PackedShape(std::vector<int32_t> shape) {
  if (!shape.empty() && shape.back() > 0) {
    shape.back() = static_cast<int32_t>((int64_t{shape.back()} + 31) / 32);
  }
  return shape;
}

// ---------------------------------------------------------------------------------------------
// Ctx

Ctx::Ctx(graph::Graph& graph, graph::Subgraph& subgraph, size_t index, ConvertReport& r)
    : g(graph), sg(subgraph), sgi(index), report(r) {
  dead.assign(sg.operators.size(), false);
  key.resize(sg.operators.size());
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<double>(i);
  Index();
}

void Ctx::Index() {
  const size_t nt = sg.tensors.size();
  producer.assign(nt, -1);
  consumers.assign(nt, {});
  is_output.assign(nt, false);
  for (int32_t t : sg.outputs) {
    if (t >= 0 && static_cast<size_t>(t) < nt) is_output[t] = true;
  }
  for (const graph::SignatureDef& sd : g.signature_defs) {
    if (sd.subgraph_index != sgi) continue;
    for (const auto& m : sd.outputs) {
      if (m.tensor_index < nt) is_output[m.tensor_index] = true;
    }
  }
  for (int i = 0; i < NumOps(); ++i) {
    if (dead[i]) continue;
    const Operator& o = sg.operators[i];
    for (int32_t t : o.outputs) {
      if (t >= 0 && static_cast<size_t>(t) < nt) producer[t] = i;
    }
    for (size_t k = 0; k < o.inputs.size(); ++k) {
      int32_t t = o.inputs[k];
      if (t < 0 || static_cast<size_t>(t) >= nt) continue;
      if (std::find(o.inputs.begin(), o.inputs.begin() + static_cast<ptrdiff_t>(k), t) !=
          o.inputs.begin() + static_cast<ptrdiff_t>(k)) {
        continue;  // an op reads a tensor twice: listed once
      }
      consumers[t].push_back(i);
    }
  }
}

int Ctx::AddOp(graph::Operator o, double order_key) {
  sg.operators.push_back(std::move(o));
  dead.push_back(false);
  key.push_back(order_key);
  Index();
  return NumOps() - 1;
}

int32_t Ctx::AddTensor(graph::Tensor t) {
  sg.tensors.push_back(std::move(t));
  producer.push_back(-1);
  consumers.emplace_back();
  is_output.push_back(false);
  return static_cast<int32_t>(sg.tensors.size() - 1);
}

int32_t Ctx::AddConstTensor(const std::string& name, DType type, std::vector<int32_t> shape,
                            std::vector<uint8_t> bytes) {
  g.buffers.push_back(graph::Buffer::Owned(std::move(bytes)));
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.buffer = static_cast<uint32_t>(g.buffers.size() - 1);
  t.has_rank = true;
  return AddTensor(std::move(t));
}

uint32_t Ctx::Opcode(int32_t builtin, const std::string& custom) {
  for (size_t i = 0; i < g.operator_codes.size(); ++i) {
    const graph::OperatorCode& c = g.operator_codes[i];
    if (c.builtin == builtin && c.custom_code == custom) return static_cast<uint32_t>(i);
  }
  graph::OperatorCode c;
  c.builtin = builtin;
  c.custom_code = custom;
  c.version = 1;
  g.operator_codes.push_back(c);
  return static_cast<uint32_t>(g.operator_codes.size() - 1);
}

int32_t Ctx::Builtin(int o) const {
  if (!Live(o)) return -1;
  return g.CodeOf(sg.operators[o]).builtin;
}

bool Ctx::IsBuiltin(int o, int32_t code) const { return Live(o) && Builtin(o) == code && code != op::kCustom; }

bool Ctx::IsCustom(int o, const char* code) const { return Live(o) && g.IsCustom(sg.operators[o], code); }

std::string Ctx::Label(int o) const {
  return "op " + std::to_string(o) + " (" + g.OpName(sg.operators[o]) + ")";
}

std::string Ctx::TensorLabel(int32_t t) const {
  return "tensor " + std::to_string(t) + " '" + sg.tensors[t].name + "'";
}

bool Ctx::SoleConsumer(int32_t t, int o) const {
  return t >= 0 && !is_output[t] && consumers[t].size() == 1 && consumers[t][0] == o;
}

bool Ctx::IsConst(int32_t t) const {
  if (t < 0 || static_cast<size_t>(t) >= sg.tensors.size()) return false;
  const Tensor& x = sg.tensors[t];
  return x.buffer != 0 && x.buffer < g.buffers.size() && !g.buffers[x.buffer].empty() && !x.is_variable &&
         Producer(t) < 0;
}

std::optional<std::vector<float>> Ctx::ConstFloats(int32_t t) const {
  if (!IsConst(t) || sg.tensors[t].type != DType::kFloat32) return std::nullopt;
  auto b = g.buffers[sg.tensors[t].buffer].bytes();
  const int64_t n = sg.tensors[t].NumElements();
  if (n < 0 || b.size() != static_cast<size_t>(n) * 4) return std::nullopt;
  std::vector<float> v(static_cast<size_t>(n));
  if (n > 0) std::memcpy(v.data(), b.data(), b.size());
  return v;
}

std::optional<std::vector<int64_t>> Ctx::ConstInts(int32_t t) const {
  if (!IsConst(t)) return std::nullopt;
  const Tensor& x = sg.tensors[t];
  auto b = g.buffers[x.buffer].bytes();
  const int64_t n = x.NumElements();
  std::vector<int64_t> v(static_cast<size_t>(std::max<int64_t>(n, 0)));
  if (x.type == DType::kInt32 && b.size() == v.size() * 4) {
    for (size_t i = 0; i < v.size(); ++i) {
      int32_t e;
      std::memcpy(&e, b.data() + 4 * i, 4);
      v[i] = e;
    }
    return v;
  }
  if (x.type == DType::kInt64 && b.size() == v.size() * 8) {
    if (!v.empty()) std::memcpy(v.data(), b.data(), b.size());
    return v;
  }
  return std::nullopt;
}

int32_t Ctx::Packed(int32_t t, double order_key) {
  auto it = packed_of.find(t);
  if (it != packed_of.end()) return it->second;
  const Tensor& src = sg.tensors[t];
  Tensor p;
  p.name = src.name + "/bitpacked";
  p.type = DType::kInt32;
  p.shape = PackedShape(src.shape);
  if (!src.shape_signature.empty()) p.shape_signature = PackedShape(src.shape_signature);
  p.has_rank = src.has_rank;
  int32_t pt = AddTensor(std::move(p));
  Operator q;
  q.opcode_index = Opcode(op::kCustom, graph::kLceQuantize);
  q.inputs = {t};
  q.outputs = {pt};
  AddOp(std::move(q), order_key);
  packed_of[t] = pt;
  return pt;
}

void Ctx::RemoveDeadOps() {
  static const std::set<int32_t> kRemovable = {
      op::kSign, op::kAdd, op::kSub, op::kMul, op::kDiv, op::kPad, op::kPadV2, kSpaceToBatchNd,
      kBatchToSpaceNd, op::kQuantize, op::kDequantize, op::kMaxPool2D, op::kRelu, op::kRelu6,
      op::kReluN1To1, op::kGreaterEqual, kLess, op::kSelect, op::kSelectV2, op::kConv2D, op::kMean,
      op::kReshape, op::kSqueeze};
  bool changed = true;
  while (changed) {
    changed = false;
    Index();
    for (int i = 0; i < NumOps(); ++i) {
      if (dead[i]) continue;
      const Operator& o = sg.operators[i];
      const graph::OperatorCode& code = g.CodeOf(o);
      bool removable = code.builtin == op::kCustom ? code.custom_code.rfind("Lce", 0) == 0
                                                   : kRemovable.count(code.builtin) > 0;
      if (!removable || o.outputs.empty()) continue;
      bool unused = true;
      for (int32_t t : o.outputs) {
        if (t < 0) continue;
        if (is_output[t] || !consumers[t].empty()) unused = false;
      }
      if (!unused) continue;
      dead[i] = true;
      changed = true;
      for (int32_t t : o.outputs) {
        for (auto it = packed_of.begin(); it != packed_of.end();) {
          it = it->second == t ? packed_of.erase(it) : std::next(it);
        }
      }
    }
  }
  Index();
}

namespace {

// ---------------------------------------------------------------------------------------------
// Binarization (LCE prepare patterns: ste_sign as SIGN/ADD/SIGN, or as SELECT).

// `t` = ADD(SIGN(p), k) or ADD(k, SIGN(p)), no fused activation, k a float constant with every
// element in (0, 1) and no broadcast beyond SIGN(p)'s shape: returns p. Then t < 0 exactly when
// p < 0. `why` tells when t has that form but k is outside (0, 1).
std::optional<int32_t> SignPlusFraction(const Ctx& c, int32_t t, std::string* why) {
  int add = c.Producer(t);
  if (!c.IsBuiltin(add, op::kAdd)) return std::nullopt;
  const Operator& a = c.sg.operators[add];
  if (a.inputs.size() != 2 || FusedActivation(a) != 0) return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    int32_t s = a.inputs[side], k = a.inputs[1 - side];
    int sign = c.Producer(s);
    if (!c.IsBuiltin(sign, op::kSign)) continue;
    auto vals = c.ConstFloats(k);
    if (!vals || vals->empty()) continue;
    if (c.sg.tensors[t].shape != c.sg.tensors[s].shape) {
      if (why) *why = "the ADD of ste_sign broadcasts its input to a larger shape";
      return std::nullopt;
    }
    for (float v : *vals) {
      if (!(v > 0.0f && v < 1.0f)) {
        if (why) {
          *why = "sign(sign(x) + c) with c = " + Num(v) +
                 " is not ste_sign (that needs 0 < c < 1); stays float";
        }
        return std::nullopt;
      }
    }
    return c.sg.operators[sign].inputs[0];
  }
  return std::nullopt;
}

bool AllOf(const std::optional<std::vector<float>>& v, float x) {
  return v && !v->empty() && AllEqual(*v, x);
}

// SELECT(GREATER_EQUAL(x, 0), 1, -1) or SELECT(LESS(x, 0), -1, 1): returns x.
std::optional<int32_t> SelectSign(const Ctx& c, int sel) {
  const Operator& s = c.sg.operators[sel];
  if (s.inputs.size() != 3 || s.outputs.size() != 1) return std::nullopt;
  int cmp = c.Producer(s.inputs[0]);
  bool ge = c.IsBuiltin(cmp, op::kGreaterEqual), lt = c.IsBuiltin(cmp, kLess);
  if (!ge && !lt) return std::nullopt;
  const Operator& k = c.sg.operators[cmp];
  if (k.inputs.size() != 2 || !AllOf(c.ConstFloats(k.inputs[1]), 0.0f)) return std::nullopt;
  int32_t x = k.inputs[0];
  if (x < 0 || s.inputs[0] < 0) return std::nullopt;
  if (c.sg.tensors[x].type != DType::kFloat32 || c.sg.tensors[x].shape != c.sg.tensors[s.outputs[0]].shape ||
      c.sg.tensors[s.inputs[0]].shape != c.sg.tensors[x].shape) {
    return std::nullopt;
  }
  float pos = ge ? 1.0f : -1.0f;
  if (!AllOf(c.ConstFloats(s.inputs[1]), pos) || !AllOf(c.ConstFloats(s.inputs[2]), -pos)) return std::nullopt;
  return x;
}

// Follows t back through ops that keep the set {t < 0}: SIGN, ADD(SIGN(p), c) with 0 < c < 1 and
// the SELECT form, so that LceQuantize reads the earliest such tensor.
int32_t BinaryRoot(const Ctx& c, int32_t t) {
  auto is_float = [&](int32_t x) { return x >= 0 && c.sg.tensors[x].type == DType::kFloat32; };
  for (int guard = 0; guard < 1 << 20; ++guard) {
    int p = c.Producer(t);
    if (c.IsBuiltin(p, op::kSign) && is_float(c.sg.operators[p].inputs[0])) {
      t = c.sg.operators[p].inputs[0];
      continue;
    }
    if (auto q = SignPlusFraction(c, t, nullptr); q && is_float(*q)) {
      t = *q;
      continue;
    }
    if (c.IsBuiltin(p, op::kSelect) || c.IsBuiltin(p, op::kSelectV2)) {
      if (auto x = SelectSign(c, p)) {
        t = *x;
        continue;
      }
    }
    break;
  }
  return t;
}

void Binarize(Ctx& c) {
  struct Match {
    int op;
    int32_t out, root;
  };
  std::vector<Match> matches;
  const int n = c.NumOps();
  for (int i = 0; i < n; ++i) {
    if (!c.Live(i)) continue;
    const Operator& o = c.sg.operators[i];
    if (o.inputs.empty() || o.outputs.size() != 1) continue;
    int32_t code = c.Builtin(i);
    std::optional<int32_t> x;
    if (code == op::kSign) {
      std::string why;
      if (auto p = SignPlusFraction(c, o.inputs[0], &why)) {
        x = *p;
      } else if (!why.empty()) {
        c.Skipped(c.Label(i) + ": " + why);
      }
    } else if (code == op::kSelect || code == op::kSelectV2) {
      x = SelectSign(c, i);
    }
    if (!x || *x < 0 || c.sg.tensors[*x].type != DType::kFloat32) continue;
    if (c.sg.tensors[o.outputs[0]].type != DType::kFloat32) continue;
    matches.push_back({i, o.outputs[0], BinaryRoot(c, *x)});
  }
  for (const Match& m : matches) {
    int32_t packed = c.Packed(m.root, c.key[m.op] - 0.5);
    Operator d;
    d.opcode_index = c.Opcode(op::kCustom, graph::kLceDequantize);
    d.inputs = {packed};
    d.outputs = {m.out};
    c.Kill(m.op);
    c.AddOp(std::move(d), c.key[m.op]);
    c.Applied(c.Label(m.op) + ": ste_sign of " + c.TensorLabel(m.root) + " -> LceQuantize");
  }
  c.report.binarizations += static_cast<int>(matches.size());
  c.RemoveDeadOps();
}

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
  if (c.sg.tensors[out].type != DType::kFloat32 || c.sg.tensors[out].shape != tt.shape) return false;
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
    bool positive = std::all_of(bi.multiplier.begin(), bi.multiplier.end(), [](float m) { return m > 0.0f; });
    // clamp(y) * m == act(y * m) holds for m == 1, and for RELU with any m > 0.
    if (!(AllEqual(bi.multiplier, 1.0f) || (act == 1 && positive))) return false;
    if (!bi.OnePaddedOrValid()) {
      c.Skipped(c.Label(f) + ": not fused into the LceBconv2d before it: LCE fuses activations only into "
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

void TryBconv(Ctx& c, int i) {
  const Operator conv = c.sg.operators[i];
  if (conv.inputs.size() < 2 || conv.outputs.size() != 1) return;
  int32_t x = conv.inputs[0];
  int s2b = -1, pad = -1, b2s = -1;
  int p = c.Producer(x);
  if (c.IsBuiltin(p, kSpaceToBatchNd) && !c.sg.operators[p].inputs.empty()) {
    s2b = p;
    x = c.sg.operators[p].inputs[0];
    p = c.Producer(x);
  }
  if (c.IsBuiltin(p, op::kPad) || c.IsBuiltin(p, op::kPadV2)) {
    pad = p;
    x = c.sg.operators[p].inputs[0];
    p = c.Producer(x);
  }
  if (!c.IsCustom(p, graph::kLceDequantize)) return;  // not a binarized input
  const int32_t packed = c.sg.operators[p].inputs.empty() ? -1 : c.sg.operators[p].inputs[0];
  if (packed < 0) return;
  auto fail = [&](const std::string& why) {
    c.Skipped(c.Label(i) + ": binarized input, but stays CONV_2D: " + why);
  };
  // SAME after a PADV2 with +1 (a binary value) at the bottom/right: the bitpacked tensor is
  // padded instead (int32 zeros are +1 bits), e.g. the ONNX importer's PyTorch alignment.
  std::vector<int32_t> packed_pad;
  if (pad >= 0 && s2b < 0 && conv.builtin_options.GetInt("padding", 0) == 0 && c.Builtin(pad) == op::kPadV2) {
    const Operator& po = c.sg.operators[pad];
    auto v = c.ConstFloats(po.inputs.size() > 2 ? po.inputs[2] : -1);
    auto a = c.ConstInts(po.inputs.size() > 1 ? po.inputs[1] : -1);
    bool ok = v && v->size() == 1 && (*v)[0] == 1.0f && a && a->size() == 8 && (*a)[0] == 0 && (*a)[1] == 0 &&
              (*a)[6] == 0 && (*a)[7] == 0;
    for (size_t e = 0; ok && e < 8; ++e) ok = (*a)[e] >= 0 && (*a)[e] <= 1 << 20;
    if (ok) {
      for (int64_t e : *a) packed_pad.push_back(static_cast<int32_t>(e));
      x = conv.inputs[0];
      pad = -1;
    }
  }

  const Tensor& xt = c.sg.tensors[x];
  if (xt.type != DType::kFloat32 || xt.shape.size() != 4 ||
      std::any_of(xt.shape.begin(), xt.shape.end(), [](int32_t d) { return d <= 0; })) {
    return fail("input " + c.TensorLabel(x) + " is not a float32 NHWC tensor of known shape");
  }
  const int cin = xt.shape[3];

  // Filter: +-s per output channel.
  const int32_t ft = conv.inputs[1];
  auto w = c.ConstFloats(ft);
  if (!w || c.sg.tensors[ft].shape.size() != 4) return fail("the filter is not a constant float32 [O,KH,KW,I] tensor");
  const Tensor& ftt = c.sg.tensors[ft];
  const int O = ftt.shape[0], KH = ftt.shape[1], KW = ftt.shape[2], I = ftt.shape[3];
  if (O <= 0 || KH <= 0 || KW <= 0 || I <= 0) return fail("empty filter");
  if (cin % I != 0) {
    return fail("filter input channels " + std::to_string(I) + " do not divide the input channels " +
                std::to_string(cin));
  }
  const int groups = cin / I;
  if (groups > 1 && I % 32 != 0) {
    return fail("grouped convolution with " + std::to_string(I) +
                " channels per group; LceBconv2d needs a multiple of 32");
  }
  if (groups > 1 && O % groups != 0) {
    return fail(std::to_string(O) + " output channels do not split into " + std::to_string(groups) + " groups");
  }
  const size_t per = static_cast<size_t>(KH) * KW * I;
  BconvInfo bi;
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
      return fail("output channel " + std::to_string(o) + " has weight " + Num(wo[0]) +
                  " (a binary filter needs +-s with s > 0)");
    }
    for (size_t e = 0; e < per; ++e) {
      if (std::fabs(wo[e]) != s) {
        size_t kh = e / (static_cast<size_t>(KW) * I), kw = e / I % KW, ci = e % I;
        return fail("weights of output channel " + std::to_string(o) + " are not +-" + Num(s) + ": " + Num(wo[e]) +
                    " at [" + std::to_string(o) + "," + std::to_string(kh) + "," + std::to_string(kw) + "," +
                    std::to_string(ci) + "]");
      }
      bi.negative[per * o + e] = std::signbit(wo[e]) ? 1 : 0;
    }
    bi.multiplier[o] = s;
  }
  if (conv.inputs.size() > 2 && conv.inputs[2] >= 0) {
    auto b = c.ConstFloats(conv.inputs[2]);
    if (!b || b->size() != static_cast<size_t>(O)) return fail("the bias is not a constant float32 [O] tensor");
    bi.bias = *b;
  }

  const graph::BuiltinOptions& opt = conv.builtin_options;
  const int conv_padding = static_cast<int>(opt.GetInt("padding", 0));
  int stride_h = static_cast<int>(opt.GetInt("stride_h", 1)), stride_w = static_cast<int>(opt.GetInt("stride_w", 1));
  int dil_h = static_cast<int>(opt.GetInt("dilation_h_factor", 1));
  int dil_w = static_cast<int>(opt.GetInt("dilation_w_factor", 1));
  const int act = FusedActivation(conv);
  if (act < 0 || act > 3) return fail(std::string("fused activation ") + ActivationName(act) + " has no LceBconv2d form");
  constexpr int kMaxFactor = 1 << 16;  // keeps the geometry arithmetic far from int overflow
  if (stride_h <= 0 || stride_w <= 0 || dil_h <= 0 || dil_w <= 0 || stride_h > kMaxFactor ||
      stride_w > kMaxFactor || dil_h > kMaxFactor || dil_w > kMaxFactor || KH > kMaxFactor || KW > kMaxFactor) {
    return fail("stride, dilation or kernel size out of range");
  }

  // Padding regions per spatial axis: [p0 zeros][q0 v][x][q1 v][p1 zeros], output crops c0/c1.
  int q[2][2] = {{0, 0}, {0, 0}}, pz[2][2] = {{0, 0}, {0, 0}}, cr[2][2] = {{0, 0}, {0, 0}};
  int pad_value = 0;
  int32_t out = conv.outputs[0];
  if (pad >= 0) {
    const Operator& po = c.sg.operators[pad];
    if (conv_padding != 1) return fail("PAD before a SAME convolution");
    auto amounts = c.ConstInts(po.inputs.size() > 1 ? po.inputs[1] : -1);
    if (!amounts || amounts->size() != 8) return fail("PAD amounts are not a constant [4,2] tensor");
    const auto& a = *amounts;
    if (a[0] != 0 || a[1] != 0 || a[6] != 0 || a[7] != 0) return fail("PAD pads the batch or channel dimension");
    for (int ax = 0; ax < 2; ++ax) {
      for (int e = 0; e < 2; ++e) {
        if (a[2 + 2 * ax + e] < 0 || a[2 + 2 * ax + e] > 1 << 20) return fail("bad PAD amounts");
        q[ax][e] = static_cast<int>(a[2 + 2 * ax + e]);
      }
    }
    if (c.Builtin(pad) == op::kPadV2) {
      auto v = c.ConstFloats(po.inputs.size() > 2 ? po.inputs[2] : -1);
      if (!v || v->size() != 1) return fail("PADV2 value is not a constant scalar");
      if ((*v)[0] == 1.0f) {
        pad_value = 1;
      } else if ((*v)[0] != 0.0f) {
        return fail("pads the +-1 input with " + Num((*v)[0]) +
                    "; only +1 (one-padding) and 0 (zero-padding) are binary paddings");
      }
    }
  }
  if (s2b >= 0) {
    const Operator& so = c.sg.operators[s2b];
    if (conv_padding != 1 || stride_h != 1 || stride_w != 1 || dil_h != 1 || dil_w != 1) {
      return fail("SPACE_TO_BATCH_ND before a convolution that is not VALID with stride 1 and dilation 1");
    }
    if (c.is_output[out] || c.consumers[out].size() != 1 || !c.IsBuiltin(c.consumers[out][0], kBatchToSpaceNd)) {
      return fail("SPACE_TO_BATCH_ND without a BATCH_TO_SPACE_ND as the convolution's only consumer");
    }
    b2s = c.consumers[out][0];
    const Operator& bo = c.sg.operators[b2s];
    if (bo.outputs.size() != 1) return fail("BATCH_TO_SPACE_ND without one output");
    auto block = c.ConstInts(so.inputs.size() > 1 ? so.inputs[1] : -1);
    auto pads = c.ConstInts(so.inputs.size() > 2 ? so.inputs[2] : -1);
    auto block2 = c.ConstInts(bo.inputs.size() > 1 ? bo.inputs[1] : -1);
    auto crops = c.ConstInts(bo.inputs.size() > 2 ? bo.inputs[2] : -1);
    if (!block || !pads || !block2 || !crops || block->size() != 2 || pads->size() != 4 || *block != *block2 ||
        crops->size() != 4) {
      return fail("SPACE_TO_BATCH_ND/BATCH_TO_SPACE_ND with non-constant or mismatched block shapes");
    }
    for (int ax = 0; ax < 2; ++ax) {
      if ((*block)[ax] < 1 || (*block)[ax] > kMaxFactor) return fail("bad block shape");
      for (int e = 0; e < 2; ++e) {
        if ((*pads)[2 * ax + e] < 0 || (*crops)[2 * ax + e] < 0 || (*pads)[2 * ax + e] > 1 << 20 ||
            (*crops)[2 * ax + e] > 1 << 20) {
          return fail("bad SPACE_TO_BATCH_ND paddings or crops");
        }
        pz[ax][e] = static_cast<int>((*pads)[2 * ax + e]);
        cr[ax][e] = static_cast<int>((*crops)[2 * ax + e]);
      }
    }
    dil_h = static_cast<int>((*block)[0]);
    dil_w = static_cast<int>((*block)[1]);
    out = bo.outputs[0];
  }
  const int64_t k_eff64[2] = {int64_t{KH - 1} * dil_h + 1, int64_t{KW - 1} * dil_w + 1};
  if (k_eff64[0] > xt.shape[1] + int64_t{1 << 20} || k_eff64[1] > xt.shape[2] + int64_t{1 << 20}) {
    return fail("the dilated kernel is far larger than the input");
  }
  const int k_eff[2] = {static_cast<int>(k_eff64[0]), static_cast<int>(k_eff64[1])};
  const int strides[2] = {stride_h, stride_w};
  const char* axis_name[2] = {"height", "width"};
  int padding = 1, pad_values = 0;
  if (conv_padding == 0) {
    if (pad >= 0 || s2b >= 0) return fail("SAME convolution after explicit padding");
    padding = 0;  // SAME with zero-padding, as the stock converter writes pad_values=0
  } else {
    AxisPadding eff[2];
    for (int ax = 0; ax < 2; ++ax) {
      if (pad_value == 0) {
        eff[ax].before = pz[ax][0] + q[ax][0] - cr[ax][0];
        eff[ax].after = pz[ax][1] + q[ax][1] - cr[ax][1];
      } else {
        if (cr[ax][0] < pz[ax][0] || cr[ax][1] < pz[ax][1]) {
          return fail("SPACE_TO_BATCH_ND zero padding would mix with the one-padding on the " +
                      std::string(axis_name[ax]) + " axis");
        }
        eff[ax].before = q[ax][0] - (cr[ax][0] - pz[ax][0]);
        eff[ax].after = q[ax][1] - (cr[ax][1] - pz[ax][1]);
      }
      if (eff[ax].before < 0 || eff[ax].after < 0) return fail("BATCH_TO_SPACE_ND crops remove input positions");
    }
    bool valid = true, same = true;
    for (int ax = 0; ax < 2; ++ax) {
      AxisPadding s = SamePadding(xt.shape[1 + ax], k_eff[ax], strides[ax]);
      valid &= eff[ax].before == 0 && eff[ax].after == 0;
      same &= eff[ax].before == s.before && eff[ax].after == s.after;
    }
    if (valid) {
      padding = 1;
    } else if (same) {
      padding = 0;
      pad_values = pad_value;
    } else {
      std::string d;
      for (int ax = 0; ax < 2; ++ax) {
        AxisPadding s = SamePadding(xt.shape[1 + ax], k_eff[ax], strides[ax]);
        d += std::string(ax ? "; " : "") + axis_name[ax] + " (" + std::to_string(eff[ax].before) + "," +
             std::to_string(eff[ax].after) + ") vs SAME (" + std::to_string(s.before) + "," +
             std::to_string(s.after) + ")";
      }
      return fail("padding amounts match neither VALID nor SAME: " + d);
    }
  }
  // The result's spatial size must be the one LceBconv2d computes.
  const Tensor& ot = c.sg.tensors[out];
  for (int ax = 0; ax < 2; ++ax) {
    int in = xt.shape[1 + ax];
    int64_t expect = padding == 0 ? (int64_t{in} + strides[ax] - 1) / strides[ax]
                                  : (int64_t{in} - k_eff[ax]) / strides[ax] + 1;
    if (ot.shape.size() != 4 || ot.shape[1 + ax] != expect || ot.shape[3] != O || ot.shape[0] != xt.shape[0]) {
      return fail("output shape " + ShapeText(ot.shape) + " is not the LceBconv2d output shape");
    }
  }
  if (ot.type != DType::kFloat32) return fail("output is not float32");

  bi.padding = padding;
  bi.pad_values = pad_values;
  bi.stride_h = stride_h;
  bi.stride_w = stride_w;
  bi.dilation_h = dil_h;
  bi.dilation_w = dil_w;

  // The conv's fused activation acts on s*y + b; LceBconv2d's acts on y.
  int32_t bconv_out = out;
  int standalone = 0;
  if (act != 0) {
    bool positive = std::all_of(bi.multiplier.begin(), bi.multiplier.end(), [](float m) { return m > 0.0f; });
    bool fusable = bi.OnePaddedOrValid() && AllEqual(bi.bias, 0.0f) &&
                   (AllEqual(bi.multiplier, 1.0f) || (act == 1 && positive));
    if (fusable) {
      bi.activation = act;
    } else {
      standalone = act;
      Tensor mid = ot;
      mid.name = ot.name + "/bconv";
      mid.buffer = 0;
      mid.quantization.reset();
      bconv_out = c.AddTensor(std::move(mid));
    }
  }

  const double k = c.key[i];
  int32_t bconv_in = packed;
  if (!packed_pad.empty()) {
    Tensor pt = c.sg.tensors[packed];
    pt.name += "/padded";
    pt.shape = PackedShape(xt.shape);
    pt.shape_signature.clear();
    pt.buffer = 0;
    bconv_in = c.AddTensor(std::move(pt));
    int32_t amounts = c.AddConstTensor(c.sg.tensors[packed].name + "/paddings", DType::kInt32, {4, 2}, Bytes(packed_pad));
    Operator po;
    po.opcode_index = c.Opcode(op::kPad);
    po.inputs = {packed, amounts};
    po.outputs = {bconv_in};
    po.builtin_options.type = 22;  // PadOptions
    c.AddOp(std::move(po), k - 0.25);
  }
  Operator b;
  b.opcode_index = c.Opcode(op::kCustom, graph::kLceBconv2d);
  b.inputs = {bconv_in, -1, -1, -1, -1};
  b.outputs = {bconv_out};
  c.Kill(i);
  if (b2s >= 0) c.Kill(b2s);
  bi.op = c.AddOp(std::move(b), k);
  c.report.new_bconv++;
  std::string desc = std::string(padding == 1 ? "VALID" : pad_values ? "SAME one-padded" : "SAME zero-padded") +
                     ", " + std::to_string(KH) + "x" + std::to_string(KW) +
                     (groups > 1 ? ", " + std::to_string(groups) + " groups" : "") +
                     (dil_h > 1 || dil_w > 1 ? ", dilation " + std::to_string(dil_h) + "x" + std::to_string(dil_w) : "");
  c.Applied(c.Label(i) + ": -> LceBconv2d (" + desc + ")" + (pad >= 0 ? ", " + c.Label(pad) + " fused" : "") +
            (packed_pad.empty() ? "" : ", +1 padding of the bitpacked input") +
            (s2b >= 0 ? ", " + c.Label(s2b) + " and " + c.Label(b2s) + " fused" : ""));
  if (standalone) {
    Operator a;
    a.opcode_index = c.Opcode(ActivationOpCode(standalone));
    a.inputs = {bconv_out};
    a.outputs = {out};
    c.AddOp(std::move(a), k + 0.25);
    c.Applied(c.Label(i) + ": fused " + ActivationName(standalone) +
              " acts after the folded multiplier/bias; kept as a separate op");
  } else {
    while (FoldOne(c, bi)) {
    }
  }
  c.bconvs.push_back(std::move(bi));
}

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
      c.Skipped(c.Label(i) + ": binarized input, but LCE has no binary form of " + graph::BuiltinOpName(code) +
                "; it reads the +-1 floats from LceDequantize" +
                (code == op::kFullyConnected ? " (--binary-dense makes it a 1x1 LceBconv2d)" : ""));
    }
  }
  c.RemoveDeadOps();
}

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
        if (reported.insert(mp).second) c.Skipped(c.Label(mp) + ": followed by binarization, but stays float: " + why);
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
      b.custom_options = graph::SerializeLceBMaxPool2dOptions(o);
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
      bi.thresholds[ch] =
          std::isnan(tau) ? kPosInf : static_cast<int32_t>(std::clamp<double>(tau, kNegInf, kPosInf));
    }
  }
}

void WriteBitpacked(Ctx& c) {
  for (BconvInfo& bi : c.bconvs) {
    if (!c.Live(bi.op) || bi.bitpacked) continue;
    int32_t out = c.sg.operators[bi.op].outputs[0];
    if (c.sg.tensors[out].type != DType::kFloat32 || c.is_output[out] || c.consumers[out].size() != 1) continue;
    int q = c.consumers[out][0];
    if (!c.IsCustom(q, graph::kLceQuantize)) continue;
    if (!bi.OnePaddedOrValid() && !c.zero_padded_fusion) {
      c.Skipped("LceBconv2d from " + bi.filter_name +
                ": writes float32 for its binarization, not bitpacked output: LCE writes bitpacked output "
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
    std::vector<int32_t> filter(static_cast<size_t>(bi.out_channels) * bi.kernel_h * bi.kernel_w * words, 0);
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
      inputs[4] = c.AddConstTensor(base + "/thresholds", DType::kInt32, {bi.out_channels}, Bytes(bi.thresholds));
    } else {
      inputs[2] = c.AddConstTensor(base + "/multiplier", DType::kFloat32, {bi.out_channels}, Bytes(bi.multiplier));
      inputs[3] = c.AddConstTensor(base + "/bias", DType::kFloat32, {bi.out_channels}, Bytes(bi.bias));
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
    o2.custom_options = graph::SerializeLceBconv2dOptions(opt);
  }
  c.Index();
}

// Removes dead ops and sorts the live ones topologically (ties by order key), then drops the
// tensors nothing refers to.
Status Compact(Ctx& c) {
  c.RemoveDeadOps();
  const int n = c.NumOps();
  std::vector<std::vector<int>> next(n);
  std::vector<int> indegree(n, 0);
  for (int j = 0; j < n; ++j) {
    if (c.dead[j]) continue;
    std::set<int> preds;
    for (int32_t t : c.sg.operators[j].inputs) {
      int p = c.Producer(t);
      if (p >= 0 && p != j) preds.insert(p);
    }
    for (int p : preds) {
      next[p].push_back(j);
      indegree[j]++;
    }
  }
  using Item = std::pair<double, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> ready;
  int live = 0;
  for (int j = 0; j < n; ++j) {
    if (c.dead[j]) continue;
    ++live;
    if (indegree[j] == 0) ready.push({c.key[j], j});
  }
  std::vector<graph::Operator> ops;
  while (!ready.empty()) {
    int j = ready.top().second;
    ready.pop();
    ops.push_back(std::move(c.sg.operators[j]));
    for (int k : next[j]) {
      if (--indegree[k] == 0) ready.push({c.key[k], k});
    }
  }
  if (static_cast<int>(ops.size()) != live) return Status::Error("internal error: the converted graph has a cycle");
  c.sg.operators = std::move(ops);
  RemoveUnusedTensors(c.g, c.sg, c.sgi);
  return Status::Ok();
}

// Activation tensors use buffer 0; buffers and operator codes nothing refers to go.
int RemoveUnusedBuffersAndCodes(graph::Graph& g) {
  for (graph::Subgraph& sg : g.subgraphs) {
    for (Tensor& t : sg.tensors) {
      if (t.buffer != 0 && t.buffer < g.buffers.size() && g.buffers[t.buffer].empty()) t.buffer = 0;
    }
  }
  std::vector<bool> used(g.buffers.size(), false);
  if (!used.empty()) used[0] = true;
  for (const graph::Subgraph& sg : g.subgraphs) {
    for (const Tensor& t : sg.tensors) {
      if (t.buffer < used.size()) used[t.buffer] = true;
    }
  }
  for (const graph::Metadata& m : g.metadata) {
    if (m.buffer < used.size()) used[m.buffer] = true;
  }
  for (int32_t b : g.metadata_buffer) {
    if (b >= 0 && static_cast<size_t>(b) < used.size()) used[b] = true;
  }
  std::vector<uint32_t> remap(g.buffers.size(), 0);
  std::vector<graph::Buffer> kept;
  for (size_t i = 0; i < g.buffers.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(g.buffers[i]));
  }
  int removed = static_cast<int>(g.buffers.size() - kept.size());
  g.buffers = std::move(kept);
  for (graph::Subgraph& sg : g.subgraphs) {
    for (Tensor& t : sg.tensors) t.buffer = remap[t.buffer];
  }
  for (graph::Metadata& m : g.metadata) m.buffer = remap[m.buffer];
  for (int32_t& b : g.metadata_buffer) b = static_cast<int32_t>(remap[static_cast<size_t>(b)]);

  std::vector<bool> code_used(g.operator_codes.size(), false);
  for (const graph::Subgraph& sg : g.subgraphs) {
    for (const Operator& o : sg.operators) code_used[o.opcode_index] = true;
  }
  std::vector<uint32_t> code_remap(g.operator_codes.size(), 0);
  std::vector<graph::OperatorCode> codes;
  for (size_t i = 0; i < g.operator_codes.size(); ++i) {
    if (!code_used[i]) continue;
    code_remap[i] = static_cast<uint32_t>(codes.size());
    codes.push_back(std::move(g.operator_codes[i]));
  }
  g.operator_codes = std::move(codes);
  for (graph::Subgraph& sg : g.subgraphs) {
    for (Operator& o : sg.operators) o.opcode_index = code_remap[o.opcode_index];
  }
  return removed;
}

// TFLite runs operators in file order: every tensor is written once, before it is read. The
// rewrites rely on that (they follow producers backwards).
Status CheckExecutionOrder(const graph::Graph& g, size_t si) {
  const graph::Subgraph& sg = g.subgraphs[si];
  std::string where = g.subgraphs.size() > 1 ? "subgraph " + std::to_string(si) + ": " : "";
  std::vector<int> producer(sg.tensors.size(), -1);
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    for (int32_t t : sg.operators[i].outputs) {
      if (t < 0) continue;
      if (producer[t] >= 0) {
        return Status::Error(where + "tensor " + std::to_string(t) + " is written by op " +
                             std::to_string(producer[t]) + " and op " + std::to_string(i));
      }
      producer[t] = static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    for (int32_t t : sg.operators[i].inputs) {
      if (t >= 0 && producer[t] >= static_cast<int>(i)) {
        return Status::Error(where + "op " + std::to_string(i) + " (" + g.OpName(sg.operators[i]) +
                             ") reads tensor " + std::to_string(t) + ", which op " + std::to_string(producer[t]) +
                             " writes later; the converter needs operators in execution order");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

bool FoldIntoBconv(Ctx& c, BconvInfo& bi) { return FoldOne(c, bi); }

}  // namespace convert_internal

Status ConvertToLce(graph::Graph& g, const ConvertOptions& options, ConvertReport* report) {
  using namespace convert_internal;  // NOLINT: the pass's own internals
  for (graph::DType t : {options.inference_input_type, options.inference_output_type}) {
    if (t != graph::DType::kFloat32 && t != graph::DType::kInt8) {
      return Status::Error(std::string("inference IO type must be float32 or int8, got ") + graph::DTypeName(t));
    }
  }
  XBNN_RETURN_IF_ERROR(format::ValidateGraph(g));
  ConvertReport local;
  ConvertReport& r = report ? *report : local;
  r = ConvertReport{};
  size_t ops_before = 0, tensors_before = 0;
  for (const graph::Subgraph& sg : g.subgraphs) {
    ops_before += sg.operators.size();
    tensors_before += sg.tensors.size();
  }
  for (size_t s = 0; s < g.subgraphs.size(); ++s) XBNN_RETURN_IF_ERROR(CheckExecutionOrder(g, s));
  for (size_t s = 0; s < g.subgraphs.size(); ++s) {
    Ctx c(g, g.subgraphs[s], s, r);
    c.zero_padded_fusion = options.zero_padded_fusion;
    c.binary_dense = options.binary_dense;
    Binarize(c);
    ConvertConvs(c);
    if (c.binary_dense) ConvertDense(c);
    ConvertMaxPools(c);
    WriteBitpacked(c);
    ConvertFakeQuant(c);
    FinalizeBconvs(c);
    XBNN_RETURN_IF_ERROR(Compact(c));
  }
  r.removed_buffers = RemoveUnusedBuffersAndCodes(g);
  if (options.inference_input_type == graph::DType::kInt8 || options.inference_output_type == graph::DType::kInt8) {
    Status s = SetIoTypes(g, options.inference_input_type, options.inference_output_type);
    if (!s.ok()) return s.Prefixed("inference IO type: ");
    r.removed_buffers += RemoveUnusedBuffersAndCodes(g);
  }
  size_t ops_after = 0, tensors_after = 0;
  for (const graph::Subgraph& sg : g.subgraphs) {
    ops_after += sg.operators.size();
    tensors_after += sg.tensors.size();
    for (const graph::Operator& o : sg.operators) {
      if (g.IsCustom(o, graph::kLceQuantize)) r.lce_quantize++;
      if (g.IsCustom(o, graph::kLceDequantize)) r.lce_dequantize++;
      if (g.IsCustom(o, graph::kLceBMaxPool2d)) r.bmaxpool++;
      if (g.IsCustom(o, graph::kLceBconv2d)) {
        r.bconv++;
        graph::DType t = sg.tensors[o.outputs[0]].type;
        if (t == graph::DType::kInt32) r.bconv_bitpacked++;
        if (t == graph::DType::kInt8) r.bconv_int8++;
      }
    }
  }
  r.removed_ops = static_cast<int>(ops_before) - static_cast<int>(ops_after);
  r.removed_tensors = static_cast<int>(tensors_before) - static_cast<int>(tensors_after);
  return format::ValidateGraph(g).Prefixed("internal error: the converted model is invalid: ");
}

Result<std::vector<uint8_t>> ConvertModel(std::span<const uint8_t> model, const ConvertOptions& options,
                                          ConvertReport* report) {
  auto g = format::ReadModel(model);
  if (!g.ok()) return g.status();
  XBNN_RETURN_IF_ERROR(ConvertToLce(*g, options, report));
  return format::WriteModel(*g);
}

}  // namespace xbnn::passes
