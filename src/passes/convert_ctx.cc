// The conversion pass's working state (Ctx) and the small helpers its patterns share.
#include <algorithm>
#include <cstring>
#include <queue>
#include <set>
#include <sstream>

#include "graph/lce_options.h"
#include "passes/convert_internal.h"

namespace xbnn::passes::convert_internal {

namespace op = graph::op;
using graph::DType;
using graph::Operator;
using graph::Tensor;

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
    case 0:
      return "NONE";
    case 1:
      return "RELU";
    case 2:
      return "RELU_N1_TO_1";
    case 3:
      return "RELU6";
    case 4:
      return "TANH";
    case 5:
      return "SIGN_BIT";
  }
  return "unknown";
}

int32_t ActivationOpCode(int a) {
  switch (a) {
    case 1:
      return op::kRelu;
    case 2:
      return op::kReluN1To1;
    case 3:
      return op::kRelu6;
  }
  return -1;
}

int ActivationOfOp(int32_t builtin) {
  if (builtin == op::kRelu) return 1;
  if (builtin == op::kReluN1To1) return 2;
  if (builtin == op::kRelu6) return 3;
  return 0;
}

bool AllEqual(const std::vector<float>& v, float x) {
  return std::all_of(v.begin(), v.end(), [x](float e) { return e == x; });
}

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

bool Ctx::IsBuiltin(int o, int32_t code) const {
  return Live(o) && Builtin(o) == code && code != op::kCustom;
}

bool Ctx::IsCustom(int o, const char* code) const {
  return Live(o) && g.IsCustom(sg.operators[o], code);
}

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
  return x.buffer != 0 && x.buffer < g.buffers.size() && !g.buffers[x.buffer].empty() &&
         !x.is_variable && Producer(t) < 0;
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
  static const std::set<int32_t> kRemovable = {op::kSign,
                                               op::kAdd,
                                               op::kSub,
                                               op::kMul,
                                               op::kDiv,
                                               op::kPad,
                                               op::kPadV2,
                                               op::kSpaceToBatchND,
                                               op::kBatchToSpaceND,
                                               op::kQuantize,
                                               op::kDequantize,
                                               op::kMaxPool2D,
                                               op::kRelu,
                                               op::kRelu6,
                                               op::kReluN1To1,
                                               op::kGreaterEqual,
                                               op::kLess,
                                               op::kSelect,
                                               op::kSelectV2,
                                               op::kConv2D,
                                               op::kMean,
                                               op::kReshape,
                                               op::kSqueeze};
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

}  // namespace xbnn::passes::convert_internal
