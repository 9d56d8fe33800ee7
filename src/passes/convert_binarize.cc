// Binarization (LCE prepare patterns: ste_sign as SIGN/ADD/SIGN, or as SELECT) -> LceQuantize /
// LceDequantize pairs.
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
  bool ge = c.IsBuiltin(cmp, op::kGreaterEqual), lt = c.IsBuiltin(cmp, op::kLess);
  if (!ge && !lt) return std::nullopt;
  const Operator& k = c.sg.operators[cmp];
  if (k.inputs.size() != 2 || !AllOf(c.ConstFloats(k.inputs[1]), 0.0f)) return std::nullopt;
  int32_t x = k.inputs[0];
  if (x < 0 || s.inputs[0] < 0) return std::nullopt;
  if (c.sg.tensors[x].type != DType::kFloat32 ||
      c.sg.tensors[x].shape != c.sg.tensors[s.outputs[0]].shape ||
      c.sg.tensors[s.inputs[0]].shape != c.sg.tensors[x].shape) {
    return std::nullopt;
  }
  float pos = ge ? 1.0f : -1.0f;
  if (!AllOf(c.ConstFloats(s.inputs[1]), pos) || !AllOf(c.ConstFloats(s.inputs[2]), -pos))
    return std::nullopt;
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

}  // namespace

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

}  // namespace xbnn::passes::convert_internal
