// Moving data between .npy arrays and interpreter tensors, and seeded random inputs.
#pragma once

#include <cstdint>
#include <string>

#include "util/npy.h"
#include "xbnn/interpreter.h"

namespace xbnn::tools {

const char* NpyDtypeOf(DataType t);  // "f4", "i1", "i4", ...; nullptr when not representable

// Copies `a` into the tensor; errors name the input, the expected and found dtype and shape.
Status FillTensor(TensorView t, const util::NpyArray& a, const std::string& what);
// Copies rows [row, row + batch) of `a` (the first dimension) into a tensor of batch `batch`.
Status FillTensorRows(TensorView t, const util::NpyArray& a, int64_t row, const std::string& what);
// Random data in the tensor's dtype: floats in [-1, 1), full-range integers, random bits with the
// unused bits of bitpacked tensors zero.
void FillRandom(TensorView t, uint64_t seed);
util::NpyArray ToNpy(const TensorView& t);
// +1/-1 float view of a bitpacked int32 tensor with `channels` channels.
util::NpyArray UnpackToNpy(const TensorView& t, int channels);
// "float32 [1,10] min -1.2 max 3.4 mean 0.1"
std::string Summary(const TensorView& t);

}  // namespace xbnn::tools
