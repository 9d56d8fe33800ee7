// libFuzzer target: any bytes must give a model or an error, never a crash or an OOB read.
// A model that reads must also write and read back to an equal graph.
#include "fuzz_cases.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xbnn::fuzz::ReaderCase({data, size});
  return 0;
}
