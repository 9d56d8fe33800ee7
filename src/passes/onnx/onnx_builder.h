// State of one ONNX -> TFLite import (not a public header). The importer writes a float TFLite
// graph in NHWC with binarizations in the canonical form the conversion pass recognises
// (SELECT_V2(GREATER_EQUAL(x, 0), 1, -1)); passes::ConvertToLce then makes the LCE ops.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/op_signature.h"
#include "passes/onnx/onnx_import.h"
#include "passes/onnx/onnx_model.h"

namespace xbnn::onnx_import::internal {

// How a value binarizes: kSign is ONNX Sign (0 at 0) or a straight-through form of it;
// kGe is x >= 0 ? 1 : -1 exactly (LCE's own convention); kGt is x > 0 ? 1 : -1.
enum class Bin { kNone, kSign, kGe, kGt };

struct Value {
  std::vector<int64_t> shape;     // logical (ONNX) shape
  std::optional<Constant> konst;  // constants (initializers, Constant nodes, folded nodes)
  int32_t tensor = -1;            // the TFLite tensor of an activation
  bool nhwc = false;              // a logical NCHW 4-D value stored as NHWC
  Bin bin = Bin::kNone;           // a binarization of the value named `bin_src`
  std::string bin_src;
  std::string error;  // why the value could not be converted (only an error if something reads it)
};

// Builtin option table types (TFLite BuiltinOptions union indices): the op signatures' list.
namespace opt = graph::options_type;

class Builder {
 public:
  Builder(const Model& model, const ImportOptions& options, ImportReport& report);

  graph::Graph& g() { return g_; }
  graph::Subgraph& sg() { return g_.subgraphs[0]; }
  const Model& model() const { return model_; }
  const ImportOptions& options() const { return options_; }
  void Note(const std::string& s) { report_.notes.push_back(s); }
  ImportReport& report() { return report_; }

  std::map<std::string, Value> values;
  int64_t folded_elements = 0;  // of all constants folded so far (onnx_ops.cc bounds it)

  const Value* Find(const std::string& name) const;
  Result<const Value*> Get(const std::string& name, const std::string& who) const;

  int32_t AddTensor(const std::string& name, std::vector<int32_t> shape,
                    graph::DType type = graph::DType::kFloat32);
  int32_t AddConst(const std::string& name, std::vector<int32_t> shape,
                   const std::vector<float>& data);
  int32_t AddConstI32(const std::string& name, std::vector<int32_t> shape,
                      const std::vector<int32_t>& data);
  void AddOp(int32_t builtin, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
             uint8_t options_type = 0,
             std::vector<std::pair<std::string, graph::OptionValue>> fields = {});
  // An activation value: `out` written by a new op with this logical shape and layout.
  int32_t NewActivation(const std::string& name, const std::vector<int64_t>& logical, bool nhwc);

  // The float tensor of a value: activations as stored, binarizations in their float form,
  // constants written out (NHWC-permuted when `like_nhwc` and 4-D after broadcasting to rank 4).
  Result<int32_t> Float(const std::string& name, bool like_nhwc = false, size_t like_rank = 0);
  // The canonical binarization of binary value `name` for a binary consumer, optionally with the
  // pre-sign input extended by `ext_h`/`ext_w` rows/columns at the bottom/right (see onnx_conv.cc).
  Result<int32_t> Binary(const std::string& name, int ext_h = 0, int ext_w = 0);
  // Value `name` in logical (ONNX) layout: a TRANSPOSE back to NCHW for NHWC-stored values.
  Result<int32_t> Logical(const std::string& name);
  // Writes `out` as `in` reshaped (RESHAPE with a shape tensor).
  void Reshape(int32_t in, int32_t out);
  // Adds TRANSPOSE(in, perm) writing a new tensor of `stored_shape`.
  int32_t Transpose(int32_t in, const std::vector<int32_t>& perm, const std::string& name);

  std::vector<int32_t> StoredShape(const Value& v) const;

 private:
  const Model& model_;
  const ImportOptions& options_;
  ImportReport& report_;
  graph::Graph g_;
  std::map<std::string, int32_t> cache_;
};

// Narrowing with a check, for shapes that were validated as positive and < 2^31.
std::vector<int32_t> ToI32(const std::vector<int64_t>& v);
std::string ShapeText(const std::vector<int64_t>& s);

// Numpy broadcasting of two shapes; nullopt when they do not broadcast.
std::optional<std::vector<int64_t>> Broadcast(const std::vector<int64_t>& a,
                                              const std::vector<int64_t>& b);

// ONNX's type constraints: a constant that an op reads with a float32 activation (every
// activation here is float32) must be float32 too, as ONNX Runtime requires. The importer holds
// float16 and double data as float, so without this check such a model would convert silently.
// Ok for anything but a constant; `role` names the input in the message ("weights W").
Status RequireFloat32(const Builder& b, const std::string& who, const std::string& role,
                      const std::string& name);

// Per-op translation (onnx_ops.cc, onnx_conv.cc).
Status TranslateNode(Builder& b, const Node& n);
Status TranslateConv(Builder& b, const Node& n);
Status TranslateGemm(Builder& b, const Node& n);
// Snaps weights that are +-alpha per output row (within float rounding) to exactly +-alpha;
// returns a description of what was done, or why not ("" when exactly binary already).
std::string SnapBinaryWeights(std::vector<float>& w, size_t rows, float tolerance, bool* binary);

}  // namespace xbnn::onnx_import::internal
