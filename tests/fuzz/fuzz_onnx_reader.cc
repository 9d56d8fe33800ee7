// libFuzzer target for the ONNX import: any bytes must give a converted model or an error, never
// a crash, a hang or an out-of-bounds read (reader, constant folding, translation, conversion).
#include <cstdint>
#include <vector>

#include "passes/onnx/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  xbnn::onnx_import::ReadLimits limits;
  limits.max_constant_elements = int64_t{1} << 22;  // keeps each run small
  auto model = xbnn::onnx_import::ReadOnnx(bytes, limits);
  if (!model.ok()) return 0;
  auto g = xbnn::onnx_import::ImportOnnx(*model);
  if (!g.ok()) return 0;
  (void)xbnn::passes::ConvertToLce(*g);
  return 0;
}
