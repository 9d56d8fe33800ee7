#include "ops/shape_rules.h"

#include <algorithm>
#include <limits>

namespace xbnn::ops {

int64_t Elements(const Shape& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

bool FitsDim(int64_t v) { return v >= 0 && v <= std::numeric_limits<int32_t>::max(); }

std::optional<Shape> Broadcast(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int32_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int32_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::optional<int64_t> NormalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

int64_t SpatialOut(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t padding) {
  if (stride < 1 || dilation < 1 || kernel < 1 || in < 1 || (padding != 0 && padding != 1))
    return 0;
  const int64_t effective = (kernel - 1) * dilation + 1;
  if (padding == 0) return (in + stride - 1) / stride;
  if (in < effective) return 0;
  return (in - effective + stride) / stride;
}

int64_t SpatialOut(const graph::BuiltinOptions& o, int64_t in, int64_t kernel,
                   const char* stride_name, const char* dilation_name) {
  return SpatialOut(in, kernel, o.GetInt(stride_name, 1),
                    dilation_name ? o.GetInt(dilation_name, 1) : 1, o.GetInt("padding", 0));
}

std::optional<Shape> ConvShape(const ShapeQuery& q, bool depthwise) {
  const Shape* in = q.In(0);
  const Shape* f = q.In(1);
  if (!in || !f || in->size() != 4 || f->size() != 4) return std::nullopt;
  const int64_t h = SpatialOut(q.options(), (*in)[1], (*f)[1], "stride_h", "dilation_h_factor");
  const int64_t w = SpatialOut(q.options(), (*in)[2], (*f)[2], "stride_w", "dilation_w_factor");
  if (h < 1 || w < 1) return std::nullopt;
  return Shape{(*in)[0], static_cast<int32_t>(h), static_cast<int32_t>(w),
               depthwise ? (*f)[3] : (*f)[0]};
}

std::optional<Shape> SameShapeAsInput0(const ShapeQuery& q) {
  const Shape* in = q.In(0);
  return in ? std::optional<Shape>(*in) : std::nullopt;
}

std::optional<Shape> BroadcastInputs(const ShapeQuery& q) {
  const Shape* a = q.In(0);
  const Shape* b = q.In(1);
  if (!a || !b) return std::nullopt;
  return Broadcast(*a, *b);
}

std::optional<Values> ForwardValues(const ShapeQuery& q, const Shape&) {
  const Values* v = q.Val(0);
  return v ? std::optional<Values>(*v) : std::nullopt;
}

std::optional<Values> ConcatValuesAlongAxis0(const ShapeQuery& q, const Shape&) {
  if (q.options().GetInt("axis", 0) != 0) return std::nullopt;
  Values out;
  for (size_t i = 0; i < q.num_inputs(); ++i) {
    const Values* v = q.Val(i);
    if (!v) return std::nullopt;
    out.insert(out.end(), v->begin(), v->end());
  }
  return out;
}

OpCost DenseMacs(const graph::Tensor& in, int64_t macs) {
  OpCost c;
  (in.type == graph::DType::kInt8 ? c.int8_macs : c.float_macs) = macs;
  return c;
}

int64_t DimProduct(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

}  // namespace xbnn::ops
