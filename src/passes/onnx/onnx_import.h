// ONNX import: an ONNX model exported by torch.onnx.export from a PyTorch BNN -> an LCE-format
// TFLite model. The ONNX graph becomes a float TFLite graph in NHWC, with every binarization the
// importer recognises (Sign, comparison + Where, straight-through forms, ReActNet's RSign) in the
// form passes::ConvertToLce turns into LCE ops; that pass then makes LceQuantize, LceBconv2d
// (binary convolutions and binary dense layers) and bitpacked links, exactly where that is exact.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "passes/convert.h"
#include "passes/onnx/onnx_model.h"
#include "xbnn/status.h"

namespace xbnn::onnx_import {

struct ImportOptions {
  // The converted model takes NHWC input (TFLite's layout) unless this is set: then its input is
  // NCHW as in PyTorch, followed by a TRANSPOSE.
  bool keep_nchw_input = false;
  // Relative tolerance for binary weights: |w| may differ from the per-output-channel alpha
  // (mean |w|) by this fraction of alpha. The straight-through trick on weights,
  // (alpha * sign(w) - clip(w)) + clip(w), leaves a few ulp of rounding; weights further off
  // are not binary and stay float.
  float weight_tolerance = 1.0e-6f;
  // Directory of the .onnx file: where weights saved as external data are read from.
  std::string external_data_dir;
};

struct ImportReport {
  int binarizations = 0;           // ONNX binarization patterns recognised
  int binarizations_of_sign = 0;   // ... of which Sign (0 at 0) rather than x >= 0 ? 1 : -1
  int snapped_weights = 0;         // weight tensors snapped to exact +-alpha
  std::vector<std::string> notes;  // what the import did or declined to do, node by node
};

// ONNX model -> float TFLite graph with canonical binarizations (no LCE ops yet).
Result<graph::Graph> ImportOnnx(const Model& model, const ImportOptions& options = {},
                                ImportReport* report = nullptr);

struct OnnxConvertReport {
  ImportReport import;
  passes::ConvertReport convert;
};

// Bytes of an ONNX model -> bytes of an LCE-format .tflite (ReadOnnx, ImportOnnx, ConvertToLce,
// WriteModel).
Result<std::vector<uint8_t>> ConvertOnnxModel(std::span<const uint8_t> onnx_bytes,
                                              const ImportOptions& options = {},
                                              OnnxConvertReport* report = nullptr);

}  // namespace xbnn::onnx_import
