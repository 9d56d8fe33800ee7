// LLVMFuzzerCustomMutator for every model fuzz target: mostly structural edits of a model that
// parses (model_mutator.h), sometimes libFuzzer's own byte mutations, which also cover what does
// not parse yet.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "model_mutator.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  if (seed % 4 != 0) {
    std::vector<uint8_t> out = xbnn::fuzz::MutateModelBytes({data, size}, seed);
    if (!out.empty() && out.size() <= max_size) {
      std::memcpy(data, out.data(), out.size());
      return out.size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}
