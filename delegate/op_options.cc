#include "op_options.h"

#include <string>
#include <vector>

#include "tensorflow/lite/builtin_ops.h"
#include "tflite_params.h"
#include "tflite_subset_generated.h"

namespace xbnn::tflite_delegate {
namespace {

namespace t = ::xbnn::tfl;

// Ops without parameters that xbnn reads: the option table type each one carries in a file.
struct PlainOp {
  int32_t code;
  uint8_t union_type;
};
constexpr PlainOp kPlainOps[] = {
    {kTfLiteBuiltinPad, t::BuiltinOptions_PadOptions},
    {kTfLiteBuiltinPadv2, t::BuiltinOptions_PadV2Options},
    {kTfLiteBuiltinSpaceToBatchNd, t::BuiltinOptions_SpaceToBatchNDOptions},
    {kTfLiteBuiltinBatchToSpaceNd, t::BuiltinOptions_BatchToSpaceNDOptions},
    {kTfLiteBuiltinTranspose, t::BuiltinOptions_TransposeOptions},
    {kTfLiteBuiltinMaximum, t::BuiltinOptions_MaximumMinimumOptions},
    {kTfLiteBuiltinMinimum, t::BuiltinOptions_MaximumMinimumOptions},
    {kTfLiteBuiltinGreaterEqual, t::BuiltinOptions_GreaterEqualOptions},
    {kTfLiteBuiltinSelectV2, t::BuiltinOptions_SelectV2Options},
    {kTfLiteBuiltinQuantize, t::BuiltinOptions_QuantizeOptions},
    {kTfLiteBuiltinDequantize, t::BuiltinOptions_DequantizeOptions},
    {kTfLiteBuiltinHardSwish, t::BuiltinOptions_HardSwishOptions},
    {kTfLiteBuiltinSign, t::BuiltinOptions_SignOptions},
    {kTfLiteBuiltinAbs, t::BuiltinOptions_AbsOptions},
    {kTfLiteBuiltinRelu, 0},
    {kTfLiteBuiltinRelu6, 0},
    {kTfLiteBuiltinReluN1To1, 0},
    {kTfLiteBuiltinPrelu, 0},
    {kTfLiteBuiltinLogistic, 0},
    {kTfLiteBuiltinTanh, 0},
    {kTfLiteBuiltinRound, 0},
};

// Ops whose parameters are translated below.
constexpr int32_t kParamOps[] = {
    kTfLiteBuiltinConv2d,
    kTfLiteBuiltinDepthwiseConv2d,
    kTfLiteBuiltinFullyConnected,
    kTfLiteBuiltinAdd,
    kTfLiteBuiltinSub,
    kTfLiteBuiltinMul,
    kTfLiteBuiltinDiv,
    kTfLiteBuiltinMaxPool2d,
    kTfLiteBuiltinAveragePool2d,
    kTfLiteBuiltinMean,
    kTfLiteBuiltinReshape,
    kTfLiteBuiltinSqueeze,
    kTfLiteBuiltinConcatenation,
    kTfLiteBuiltinStridedSlice,
    kTfLiteBuiltinGather,
    kTfLiteBuiltinSplit,
    kTfLiteBuiltinSplitV,
    kTfLiteBuiltinPack,
    kTfLiteBuiltinShape,
    kTfLiteBuiltinSoftmax,
    kTfLiteBuiltinLeakyRelu,
};

Result<int64_t> Padding(int p) {
  if (p == abi::kPaddingSame) return int64_t{0};  // flatbuffer Padding: SAME 0, VALID 1
  if (p == abi::kPaddingValid) return int64_t{1};
  return Status::Error("unknown padding " + std::to_string(p));
}

Result<int64_t> Activation(abi::FusedActivation a) {
  if (a < 0 || a >= abi::kActSigmoid) {
    return Status::Error("fused activation " + std::to_string(a) + " has no flatbuffer equivalent");
  }
  return int64_t{a};
}

// Sets padding and activation, the two fields that need a checked conversion.
Status SetPaddingAndActivation(graph::BuiltinOptions* o, int padding, abi::FusedActivation act) {
  auto p = Padding(padding);
  if (!p.ok()) return p.status();
  auto a = Activation(act);
  if (!a.ok()) return a.status();
  o->Set("padding", *p);
  o->Set("fused_activation_function", *a);
  return Status::Ok();
}

Status SetActivation(graph::BuiltinOptions* o, abi::FusedActivation act) {
  auto a = Activation(act);
  if (!a.ok()) return a.status();
  o->Set("fused_activation_function", *a);
  return Status::Ok();
}

Status ConvLike(int32_t code, const void* d, graph::BuiltinOptions* o) {
  switch (code) {
    case kTfLiteBuiltinConv2d: {
      const auto& p = *static_cast<const abi::ConvParams*>(d);
      o->type = t::BuiltinOptions_Conv2DOptions;
      XBNN_RETURN_IF_ERROR(SetPaddingAndActivation(o, p.padding, p.activation));
      o->Set("stride_w", int64_t{p.stride_width});
      o->Set("stride_h", int64_t{p.stride_height});
      o->Set("dilation_w_factor", int64_t{p.dilation_width_factor});
      o->Set("dilation_h_factor", int64_t{p.dilation_height_factor});
      return Status::Ok();
    }
    case kTfLiteBuiltinDepthwiseConv2d: {
      const auto& p = *static_cast<const abi::DepthwiseConvParams*>(d);
      o->type = t::BuiltinOptions_DepthwiseConv2DOptions;
      XBNN_RETURN_IF_ERROR(SetPaddingAndActivation(o, p.padding, p.activation));
      o->Set("stride_w", int64_t{p.stride_width});
      o->Set("stride_h", int64_t{p.stride_height});
      o->Set("depth_multiplier", int64_t{p.depth_multiplier});
      o->Set("dilation_w_factor", int64_t{p.dilation_width_factor});
      o->Set("dilation_h_factor", int64_t{p.dilation_height_factor});
      return Status::Ok();
    }
    default: {  // MAX_POOL_2D, AVERAGE_POOL_2D
      const auto& p = *static_cast<const abi::PoolParams*>(d);
      o->type = t::BuiltinOptions_Pool2DOptions;
      XBNN_RETURN_IF_ERROR(SetPaddingAndActivation(o, p.padding, p.activation));
      o->Set("stride_w", int64_t{p.stride_width});
      o->Set("stride_h", int64_t{p.stride_height});
      o->Set("filter_width", int64_t{p.filter_width});
      o->Set("filter_height", int64_t{p.filter_height});
      return Status::Ok();
    }
  }
}

Status Arithmetic(int32_t code, const void* d, graph::BuiltinOptions* o) {
  switch (code) {
    case kTfLiteBuiltinFullyConnected: {
      const auto& p = *static_cast<const abi::FullyConnectedParams*>(d);
      o->type = t::BuiltinOptions_FullyConnectedOptions;
      XBNN_RETURN_IF_ERROR(SetActivation(o, p.activation));
      o->Set("weights_format", int64_t{p.weights_format});
      o->Set("keep_num_dims", int64_t{p.keep_num_dims});
      o->Set("asymmetric_quantize_inputs", int64_t{p.asymmetric_quantize_inputs});
      return Status::Ok();
    }
    case kTfLiteBuiltinAdd:
    case kTfLiteBuiltinSub: {
      const auto& p = *static_cast<const abi::AddSubParams*>(d);
      o->type =
          code == kTfLiteBuiltinAdd ? t::BuiltinOptions_AddOptions : t::BuiltinOptions_SubOptions;
      XBNN_RETURN_IF_ERROR(SetActivation(o, p.activation));
      o->Set("pot_scale_int16", int64_t{p.pot_scale_int16});
      return Status::Ok();
    }
    default: {  // MUL, DIV
      const auto& p = *static_cast<const abi::ActivationParams*>(d);
      o->type =
          code == kTfLiteBuiltinMul ? t::BuiltinOptions_MulOptions : t::BuiltinOptions_DivOptions;
      return SetActivation(o, p.activation);
    }
  }
}

std::vector<int32_t> Dims(const int32_t* dims, int n, int max) {
  if (n < 0) n = 0;
  if (n > max) n = max;
  return std::vector<int32_t>(dims, dims + n);
}

Status Shaping(int32_t code, const void* d, graph::BuiltinOptions* o) {
  switch (code) {
    case kTfLiteBuiltinReshape: {
      const auto& p = *static_cast<const abi::ReshapeParams*>(d);
      o->type = t::BuiltinOptions_ReshapeOptions;
      if (p.num_dimensions > 0)
        o->Set("new_shape", Dims(p.shape, p.num_dimensions, abi::kMaxReshapeDims));
      return Status::Ok();
    }
    case kTfLiteBuiltinSqueeze: {
      const auto& p = *static_cast<const abi::SqueezeParams*>(d);
      o->type = t::BuiltinOptions_SqueezeOptions;
      o->Set("squeeze_dims", Dims(p.squeeze_dims, p.num_squeeze_dims, abi::kMaxSqueezeDims));
      return Status::Ok();
    }
    case kTfLiteBuiltinConcatenation: {
      const auto& p = *static_cast<const abi::ConcatenationParams*>(d);
      o->type = t::BuiltinOptions_ConcatenationOptions;
      o->Set("axis", int64_t{p.axis});
      return SetActivation(o, p.activation);
    }
    case kTfLiteBuiltinStridedSlice: {
      const auto& p = *static_cast<const abi::StridedSliceParams*>(d);
      o->type = t::BuiltinOptions_StridedSliceOptions;
      o->Set("begin_mask", int64_t{p.begin_mask});
      o->Set("end_mask", int64_t{p.end_mask});
      o->Set("ellipsis_mask", int64_t{p.ellipsis_mask});
      o->Set("new_axis_mask", int64_t{p.new_axis_mask});
      o->Set("shrink_axis_mask", int64_t{p.shrink_axis_mask});
      o->Set("offset", int64_t{p.offset});
      return Status::Ok();
    }
    case kTfLiteBuiltinGather: {
      const auto& p = *static_cast<const abi::GatherParams*>(d);
      o->type = t::BuiltinOptions_GatherOptions;
      o->Set("axis", int64_t{p.axis});
      o->Set("batch_dims", int64_t{p.batch_dims});
      return Status::Ok();
    }
    case kTfLiteBuiltinSplit:
    case kTfLiteBuiltinSplitV: {
      const auto& p = *static_cast<const abi::SplitParams*>(d);
      o->type = code == kTfLiteBuiltinSplit ? t::BuiltinOptions_SplitOptions
                                            : t::BuiltinOptions_SplitVOptions;
      o->Set("num_splits", int64_t{p.num_splits});
      return Status::Ok();
    }
    case kTfLiteBuiltinPack: {
      const auto& p = *static_cast<const abi::PackParams*>(d);
      o->type = t::BuiltinOptions_PackOptions;
      o->Set("values_count", int64_t{p.values_count});
      o->Set("axis", int64_t{p.axis});
      return Status::Ok();
    }
    default: {  // SHAPE: TfLiteType and the flatbuffer TensorType agree for int32 and int64
      const auto& p = *static_cast<const abi::ShapeParams*>(d);
      if (p.out_type != kTfLiteInt32 && p.out_type != kTfLiteInt64) {
        return Status::Error("SHAPE output type " + std::to_string(p.out_type) +
                             " is not int32 or int64");
      }
      o->type = t::BuiltinOptions_ShapeOptions;
      o->Set("out_type", int64_t{p.out_type});
      return Status::Ok();
    }
  }
}

Status Other(int32_t code, const void* d, graph::BuiltinOptions* o) {
  switch (code) {
    case kTfLiteBuiltinMean: {
      o->type = t::BuiltinOptions_ReducerOptions;
      o->Set("keep_dims", int64_t{static_cast<const abi::ReducerParams*>(d)->keep_dims});
      return Status::Ok();
    }
    case kTfLiteBuiltinSoftmax: {
      o->type = t::BuiltinOptions_SoftmaxOptions;
      o->Set("beta", double{static_cast<const abi::SoftmaxParams*>(d)->beta});
      return Status::Ok();
    }
    default: {  // LEAKY_RELU
      o->type = t::BuiltinOptions_LeakyReluOptions;
      o->Set("alpha", double{static_cast<const abi::LeakyReluParams*>(d)->alpha});
      return Status::Ok();
    }
  }
}

}  // namespace

bool CanTranslateOptions(int32_t code) {
  for (const PlainOp& p : kPlainOps) {
    if (p.code == code) return true;
  }
  for (int32_t c : kParamOps) {
    if (c == code) return true;
  }
  return false;
}

Status TranslateOptions(int32_t code, const void* d, graph::BuiltinOptions* o) {
  *o = graph::BuiltinOptions();
  for (const PlainOp& p : kPlainOps) {
    if (p.code == code) {
      o->type = p.union_type;
      return Status::Ok();
    }
  }
  if (!CanTranslateOptions(code))
    return Status::Error("no parameter translation for this operator");
  if (d == nullptr) return Status::Error("TFLite gave the operator no parameters");
  switch (code) {
    case kTfLiteBuiltinConv2d:
    case kTfLiteBuiltinDepthwiseConv2d:
    case kTfLiteBuiltinMaxPool2d:
    case kTfLiteBuiltinAveragePool2d:
      return ConvLike(code, d, o);
    case kTfLiteBuiltinFullyConnected:
    case kTfLiteBuiltinAdd:
    case kTfLiteBuiltinSub:
    case kTfLiteBuiltinMul:
    case kTfLiteBuiltinDiv:
      return Arithmetic(code, d, o);
    case kTfLiteBuiltinMean:
    case kTfLiteBuiltinSoftmax:
    case kTfLiteBuiltinLeakyRelu:
      return Other(code, d, o);
    default:
      return Shaping(code, d, o);
  }
}

}  // namespace xbnn::tflite_delegate
