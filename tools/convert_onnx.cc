// `xbnn convert MODEL.onnx OUT.tflite`: ONNX import (when xbnn is built with libonnx-dev).
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli.h"
#include "format/model_io.h"
#ifdef XBNN_HAVE_ONNX
#include "passes/onnx/onnx_import.h"
#endif

namespace xbnn::tools {

bool IsTfliteFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char head[8] = {0};
  size_t n = std::fread(head, 1, sizeof(head), f);
  std::fclose(f);
  // TFLite flatbuffers carry the file identifier "TFL3" at offset 4.
  return n == sizeof(head) && std::string(head + 4, 4) == "TFL3";
}

bool IsOnnxFile(const std::string& path) {
  // The content decides where it is recognisable: a TFLite model named .onnx is TFLite.
  if (IsTfliteFile(path)) return false;
  if (std::filesystem::path(path).extension() == ".onnx") return true;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  uint8_t head[1] = {0};
  size_t n = std::fread(head, 1, sizeof(head), f);
  std::fclose(f);
  // An ONNX ModelProto starts with ir_version's tag.
  return n == sizeof(head) && head[0] == 0x08;
}

int ConvertOnnx(const std::string& in, const std::string& out, bool keep_nchw_input, bool verbose) {
  const char* cmd = "convert";
#ifndef XBNN_HAVE_ONNX
  (void)out;
  (void)keep_nchw_input;
  (void)verbose;
  return Fail(
      cmd,
      in + ": this xbnn was built without ONNX import (needs libonnx-dev and libprotobuf-dev)");
#else
  auto bytes = format::ReadFileBytes(in);
  if (!bytes.ok()) return Fail(cmd, bytes.status().message());
  onnx_import::ImportOptions options;
  options.keep_nchw_input = keep_nchw_input;
  options.external_data_dir = std::filesystem::absolute(in).parent_path().string();
  onnx_import::OnnxConvertReport report;
  auto result = onnx_import::ConvertOnnxModel(*bytes, options, &report);
  if (!result.ok()) return Fail(cmd, in + ": " + result.status().message());
  Status s = format::WriteFileBytes(out, *result);
  if (!s.ok()) return Fail(cmd, s.message());
  const passes::ConvertReport& r = report.convert;
  if (verbose) {
    for (const std::string& line : report.import.notes) std::printf("import: %s\n", line.c_str());
    for (const std::string& line : r.applied) std::printf("converted: %s\n", line.c_str());
    for (const std::string& line : r.skipped) std::printf("left float: %s\n", line.c_str());
  }
  std::printf(
      "wrote %s (%zu bytes, ONNX %zu bytes): %d binarization(s) found; %d LceBconv2d (%d binary "
      "dense, %d "
      "with bitpacked output), %d LceQuantize, %d LceDequantize, %d LceBMaxPool2d\n",
      out.c_str(), result->size(), bytes->size(), report.import.binarizations, r.bconv,
      r.new_bdense, r.bconv_bitpacked, r.lce_quantize, r.lce_dequantize, r.bmaxpool);
  if (r.new_bdense > 0) {
    std::printf(
        "binary dense weights: %lld bytes as float -> %lld bytes bitpacked (%.1fx smaller)\n",
        static_cast<long long>(r.dense_float_weight_bytes),
        static_cast<long long>(r.dense_binary_weight_bytes),
        r.dense_binary_weight_bytes > 0 ? static_cast<double>(r.dense_float_weight_bytes) /
                                              static_cast<double>(r.dense_binary_weight_bytes)
                                        : 0.0);
  }
  if (!r.skipped.empty() && !verbose) {
    std::printf("%zu op(s) that look binary stay float; run with --verbose to see which and why\n",
                r.skipped.size());
  }
  return 0;
#endif
}

}  // namespace xbnn::tools
