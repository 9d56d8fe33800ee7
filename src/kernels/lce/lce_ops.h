// The four Larq Compute Engine operators as runtime kernels.
#pragma once

#include <memory>

#include "runtime/op_kernel.h"

namespace xbnn::kernels {

std::unique_ptr<runtime::OpKernel> CreateLceQuantize();
std::unique_ptr<runtime::OpKernel> CreateLceDequantize();
std::unique_ptr<runtime::OpKernel> CreateLceBconv2d();
std::unique_ptr<runtime::OpKernel> CreateLceBMaxPool2d();

}  // namespace xbnn::kernels
