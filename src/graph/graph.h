// In-memory model graph: what the format layer reads and writes and what passes rewrite.
// Mirrors the TFLite v3 structure (model -> subgraphs -> tensors/operators, shared buffers) but
// owns plain C++ values, so passes can edit it freely.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "graph/lce_options.h"

namespace xbnn::graph {

enum class DType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kComplex64 = 8,
  kInt8 = 9,
  kFloat64 = 10,
  kComplex128 = 11,
  kUInt64 = 12,
  kResource = 13,
  kVariant = 14,
  kUInt32 = 15,
  kUInt16 = 16,
  kInt4 = 17,
};

const char* DTypeName(DType t);
// Bytes per element, or 0 where a tensor's byte size is not shape x element size (string, int4).
int DTypeSize(DType t);

// Builtin operator codes used by name in xbnn (TFLite's BuiltinOperator values): the one list.
namespace op {
inline constexpr int32_t kAdd = 0, kAveragePool2D = 1, kConcatenation = 2, kConv2D = 3,
                         kDepthwiseConv2D = 4, kDequantize = 6, kFullyConnected = 9,
                         kLogistic = 14, kMaxPool2D = 17, kMul = 18, kRelu = 19,
                         kReluN1To1 = 20, kRelu6 = 21, kReshape = 22, kSoftmax = 25,
                         kCustom = 32, kPad = 34, kMean = 40, kSub = 41, kDiv = 42,
                         kSqueeze = 43, kStridedSlice = 45, kPrelu = 54, kMaximum = 55,
                         kMinimum = 57, kPadV2 = 60, kGreaterEqual = 62, kSelect = 64,
                         kLeakyRelu = 98, kQuantize = 114, kHardSwish = 117, kSelectV2 = 123,
                         kSign = 158;
inline constexpr int32_t kBatchToSpaceND = 37, kSpaceToBatchND = 38, kTranspose = 39, kSplit = 49,
                         kShape = 77, kPack = 83, kAbs = 101, kSplitV = 102, kLess = 58;
inline constexpr int32_t kTanh = 28, kGather = 36, kRound = 116;
}  // namespace op
const char* BuiltinOpName(int32_t code);  // "CONV_2D", or "BUILTIN_<n>" when unknown

struct Quantization {
  std::vector<float> min, max, scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  // Floats compare bit for bit, so NaN parameters survive a round trip as equal.
  bool operator==(const Quantization& other) const;
};

struct Tensor {
  std::string name;
  DType type = DType::kFloat32;
  std::vector<int32_t> shape;
  std::vector<int32_t> shape_signature;  // empty when the file has none
  uint32_t buffer = 0;                   // 0: no data (activation)
  std::optional<Quantization> quantization;
  bool is_variable = false;
  bool has_rank = false;
  bool operator==(const Tensor&) const = default;

  int64_t NumElements() const;  // product of shape (1 for a scalar)
};

// Constant data. Either a view into the model bytes (kept alive by the caller / Model) or owned
// bytes that a pass created.
struct Buffer {
  std::span<const uint8_t> view;
  std::shared_ptr<const std::vector<uint8_t>> owned;

  std::span<const uint8_t> bytes() const {
    return owned ? std::span<const uint8_t>(*owned) : view;
  }
  bool empty() const { return bytes().empty(); }
  static Buffer Owned(std::vector<uint8_t> data);
};

struct OperatorCode {
  int32_t builtin = 0;  // max(deprecated_builtin_code, builtin_code)
  std::string custom_code;
  int32_t version = 1;
  bool operator==(const OperatorCode&) const = default;
};

// One builtin option value, read generically by field id.
using OptionValue = std::variant<int64_t, double, std::vector<int32_t>>;

struct BuiltinOptions {
  uint8_t type = 0;  // TFLite BuiltinOptions union type; 0: none
  // Fields present in the file or with a known default, in field-id order.
  std::vector<std::pair<std::string, OptionValue>> fields;
  // True when the file had a table of a type xbnn does not model: it cannot be written back.
  bool unmodeled = false;

  int64_t GetInt(const std::string& name, int64_t fallback) const;
  double GetFloat(const std::string& name, double fallback) const;
  const std::vector<int32_t>* GetInts(const std::string& name) const;
  void Set(const std::string& name, OptionValue value);
  // Floats compare by value, with NaN equal to NaN (a NaN option must survive a round trip).
  bool operator==(const BuiltinOptions& other) const;
};

struct Operator {
  uint32_t opcode_index = 0;
  std::vector<int32_t> inputs;   // -1: optional input absent
  std::vector<int32_t> outputs;
  std::vector<int32_t> intermediates;
  std::vector<bool> mutating_variable_inputs;
  BuiltinOptions builtin_options;
  std::vector<uint8_t> custom_options;  // as stored in the file; the writer writes these bytes
  // The custom options parsed, for the LCE ops that take them: by the model reader (src/format),
  // or together with the bytes by SetLceOptions. Nothing else parses the bytes.
  LceOptions lce_options;
  bool operator==(const Operator&) const = default;
};

// Sets an LCE op's options: the parsed struct and the FlexBuffer bytes together, so that the two
// never disagree (passes that create or rewrite LCE ops use these).
void SetLceOptions(Operator& op, const LceBconv2dOptions& options);
void SetLceOptions(Operator& op, const LceBMaxPool2dOptions& options);

struct Subgraph {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<int32_t> inputs, outputs;
  std::vector<Operator> operators;
  bool operator==(const Subgraph&) const = default;
};

struct Metadata {
  std::string name;
  uint32_t buffer = 0;
  bool operator==(const Metadata&) const = default;
};

struct TensorMap {
  std::string name;
  uint32_t tensor_index = 0;
  bool operator==(const TensorMap&) const = default;
};

struct SignatureDef {
  std::vector<TensorMap> inputs, outputs;
  std::string signature_key;
  uint32_t subgraph_index = 0;
  bool operator==(const SignatureDef&) const = default;
};

struct Graph {
  uint32_t version = 3;
  std::vector<OperatorCode> operator_codes;
  std::vector<Subgraph> subgraphs;
  std::string description;
  std::vector<Buffer> buffers;
  std::vector<int32_t> metadata_buffer;
  std::vector<Metadata> metadata;
  std::vector<SignatureDef> signature_defs;

  // Human-readable op name: builtin name, or the custom code for CUSTOM ops.
  std::string OpName(const Operator& op) const;
  const OperatorCode& CodeOf(const Operator& op) const { return operator_codes[op.opcode_index]; }
  bool IsCustom(const Operator& op, const char* custom_code) const;
};

// Structural equality including buffer contents (not buffer storage).
bool GraphsEqual(const Graph& a, const Graph& b, std::string* difference = nullptr);

}  // namespace xbnn::graph
