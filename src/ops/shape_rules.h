// Pieces shared by the ops' shape, value and cost rules (src/ops/op_def.h): broadcasting, the
// spatial output size of convolutions and pools, and the rules many ops use as they are.
#pragma once

#include <cstdint>
#include <optional>

#include "ops/op_def.h"

namespace xbnn::ops {

inline constexpr int64_t kMaxShapeElements = int64_t{1} << 31;

int64_t Elements(const Shape& s);
// True when v fits a dimension (0..INT32_MAX).
bool FitsDim(int64_t v);
// NumPy broadcasting; nullopt when the shapes do not broadcast.
std::optional<Shape> Broadcast(const Shape& a, const Shape& b);
// An axis in [-rank, rank) made non-negative; nullopt when out of range.
std::optional<int64_t> NormalizeAxis(int64_t axis, int64_t rank);

// Output size of one spatial axis (TFLite's ComputeOutSize: padding 0 SAME, 1 VALID); 0 when
// invalid.
int64_t SpatialOut(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t padding);
// The same from the builtin options' strides, dilations and padding; dilation_name may be null
// (pools).
int64_t SpatialOut(const graph::BuiltinOptions& o, int64_t in, int64_t kernel,
                   const char* stride_name, const char* dilation_name);

// CONV_2D / DEPTHWISE_CONV_2D: input [N, H, W, C], filter [Cout, KH, KW, *] (depthwise: [1, KH,
// KW, Cout]), strides, dilations and padding from the options.
std::optional<Shape> ConvShape(const ShapeQuery& q, bool depthwise);

// Output 0 has input 0's shape (elementwise unary ops, quantize, softmax).
std::optional<Shape> SameShapeAsInput0(const ShapeQuery& q);
// Output 0 is inputs 0 and 1 broadcast (elementwise binary ops).
std::optional<Shape> BroadcastInputs(const ShapeQuery& q);
// Output 0 holds input 0's values unchanged (RESHAPE, SQUEEZE).
std::optional<Values> ForwardValues(const ShapeQuery& q, const Shape& out_shape);
// Output 0 holds the inputs' values one after another when the op's "axis" option is 0 (PACK and
// CONCATENATION building a shape vector).
std::optional<Values> ConcatValuesAlongAxis0(const ShapeQuery& q, const Shape& out_shape);

// MACs counted as float or int8 by the type of the op's input.
OpCost DenseMacs(const graph::Tensor& in, int64_t macs);
// Product of dimensions [from, to) of s.
int64_t DimProduct(const Shape& s, size_t from, size_t to);

}  // namespace xbnn::ops
