// TFLite builtin operators (float32 and int8) as runtime kernels: one file per op family.
#pragma once

#include <memory>

#include "runtime/op_kernel.h"

namespace xbnn::kernels {

std::unique_ptr<runtime::OpKernel> CreateDequantize();

}  // namespace xbnn::kernels
