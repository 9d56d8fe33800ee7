// ONNX protobuf -> onnx_import::Model, with the checks of onnx_model.h.
#include "passes/onnx/onnx_model.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <unordered_map>

namespace xbnn::onnx_import {
namespace {

float HalfToFloat(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
  }
  return sign ? -v : v;
}

Result<Constant> ReadTensor(const onnx::TensorProto& t, int max_rank, int64_t* budget);

// A tensor whose data lives in an external file: that data read into raw_data, then ReadTensor.
Result<Constant> ReadExternalTensor(const onnx::TensorProto& t, const ReadLimits& limits,
                                    int64_t* budget) {
  const std::string what = "constant '" + t.name() + "'";
  if (limits.external_data_dir.empty()) {
    return Status::Error(
        what +
        " keeps its data in an external file; convert the model from its file path "
        "(the data file beside it), or export with external_data=False");
  }
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& e : t.external_data()) {
    if (e.key() == "location") location = e.value();
    if (e.key() == "offset" || e.key() == "length") {
      char* end = nullptr;
      long long v = std::strtoll(e.value().c_str(), &end, 10);
      if (e.value().empty() || *end != 0 || v < 0)
        return Status::Error(what + ": bad external data " + e.key());
      (e.key() == "offset" ? offset : length) = v;
    }
  }
  const std::filesystem::path rel(location);
  if (location.empty() || rel.is_absolute() || location.find("..") != std::string::npos) {
    return Status::Error(what + ": external data location '" + location +
                         "' is not a plain relative path beside the model");
  }
  const std::filesystem::path file = std::filesystem::path(limits.external_data_dir) / rel;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return Status::Error(what + ": cannot read external data file '" + file.string() + "'");
  if (length < 0) length = static_cast<int64_t>(size) - offset;
  if (offset > static_cast<int64_t>(size) || length > static_cast<int64_t>(size) - offset ||
      length > limits.max_bytes) {
    return Status::Error(what + ": external data range is outside '" + file.string() + "'");
  }
  std::ifstream in(file, std::ios::binary);
  std::string raw(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  if (!in.read(raw.data(), length))
    return Status::Error(what + ": cannot read external data from '" + file.string() + "'");
  onnx::TensorProto local = t;
  local.clear_external_data();
  local.set_data_location(onnx::TensorProto_DataLocation_DEFAULT);
  local.set_raw_data(std::move(raw));
  return ReadTensor(local, limits.max_rank, budget);
}

// Reads a TensorProto's data; `budget` is what the constant may still hold.
Result<Constant> ReadTensor(const onnx::TensorProto& t, int max_rank, int64_t* budget) {
  const std::string what = "constant '" + t.name() + "'";
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL || t.external_data_size() > 0) {
    return Status::Error(
        what + " keeps its data in an external file, which xbnn reads only for initializers");
  }
  if (t.dims_size() > max_rank)
    return Status::Error(what + " has rank " + std::to_string(t.dims_size()));
  Constant c;
  c.elem_type = t.data_type();
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && n > *budget / d)) {
      return Status::Error(what + " has a negative or too large dimension " + std::to_string(d));
    }
    n *= d;
    c.dims.push_back(d);
  }
  *budget -= n;
  const std::string& raw = t.raw_data();
  const bool has_raw = t.has_raw_data();
  auto size_error = [&](size_t got) {
    return Status::Error(what + " holds " + std::to_string(got) + " values but its dims say " +
                         std::to_string(n) + " (truncated or corrupt initializer)");
  };
  auto raw_elems = [&](size_t item) -> Result<size_t> {
    if (raw.size() != static_cast<size_t>(n) * item) return size_error(raw.size() / item);
    return static_cast<size_t>(n);
  };
  const size_t un = static_cast<size_t>(n);
  switch (t.data_type()) {
    case onnx::TensorProto_DataType_FLOAT:
      if (has_raw) {
        auto k = raw_elems(4);
        if (!k.ok()) return k.status();
        c.f.resize(un);
        if (un) std::memcpy(c.f.data(), raw.data(), raw.size());
      } else {
        if (static_cast<size_t>(t.float_data_size()) != un) return size_error(t.float_data_size());
        c.f.assign(t.float_data().begin(), t.float_data().end());
      }
      return c;
    case onnx::TensorProto_DataType_DOUBLE:
      if (has_raw) {
        auto k = raw_elems(8);
        if (!k.ok()) return k.status();
        c.f.resize(un);
        for (size_t e = 0; e < un; ++e) {
          double d;
          std::memcpy(&d, raw.data() + 8 * e, 8);
          c.f[e] = static_cast<float>(d);
        }
      } else {
        if (static_cast<size_t>(t.double_data_size()) != un)
          return size_error(t.double_data_size());
        for (double d : t.double_data()) c.f.push_back(static_cast<float>(d));
      }
      return c;
    case onnx::TensorProto_DataType_FLOAT16:
      if (has_raw) {
        auto k = raw_elems(2);
        if (!k.ok()) return k.status();
        for (size_t e = 0; e < un; ++e) {
          uint16_t h;
          std::memcpy(&h, raw.data() + 2 * e, 2);
          c.f.push_back(HalfToFloat(h));
        }
      } else {
        if (static_cast<size_t>(t.int32_data_size()) != un) return size_error(t.int32_data_size());
        for (int32_t h : t.int32_data()) c.f.push_back(HalfToFloat(static_cast<uint16_t>(h)));
      }
      return c;
    case onnx::TensorProto_DataType_INT64:
      c.is_float = false;
      if (has_raw) {
        auto k = raw_elems(8);
        if (!k.ok()) return k.status();
        c.i.resize(un);
        if (un) std::memcpy(c.i.data(), raw.data(), raw.size());
      } else {
        if (static_cast<size_t>(t.int64_data_size()) != un) return size_error(t.int64_data_size());
        c.i.assign(t.int64_data().begin(), t.int64_data().end());
      }
      return c;
    case onnx::TensorProto_DataType_INT32:
    case onnx::TensorProto_DataType_BOOL:
    case onnx::TensorProto_DataType_INT8:
    case onnx::TensorProto_DataType_UINT8: {
      c.is_float = false;
      const int dt = t.data_type();
      const size_t item = dt == onnx::TensorProto_DataType_INT32 ? 4 : 1;
      if (has_raw) {
        auto k = raw_elems(item);
        if (!k.ok()) return k.status();
        for (size_t e = 0; e < un; ++e) {
          if (item == 4) {
            int32_t v;
            std::memcpy(&v, raw.data() + 4 * e, 4);
            c.i.push_back(v);
          } else {
            c.i.push_back(dt == onnx::TensorProto_DataType_INT8 ? static_cast<int8_t>(raw[e])
                                                                : static_cast<uint8_t>(raw[e]));
          }
        }
      } else {
        if (static_cast<size_t>(t.int32_data_size()) != un) return size_error(t.int32_data_size());
        c.i.assign(t.int32_data().begin(), t.int32_data().end());
      }
      return c;
    }
    default:
      return Status::Error(
          what + " has data type " + std::to_string(t.data_type()) +
          ", which xbnn does not read (float, double, float16 and integer types only)");
  }
}

Result<Attribute> ReadAttribute(const onnx::AttributeProto& a, int max_rank, int64_t* budget) {
  Attribute r;
  r.name = a.name();
  r.type = a.type();
  r.i = a.i();
  r.f = a.f();
  r.s = a.s();
  r.ints.assign(a.ints().begin(), a.ints().end());
  r.floats.assign(a.floats().begin(), a.floats().end());
  if (a.has_t()) {
    auto t = ReadTensor(a.t(), max_rank, budget);
    if (!t.ok()) return t.status().Prefixed("attribute '" + a.name() + "': ");
    r.t = std::move(*t);
  }
  return r;
}

ValueInfo ReadValueInfo(const onnx::ValueInfoProto& v) {
  ValueInfo r;
  r.name = v.name();
  if (v.type().has_tensor_type()) {
    const auto& tt = v.type().tensor_type();
    r.elem_type = tt.elem_type();
    if (tt.has_shape()) {
      r.has_shape = true;
      for (const auto& d : tt.shape().dim())
        r.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    }
  }
  return r;
}

// Kahn's algorithm over value names; keeps the file order among ready nodes.
Status SortNodes(Model& m, const std::set<std::string>& sources) {
  const size_t n = m.nodes.size();
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < n; ++i) {
    for (const std::string& o : m.nodes[i].outputs) {
      if (o.empty()) continue;
      if (sources.count(o)) {
        return Status::Error(m.nodes[i].Label() + " writes '" + o +
                             "', which is a graph input or initializer");
      }
      if (!producer.emplace(o, i).second) {
        return Status::Error("value '" + o + "' is written by " + m.nodes[producer[o]].Label() +
                             " and by " + m.nodes[i].Label());
      }
    }
  }
  std::vector<int> missing(n, 0);
  std::vector<std::vector<size_t>> users(n);
  for (size_t i = 0; i < n; ++i) {
    for (const std::string& in : m.nodes[i].inputs) {
      if (in.empty() || sources.count(in)) continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        return Status::Error(
            m.nodes[i].Label() + " reads '" + in +
            "', which no node, graph input or initializer provides (missing initializer?)");
      }
      missing[i]++;
      users[it->second].push_back(i);
    }
  }
  std::deque<size_t> ready;
  for (size_t i = 0; i < n; ++i) {
    if (missing[i] == 0) ready.push_back(i);
  }
  std::vector<Node> sorted;
  sorted.reserve(n);
  std::vector<bool> done(n, false);
  while (!ready.empty()) {
    size_t i = ready.front();
    ready.pop_front();
    done[i] = true;
    sorted.push_back(m.nodes[i]);
    for (size_t u : users[i]) {
      if (--missing[u] == 0) ready.push_back(u);
    }
  }
  if (sorted.size() != n) {
    for (size_t i = 0; i < n; ++i) {
      if (!done[i]) return Status::Error("the graph has a cycle through " + m.nodes[i].Label());
    }
  }
  m.nodes = std::move(sorted);
  return Status::Ok();
}

}  // namespace

std::string ElemTypeName(int elem_type) {
  switch (elem_type) {
    case onnx::TensorProto_DataType_FLOAT:
      return "float32";
    case onnx::TensorProto_DataType_DOUBLE:
      return "double";
    case onnx::TensorProto_DataType_FLOAT16:
      return "float16";
    case onnx::TensorProto_DataType_BFLOAT16:
      return "bfloat16";
    case onnx::TensorProto_DataType_INT64:
      return "int64";
    case onnx::TensorProto_DataType_INT32:
      return "int32";
    case onnx::TensorProto_DataType_INT8:
      return "int8";
    case onnx::TensorProto_DataType_UINT8:
      return "uint8";
    case onnx::TensorProto_DataType_BOOL:
      return "bool";
    default:
      return "type " + std::to_string(elem_type);
  }
}

std::vector<int64_t> Constant::Ints() const {
  if (!is_float) return i;
  constexpr double kLimit = 9223372036854775808.0;  // 2^63
  std::vector<int64_t> v;
  v.reserve(f.size());
  for (float x : f) {
    const double d = x;
    v.push_back(d >= kLimit   ? std::numeric_limits<int64_t>::max()
                : d > -kLimit ? static_cast<int64_t>(d)
                              : std::numeric_limits<int64_t>::min());
  }
  return v;
}

int64_t Constant::NumElements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

const Attribute* Node::Find(const std::string& attr) const {
  for (const Attribute& a : attributes) {
    if (a.name == attr) return &a;
  }
  return nullptr;
}

int64_t Node::Int(const std::string& attr, int64_t fallback) const {
  const Attribute* a = Find(attr);
  return a ? a->i : fallback;
}

float Node::Float(const std::string& attr, float fallback) const {
  const Attribute* a = Find(attr);
  return a ? a->f : fallback;
}

std::string Node::String(const std::string& attr, const std::string& fallback) const {
  const Attribute* a = Find(attr);
  return a ? a->s : fallback;
}

std::vector<int64_t> Node::Ints(const std::string& attr, std::vector<int64_t> fallback) const {
  const Attribute* a = Find(attr);
  return a ? a->ints : fallback;
}

std::string Node::Label() const {
  return "node " + std::to_string(index) + (name.empty() ? "" : " '" + name + "'") + " (" +
         op_type + ")";
}

bool LooksLikeTflite(std::span<const uint8_t> bytes) {
  // A TFLite flatbuffer carries its file identifier "TFL3" at offset 4.
  return bytes.size() >= 8 && std::memcmp(bytes.data() + 4, "TFL3", 4) == 0;
}

bool LooksLikeOnnx(std::span<const uint8_t> bytes) {
  // An ONNX ModelProto starts with a protobuf field tag, almost always ir_version (field 1,
  // varint: 0x08).
  if (LooksLikeTflite(bytes)) return false;
  return !bytes.empty() && (bytes[0] == 0x08 || bytes[0] == 0x12 || bytes[0] == 0x1a ||
                            bytes[0] == 0x3a || bytes[0] == 0x42);
}

Result<Model> ReadOnnx(std::span<const uint8_t> bytes, const ReadLimits& limits) {
  if (bytes.empty()) return Status::Error("not an ONNX model: the file is empty");
  // Checked before parsing: protobuf's error would not say that the file is another format.
  if (LooksLikeTflite(bytes)) {
    return Status::Error(
        "this is a TFLite model, not ONNX: use it directly (xbnn run, or xbnn convert / "
        "xbnn.convert_tflite_model for a float model to convert)");
  }
  if (static_cast<int64_t>(bytes.size()) > limits.max_bytes || bytes.size() > size_t{INT32_MAX}) {
    return Status::Error("ONNX file of " + std::to_string(bytes.size()) + " bytes is too large");
  }
  onnx::ModelProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Error(
        "not an ONNX model: the protobuf does not parse (truncated or corrupt file?)");
  }
  // Many non-ONNX bytes parse as a protobuf with unknown fields only.
  if (!proto.has_graph()) return Status::Error("not an ONNX model: it has no graph");
  Model m;
  m.ir_version = proto.ir_version();
  m.producer = proto.producer_name() +
               (proto.producer_version().empty() ? "" : " " + proto.producer_version());
  bool have_opset = false;
  for (const auto& o : proto.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      m.opset = o.version();
      have_opset = true;
    }
  }
  if (!have_opset) return Status::Error("ONNX model imports no ai.onnx opset");
  if (m.opset < kMinOpset || m.opset > kMaxOpset) {
    return Status::Error("ONNX opset " + std::to_string(m.opset) +
                         " is not supported: xbnn reads opsets " + std::to_string(kMinOpset) +
                         " to " + std::to_string(kMaxOpset) +
                         " (export with torch.onnx.export(..., opset_version=13) or later)");
  }
  const onnx::GraphProto& g = proto.graph();
  if (g.node_size() > limits.max_nodes) return Status::Error("ONNX graph has too many nodes");
  int64_t budget = limits.max_constant_elements;
  std::set<std::string> sources;
  for (const auto& t : g.initializer()) {
    if (t.name().empty()) return Status::Error("ONNX initializer without a name");
    const bool external =
        t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL || t.external_data_size() > 0;
    auto c =
        external ? ReadExternalTensor(t, limits, &budget) : ReadTensor(t, limits.max_rank, &budget);
    if (!c.ok()) return c.status();
    m.initializers[t.name()] = std::move(*c);
    sources.insert(t.name());
  }
  if (g.sparse_initializer_size() > 0)
    return Status::Error("sparse initializers are not supported");
  for (const auto& v : g.input()) {
    if (m.initializers.count(v.name())) continue;
    m.inputs.push_back(ReadValueInfo(v));
    sources.insert(v.name());
  }
  for (const auto& v : g.output()) m.outputs.push_back(ReadValueInfo(v));
  if (m.outputs.empty()) return Status::Error("ONNX graph has no outputs");
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& p = g.node(i);
    Node n;
    n.name = p.name();
    n.op_type = p.op_type();
    n.domain = p.domain();
    n.inputs.assign(p.input().begin(), p.input().end());
    n.outputs.assign(p.output().begin(), p.output().end());
    n.index = static_cast<size_t>(i);
    for (const auto& a : p.attribute()) {
      auto r = ReadAttribute(a, limits.max_rank, &budget);
      if (!r.ok()) return r.status().Prefixed(n.Label() + ": ");
      n.attributes.push_back(std::move(*r));
    }
    if (!n.domain.empty() && n.domain != "ai.onnx") {
      return Status::Error(n.Label() + " is from domain '" + n.domain +
                           "', which xbnn does not read");
    }
    m.nodes.push_back(std::move(n));
  }
  XBNN_RETURN_IF_ERROR(SortNodes(m, sources));
  std::set<std::string> produced = sources;
  for (const Node& n : m.nodes) produced.insert(n.outputs.begin(), n.outputs.end());
  for (const ValueInfo& o : m.outputs) {
    if (!produced.count(o.name))
      return Status::Error("graph output '" + o.name + "' is not computed by any node");
  }
  return m;
}

}  // namespace xbnn::onnx_import
