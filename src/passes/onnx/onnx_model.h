// A read, checked ONNX model in plain C++ values: what the ONNX importer works on. Parsing goes
// through ONNX's protobuf definitions; everything after that (validation, constant data, a
// topological node order) is xbnn's own, so that a malformed file gets a clear error here and
// the importer can trust what it reads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "xbnn/status.h"

namespace xbnn::onnx_import {

// Constant data: floats (float32/float64/float16 read as float) or integers (int64/int32/bool...).
struct Constant {
  std::vector<int64_t> dims;
  // The ONNX data type (onnx::TensorProto::DataType, 1 = float32): float16 and double data are
  // held as float, yet ONNX's type constraints (e.g. Conv's weights have its input's type) apply
  // to the type in the file.
  int elem_type = 1;
  bool is_float = true;
  std::vector<float> f;
  std::vector<int64_t> i;

  int64_t NumElements() const;
  size_t size() const { return is_float ? f.size() : i.size(); }
  double at(size_t k) const { return is_float ? f[k] : static_cast<double>(i[k]); }
  // The values as integers (axes, shapes): integer data as it is (through at(), values past 2^53
  // would round and INT64_MAX would overflow converting back); float data truncated, saturated
  // where int64 cannot hold it (NaN: INT64_MIN), for the callers' shape checks to refuse.
  std::vector<int64_t> Ints() const;
};

// "float32", "double", "float16", ... for messages.
std::string ElemTypeName(int elem_type);

struct Attribute {
  std::string name;
  int type = 0;  // onnx::AttributeProto::AttributeType
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::optional<Constant> t;
};

struct Node {
  std::string name, op_type, domain;
  std::vector<std::string> inputs, outputs;  // "" for an absent optional input
  std::vector<Attribute> attributes;
  // Position in the file's graph: messages name it, since Model::nodes may be reordered.
  size_t index = 0;

  const Attribute* Find(const std::string& attr) const;
  int64_t Int(const std::string& attr, int64_t fallback) const;
  float Float(const std::string& attr, float fallback) const;
  std::string String(const std::string& attr, const std::string& fallback) const;
  std::vector<int64_t> Ints(const std::string& attr, std::vector<int64_t> fallback = {}) const;
  // "node 4 'Conv_3' (Conv)": the node by its position in the file.
  std::string Label() const;
};

struct ValueInfo {
  std::string name;
  int elem_type = 0;          // onnx::TensorProto::DataType; 1 = float
  std::vector<int64_t> dims;  // -1 for a symbolic or unknown dimension
  bool has_shape = false;
};

struct Model {
  int64_t opset = 0;  // of the default (ai.onnx) domain
  int64_t ir_version = 0;
  std::string producer;
  std::vector<Node> nodes;  // in a topological order (the file's order where it already is one)
  std::map<std::string, Constant> initializers;  // initializers and Constant nodes
  std::vector<ValueInfo> inputs, outputs;        // graph inputs that are not initializers; outputs
};

struct ReadLimits {
  int64_t max_bytes = int64_t{2} << 30;
  int64_t max_nodes = 1 << 20;
  int64_t max_constant_elements = int64_t{1} << 30;  // all constants together
  int max_rank = 8;
  // Directory of the model file, where initializers stored as external data (the .onnx.data file
  // torch.onnx.export writes beside the model) are read from; "" refuses external data. Only
  // plain relative locations inside this directory are read.
  std::string external_data_dir;
};

inline constexpr int64_t kMinOpset = 13, kMaxOpset = 23;

// True when the bytes are a TFLite flatbuffer (file identifier "TFL3").
bool LooksLikeTflite(std::span<const uint8_t> bytes);
// True when the bytes look like an ONNX ModelProto rather than a TFLite flatbuffer.
bool LooksLikeOnnx(std::span<const uint8_t> bytes);

// Parses and checks: protobuf well-formed, opset in [kMinOpset, kMaxOpset], every node input
// provided by a graph input, an initializer or an earlier node, no value written twice, no cycle,
// constants of the size their dims say and no external data.
Result<Model> ReadOnnx(std::span<const uint8_t> bytes, const ReadLimits& limits = {});

}  // namespace xbnn::onnx_import
