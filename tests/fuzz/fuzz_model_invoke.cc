// libFuzzer target: load + prepare + invoke. Any bytes give an interpreter that runs or a clean
// error, within a small memory budget.
#include "fuzz_cases.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xbnn::fuzz::InvokeCase({data, size});
  return 0;
}
