// Conversion of a model made by the stock TensorFlow Lite converter from a Larq/Keras model
// (binarization left as float ops) into an LCE-op model, as LCE's own MLIR converter would make it.
//
// Rewrites, each only where it is exact (see convert.cc for the conditions):
//  - ste_sign, SIGN(ADD(SIGN(x), c)) with 0 < c < 1 (or SELECT(GREATER_EQUAL(x, 0), 1, -1)):
//    LceQuantize(x), plus LceDequantize where a float consumer or a model output needs the +-1s;
//  - CONV_2D (also grouped, dilated via SPACE_TO_BATCH_ND/BATCH_TO_SPACE_ND, after PAD/PADV2)
//    on binarized input with weights +-s per output channel: LceBconv2d, folding the following
//    MUL/DIV/ADD/SUB and ReLU-family activations;
//  - MAX_POOL_2D followed by binarization: binarization then LceBMaxPool2d;
//  - LceBconv2d whose only consumer is a binarization: bitpacked output with thresholds;
//  - with ConvertOptions::binary_dense, FULLY_CONNECTED on binarized input with weights +-s per
//    output: RESHAPE -> 1x1 LceBconv2d -> RESHAPE (convert_dense.cc);
//  - fake quantization (QUANTIZE -> DEQUANTIZE pairs): int8 tensors, int8 LceBconv2d/LceDequantize
//    output, int8 LceQuantize input, int8 MEAN;
//  - dead ops, tensors, buffers and operator codes removed; optional int8 model IO (SetIoTypes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "xbnn/status.h"

namespace xbnn::passes {

struct ConvertOptions {
  // float32 keeps the boundary as the model has it; int8 removes the QUANTIZE after the input /
  // the DEQUANTIZE before the output (passes::SetIoTypes), which needs a fake-quantized model.
  graph::DType inference_input_type = graph::DType::kFloat32;
  graph::DType inference_output_type = graph::DType::kFloat32;
  // Bitpacked output also for zero-padded SAME LceBconv2d: xbnn's kernels support it, LCE's do not
  // (the ONNX importer turns it on: PyTorch pads with zeros).
  bool zero_padded_fusion = false;
  // FULLY_CONNECTED on binarized input with weights +-s per output -> RESHAPE, 1x1 LceBconv2d,
  // RESHAPE (LCE's converter leaves dense layers float; LCE's interpreter runs the result too).
  bool binary_dense = false;
};

struct ConvertReport {
  int binarizations = 0;    // ste_sign patterns replaced
  int lce_quantize = 0;     // LceQuantize ops in the result
  int lce_dequantize = 0;   // LceDequantize ops in the result
  int bconv = 0;            // LceBconv2d ops in the result
  int bconv_bitpacked = 0;  // ... of which write bitpacked int32 output
  int bconv_int8 = 0;       // ... of which write int8 output
  int bmaxpool = 0;         // LceBMaxPool2d ops in the result
  int new_bconv = 0;        // CONV_2D ops this conversion turned into LceBconv2d
  int new_bmaxpool = 0;     // MAX_POOL_2D ops this conversion turned into LceBMaxPool2d
  int new_bdense = 0;       // FULLY_CONNECTED ops turned into RESHAPE, 1x1 LceBconv2d, RESHAPE
  int64_t dense_float_weight_bytes = 0;   // their float weights before
  int64_t dense_binary_weight_bytes = 0;  // their bitpacked filters, multipliers and biases after
  int folded_ops = 0;                     // MUL/DIV/ADD/SUB/activation ops folded into LceBconv2d
  int int8_ops = 0;                       // float ops turned into int8 ops between fake-quant pairs
  int removed_ops = 0;                    // net op count change (before - after)
  int removed_tensors = 0;
  int removed_buffers = 0;
  // One line per rewrite done, and per op that looked binary but stays float (with the reason).
  std::vector<std::string> applied;
  std::vector<std::string> skipped;

  // True when the conversion found something binary to convert (a model with LCE ops already and
  // no float binarization left gives false).
  bool AnythingBinary() const {
    return binarizations > 0 || new_bconv > 0 || new_bmaxpool > 0 || new_bdense > 0;
  }
};

// Converts in place. Errors only for malformed input or an impossible IO type request; patterns
// that cannot be converted exactly are left as they are and listed in report->skipped.
Status ConvertToLce(graph::Graph& g, const ConvertOptions& options = {},
                    ConvertReport* report = nullptr);

// Bytes in, bytes out (read, convert, write).
Result<std::vector<uint8_t>> ConvertModel(std::span<const uint8_t> model,
                                          const ConvertOptions& options = {},
                                          ConvertReport* report = nullptr);

}  // namespace xbnn::passes
