// The TFLite builtin parameter structs the delegate reads from TfLiteNode::builtin_data.
//
// TFLite's interpreter parses each builtin op's options into one of these C structs; the TFLite
// AAR ships no header for them (builtin_op_data.h is internal), so the delegate declares the
// layouts it reads. They are part of TFLite's stable C ABI (fields are only ever appended, one
// per op version), so only the leading fields xbnn uses are declared: a struct here may be
// shorter than TFLite's, never different in what it declares.
#pragma once

#include <cstdint>

#include "tensorflow/lite/core/c/common.h"

namespace xbnn::tflite_delegate::abi {

enum Padding : int { kPaddingUnknown = 0, kPaddingSame = 1, kPaddingValid = 2 };

// Same values as the flatbuffer's ActivationFunctionType (NONE, RELU, RELU_N1_TO_1, RELU6,
// TANH, SIGN_BIT); TFLite adds SIGMOID = 6, which the flatbuffer cannot express.
using FusedActivation = int;
inline constexpr int kActSigmoid = 6;

struct ConvParams {
  int padding;
  int stride_width;
  int stride_height;
  FusedActivation activation;
  int dilation_width_factor;
  int dilation_height_factor;
};

struct PoolParams {
  int padding;
  int stride_width;
  int stride_height;
  int filter_width;
  int filter_height;
  FusedActivation activation;
};

struct DepthwiseConvParams {
  int padding;
  int stride_width;
  int stride_height;
  int depth_multiplier;
  FusedActivation activation;
  int dilation_width_factor;
  int dilation_height_factor;
};

struct FullyConnectedParams {
  FusedActivation activation;
  int weights_format;  // 0: default, 1: shuffled 4x16 int8
  bool keep_num_dims;
  bool asymmetric_quantize_inputs;
};

struct AddSubParams {  // ADD and SUB
  FusedActivation activation;
  bool pot_scale_int16;
};

struct ActivationParams {  // MUL and DIV
  FusedActivation activation;
};

struct SoftmaxParams {
  float beta;
};

struct ConcatenationParams {
  int axis;
  FusedActivation activation;
};

inline constexpr int kMaxReshapeDims = 8;
struct ReshapeParams {
  int32_t shape[kMaxReshapeDims];
  int num_dimensions;
};

inline constexpr int kMaxSqueezeDims = 8;
struct SqueezeParams {
  int32_t squeeze_dims[kMaxSqueezeDims];
  int num_squeeze_dims;
};

struct StridedSliceParams {
  int begin_mask;
  int end_mask;
  int ellipsis_mask;
  int new_axis_mask;
  int shrink_axis_mask;
  bool offset;
};

struct ReducerParams {
  bool keep_dims;
};

struct SplitParams {  // SPLIT and SPLIT_V
  int num_splits;
};

struct PackParams {
  int values_count;
  int axis;
};

struct ShapeParams {
  TfLiteType out_type;
};

struct LeakyReluParams {
  float alpha;
};

struct GatherParams {
  int axis;
  int batch_dims;
};

}  // namespace xbnn::tflite_delegate::abi
