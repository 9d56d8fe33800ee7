// Translation of one ONNX node into TFLite ops (everything but Conv, pools and Gemm/MatMul, which
// are in onnx_conv.cc): constants and folding, the binarization patterns, elementwise ops,
// activations, BatchNormalization, shape ops and the head.
#include <algorithm>
#include <cmath>

#include "passes/onnx/onnx_builder.h"
#include "passes/onnx/onnx_fold.h"

namespace xbnn::onnx_import::internal {
namespace {

namespace op = graph::op;

Status Unsupported(const std::string& who, const std::string& why) {
  return Status::Error(who + ": " + why);
}

bool IsConst(const Builder& b, const std::string& name) {
  const Value* v = b.Find(name);
  return v && v->konst && v->error.empty();
}

bool AllConst(const Builder& b, const std::string& name, double x) {
  const Value* v = b.Find(name);
  if (!v || !v->konst || v->konst->size() == 0) return false;
  for (size_t k = 0; k < v->konst->size(); ++k) {
    if (v->konst->at(k) != x) return false;
  }
  return true;
}

// The ONNX node that writes `name`, or null.
const Node* ProducerOf(const Builder& b, const std::string& name) {
  for (const Node& n : b.model().nodes) {
    for (const std::string& o : n.outputs) {
      if (o == name) return &n;
    }
  }
  return nullptr;
}

void SetBinary(Builder& b, const std::string& out, const std::string& src, Bin kind) {
  const Value& s = b.values[src];
  Value v;
  v.shape = s.shape;
  v.nhwc = s.nhwc;
  v.bin = kind;
  v.bin_src = src;
  b.values[out] = v;
  if (kind != Bin::kGe && b.report().binarizations_of_sign++ == 0) {
    b.Note(
        "ONNX Sign maps 0 to 0 (x > 0 ? 1 : -1 maps it to -1); the binarized model maps 0 to +1 "
        "(LCE's convention): outputs differ where a pre-sign value is exactly 0 (e.g. an untrained "
        "BatchNorm after a binary conv)");
  }
  b.report().binarizations++;
}

// Where(cmp(x, 0), +1, -1) and the mirrored forms: the pre-sign value x, or "".
std::string WhereSign(const Builder& b, const Node& n, Bin* kind) {
  if (n.inputs.size() != 3) return "";
  const Node* cmp = ProducerOf(b, n.inputs[0]);
  if (!cmp || cmp->inputs.size() != 2 || !AllConst(b, cmp->inputs[1], 0.0)) return "";
  const Value* x = b.Find(cmp->inputs[0]);
  if (!x || x->tensor < 0) return "";
  double pos;  // the value Where picks where the comparison holds, for a sign
  const std::string& c = cmp->op_type;
  if (c == "GreaterOrEqual" || c == "Less") {
    pos = c == "Less" ? -1.0 : 1.0;  // x >= 0 ? 1 : -1, exactly LCE's binarization
    *kind = Bin::kGe;
  } else if (c == "Greater" || c == "LessOrEqual") {
    pos = c == "LessOrEqual" ? -1.0 : 1.0;  // x > 0 ? 1 : -1: -1 at 0, where LCE gives +1
    *kind = Bin::kGt;
  } else {
    return "";
  }
  if (!AllConst(b, n.inputs[1], pos) || !AllConst(b, n.inputs[2], -pos)) return "";
  return cmp->inputs[0];
}

// Add(Sub(B, Y), Y) with B a binarization: the straight-through estimator's forward value is B.
const Value* SteForm(const Builder& b, const Node& n) {
  if (n.op_type != "Add" || n.inputs.size() != 2) return nullptr;
  for (int side = 0; side < 2; ++side) {
    const Node* sub = ProducerOf(b, n.inputs[side]);
    if (!sub || sub->op_type != "Sub" || sub->inputs.size() != 2 ||
        sub->inputs[1] != n.inputs[1 - side])
      continue;
    const Value* s = b.Find(sub->inputs[0]);
    if (s && s->bin != Bin::kNone && s->error.empty()) return s;
  }
  return nullptr;
}

Status Elementwise(Builder& b, const Node& n, const std::string& who) {
  const std::string& t = n.op_type;
  int32_t code = t == "Add" ? op::kAdd : t == "Sub" ? op::kSub : t == "Mul" ? op::kMul : op::kDiv;
  uint8_t ot = t == "Add" ? opt::kAdd : t == "Sub" ? opt::kSub : t == "Mul" ? opt::kMul : opt::kDiv;
  if (n.inputs.size() != 2) return Unsupported(who, "needs two inputs");
  auto a = b.Get(n.inputs[0], who);
  if (!a.ok()) return a.status();
  auto c = b.Get(n.inputs[1], who);
  if (!c.ok()) return c.status();
  for (size_t k = 0; k < 2; ++k)
    XBNN_RETURN_IF_ERROR(RequireFloat32(b, who, "input " + std::to_string(k), n.inputs[k]));
  auto shape = Broadcast((*a)->shape, (*c)->shape);
  if (!shape)
    return Unsupported(who, "shapes " + ShapeText((*a)->shape) + " and " + ShapeText((*c)->shape) +
                                " do not broadcast");
  bool nhwc = false;
  for (const Value* v : {*a, *c}) nhwc |= !v->konst && v->nhwc;
  for (const Value* v : {*a, *c}) {
    if (!v->konst && v->shape.size() == 4 && !v->nhwc && nhwc) {
      return Unsupported(who, "mixes NHWC and NCHW activations");
    }
    if (!v->konst && nhwc && v->shape.size() != 4)
      return Unsupported(who, "broadcasts a lower-rank activation into 4-D");
  }
  auto x = b.Float(n.inputs[0], nhwc, shape->size());
  if (!x.ok()) return x.status();
  auto y = b.Float(n.inputs[1], nhwc, shape->size());
  if (!y.ok()) return y.status();
  int32_t out = b.NewActivation(n.outputs[0], *shape, nhwc);
  b.AddOp(code, {*x, *y}, {out}, ot, {{"fused_activation_function", int64_t{0}}});
  return Status::Ok();
}

Status Unary(Builder& b, const Node& n, const std::string& who, int32_t code, uint8_t ot = 0,
             std::vector<std::pair<std::string, graph::OptionValue>> fields = {}) {
  auto a = b.Get(n.inputs[0], who);
  if (!a.ok()) return a.status();
  auto x = b.Float(n.inputs[0]);
  if (!x.ok()) return x.status();
  const std::vector<int64_t> shape = (*a)->shape;
  const bool nhwc = (*a)->nhwc;
  int32_t out = b.NewActivation(n.outputs[0], shape, nhwc);
  b.AddOp(code, {*x}, {out}, ot, std::move(fields));
  return Status::Ok();
}

Status Clip(Builder& b, const Node& n, const std::string& who) {
  float lo = -INFINITY, hi = INFINITY;
  for (int k = 1; k <= 2; ++k) {
    if (n.inputs.size() <= static_cast<size_t>(k) || n.inputs[k].empty()) continue;
    const Value* v = b.Find(n.inputs[k]);
    if (!v || !v->konst || v->konst->size() != 1)
      return Unsupported(who, "min/max are not constant scalars");
    XBNN_RETURN_IF_ERROR(RequireFloat32(b, who, k == 1 ? "min" : "max", n.inputs[k]));
    (k == 1 ? lo : hi) = static_cast<float>(v->konst->at(0));
  }
  if (lo == 0.0f && hi == 6.0f) return Unary(b, n, who, op::kRelu6);
  if (lo == -1.0f && hi == 1.0f) return Unary(b, n, who, op::kReluN1To1);
  if (lo == 0.0f && hi == INFINITY) return Unary(b, n, who, op::kRelu);
  auto a = b.Get(n.inputs[0], who);
  if (!a.ok()) return a.status();
  auto x = b.Float(n.inputs[0]);
  if (!x.ok()) return x.status();
  const Value av = **a;
  int32_t cur = *x;
  if (lo != -INFINITY) {
    int32_t k = b.AddConst(n.outputs[0] + "/min", {1}, {lo});
    int32_t t = hi != INFINITY ? b.AddTensor(n.outputs[0] + "/lower", b.StoredShape(av))
                               : b.NewActivation(n.outputs[0], av.shape, av.nhwc);
    b.AddOp(op::kMaximum, {cur, k}, {t}, opt::kMaximumMinimum);
    cur = t;
  }
  if (hi != INFINITY) {
    int32_t k = b.AddConst(n.outputs[0] + "/max", {1}, {hi});
    int32_t t = b.NewActivation(n.outputs[0], av.shape, av.nhwc);
    b.AddOp(op::kMinimum, {cur, k}, {t}, opt::kMaximumMinimum);
  }
  if (lo == -INFINITY && hi == INFINITY) b.values[n.outputs[0]] = av;
  return Status::Ok();
}

// BatchNormalization (inference): x * s + t per channel (axis 1), written as MUL and ADD so that
// the conversion pass folds them into a LceBconv2d before them.
Status BatchNorm(Builder& b, const Node& n, const std::string& who) {
  if (n.inputs.size() < 5) return Unsupported(who, "needs 5 inputs");
  // Training mode normalizes by the batch's own statistics (and outputs running ones).
  if (n.Int("training_mode", 0) != 0 ||
      std::any_of(n.outputs.begin() + 1, n.outputs.end(),
                  [](const std::string& o) { return !o.empty(); }))
    return Unsupported(who,
                       "training_mode (batch statistics) is not supported: export in eval mode");
  const Constant* k[4];
  for (int i = 0; i < 4; ++i) {
    const Value* v = b.Find(n.inputs[1 + i]);
    if (!v || !v->konst)
      return Unsupported(who, "scale, bias, mean and variance must be constants");
    k[i] = &*v->konst;
  }
  // ONNX's type constraints: up to opset 13 all inputs have X's type; opset 14 frees the mean
  // and variance, opset 15 all four parameters.
  const int64_t opset = b.model().opset;
  const int same_type = opset < 14 ? 4 : opset < 15 ? 2 : 0;
  constexpr const char* kRoles[4] = {"scale", "B", "input_mean", "input_var"};
  for (int i = 0; i < same_type; ++i)
    XBNN_RETURN_IF_ERROR(RequireFloat32(b, who, kRoles[i], n.inputs[1 + static_cast<size_t>(i)]));
  auto a = b.Get(n.inputs[0], who);
  if (!a.ok()) return a.status();
  const Value av = **a;
  if (av.shape.size() != 4 && av.shape.size() != 2)
    return Unsupported(who, "input is neither [N,C,H,W] nor [N,C]");
  const size_t C = static_cast<size_t>(av.shape[1]);
  for (int i = 0; i < 4; ++i) {
    if (k[i]->size() != C) return Unsupported(who, "parameters do not have one value per channel");
  }
  const float eps = n.Float("epsilon", 1e-5f);
  std::vector<float> s(C), t(C);
  for (size_t c = 0; c < C; ++c) {
    s[c] = static_cast<float>(k[0]->at(c) / std::sqrt(k[3]->at(c) + static_cast<double>(eps)));
    t[c] = static_cast<float>(k[1]->at(c) - k[2]->at(c) * static_cast<double>(s[c]));
  }
  auto x = b.Float(n.inputs[0]);
  if (!x.ok()) return x.status();
  const int32_t Ci = static_cast<int32_t>(C);
  int32_t st = b.AddConst(n.outputs[0] + "/scale", {Ci}, s);
  int32_t tt = b.AddConst(n.outputs[0] + "/shift", {Ci}, t);
  // [N,C] stores channels last already; [N,C,H,W] is NHWC-stored.
  int32_t mid = b.AddTensor(n.outputs[0] + "/scaled", b.StoredShape(av));
  b.AddOp(op::kMul, {*x, st}, {mid}, opt::kMul, {{"fused_activation_function", int64_t{0}}});
  int32_t out = b.NewActivation(n.outputs[0], av.shape, av.nhwc);
  b.AddOp(op::kAdd, {mid, tt}, {out}, opt::kAdd, {{"fused_activation_function", int64_t{0}}});
  return Status::Ok();
}

Status Prelu(Builder& b, const Node& n, const std::string& who) {
  const Value* slope = b.Find(n.inputs.size() > 1 ? n.inputs[1] : "");
  if (!slope || !slope->konst) return Unsupported(who, "the slope is not a constant");
  XBNN_RETURN_IF_ERROR(RequireFloat32(b, who, "slope", n.inputs[1]));
  auto a = b.Get(n.inputs[0], who);
  if (!a.ok()) return a.status();
  const Value av = **a;
  auto x = b.Float(n.inputs[0]);
  if (!x.ok()) return x.status();
  auto s = b.Float(n.inputs[1], av.nhwc, av.shape.size());
  if (!s.ok()) return s.status();
  int32_t out = b.NewActivation(n.outputs[0], av.shape, av.nhwc);
  b.AddOp(op::kPrelu, {*x, *s}, {out});
  return Status::Ok();
}

// ReduceMean of an activation (the dynamo exporter writes adaptive_avg_pool2d(x, 1) this way):
// over the spatial axes of an NCHW value, or any axes of a value stored as is.
Status ReduceMean(Builder& b, const Node& n, const std::string& who) {
  auto a = b.Get(n.inputs[0], who);
  if (!a.ok()) return a.status();
  const Value av = **a;
  std::vector<int64_t> axes = n.Ints("axes");
  if (n.inputs.size() > 1 && !n.inputs[1].empty()) {
    const Value* ax = b.Find(n.inputs[1]);
    if (!ax || !ax->konst) return Unsupported(who, "axes are not a constant");
    axes = ax->konst->Ints();
  }
  const int64_t rank = static_cast<int64_t>(av.shape.size());
  if (axes.empty()) return Unsupported(who, "ReduceMean over all axes is not supported");
  std::vector<bool> red(av.shape.size(), false);
  for (int64_t& x : axes) {
    if (x < -rank || x >= rank) return Unsupported(who, "axis out of range");
    if (x < 0) x += rank;
    red[static_cast<size_t>(x)] = true;
  }
  const bool keep = n.Int("keepdims", 1) != 0;
  std::vector<int32_t> stored_axes;
  if (av.nhwc) {
    if (!(red[2] && red[3] && !red[0] && !red[1]))
      return Unsupported(who, "reduces an NCHW value over non-spatial axes");
    stored_axes = {1, 2};
  } else {
    for (size_t d = 0; d < red.size(); ++d) {
      if (red[d]) stored_axes.push_back(static_cast<int32_t>(d));
    }
  }
  std::vector<int64_t> out_shape;
  for (size_t d = 0; d < av.shape.size(); ++d) {
    if (!red[d] || keep) out_shape.push_back(red[d] ? 1 : av.shape[d]);
  }
  auto x = b.Float(n.inputs[0]);
  if (!x.ok()) return x.status();
  int32_t at = b.AddConstI32(n.outputs[0] + "/axes", {static_cast<int32_t>(stored_axes.size())},
                             stored_axes);
  // NHWC [N,H,W,C] without kept dims is [N,C]: the same order as the logical result.
  int32_t out = b.NewActivation(n.outputs[0], out_shape, av.nhwc && keep);
  b.AddOp(op::kMean, {*x, at}, {out}, opt::kReducer, {{"keep_dims", int64_t{keep ? 1 : 0}}});
  return Status::Ok();
}

Status GlobalAveragePool(Builder& b, const Node& n, const std::string& who) {
  auto a = b.Get(n.inputs[0], who);
  if (!a.ok()) return a.status();
  const Value av = **a;
  if (!av.nhwc) return Unsupported(who, "input is not a 4-D NCHW activation");
  auto x = b.Float(n.inputs[0]);
  if (!x.ok()) return x.status();
  int32_t axes = b.AddConstI32(n.outputs[0] + "/axes", {2}, {1, 2});
  int32_t out = b.NewActivation(n.outputs[0], {av.shape[0], av.shape[1], 1, 1}, true);
  b.AddOp(op::kMean, {*x, axes}, {out}, opt::kReducer, {{"keep_dims", int64_t{1}}});
  return Status::Ok();
}

// Flatten / Reshape of an activation to `target` (logical).
Status ReshapeTo(Builder& b, const std::string& in_name, const std::string& out_name,
                 const std::string& who, const std::vector<int64_t>& target) {
  auto a = b.Get(in_name, who);
  if (!a.ok()) return a.status();
  const Value av = **a;
  int32_t in;
  if (av.nhwc && av.shape[2] == 1 && av.shape[3] == 1 && target.size() != 4) {
    auto x = b.Float(in_name);  // [N,1,1,C] holds the same order as [N,C,1,1]
    if (!x.ok()) return x.status();
    in = *x;
  } else {
    auto x = b.Logical(in_name);
    if (!x.ok()) return x.status();
    in = *x;
  }
  if (target.size() == 4) {
    int32_t mid = b.AddTensor(out_name + "/nchw", ToI32(target));
    b.Reshape(in, mid);
    int32_t t = b.Transpose(mid, {0, 2, 3, 1}, out_name);
    Value v;
    v.shape = target;
    v.nhwc = true;
    v.tensor = t;
    b.values[out_name] = v;
    return Status::Ok();
  }
  int32_t out = b.NewActivation(out_name, target, false);
  b.Reshape(in, out);
  return Status::Ok();
}

// Flatten/Reshape of a binarization is the binarization of the reshaped pre-sign value, so that
// a binary dense layer after a Flatten still reads a binarized input.
Status ReshapeNode(Builder& b, const Node& n, const std::string& who,
                   const std::vector<int64_t>& target) {
  const Value* v = b.Find(n.inputs[0]);
  if (v && v->bin != Bin::kNone && v->error.empty()) {
    const Value src = *v;
    const std::string pre = n.outputs[0] + "/pre_sign";
    XBNN_RETURN_IF_ERROR(ReshapeTo(b, src.bin_src, pre, who, target));
    Value r = b.values[pre];
    r.tensor = -1;
    r.bin = src.bin;
    r.bin_src = pre;
    b.values[n.outputs[0]] = r;
    return Status::Ok();
  }
  return ReshapeTo(b, n.inputs[0], n.outputs[0], who, target);
}

Status Concat(Builder& b, const Node& n, const std::string& who) {
  std::vector<int32_t> ins;
  std::vector<int64_t> shape;
  bool nhwc = false;
  int64_t axis = n.Int("axis", 1);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    auto a = b.Get(n.inputs[i], who);
    if (!a.ok()) return a.status();
    if ((*a)->konst) return Unsupported(who, "concatenates a constant");
    if (i == 0) {
      shape = (*a)->shape;
      nhwc = (*a)->nhwc;
      if (axis < 0) axis += static_cast<int64_t>(shape.size());
      if (axis < 0 || axis >= static_cast<int64_t>(shape.size()))
        return Unsupported(who, "axis out of range");
    } else {
      if ((*a)->nhwc != nhwc || (*a)->shape.size() != shape.size())
        return Unsupported(who, "inputs of different layouts");
      for (size_t d = 0; d < shape.size(); ++d) {
        if (static_cast<int64_t>(d) != axis && (*a)->shape[d] != shape[d]) {
          return Unsupported(who, "input shapes differ outside the concatenation axis");
        }
      }
      shape[static_cast<size_t>(axis)] += (*a)->shape[static_cast<size_t>(axis)];
    }
    auto x = b.Float(n.inputs[i]);
    if (!x.ok()) return x.status();
    ins.push_back(*x);
  }
  const int64_t stored_axis = nhwc ? (axis == 1 ? 3 : axis == 0 ? 0 : axis - 1) : axis;
  int32_t out = b.NewActivation(n.outputs[0], shape, nhwc);
  b.AddOp(op::kConcatenation, ins, {out}, opt::kConcatenation,
          {{"axis", stored_axis}, {"fused_activation_function", int64_t{0}}});
  return Status::Ok();
}

// Sign, comparison + Where, the STE form and aliases: values with no op of their own.
bool Patterns(Builder& b, const Node& n) {
  const std::string& t = n.op_type;
  if (t == "Sign" && n.inputs.size() == 1) {
    const Value* x = b.Find(n.inputs[0]);
    if (x && x->tensor >= 0 && x->error.empty()) {
      SetBinary(b, n.outputs[0], n.inputs[0], Bin::kSign);
      return true;
    }
  }
  if (t == "Where") {
    Bin kind = Bin::kNone;
    std::string x = WhereSign(b, n, &kind);
    if (!x.empty()) {
      SetBinary(b, n.outputs[0], x, kind);
      return true;
    }
  }
  if (const Value* s = SteForm(b, n)) {
    b.values[n.outputs[0]] = *s;
    return true;
  }
  if ((t == "Identity" || t == "Dropout" || (t == "Cast" && n.Int("to", 1) == 1)) &&
      !n.inputs.empty()) {
    const Value* x = b.Find(n.inputs[0]);
    if (x) {
      b.values[n.outputs[0]] = *x;
      return true;
    }
  }
  return false;
}

Status ConstantNode(Builder& b, const Node& n, const std::string& who) {
  Constant c;
  if (const Attribute* a = n.Find("value"); a && a->t) {
    c = *a->t;
  } else if (const Attribute* f = n.Find("value_float")) {
    c.f = {f->f};
  } else if (const Attribute* fs = n.Find("value_floats")) {
    c.f = fs->floats;
    c.dims = {static_cast<int64_t>(c.f.size())};
  } else if (const Attribute* i = n.Find("value_int")) {
    c.elem_type = 7;  // int64
    c.is_float = false;
    c.i = {i->i};
  } else if (const Attribute* is = n.Find("value_ints")) {
    c.elem_type = 7;
    c.is_float = false;
    c.i = is->ints;
    c.dims = {static_cast<int64_t>(c.i.size())};
  } else {
    return Unsupported(who, "Constant without a value xbnn reads");
  }
  Value v;
  v.shape = c.dims;
  v.konst = std::move(c);
  b.values[n.outputs[0]] = std::move(v);
  return Status::Ok();
}

}  // namespace

Status TranslateNode(Builder& b, const Node& n) {
  const std::string who = n.Label();
  const std::string& t = n.op_type;
  if (n.outputs.empty() || n.outputs[0].empty()) return Unsupported(who, "has no output");
  if (t == "Constant") return ConstantNode(b, n, who);
  if (n.inputs.empty() || n.inputs[0].empty()) return Unsupported(who, "has no first input");
  if (t == "Expand" && n.inputs.size() == 2 && IsConst(b, n.inputs[0]) && IsConst(b, n.inputs[1])) {
    // Expand(c, Shape(x)) of an activation's size, feeding a broadcasting op: the constant
    // broadcasts by itself rather than becoming an activation-sized weight. Small results are
    // folded below instead (exact for any reader, e.g. a ReduceSum or a larger output shape).
    Value v = b.values[n.inputs[0]];
    const std::vector<int64_t> target = b.values[n.inputs[1]].konst->Ints();
    auto s = Broadcast(v.konst->dims, target);
    if (!s) return Unsupported(who, "shapes do not broadcast");
    int64_t elements = 1;
    for (int64_t d : *s) elements = TimesDim(elements, d);
    if (elements < 0 || elements > (int64_t{1} << 16)) {
      v.shape = *s;
      b.values[n.outputs[0]] = std::move(v);
      return Status::Ok();
    }
  }
  // Folding: every input constant.
  std::vector<const Constant*> ins;
  bool all_const = !n.inputs.empty();
  for (const std::string& in : n.inputs) {
    const Value* v = in.empty() ? nullptr : b.Find(in);
    if (!in.empty() && !(v && v->konst && v->error.empty())) all_const = false;
    ins.push_back(v && v->konst ? &*v->konst : nullptr);
  }
  // Each folded constant is bounded (onnx_fold.cc); so is their sum, or a small file of many
  // broadcasting nodes could fill the memory (40 of them took 2.6 GB and 26 s).
  constexpr int64_t kMaxFoldedTotal = int64_t{1} << 25;
  if (all_const && b.folded_elements > kMaxFoldedTotal)
    return Unsupported(who, "the constants folded so far exceed 2^25 elements");
  if (all_const) {
    if (auto r = FoldConstant(n, ins, b.model().opset, who)) {
      if (!r->ok()) return r->status();
      b.folded_elements += (*r)->NumElements();
      if (b.folded_elements > kMaxFoldedTotal)
        return Unsupported(who, "the constants folded so far exceed 2^25 elements");
      Value v;
      v.shape = (*r)->dims;
      v.konst = std::move(**r);
      b.values[n.outputs[0]] = std::move(v);
      return Status::Ok();
    }
  }
  if (t == "Shape" && !n.inputs.empty()) {
    auto a = b.Get(n.inputs[0], who);
    if (!a.ok()) return a.status();
    Value v;
    v.konst = Constant{};
    v.konst->elem_type = 7;  // int64
    v.konst->is_float = false;
    v.konst->i = (*a)->shape;
    v.konst->dims = {static_cast<int64_t>((*a)->shape.size())};
    v.shape = v.konst->dims;
    b.values[n.outputs[0]] = std::move(v);
    return Status::Ok();
  }
  if (Patterns(b, n)) return Status::Ok();
  if (t == "Add" || t == "Sub" || t == "Mul" || t == "Div") return Elementwise(b, n, who);
  if (t == "Relu") return Unary(b, n, who, op::kRelu);
  if (t == "Sigmoid") return Unary(b, n, who, op::kLogistic);
  if (t == "Sign") return Unary(b, n, who, op::kSign);
  if (t == "Abs") return Unary(b, n, who, op::kAbs);
  if (t == "LeakyRelu") {
    return Unary(b, n, who, op::kLeakyRelu, opt::kLeakyRelu,
                 {{"alpha", static_cast<double>(n.Float("alpha", 0.01f))}});
  }
  if (t == "Clip") return Clip(b, n, who);
  if (t == "PRelu") return Prelu(b, n, who);
  if (t == "BatchNormalization") return BatchNorm(b, n, who);
  if (t == "GlobalAveragePool") return GlobalAveragePool(b, n, who);
  if (t == "ReduceMean") return ReduceMean(b, n, who);
  if (t == "Concat") return Concat(b, n, who);
  if (t == "Conv" || t == "MaxPool" || t == "AveragePool") return TranslateConv(b, n);
  if (t == "Gemm" || t == "MatMul") return TranslateGemm(b, n);
  if (t == "Flatten") {
    auto a = b.Get(n.inputs[0], who);
    if (!a.ok()) return a.status();
    const auto& s = (*a)->shape;
    int64_t axis = n.Int("axis", 1);
    const auto rank = static_cast<int64_t>(s.size());
    if (axis < -rank || axis > rank) return Unsupported(who, "axis out of range");
    if (axis < 0) axis += rank;
    int64_t lead = 1, rest = 1;
    for (size_t d = 0; d < s.size(); ++d) {
      int64_t& p = static_cast<int64_t>(d) < axis ? lead : rest;
      p = TimesDim(p, s[d]);
      if (p < 0) return Unsupported(who, "input too large");
    }
    return ReshapeNode(b, n, who, {lead, rest});
  }
  if (t == "Reshape") {
    const Value* sv = b.Find(n.inputs.size() > 1 ? n.inputs[1] : "");
    if (!sv || !sv->konst) return Unsupported(who, "the target shape is not a constant");
    auto a = b.Get(n.inputs[0], who);
    if (!a.ok()) return a.status();
    const std::vector<int64_t> tgt = sv->konst->Ints();
    auto d = ReshapeDims((*a)->shape, tgt, n.Int("allowzero", 0) != 0, who);
    if (!d.ok()) return d.status();
    return ReshapeNode(b, n, who, *d);
  }
  if (t == "Softmax") {
    auto a = b.Get(n.inputs[0], who);
    if (!a.ok()) return a.status();
    const int64_t rank = static_cast<int64_t>((*a)->shape.size());
    int64_t axis = n.Int("axis", -1);
    if ((axis != -1 && axis != rank - 1) || (*a)->nhwc)
      return Unsupported(who, "Softmax only over the last axis");
    return Unary(b, n, who, op::kSoftmax, opt::kSoftmax, {{"beta", 1.0}});
  }
  return Unsupported(who, "operator " + t + " is not supported by the ONNX importer");
}

}  // namespace xbnn::onnx_import::internal
