// libFuzzer target: the model-editing passes (strip-dequantize, set-io-type, convert) on any
// bytes, followed by a reload of what they produce.
#include "fuzz_cases.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xbnn::fuzz::PassesCase({data, size});
  return 0;
}
