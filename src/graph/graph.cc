#include "graph/graph.h"

#include <array>
#include <cmath>
#include <cstring>
#include <sstream>

namespace xbnn::graph {

const char* DTypeName(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat16: return "float16";
    case DType::kInt32: return "int32";
    case DType::kUInt8: return "uint8";
    case DType::kInt64: return "int64";
    case DType::kString: return "string";
    case DType::kBool: return "bool";
    case DType::kInt16: return "int16";
    case DType::kComplex64: return "complex64";
    case DType::kInt8: return "int8";
    case DType::kFloat64: return "float64";
    case DType::kComplex128: return "complex128";
    case DType::kUInt64: return "uint64";
    case DType::kResource: return "resource";
    case DType::kVariant: return "variant";
    case DType::kUInt32: return "uint32";
    case DType::kUInt16: return "uint16";
    case DType::kInt4: return "int4";
  }
  return "unknown";
}

int DTypeSize(DType t) {
  switch (t) {
    case DType::kFloat32: case DType::kInt32: case DType::kUInt32: return 4;
    case DType::kFloat16: case DType::kInt16: case DType::kUInt16: return 2;
    case DType::kUInt8: case DType::kInt8: case DType::kBool: return 1;
    case DType::kInt64: case DType::kUInt64: case DType::kFloat64: case DType::kComplex64: return 8;
    case DType::kComplex128: return 16;
    default: return 0;
  }
}

namespace {

// TFLite's BuiltinOperator names, indexed by code.
constexpr std::array kBuiltinOpNames = {"ADD",
                                        "AVERAGE_POOL_2D",
                                        "CONCATENATION",
                                        "CONV_2D",
                                        "DEPTHWISE_CONV_2D",
                                        "DEPTH_TO_SPACE",
                                        "DEQUANTIZE",
                                        "EMBEDDING_LOOKUP",
                                        "FLOOR",
                                        "FULLY_CONNECTED",
                                        "HASHTABLE_LOOKUP",
                                        "L2_NORMALIZATION",
                                        "L2_POOL_2D",
                                        "LOCAL_RESPONSE_NORMALIZATION",
                                        "LOGISTIC",
                                        "LSH_PROJECTION",
                                        "LSTM",
                                        "MAX_POOL_2D",
                                        "MUL",
                                        "RELU",
                                        "RELU_N1_TO_1",
                                        "RELU6",
                                        "RESHAPE",
                                        "RESIZE_BILINEAR",
                                        "RNN",
                                        "SOFTMAX",
                                        "SPACE_TO_DEPTH",
                                        "SVDF",
                                        "TANH",
                                        "CONCAT_EMBEDDINGS",
                                        "SKIP_GRAM",
                                        "CALL",
                                        "CUSTOM",
                                        "EMBEDDING_LOOKUP_SPARSE",
                                        "PAD",
                                        "UNIDIRECTIONAL_SEQUENCE_RNN",
                                        "GATHER",
                                        "BATCH_TO_SPACE_ND",
                                        "SPACE_TO_BATCH_ND",
                                        "TRANSPOSE",
                                        "MEAN",
                                        "SUB",
                                        "DIV",
                                        "SQUEEZE",
                                        "UNIDIRECTIONAL_SEQUENCE_LSTM",
                                        "STRIDED_SLICE",
                                        "BIDIRECTIONAL_SEQUENCE_RNN",
                                        "EXP",
                                        "TOPK_V2",
                                        "SPLIT",
                                        "LOG_SOFTMAX",
                                        "DELEGATE",
                                        "BIDIRECTIONAL_SEQUENCE_LSTM",
                                        "CAST",
                                        "PRELU",
                                        "MAXIMUM",
                                        "ARG_MAX",
                                        "MINIMUM",
                                        "LESS",
                                        "NEG",
                                        "PADV2",
                                        "GREATER",
                                        "GREATER_EQUAL",
                                        "LESS_EQUAL",
                                        "SELECT",
                                        "SLICE",
                                        "SIN",
                                        "TRANSPOSE_CONV",
                                        "SPARSE_TO_DENSE",
                                        "TILE",
                                        "EXPAND_DIMS",
                                        "EQUAL",
                                        "NOT_EQUAL",
                                        "LOG",
                                        "SUM",
                                        "SQRT",
                                        "RSQRT",
                                        "SHAPE",
                                        "POW",
                                        "ARG_MIN",
                                        "FAKE_QUANT",
                                        "REDUCE_PROD",
                                        "REDUCE_MAX",
                                        "PACK",
                                        "LOGICAL_OR",
                                        "ONE_HOT",
                                        "LOGICAL_AND",
                                        "LOGICAL_NOT",
                                        "UNPACK",
                                        "REDUCE_MIN",
                                        "FLOOR_DIV",
                                        "REDUCE_ANY",
                                        "SQUARE",
                                        "ZEROS_LIKE",
                                        "FILL",
                                        "FLOOR_MOD",
                                        "RANGE",
                                        "RESIZE_NEAREST_NEIGHBOR",
                                        "LEAKY_RELU",
                                        "SQUARED_DIFFERENCE",
                                        "MIRROR_PAD",
                                        "ABS",
                                        "SPLIT_V",
                                        "UNIQUE",
                                        "CEIL",
                                        "REVERSE_V2",
                                        "ADD_N",
                                        "GATHER_ND",
                                        "COS",
                                        "WHERE",
                                        "RANK",
                                        "ELU",
                                        "REVERSE_SEQUENCE",
                                        "MATRIX_DIAG",
                                        "QUANTIZE",
                                        "MATRIX_SET_DIAG",
                                        "ROUND",
                                        "HARD_SWISH",
                                        "IF",
                                        "WHILE",
                                        "NON_MAX_SUPPRESSION_V4",
                                        "NON_MAX_SUPPRESSION_V5",
                                        "SCATTER_ND",
                                        "SELECT_V2",
                                        "DENSIFY",
                                        "SEGMENT_SUM",
                                        "BATCH_MATMUL",
                                        "PLACEHOLDER_FOR_GREATER_OP_CODES",
                                        "CUMSUM",
                                        "CALL_ONCE",
                                        "BROADCAST_TO",
                                        "RFFT2D",
                                        "CONV_3D",
                                        "IMAG",
                                        "REAL",
                                        "COMPLEX_ABS",
                                        "HASHTABLE",
                                        "HASHTABLE_FIND",
                                        "HASHTABLE_IMPORT",
                                        "HASHTABLE_SIZE",
                                        "REDUCE_ALL",
                                        "CONV_3D_TRANSPOSE",
                                        "VAR_HANDLE",
                                        "READ_VARIABLE",
                                        "ASSIGN_VARIABLE",
                                        "BROADCAST_ARGS",
                                        "RANDOM_STANDARD_NORMAL",
                                        "BUCKETIZE",
                                        "RANDOM_UNIFORM",
                                        "MULTINOMIAL",
                                        "GELU",
                                        "DYNAMIC_UPDATE_SLICE",
                                        "RELU_0_TO_1",
                                        "UNSORTED_SEGMENT_PROD",
                                        "UNSORTED_SEGMENT_MAX",
                                        "UNSORTED_SEGMENT_SUM",
                                        "ATAN2",
                                        "UNSORTED_SEGMENT_MIN",
                                        "SIGN",
                                        "BITCAST",
                                        "BITWISE_XOR",
                                        "RIGHT_SHIFT"};

}  // namespace

const char* BuiltinOpName(int32_t code) {
  if (code >= 0 && code < static_cast<int32_t>(kBuiltinOpNames.size()))
    return kBuiltinOpNames[code];
  return "UNKNOWN_BUILTIN";
}

int64_t Tensor::NumElements() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

Buffer Buffer::Owned(std::vector<uint8_t> data) {
  Buffer b;
  b.owned = std::make_shared<const std::vector<uint8_t>>(std::move(data));
  return b;
}

namespace {
const OptionValue* Find(const BuiltinOptions& o, const std::string& name) {
  for (const auto& [n, v] : o.fields) {
    if (n == name) return &v;
  }
  return nullptr;
}
}  // namespace

int64_t BuiltinOptions::GetInt(const std::string& name, int64_t fallback) const {
  const OptionValue* v = Find(*this, name);
  if (v && std::holds_alternative<int64_t>(*v)) return std::get<int64_t>(*v);
  return fallback;
}

double BuiltinOptions::GetFloat(const std::string& name, double fallback) const {
  const OptionValue* v = Find(*this, name);
  if (v && std::holds_alternative<double>(*v)) return std::get<double>(*v);
  return fallback;
}

const std::vector<int32_t>* BuiltinOptions::GetInts(const std::string& name) const {
  const OptionValue* v = Find(*this, name);
  if (v && std::holds_alternative<std::vector<int32_t>>(*v)) return &std::get<std::vector<int32_t>>(*v);
  return nullptr;
}

void BuiltinOptions::Set(const std::string& name, OptionValue value) {
  for (auto& [n, v] : fields) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  fields.emplace_back(name, std::move(value));
}

namespace {
bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}
}  // namespace

bool Quantization::operator==(const Quantization& o) const {
  return SameBits(min, o.min) && SameBits(max, o.max) && SameBits(scale, o.scale) && zero_point == o.zero_point &&
         quantized_dimension == o.quantized_dimension;
}

bool BuiltinOptions::operator==(const BuiltinOptions& other) const {
  if (type != other.type || unmodeled != other.unmodeled || fields.size() != other.fields.size()) return false;
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& [n1, v1] = fields[i];
    const auto& [n2, v2] = other.fields[i];
    if (n1 != n2 || v1.index() != v2.index()) return false;
    if (const double* a = std::get_if<double>(&v1)) {
      double b = std::get<double>(v2);
      if (!(*a == b || (std::isnan(*a) && std::isnan(b)))) return false;
    } else if (!(v1 == v2)) {
      return false;
    }
  }
  return true;
}

std::string Graph::OpName(const Operator& op) const {
  if (op.opcode_index >= operator_codes.size()) return "INVALID_OPCODE";
  const OperatorCode& c = operator_codes[op.opcode_index];
  if (c.builtin == op::kCustom) return c.custom_code;
  return BuiltinOpName(c.builtin);
}

bool Graph::IsCustom(const Operator& op, const char* custom_code) const {
  if (op.opcode_index >= operator_codes.size()) return false;
  const OperatorCode& c = operator_codes[op.opcode_index];
  return c.builtin == op::kCustom && c.custom_code == custom_code;
}

bool GraphsEqual(const Graph& a, const Graph& b, std::string* difference) {
  auto differ = [&](const std::string& what) {
    if (difference) *difference = what;
    return false;
  };
  if (a.version != b.version) return differ("version");
  if (a.operator_codes != b.operator_codes) return differ("operator_codes");
  if (a.description != b.description) return differ("description");
  if (a.metadata_buffer != b.metadata_buffer) return differ("metadata_buffer");
  if (a.metadata != b.metadata) return differ("metadata");
  if (a.signature_defs != b.signature_defs) return differ("signature_defs");
  if (a.buffers.size() != b.buffers.size()) return differ("buffer count");
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    auto x = a.buffers[i].bytes(), y = b.buffers[i].bytes();
    if (!std::equal(x.begin(), x.end(), y.begin(), y.end())) {
      return differ("buffer " + std::to_string(i));
    }
  }
  if (a.subgraphs.size() != b.subgraphs.size()) return differ("subgraph count");
  for (size_t s = 0; s < a.subgraphs.size(); ++s) {
    const Subgraph& x = a.subgraphs[s];
    const Subgraph& y = b.subgraphs[s];
    std::string where = "subgraph " + std::to_string(s) + ": ";
    if (x.name != y.name) return differ(where + "name");
    if (x.inputs != y.inputs || x.outputs != y.outputs) return differ(where + "inputs/outputs");
    if (x.tensors.size() != y.tensors.size()) return differ(where + "tensor count");
    for (size_t t = 0; t < x.tensors.size(); ++t) {
      if (!(x.tensors[t] == y.tensors[t])) {
        return differ(where + "tensor " + std::to_string(t) + " '" + x.tensors[t].name + "'");
      }
    }
    if (x.operators.size() != y.operators.size()) return differ(where + "operator count");
    for (size_t o = 0; o < x.operators.size(); ++o) {
      const Operator& p = x.operators[o];
      const Operator& q = y.operators[o];
      if (p == q) continue;
      std::string what = p.opcode_index != q.opcode_index                   ? "opcode index"
                         : p.inputs != q.inputs || p.outputs != q.outputs   ? "inputs/outputs"
                         : p.custom_options != q.custom_options             ? "custom options"
                         : p.lce_options != q.lce_options                   ? "parsed LCE options"
                         : p.builtin_options.type != q.builtin_options.type ? "builtin options type"
                         : !(p.builtin_options == q.builtin_options)
                             ? "builtin options"
                             : "intermediates/mutating inputs";
      return differ(where + "operator " + std::to_string(o) + " (" + what + ")");
    }
  }
  return true;
}

}  // namespace xbnn::graph
