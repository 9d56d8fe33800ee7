// TFLite builtin operators (float32 and int8) as runtime kernels: one file per op family.
#pragma once

#include <memory>

#include "runtime/op_kernel.h"

namespace xbnn::kernels {

// TFLite builtin codes that graph::op does not name.
namespace builtin::op_code {
inline constexpr int32_t kBatchToSpaceND = 37, kSpaceToBatchND = 38, kTranspose = 39, kSplit = 49, kShape = 77,
                         kPack = 83, kAbs = 101, kSplitV = 102;
}

// conv.cc, depthwise_conv.cc, fully_connected.cc
std::unique_ptr<runtime::OpKernel> CreateConv2D();
std::unique_ptr<runtime::OpKernel> CreateDepthwiseConv2D();
std::unique_ptr<runtime::OpKernel> CreateFullyConnected();
// elementwise.cc
std::unique_ptr<runtime::OpKernel> CreateAdd();
std::unique_ptr<runtime::OpKernel> CreateSub();
std::unique_ptr<runtime::OpKernel> CreateMul();
std::unique_ptr<runtime::OpKernel> CreateDiv();
std::unique_ptr<runtime::OpKernel> CreateMaximum();
std::unique_ptr<runtime::OpKernel> CreateMinimum();
// pooling.cc, reduce.cc
std::unique_ptr<runtime::OpKernel> CreateMaxPool2D();
std::unique_ptr<runtime::OpKernel> CreateAveragePool2D();
std::unique_ptr<runtime::OpKernel> CreateMean();
// reshape.cc, concatenation.cc, pad.cc, space_batch.cc, strided_slice.cc
std::unique_ptr<runtime::OpKernel> CreateReshape();
std::unique_ptr<runtime::OpKernel> CreateSqueeze();
std::unique_ptr<runtime::OpKernel> CreateConcatenation();
std::unique_ptr<runtime::OpKernel> CreatePad();
std::unique_ptr<runtime::OpKernel> CreatePadV2();
std::unique_ptr<runtime::OpKernel> CreateSpaceToBatchND();
std::unique_ptr<runtime::OpKernel> CreateBatchToSpaceND();
std::unique_ptr<runtime::OpKernel> CreateStridedSlice();
// split.cc, pack.cc, transpose.cc, shape.cc
std::unique_ptr<runtime::OpKernel> CreateSplit();
std::unique_ptr<runtime::OpKernel> CreateSplitV();
std::unique_ptr<runtime::OpKernel> CreatePack();
std::unique_ptr<runtime::OpKernel> CreateTranspose();
std::unique_ptr<runtime::OpKernel> CreateShape();
// softmax.cc, activations.cc
std::unique_ptr<runtime::OpKernel> CreateSoftmax();
std::unique_ptr<runtime::OpKernel> CreateRelu();
std::unique_ptr<runtime::OpKernel> CreateRelu6();
std::unique_ptr<runtime::OpKernel> CreateReluN1To1();
std::unique_ptr<runtime::OpKernel> CreateLeakyRelu();
std::unique_ptr<runtime::OpKernel> CreatePrelu();
std::unique_ptr<runtime::OpKernel> CreateLogistic();
std::unique_ptr<runtime::OpKernel> CreateHardSwish();
std::unique_ptr<runtime::OpKernel> CreateSign();
std::unique_ptr<runtime::OpKernel> CreateAbs();
// quantize.cc, select.cc
std::unique_ptr<runtime::OpKernel> CreateQuantize();
std::unique_ptr<runtime::OpKernel> CreateDequantize();
std::unique_ptr<runtime::OpKernel> CreateGreaterEqual();
std::unique_ptr<runtime::OpKernel> CreateSelectV2();

}  // namespace xbnn::kernels
