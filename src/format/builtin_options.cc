#include "format/builtin_options.h"

#include <array>

#include "tflite_subset_generated.h"

namespace xbnn::format {
namespace {

using K = FieldKind;
namespace t = ::xbnn::tfl;

// Field lists in TFLite field-id order. Deprecated fields keep their slot (name starts with '_').
constexpr OptionField kConv2D[] = {{"padding", K::kInt8, 0},          {"stride_w", K::kInt32, 0},
                                   {"stride_h", K::kInt32, 0},        {"fused_activation_function", K::kInt8, 0},
                                   {"dilation_w_factor", K::kInt32, 1}, {"dilation_h_factor", K::kInt32, 1},
                                   {"quantized_bias_type", K::kInt8, 0}};
constexpr OptionField kDepthwise[] = {{"padding", K::kInt8, 0},
                                      {"stride_w", K::kInt32, 0},
                                      {"stride_h", K::kInt32, 0},
                                      {"depth_multiplier", K::kInt32, 0},
                                      {"fused_activation_function", K::kInt8, 0},
                                      {"dilation_w_factor", K::kInt32, 1},
                                      {"dilation_h_factor", K::kInt32, 1}};
constexpr OptionField kPool2D[] = {{"padding", K::kInt8, 0},      {"stride_w", K::kInt32, 0},
                                   {"stride_h", K::kInt32, 0},    {"filter_width", K::kInt32, 0},
                                   {"filter_height", K::kInt32, 0}, {"fused_activation_function", K::kInt8, 0}};
constexpr OptionField kFullyConnected[] = {{"fused_activation_function", K::kInt8, 0},
                                           {"weights_format", K::kInt8, 0},
                                           {"keep_num_dims", K::kBool, 0},
                                           {"asymmetric_quantize_inputs", K::kBool, 0},
                                           {"quantized_bias_type", K::kInt8, 0}};
constexpr OptionField kSoftmax[] = {{"beta", K::kFloat32, 0}};
constexpr OptionField kConcatenation[] = {{"axis", K::kInt32, 0}, {"fused_activation_function", K::kInt8, 0}};
constexpr OptionField kAddSub[] = {{"fused_activation_function", K::kInt8, 0}, {"pot_scale_int16", K::kBool, 1}};
constexpr OptionField kActivationOnly[] = {{"fused_activation_function", K::kInt8, 0}};
constexpr OptionField kReshape[] = {{"new_shape", K::kInt32Vector, 0}};
constexpr OptionField kReducer[] = {{"keep_dims", K::kBool, 0}};
constexpr OptionField kSqueeze[] = {{"squeeze_dims", K::kInt32Vector, 0}};
constexpr OptionField kStridedSlice[] = {{"begin_mask", K::kInt32, 0},     {"end_mask", K::kInt32, 0},
                                         {"ellipsis_mask", K::kInt32, 0},  {"new_axis_mask", K::kInt32, 0},
                                         {"shrink_axis_mask", K::kInt32, 0}, {"offset", K::kBool, 0}};
constexpr OptionField kLeakyRelu[] = {{"alpha", K::kFloat32, 0}};
constexpr OptionField kGather[] = {{"axis", K::kInt32, 0}, {"batch_dims", K::kInt32, 0}};
constexpr OptionField kCast[] = {{"in_data_type", K::kInt8, 0}, {"out_data_type", K::kInt8, 0}};
constexpr OptionField kSplit[] = {{"num_splits", K::kInt32, 0}};
constexpr OptionField kShape[] = {{"out_type", K::kInt8, 0}};
constexpr OptionField kArgMinMax[] = {{"output_type", K::kInt8, 0}};
constexpr OptionField kPack[] = {{"values_count", K::kInt32, 0}, {"axis", K::kInt32, 0}};
constexpr OptionField kResize[] = {{"_new_height", K::kInt32, 0}, {"_new_width", K::kInt32, 0},
                                   {"align_corners", K::kBool, 0}, {"half_pixel_centers", K::kBool, 0}};
constexpr OptionField kResizeNearest[] = {{"align_corners", K::kBool, 0}, {"half_pixel_centers", K::kBool, 0}};
constexpr OptionField kTransposeConv[] = {{"padding", K::kInt8, 0},
                                          {"stride_w", K::kInt32, 0},
                                          {"stride_h", K::kInt32, 0},
                                          {"fused_activation_function", K::kInt8, 0},
                                          {"quantized_bias_type", K::kInt8, 0}};
constexpr OptionField kBatchMatMul[] = {{"adj_x", K::kBool, 0}, {"adj_y", K::kBool, 0},
                                        {"asymmetric_quantize_inputs", K::kBool, 0}};
constexpr OptionField kDepthSpace[] = {{"block_size", K::kInt32, 0}};
constexpr OptionField kMirrorPad[] = {{"mode", K::kInt8, 0}};
constexpr OptionField kGelu[] = {{"approximate", K::kBool, 0}};
constexpr OptionField kFakeQuant[] = {{"min", K::kFloat32, 0}, {"max", K::kFloat32, 0},
                                      {"num_bits", K::kInt32, 0}, {"narrow_range", K::kBool, 0}};
constexpr std::span<const OptionField> kNone{};

const std::array kSpecs = {
    OptionTableSpec{t::BuiltinOptions_Conv2DOptions, "Conv2DOptions", kConv2D},
    OptionTableSpec{t::BuiltinOptions_DepthwiseConv2DOptions, "DepthwiseConv2DOptions", kDepthwise},
    OptionTableSpec{t::BuiltinOptions_Pool2DOptions, "Pool2DOptions", kPool2D},
    OptionTableSpec{t::BuiltinOptions_FullyConnectedOptions, "FullyConnectedOptions", kFullyConnected},
    OptionTableSpec{t::BuiltinOptions_SoftmaxOptions, "SoftmaxOptions", kSoftmax},
    OptionTableSpec{t::BuiltinOptions_ConcatenationOptions, "ConcatenationOptions", kConcatenation},
    OptionTableSpec{t::BuiltinOptions_AddOptions, "AddOptions", kAddSub},
    OptionTableSpec{t::BuiltinOptions_SubOptions, "SubOptions", kAddSub},
    OptionTableSpec{t::BuiltinOptions_MulOptions, "MulOptions", kActivationOnly},
    OptionTableSpec{t::BuiltinOptions_DivOptions, "DivOptions", kActivationOnly},
    OptionTableSpec{t::BuiltinOptions_L2NormOptions, "L2NormOptions", kActivationOnly},
    OptionTableSpec{t::BuiltinOptions_ReshapeOptions, "ReshapeOptions", kReshape},
    OptionTableSpec{t::BuiltinOptions_ReducerOptions, "ReducerOptions", kReducer},
    OptionTableSpec{t::BuiltinOptions_SqueezeOptions, "SqueezeOptions", kSqueeze},
    OptionTableSpec{t::BuiltinOptions_StridedSliceOptions, "StridedSliceOptions", kStridedSlice},
    OptionTableSpec{t::BuiltinOptions_LeakyReluOptions, "LeakyReluOptions", kLeakyRelu},
    OptionTableSpec{t::BuiltinOptions_GatherOptions, "GatherOptions", kGather},
    OptionTableSpec{t::BuiltinOptions_CastOptions, "CastOptions", kCast},
    OptionTableSpec{t::BuiltinOptions_SplitOptions, "SplitOptions", kSplit},
    OptionTableSpec{t::BuiltinOptions_SplitVOptions, "SplitVOptions", kSplit},
    OptionTableSpec{t::BuiltinOptions_ShapeOptions, "ShapeOptions", kShape},
    OptionTableSpec{t::BuiltinOptions_ArgMaxOptions, "ArgMaxOptions", kArgMinMax},
    OptionTableSpec{t::BuiltinOptions_ArgMinOptions, "ArgMinOptions", kArgMinMax},
    OptionTableSpec{t::BuiltinOptions_PackOptions, "PackOptions", kPack},
    OptionTableSpec{t::BuiltinOptions_UnpackOptions, "UnpackOptions", kPack},
    OptionTableSpec{t::BuiltinOptions_ResizeBilinearOptions, "ResizeBilinearOptions", kResize},
    OptionTableSpec{t::BuiltinOptions_ResizeNearestNeighborOptions, "ResizeNearestNeighborOptions", kResizeNearest},
    OptionTableSpec{t::BuiltinOptions_TransposeConvOptions, "TransposeConvOptions", kTransposeConv},
    OptionTableSpec{t::BuiltinOptions_BatchMatMulOptions, "BatchMatMulOptions", kBatchMatMul},
    OptionTableSpec{t::BuiltinOptions_SpaceToDepthOptions, "SpaceToDepthOptions", kDepthSpace},
    OptionTableSpec{t::BuiltinOptions_DepthToSpaceOptions, "DepthToSpaceOptions", kDepthSpace},
    OptionTableSpec{t::BuiltinOptions_MirrorPadOptions, "MirrorPadOptions", kMirrorPad},
    OptionTableSpec{t::BuiltinOptions_GeluOptions, "GeluOptions", kGelu},
    OptionTableSpec{t::BuiltinOptions_FakeQuantOptions, "FakeQuantOptions", kFakeQuant},
    // Option tables with no fields.
    OptionTableSpec{t::BuiltinOptions_PadOptions, "PadOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_PadV2Options, "PadV2Options", kNone},
    OptionTableSpec{t::BuiltinOptions_DequantizeOptions, "DequantizeOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_QuantizeOptions, "QuantizeOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_MaximumMinimumOptions, "MaximumMinimumOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_GreaterOptions, "GreaterOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_GreaterEqualOptions, "GreaterEqualOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_LessOptions, "LessOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_LessEqualOptions, "LessEqualOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_EqualOptions, "EqualOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_NotEqualOptions, "NotEqualOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_SelectOptions, "SelectOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_SelectV2Options, "SelectV2Options", kNone},
    OptionTableSpec{t::BuiltinOptions_SignOptions, "SignOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_HardSwishOptions, "HardSwishOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_TransposeOptions, "TransposeOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_ExpandDimsOptions, "ExpandDimsOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_SliceOptions, "SliceOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_TileOptions, "TileOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_AbsOptions, "AbsOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_NegOptions, "NegOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_ExpOptions, "ExpOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_SquareOptions, "SquareOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_SquaredDifferenceOptions, "SquaredDifferenceOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_PowOptions, "PowOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_FloorDivOptions, "FloorDivOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_LogSoftmaxOptions, "LogSoftmaxOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_SpaceToBatchNDOptions, "SpaceToBatchNDOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_BatchToSpaceNDOptions, "BatchToSpaceNDOptions", kNone},
    OptionTableSpec{t::BuiltinOptions_BroadcastToOptions, "BroadcastToOptions", kNone},
};

}  // namespace

const OptionTableSpec* FindOptionSpec(uint8_t union_type) {
  for (const OptionTableSpec& s : kSpecs) {
    if (s.union_type == union_type) return &s;
  }
  return nullptr;
}

}  // namespace xbnn::format
