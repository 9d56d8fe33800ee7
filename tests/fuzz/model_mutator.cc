#include "model_mutator.h"

#include <flatbuffers/flexbuffers.h>

#include <limits>
#include <utility>

#include "format/model_io.h"
#include "graph/lce_options.h"
#include "graph/op_signature.h"

namespace xbnn::fuzz {
namespace {

using graph::Graph;

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}
size_t Below(std::mt19937& rng, size_t n) {
  return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}
bool Chance(std::mt19937& rng, int one_in) { return Below(rng, static_cast<size_t>(one_in)) == 0; }

// Values that sit on the edges of what a field may hold.
int64_t EdgeInt(std::mt19937& rng, int64_t current) {
  const std::vector<int64_t> v = {0,
                                  1,
                                  -1,
                                  2,
                                  3,
                                  4,
                                  static_cast<int64_t>(static_cast<uint64_t>(current) + 1),
                                  static_cast<int64_t>(static_cast<uint64_t>(current) - 1),
                                  static_cast<int64_t>(static_cast<uint64_t>(current) * 2),
                                  32,
                                  33,
                                  64,
                                  255,
                                  256,
                                  1 << 16,
                                  1 << 20,
                                  std::numeric_limits<int32_t>::max(),
                                  std::numeric_limits<int32_t>::min(),
                                  std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<int64_t>::min()};
  return Pick(rng, v);
}
double EdgeFloat(std::mt19937& rng) {
  const std::vector<double> v = {0.0,
                                 -1.0,
                                 1e-30,
                                 1e30,
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 std::numeric_limits<double>::quiet_NaN(),
                                 0.5,
                                 1.0,
                                 2.0};
  return Pick(rng, v);
}
int32_t EdgeDim(std::mt19937& rng, int32_t current) {
  // Neighbours wrap like the int32 fields they land in (no signed overflow here).
  auto wrap = [](int64_t v) {
    return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v)));
  };
  const std::vector<int32_t> v = {0,
                                  1,
                                  2,
                                  3,
                                  -1,
                                  wrap(int64_t{current} + 1),
                                  wrap(int64_t{current} - 1),
                                  wrap(int64_t{current} * 2),
                                  32,
                                  33,
                                  1000,
                                  1 << 16,
                                  1 << 20,
                                  std::numeric_limits<int32_t>::max()};
  return Pick(rng, v);
}

// A tensor index: usually a real one, sometimes absent (-1) or out of range.
int32_t EdgeTensor(std::mt19937& rng, size_t n) {
  switch (Below(rng, 6)) {
    case 0:
      return -1;
    case 1:
      return static_cast<int32_t>(n);
    case 2:
      return static_cast<int32_t>(EdgeInt(rng, 0));
    default:
      return static_cast<int32_t>(Below(rng, n));
  }
}

// LCE FlexBuffer options: the map's integer entries, rebuilt with one key dropped, retyped or set
// to an edge value, or an unknown key added.
std::vector<uint8_t> MutateLceOptions(std::span<const uint8_t> bytes, std::mt19937& rng) {
  static const std::vector<std::string> kKeys = {
      "channels_in",           "stride_height", "stride_width", "dilation_height_factor",
      "dilation_width_factor", "padding",       "pad_values",   "fused_activation_function",
      "filter_height",         "filter_width"};
  std::vector<std::pair<std::string, int64_t>> entries;
  if (!bytes.empty() && flexbuffers::VerifyBuffer(bytes.data(), bytes.size())) {
    auto root = flexbuffers::GetRoot(bytes.data(), bytes.size());
    // The same checks as the parser: every key a string inside the buffer.
    if (root.IsMap() && graph::ParseLceBMaxPool2dOptions(bytes).status().message().find(
                            "not a string inside") == std::string::npos) {
      auto m = root.AsMap();
      auto keys = m.Keys();
      for (size_t i = 0; i < keys.size(); ++i) {
        // Only integers are read back (AsInt64 of a NaN or infinite float is undefined).
        auto v = m.Values()[i];
        entries.emplace_back(keys[i].AsKey(), v.IsInt() || v.IsUInt() ? v.AsInt64() : 1);
      }
    }
  }
  if (entries.empty() || Chance(rng, 8)) {
    entries.clear();
    for (const std::string& k : kKeys) entries.emplace_back(k, 1);
  }
  const size_t target = Below(rng, entries.size());
  const size_t how = Below(rng, 8);
  flexbuffers::Builder fbb;
  fbb.Map([&]() {
    for (size_t i = 0; i < entries.size(); ++i) {
      const char* key = entries[i].first.c_str();
      if (i != target) {
        fbb.Int(key, entries[i].second);
        continue;
      }
      switch (how) {
        case 0:
          break;  // dropped
        case 1:
          fbb.String(key, Chance(rng, 2) ? "SAME" : "VALID");
          break;
        case 2:
          fbb.Double(key, EdgeFloat(rng));
          break;
        case 3:
          fbb.Bool(key, Chance(rng, 2));
          break;
        case 4:
          fbb.UInt(key, std::numeric_limits<uint64_t>::max() - Below(rng, 3));
          break;
        case 5:
          fbb.Int(key, entries[i].second);
          fbb.Int("unknown_key", 7);
          break;
        default:
          fbb.Int(key, EdgeInt(rng, entries[i].second));
          break;
      }
    }
  });
  fbb.Finish();
  return fbb.GetBuffer();
}

std::string MutateOnce(Graph& g, std::mt19937& rng) {
  if (g.subgraphs.empty()) return "nothing to edit";
  graph::Subgraph& sg = g.subgraphs[Below(rng, g.subgraphs.size())];
  const size_t nt = sg.tensors.size();
  switch (Below(rng, 12)) {
    case 0: {  // a tensor's shape
      if (nt == 0) break;
      graph::Tensor& t = sg.tensors[Below(rng, nt)];
      if (t.shape.empty() || Chance(rng, 5)) {
        if (Chance(rng, 2) && !t.shape.empty())
          t.shape.pop_back();
        else
          t.shape.push_back(EdgeDim(rng, 1));
      } else {
        int32_t& d = t.shape[Below(rng, t.shape.size())];
        d = EdgeDim(rng, d);
      }
      if (Chance(rng, 3)) t.shape_signature = t.shape;
      return "tensor shape";
    }
    case 1: {  // a tensor's type
      if (nt == 0) break;
      sg.tensors[Below(rng, nt)].type = static_cast<graph::DType>(Below(rng, 18));
      return "tensor type";
    }
    case 2: {  // a tensor's buffer
      if (nt == 0) break;
      graph::Tensor& t = sg.tensors[Below(rng, nt)];
      t.buffer = Chance(rng, 3) ? 0 : static_cast<uint32_t>(Below(rng, g.buffers.size() + 2));
      return "tensor buffer";
    }
    case 3: {  // an op's input or output index
      if (sg.operators.empty()) break;
      graph::Operator& op = sg.operators[Below(rng, sg.operators.size())];
      std::vector<int32_t>& list = Chance(rng, 4) ? op.outputs : op.inputs;
      if (list.empty() || Chance(rng, 6)) {
        if (Chance(rng, 2) && !list.empty())
          list.pop_back();
        else
          list.push_back(EdgeTensor(rng, nt));
      } else {
        list[Below(rng, list.size())] = EdgeTensor(rng, nt);
      }
      return "op tensor index";
    }
    case 4: {  // an op's opcode index, or an operator code
      if (!sg.operators.empty() && Chance(rng, 2)) {
        sg.operators[Below(rng, sg.operators.size())].opcode_index =
            static_cast<uint32_t>(Below(rng, g.operator_codes.size() + 1));
        return "opcode index";
      }
      if (g.operator_codes.empty()) break;
      graph::OperatorCode& c = g.operator_codes[Below(rng, g.operator_codes.size())];
      static const std::vector<std::string> kCustom = {"LceQuantize", "LceDequantize", "LceBconv2d",
                                                       "LceBMaxPool2d"};
      if (Chance(rng, 2)) {
        c.builtin = graph::op::kCustom;
        c.custom_code = Pick(rng, kCustom);
      } else {
        static const std::vector<int32_t> kCodes = {0,  1,  2,  3,   4,   6,   9,   14, 17, 18,
                                                    19, 22, 25, 34,  37,  38,  39,  40, 45, 49,
                                                    60, 77, 83, 101, 102, 114, 123, 158};
        c.builtin = Pick(rng, kCodes);
        c.custom_code.clear();
      }
      return "operator code";
    }
    case 5: {  // builtin options: the union type or one field
      if (sg.operators.empty()) break;
      graph::BuiltinOptions& o = sg.operators[Below(rng, sg.operators.size())].builtin_options;
      if (o.fields.empty() || Chance(rng, 4)) {
        o.type = static_cast<uint8_t>(Below(rng, 125));
        o.fields.clear();
        return "options type";
      }
      auto& value = o.fields[Below(rng, o.fields.size())].second;
      if (auto* i = std::get_if<int64_t>(&value)) *i = EdgeInt(rng, *i) & 0xff;
      if (Chance(rng, 2)) {
        if (auto* i = std::get_if<int64_t>(&value)) *i = EdgeInt(rng, *i);
      }
      if (auto* d = std::get_if<double>(&value)) *d = EdgeFloat(rng);
      if (auto* v = std::get_if<std::vector<int32_t>>(&value)) {
        if (v->empty() || Chance(rng, 3))
          v->push_back(EdgeDim(rng, 1));
        else
          (*v)[Below(rng, v->size())] = EdgeDim(rng, (*v)[0]);
      }
      return "options field";
    }
    case 6: {  // quantization
      if (nt == 0) break;
      graph::Tensor& t = sg.tensors[Below(rng, nt)];
      if (!t.quantization || Chance(rng, 5)) {
        if (t.quantization && Chance(rng, 2)) {
          t.quantization.reset();
          return "quantization removed";
        }
        t.quantization = graph::Quantization{};
        t.quantization->scale = {static_cast<float>(EdgeFloat(rng))};
        t.quantization->zero_point = {EdgeInt(rng, 0)};
        return "quantization added";
      }
      graph::Quantization& q = *t.quantization;
      switch (Below(rng, 4)) {
        case 0:
          if (!q.scale.empty())
            q.scale[Below(rng, q.scale.size())] = static_cast<float>(EdgeFloat(rng));
          break;
        case 1:
          if (!q.zero_point.empty())
            q.zero_point[Below(rng, q.zero_point.size())] = EdgeInt(rng, 0);
          break;
        case 2:
          q.quantized_dimension = static_cast<int32_t>(EdgeInt(rng, q.quantized_dimension));
          break;
        default:
          q.scale.push_back(1.0f);
          q.zero_point.push_back(0);
          break;
      }
      return "quantization";
    }
    case 7: {  // LCE options
      std::vector<graph::Operator*> custom;
      for (graph::Operator& op : sg.operators) {
        if (op.opcode_index < g.operator_codes.size() && g.CodeOf(op).builtin == graph::op::kCustom)
          custom.push_back(&op);
      }
      if (custom.empty()) break;
      graph::Operator& op = *custom[Below(rng, custom.size())];
      op.custom_options = MutateLceOptions(op.custom_options, rng);
      return "LCE options";
    }
    case 8: {  // subgraph inputs and outputs
      std::vector<int32_t>& list = Chance(rng, 2) ? sg.inputs : sg.outputs;
      if (list.empty() || Chance(rng, 5))
        list.push_back(EdgeTensor(rng, nt));
      else
        list[Below(rng, list.size())] = EdgeTensor(rng, nt);
      return "subgraph io";
    }
    case 9: {  // a constant buffer's size
      if (g.buffers.size() < 2) break;
      graph::Buffer& b = g.buffers[1 + Below(rng, g.buffers.size() - 1)];
      std::vector<uint8_t> bytes(b.bytes().begin(), b.bytes().end());
      if (bytes.empty() || Chance(rng, 2))
        bytes.resize(bytes.size() + 4 * (1 + Below(rng, 8)), 0xA5);
      else
        bytes.resize(Below(rng, bytes.size()));
      b = graph::Buffer::Owned(std::move(bytes));
      return "buffer size";
    }
    case 10: {  // constant data: thresholds, filters and scales drive kernels
      if (g.buffers.size() < 2) break;
      graph::Buffer& b = g.buffers[1 + Below(rng, g.buffers.size() - 1)];
      std::vector<uint8_t> bytes(b.bytes().begin(), b.bytes().end());
      if (bytes.size() < 4) break;
      const size_t at = Below(rng, bytes.size() / 4) * 4;
      const int32_t v = static_cast<int32_t>(EdgeInt(rng, 0));
      for (int k = 0; k < 4; ++k)
        bytes[at + k] = static_cast<uint8_t>(static_cast<uint32_t>(v) >> (8 * k));
      b = graph::Buffer::Owned(std::move(bytes));
      return "buffer data";
    }
    default: {  // signature def tensor indices
      if (g.signature_defs.empty()) break;
      auto& sd = g.signature_defs[Below(rng, g.signature_defs.size())];
      auto& list = Chance(rng, 2) ? sd.inputs : sd.outputs;
      if (list.empty()) break;
      list[Below(rng, list.size())].tensor_index = static_cast<uint32_t>(EdgeTensor(rng, nt));
      return "signature";
    }
  }
  return "no edit";
}

}  // namespace

std::string MutateGraph(Graph& g, std::mt19937& rng) {
  std::string what;
  const size_t n = 1 + Below(rng, 3);
  for (size_t i = 0; i < n; ++i) what = MutateOnce(g, rng);
  return what;
}

std::vector<uint8_t> MutateModelBytes(std::span<const uint8_t> bytes, uint32_t seed,
                                      std::string* what) {
  auto g = format::ReadModelUnvalidated(bytes);
  if (!g.ok()) return {};
  std::mt19937 rng(seed);
  std::string w = MutateGraph(*g, rng);
  if (what) *what = w;
  auto out = format::WriteModelUnvalidated(*g);
  if (!out.ok()) return {};
  return std::move(*out);
}

std::vector<Mutant> AbsentInputMutants(std::span<const uint8_t> bytes) {
  std::vector<Mutant> out;
  auto g = format::ReadModelUnvalidated(bytes);
  if (!g.ok()) return out;
  for (size_t s = 0; s < g->subgraphs.size(); ++s) {
    for (size_t oi = 0; oi < g->subgraphs[s].operators.size(); ++oi) {
      const graph::Operator& op = g->subgraphs[s].operators[oi];
      if (op.opcode_index >= g->operator_codes.size()) continue;
      const graph::OpSignature* sig = graph::FindOpSignature(g->CodeOf(op));
      if (!sig) continue;
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        if (op.inputs[k] < 0 || sig->MayBeAbsent(k)) continue;
        Graph copy = *g;
        copy.subgraphs[s].operators[oi].inputs[k] = -1;
        auto w = format::WriteModelUnvalidated(copy);
        if (!w.ok()) continue;
        std::string label =
            (g->subgraphs.size() > 1 ? "subgraph " + std::to_string(s) + " " : std::string()) +
            "op " + std::to_string(oi) + " (" + g->OpName(op) + ") input " + std::to_string(k);
        out.push_back({std::move(label), std::move(*w)});
      }
    }
  }
  return out;
}

}  // namespace xbnn::fuzz
