// `xbnn convert`: a stock-TFLite-converted Larq model (binarization as float ops) -> LCE ops.
#include "passes/convert.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.h"
#include "format/model_io.h"

namespace xbnn::tools {
namespace {

// The help text keeps the lines it prints.
// clang-format off
constexpr const char* kConvertHelp =
    "usage: xbnn convert IN_FLOAT.tflite OUT.tflite [--inference-input-type float32|int8]\n"
    "                    [--inference-output-type float32|int8] [--binary-dense] [--verbose] [--overwrite]\n"
    "       xbnn convert MODEL.onnx OUT.tflite [--keep-nchw-input] [--verbose] [--overwrite]\n\n"
    "Converts a model that the stock TensorFlow Lite converter made from a Larq/Keras model\n"
    "(binarization left as float ops) into a model with LCE ops, like LCE's own converter,\n"
    "with no TensorFlow involved:\n"
    "  ste_sign (SIGN, ADD c, SIGN with 0 < c < 1)  -> LceQuantize (+ LceDequantize for float users)\n"
    "  CONV_2D on binarized input, weights +-s per output channel (also grouped, dilated, after\n"
    "  one-padding PADV2)  -> LceBconv2d, with the following MUL/ADD and ReLU-family activation folded\n"
    "  MAX_POOL_2D then binarization  -> binarization then LceBMaxPool2d\n"
    "  LceBconv2d whose only user is a binarization  -> bitpacked output with thresholds\n"
    "  fake quantization (QUANTIZE/DEQUANTIZE pairs)  -> int8 tensors and int8 LCE op IO\n"
    "  with --binary-dense: FULLY_CONNECTED on binarized input, weights +-s per output\n"
    "  -> RESHAPE, 1x1 LceBconv2d, RESHAPE (LCE's converter keeps dense layers float)\n"
    "Whatever cannot be converted exactly stays float; --verbose says which op and why.\n\n"
    "An ONNX model (by content, or the .onnx extension unless the content is TFLite's), as\n"
    "torch.onnx.export writes it from a PyTorch BNN (opset 13 or later), is imported first (sign,\n"
    "comparison + Where and straight-through forms, ReActNet's RSign/RPReLU, BatchNormalization,\n"
    "binary weights +-alpha, PyTorch's padding alignment) and the model takes NHWC input unless\n"
    "--keep-nchw-input.\n\n"
    "options:\n"
    "  --inference-input-type T   float32 (default) or int8: int8 removes the QUANTIZE after the\n"
    "                             model input (needs a fake-quantized input)\n"
    "  --inference-output-type T  float32 (default) or int8: int8 removes the DEQUANTIZE before the\n"
    "                             model output\n"
    "  --verbose                  list every rewrite and every op left float, with the reason\n"
    "  --overwrite                replace OUT if it exists (IN is never overwritten)\n"
    "  --binary-dense             binary dense layers as 1x1 LceBconv2d (always on for ONNX)\n"
    "  --keep-nchw-input          ONNX only: the model takes NCHW input as in PyTorch (adds a TRANSPOSE)\n"
    "  -h, --help                 show this help\n";
// clang-format on

Result<graph::DType> ParseType(const std::string& s) {
  if (s == "float32") return graph::DType::kFloat32;
  if (s == "int8") return graph::DType::kInt8;
  return Status::Error("type must be float32 or int8, got '" + s + "'");
}

}  // namespace

int ConvertMain(const std::vector<std::string>& args) {
  const char* cmd = "convert";
  if (WantsHelp(args)) {
    std::fputs(kConvertHelp, stdout);
    return 0;
  }
  std::string in, out;
  bool overwrite = false, verbose = false, keep_nchw = false;
  passes::ConvertOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--overwrite") {
      overwrite = true;
    } else if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else if (a == "--binary-dense") {
      options.binary_dense = true;
    } else if (a == "--keep-nchw-input") {
      keep_nchw = true;
    } else if (a == "--inference-input-type" || a == "--inference-output-type") {
      if (i + 1 >= args.size()) return Fail(cmd, a + " needs a value (float32 or int8)");
      auto t = ParseType(args[++i]);
      if (!t.ok()) return Fail(cmd, a + ": " + t.status().message());
      (a == "--inference-input-type" ? options.inference_input_type : options.inference_output_type) = *t;
    } else if (a.starts_with("-")) {
      return Fail(cmd, "unknown option '" + a + "' (see --help)");
    } else if (in.empty()) {
      in = a;
    } else if (out.empty()) {
      out = a;
    } else {
      return Fail(cmd, "unexpected argument '" + a + "' (see --help)");
    }
  }
  if (in.empty() || out.empty()) return Fail(cmd, "needs IN_FLOAT.tflite and OUT.tflite (see --help)");
  std::error_code ec;
  if (!std::filesystem::exists(in, ec)) return Fail(cmd, "cannot open '" + in + "': no such file");
  if (std::filesystem::exists(out, ec)) {
    if (std::filesystem::equivalent(in, out, ec)) return Fail(cmd, "refusing to overwrite the input file '" + in + "'");
    if (!overwrite) return Fail(cmd, "'" + out + "' exists; pass --overwrite to replace it");
  }
  if (IsOnnxFile(in)) {
    if (options.inference_input_type != graph::DType::kFloat32 ||
        options.inference_output_type != graph::DType::kFloat32) {
      return Fail(cmd, "--inference-input-type/--inference-output-type int8 need a fake-quantized TFLite model, not ONNX");
    }
    return ConvertOnnx(in, out, keep_nchw, verbose);
  }
  if (std::filesystem::path(in).extension() == ".onnx" && IsTfliteFile(in)) {
    std::fprintf(stderr,
                 "xbnn convert: note: %s is a TFLite model, not ONNX (despite its name): "
                 "converting it as TFLite\n",
                 in.c_str());
  }
  if (keep_nchw) return Fail(cmd, "--keep-nchw-input is for ONNX models");
  auto model = format::LoadModelFile(in);
  if (!model.ok()) return Fail(cmd, model.status().message());
  passes::ConvertReport report;
  Status s = passes::ConvertToLce(model->graph, options, &report);
  if (!s.ok()) return Fail(cmd, in + ": " + s.message());
  auto bytes = format::WriteModel(model->graph);
  if (!bytes.ok()) return Fail(cmd, bytes.status().message());
  s = format::WriteFileBytes(out, *bytes);
  if (!s.ok()) return Fail(cmd, s.message());

  if (verbose) {
    for (const std::string& line : report.applied) std::printf("converted: %s\n", line.c_str());
    for (const std::string& line : report.skipped) std::printf("left float: %s\n", line.c_str());
  }
  const int lce_ops = report.bconv + report.lce_quantize + report.lce_dequantize + report.bmaxpool;
  if (!report.AnythingBinary() && lce_ops > 0) {
    // An already converted model: its LCE ops are kept, nothing new was binarized.
    std::printf("nothing new to convert: the model already has LCE ops (%d LceBconv2d, %d LceQuantize, "
                "%d LceDequantize, %d LceBMaxPool2d), kept as they are; wrote %s (%d op(s) fewer)\n",
                report.bconv, report.lce_quantize, report.lce_dequantize, report.bmaxpool, out.c_str(),
                report.removed_ops);
  } else if (!report.AnythingBinary()) {
    std::printf("no binary layers found: wrote an equivalent model without LCE ops to %s (%d op(s) removed)\n",
                out.c_str(), report.removed_ops);
  } else {
    std::printf("wrote %s: %d LceBconv2d (%d with bitpacked output, %d with int8 output), %d LceQuantize, "
                "%d LceDequantize, %d LceBMaxPool2d; %d op(s) folded, %d op(s) fewer in all\n",
                out.c_str(), report.bconv, report.bconv_bitpacked, report.bconv_int8, report.lce_quantize,
                report.lce_dequantize, report.bmaxpool, report.folded_ops, report.removed_ops);
  }
  if (report.new_bdense > 0) {
    std::printf("%d binary dense layer(s): weights %lld bytes as float -> %lld bytes bitpacked; model %zu -> %zu bytes\n",
                report.new_bdense, static_cast<long long>(report.dense_float_weight_bytes),
                static_cast<long long>(report.dense_binary_weight_bytes), model->bytes->size(), bytes->size());
  }
  if (!report.skipped.empty() && !verbose) {
    std::printf("%zu op(s) that look binary stay float; run with --verbose to see which and why\n",
                report.skipped.size());
  }
  return 0;
}

}  // namespace xbnn::tools
