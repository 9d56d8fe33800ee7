// Shared state of the conversion pass (convert.cc, convert_int8.cc). Not a public header.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "passes/convert.h"

namespace xbnn::passes::convert_internal {

// A LceBconv2d under construction: its constants stay unpacked until Finalize, so that later
// steps (folding, bitpacked output) can still change them.
struct BconvInfo {
  int op = -1;
  int out_channels = 0, kernel_h = 0, kernel_w = 0, in_per_group = 0, channels_in = 0;
  std::vector<uint8_t> negative;  // [O, KH, KW, I]: 1 where the weight reads -1 (bit 1)
  std::vector<float> multiplier, bias;
  int activation = 0;  // fused activation on the raw sum
  int padding = 1;     // SAME 0, VALID 1
  int pad_values = 0;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  bool bitpacked = false;
  std::vector<int32_t> thresholds;
  std::string filter_name;

  // LCE fuses activations and writes bitpacked output only for VALID or one-padded SAME.
  bool OnePaddedOrValid() const { return padding == 1 || pad_values == 1; }
};

// One subgraph being rewritten. Ops are only appended or marked dead until Compact(), so an op's
// index stays valid (and original ops keep their index in messages) throughout the rewrites.
struct Ctx {
  graph::Graph& g;
  graph::Subgraph& sg;
  size_t sgi;
  ConvertReport& report;

  std::vector<bool> dead;
  std::vector<double> key;  // order key: Compact() sorts topologically, ties by key
  std::vector<int> producer;
  std::vector<std::vector<int>> consumers;
  std::vector<bool> is_output;
  std::vector<BconvInfo> bconvs;
  std::map<int32_t, int32_t> packed_of;  // float/int8 tensor -> its LceQuantize output
  bool zero_padded_fusion = false;       // ConvertOptions::zero_padded_fusion
  bool binary_dense = false;             // ConvertOptions::binary_dense

  Ctx(graph::Graph& graph, graph::Subgraph& subgraph, size_t index, ConvertReport& r);

  void Index();  // rebuilds producer/consumers/is_output from the live ops
  int NumOps() const { return static_cast<int>(sg.operators.size()); }
  bool Live(int op) const { return op >= 0 && op < NumOps() && !dead[op]; }
  int AddOp(graph::Operator op, double order_key);
  void Kill(int op) { dead[op] = true; }
  int32_t AddTensor(graph::Tensor t);
  int32_t AddConstTensor(const std::string& name, graph::DType type, std::vector<int32_t> shape,
                         std::vector<uint8_t> bytes);
  uint32_t Opcode(int32_t builtin, const std::string& custom = "");
  bool IsBuiltin(int op, int32_t code) const;
  bool IsCustom(int op, const char* code) const;
  int32_t Builtin(int op) const;
  std::string Label(int op) const;  // "op 4 (CONV_2D)"
  std::string TensorLabel(int32_t t) const;
  // True when `t` is read by `op` alone and is no subgraph output.
  bool SoleConsumer(int32_t t, int op) const;
  bool IsConst(int32_t t) const;
  std::optional<std::vector<float>> ConstFloats(int32_t t) const;
  std::optional<std::vector<int64_t>> ConstInts(int32_t t) const;
  int Producer(int32_t t) const {
    return t >= 0 && t < static_cast<int32_t>(producer.size()) ? producer[t] : -1;
  }
  // Creates (once per tensor) LceQuantize(t) and returns its packed output.
  int32_t Packed(int32_t t, double order_key);
  void Applied(const std::string& s) { report.applied.push_back(Prefix() + s); }
  void Skipped(const std::string& s) { report.skipped.push_back(Prefix() + s); }
  std::string Prefix() const {
    return g.subgraphs.size() > 1 ? "subgraph " + std::to_string(sgi) + ": " : "";
  }
  // Removes ops whose outputs nobody reads (only kinds without side effects), iteratively.
  void RemoveDeadOps();
};

// The packed shape of a tensor shape: last dimension ceil(C / 32).
std::vector<int32_t> PackedShape(std::vector<int32_t> shape);

// Helpers shared by the patterns (convert_ctx.cc).
std::string Num(double v);                             // a float as text, 9 significant digits
std::string ShapeText(const std::vector<int32_t>& s);  // "[1,2,3]"
int FusedActivation(const graph::Operator& o);         // the op's fused_activation_function option
const char* ActivationName(int a);                     // "RELU", ...
int32_t ActivationOpCode(int a);                       // RELU, RELU_N1_TO_1, RELU6; -1 otherwise
int ActivationOfOp(int32_t builtin);                   // the fused activation an op computes, or 0
bool AllEqual(const std::vector<float>& v, float x);
template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// The patterns, in the order the pass applies them (convert.cc):
// ste_sign (SIGN/ADD/SIGN or SELECT) -> LceQuantize/LceDequantize (convert_binarize.cc).
void Binarize(Ctx& c);
// CONV_2D on binarized input with +-s weights -> LceBconv2d, folding what follows
// (convert_bconv.cc).
void ConvertConvs(Ctx& c);
// LceQuantize(MAX_POOL_2D(x)) -> LceBMaxPool2d(LceQuantize(x)) (convert_bitpacked.cc).
void ConvertMaxPools(Ctx& c);
// LceBconv2d whose output is only binarized again writes bitpacked output (convert_bitpacked.cc).
void WriteBitpacked(Ctx& c);
// Writes the constants and options of every LceBconv2d (convert_bitpacked.cc).
void FinalizeBconvs(Ctx& c);

// Folds the single MUL/DIV/ADD/SUB or ReLU-family consumer of bconv `bi`'s output into it; false
// when nothing (more) folds (convert.cc).
bool FoldIntoBconv(Ctx& c, BconvInfo& bi);

// Binary dense layers: FULLY_CONNECTED on binarized input with weights +-s per output ->
// RESHAPE, 1x1 LceBconv2d, RESHAPE (convert_dense.cc).
void ConvertDense(Ctx& c);

// Fake quantization: QUANTIZE(float -> uint8/int8) -> DEQUANTIZE pairs become int8 tensors, and
// LCE ops next to them read or write int8 (convert_int8.cc).
void ConvertFakeQuant(Ctx& c);

}  // namespace xbnn::passes::convert_internal
