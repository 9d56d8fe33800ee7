#include "runtime/shape_inference.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "graph/cost.h"

namespace xbnn::runtime {
namespace {

namespace op = graph::op;
using Shape = std::vector<int32_t>;
using Values = std::vector<int64_t>;

// TFLite builtin codes that graph::op does not name.
constexpr int32_t kBatchToSpaceND = 37, kSpaceToBatchND = 38, kTranspose = 39, kSplit = 49, kShape = 77,
                  kPack = 83, kAbs = 101, kTanh = 28, kSum = 74, kReduceMax = 82, kReduceMin = 89,
                  kReduceProd = 81, kGreater = 61, kLess = 58, kLessEqual = 63, kEqual = 71, kNotEqual = 72,
                  kSquaredDifference = 99, kPow = 78, kFloorDiv = 90, kFloorMod = 95, kExp = 47, kLog = 73,
                  kSqrt = 75, kRsqrt = 76, kNeg = 59, kSquare = 92, kFloor = 8, kCast = 53, kElu = 111,
                  kGelu = 150;

constexpr int kMaxRank = 8;
constexpr int64_t kMaxElements = int64_t{1} << 31;

struct Ctx {
  const graph::Graph& g;
  const graph::Subgraph& sg;
  InferredShapes& r;

  const Shape* In(const graph::Operator& o, size_t i) const {
    if (i >= o.inputs.size() || o.inputs[i] < 0) return nullptr;
    return &r.shapes[static_cast<size_t>(o.inputs[i])];
  }
  const Values* Val(const graph::Operator& o, size_t i) const {
    if (i >= o.inputs.size() || o.inputs[i] < 0) return nullptr;
    const auto& v = r.values[static_cast<size_t>(o.inputs[i])];
    return v ? &*v : nullptr;
  }
};

int64_t Elements(const Shape& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

bool Fits(int64_t v) { return v >= 0 && v <= std::numeric_limits<int32_t>::max(); }

// NumPy broadcasting; nullopt when the shapes do not broadcast.
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

// Output size of one spatial axis (TFLite's ComputeOutSize); 0 when invalid.
int64_t SpatialOut(const graph::Operator& o, int64_t in, int64_t kernel, const char* stride_name,
                   const char* dilation_name) {
  const int64_t padding = o.builtin_options.GetInt("padding", 0);
  const int64_t stride = o.builtin_options.GetInt(stride_name, 1);
  const int64_t dilation = dilation_name ? o.builtin_options.GetInt(dilation_name, 1) : 1;
  if (stride < 1 || dilation < 1 || kernel < 1 || in < 1 || (padding != 0 && padding != 1)) return 0;
  const int64_t effective = (kernel - 1) * dilation + 1;
  if (padding == 0) return (in + stride - 1) / stride;
  if (in < effective) return 0;
  return (in - effective + stride) / stride;
}

std::optional<Shape> Conv(const Ctx& c, const graph::Operator& o, bool depthwise) {
  const Shape* in = c.In(o, 0);
  const Shape* f = c.In(o, 1);
  if (!in || !f || in->size() != 4 || f->size() != 4) return std::nullopt;
  const int64_t h = SpatialOut(o, (*in)[1], (*f)[1], "stride_h", "dilation_h_factor");
  const int64_t w = SpatialOut(o, (*in)[2], (*f)[2], "stride_w", "dilation_w_factor");
  if (h < 1 || w < 1) return std::nullopt;
  return Shape{(*in)[0], static_cast<int32_t>(h), static_cast<int32_t>(w), depthwise ? (*f)[3] : (*f)[0]};
}

std::optional<Shape> Pool(const Ctx& c, const graph::Operator& o) {
  const Shape* in = c.In(o, 0);
  if (!in || in->size() != 4) return std::nullopt;
  const int64_t h = SpatialOut(o, (*in)[1], o.builtin_options.GetInt("filter_height", 1), "stride_h", nullptr);
  const int64_t w = SpatialOut(o, (*in)[2], o.builtin_options.GetInt("filter_width", 1), "stride_w", nullptr);
  if (h < 1 || w < 1) return std::nullopt;
  return Shape{(*in)[0], static_cast<int32_t>(h), static_cast<int32_t>(w), (*in)[3]};
}

std::optional<Shape> FullyConnected(const Ctx& c, const graph::Operator& o) {
  const Shape* in = c.In(o, 0);
  const Shape* f = c.In(o, 1);
  if (!in || !f || f->size() != 2 || in->empty() || (*f)[1] < 1) return std::nullopt;
  if (o.builtin_options.GetInt("keep_num_dims", 0) != 0) {
    if (in->back() != (*f)[1]) return std::nullopt;
    Shape s = *in;
    s.back() = (*f)[0];
    return s;
  }
  const int64_t n = Elements(*in);
  if (n % (*f)[1] != 0) return std::nullopt;
  return Shape{static_cast<int32_t>(n / (*f)[1]), (*f)[0]};
}

std::optional<Shape> ResolveReshape(const Values& requested, int64_t elements) {
  Shape s;
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    const int64_t d = requested[i];
    if (d == -1) {
      if (unknown >= 0) return std::nullopt;
      unknown = static_cast<int>(i);
      s.push_back(1);
      continue;
    }
    if (!Fits(d)) return std::nullopt;
    if (d > 0 && known > kMaxElements / d) return std::nullopt;
    known *= d;
    s.push_back(static_cast<int32_t>(d));
  }
  if (unknown >= 0) {
    if (known == 0 || elements % known != 0 || !Fits(elements / known)) return std::nullopt;
    s[static_cast<size_t>(unknown)] = static_cast<int32_t>(elements / known);
  }
  return s;
}

std::optional<Shape> Reshape(const Ctx& c, const graph::Operator& o) {
  const Shape* in = c.In(o, 0);
  if (!in) return std::nullopt;
  const Shape* shape_in = c.In(o, 1);
  if (shape_in && shape_in->size() == 1) {
    const Values* v = c.Val(o, 1);
    if (!v) return std::nullopt;
    return ResolveReshape(*v, Elements(*in));
  }
  if (const std::vector<int32_t>* ns = o.builtin_options.GetInts("new_shape")) {
    if (ns->empty()) return std::nullopt;  // ambiguous (scalar or unset): keep the file's shape
    return ResolveReshape(Values(ns->begin(), ns->end()), Elements(*in));
  }
  return std::nullopt;
}

std::optional<Shape> Squeeze(const Ctx& c, const graph::Operator& o) {
  const Shape* in = c.In(o, 0);
  if (!in) return std::nullopt;
  const int rank = static_cast<int>(in->size());
  std::vector<bool> drop(in->size(), false);
  const std::vector<int32_t>* dims = o.builtin_options.GetInts("squeeze_dims");
  if (dims && !dims->empty()) {
    for (int32_t d : *dims) {
      if (d < -rank || d >= rank) return std::nullopt;
      drop[static_cast<size_t>(d < 0 ? d + rank : d)] = true;
    }
  } else {
    for (int d = 0; d < rank; ++d) drop[static_cast<size_t>(d)] = (*in)[static_cast<size_t>(d)] == 1;
  }
  Shape s;
  for (int d = 0; d < rank; ++d) {
    if (!drop[static_cast<size_t>(d)]) s.push_back((*in)[static_cast<size_t>(d)]);
  }
  return s;
}

std::optional<Shape> Pad(const Ctx& c, const graph::Operator& o) {
  const Shape* in = c.In(o, 0);
  const Values* p = c.Val(o, 1);
  if (!in || !p || p->size() != 2 * in->size()) return std::nullopt;
  Shape s = *in;
  for (size_t d = 0; d < s.size(); ++d) {
    const int64_t v = s[d] + (*p)[2 * d] + (*p)[2 * d + 1];
    if ((*p)[2 * d] < 0 || (*p)[2 * d + 1] < 0 || !Fits(v)) return std::nullopt;
    s[d] = static_cast<int32_t>(v);
  }
  return s;
}

std::optional<Shape> Reduce(const Ctx& c, const graph::Operator& o) {
  const Shape* in = c.In(o, 0);
  const Values* axes = c.Val(o, 1);
  if (!in || !axes) return std::nullopt;
  const int rank = static_cast<int>(in->size());
  std::vector<bool> reduced(in->size(), false);
  for (int64_t a : *axes) {
    if (a < -rank || a >= rank) return std::nullopt;
    reduced[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  }
  const bool keep = o.builtin_options.GetInt("keep_dims", 0) != 0;
  Shape s;
  for (int d = 0; d < rank; ++d) {
    if (!reduced[static_cast<size_t>(d)]) {
      s.push_back((*in)[static_cast<size_t>(d)]);
    } else if (keep) {
      s.push_back(1);
    }
  }
  return s;
}

std::optional<Shape> Concatenation(const Ctx& c, const graph::Operator& o) {
  const Shape* first = c.In(o, 0);
  if (!first || first->empty()) return std::nullopt;
  const int rank = static_cast<int>(first->size());
  int64_t axis = o.builtin_options.GetInt("axis", 0);
  if (axis < -rank || axis >= rank) return std::nullopt;
  if (axis < 0) axis += rank;
  Shape s = *first;
  int64_t total = 0;
  for (size_t i = 0; i < o.inputs.size(); ++i) {
    const Shape* t = c.In(o, i);
    if (!t || t->size() != first->size()) return std::nullopt;
    for (int d = 0; d < rank; ++d) {
      if (d != axis && (*t)[static_cast<size_t>(d)] != s[static_cast<size_t>(d)]) return std::nullopt;
    }
    total += (*t)[static_cast<size_t>(axis)];
  }
  if (!Fits(total)) return std::nullopt;
  s[static_cast<size_t>(axis)] = static_cast<int32_t>(total);
  return s;
}

// STRIDED_SLICE without ellipsis / new-axis masks: the output shape and, per axis, the first
// index, stride and count (the same resolution as the kernel in kernels/builtin/strided_slice.cc).
struct Slice {
  Shape out;
  std::vector<int64_t> start, stride, count;
};

std::optional<Slice> ResolveSlice(const Ctx& c, const graph::Operator& o) {
  const Shape* in = c.In(o, 0);
  const Values* begin = c.Val(o, 1);
  const Values* end = c.Val(o, 2);
  const Values* strides = c.Val(o, 3);
  if (!in || !begin || !end || !strides) return std::nullopt;
  const auto& opt = o.builtin_options;
  if (opt.GetInt("ellipsis_mask", 0) != 0 || opt.GetInt("new_axis_mask", 0) != 0 || opt.GetInt("offset", 0) != 0) {
    return std::nullopt;
  }
  const size_t rank = in->size();
  if (begin->size() != rank || end->size() != rank || strides->size() != rank) return std::nullopt;
  const int64_t begin_mask = opt.GetInt("begin_mask", 0), end_mask = opt.GetInt("end_mask", 0);
  const int64_t shrink_mask = opt.GetInt("shrink_axis_mask", 0);
  Slice sl;
  for (size_t a = 0; a < rank; ++a) {
    const int64_t dim = (*in)[a], s = (*strides)[a];
    if (s == 0) return std::nullopt;
    const bool shrink = (shrink_mask >> a) & 1;
    constexpr int64_t kLow = std::numeric_limits<int32_t>::lowest(), kHigh = std::numeric_limits<int32_t>::max();
    auto resolve = [&](int64_t v, bool masked, bool is_end) {
      if (masked) v = (s > 0) != is_end ? kLow : kHigh;
      if (v < 0) v += dim;
      return s > 0 ? std::clamp<int64_t>(v, 0, dim) : std::clamp<int64_t>(v, -1, dim - 1);
    };
    const int64_t start = dim == 0 ? 0 : resolve((*begin)[a], (begin_mask >> a) & 1, false);
    const int64_t stop = shrink ? start + 1 : (dim == 0 ? 0 : resolve((*end)[a], (end_mask >> a) & 1, true));
    int64_t count = s > 0 ? (stop - start + s - 1) / s : (start - stop + (-s) - 1) / (-s);
    count = std::max<int64_t>(count, 0);
    if (shrink && count != 1) return std::nullopt;
    sl.start.push_back(start);
    sl.stride.push_back(s);
    sl.count.push_back(count);
    if (!shrink) sl.out.push_back(static_cast<int32_t>(count));
  }
  return sl;
}

std::optional<Shape> SpaceBatch(const Ctx& c, const graph::Operator& o, bool to_batch) {
  const Shape* in = c.In(o, 0);
  const Values* block = c.Val(o, 1);
  const Values* pads = c.Val(o, 2);
  if (!in || !block || !pads || (in->size() != 3 && in->size() != 4)) return std::nullopt;
  const size_t spatial = in->size() - 2;
  if (block->size() != spatial || pads->size() != 2 * spatial) return std::nullopt;
  Shape s = *in;
  int64_t prod = 1;
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t b = (*block)[i], lo = (*pads)[2 * i], hi = (*pads)[2 * i + 1];
    if (b < 1 || b > 4096 || lo < 0 || hi < 0) return std::nullopt;
    prod *= b;
    int64_t d;
    if (to_batch) {
      const int64_t padded = (*in)[i + 1] + lo + hi;
      if (padded % b != 0) return std::nullopt;
      d = padded / b;
    } else {
      d = (*in)[i + 1] * b - lo - hi;
      if (d < 0) return std::nullopt;
    }
    if (!Fits(d)) return std::nullopt;
    s[i + 1] = static_cast<int32_t>(d);
  }
  const int64_t batch = to_batch ? (*in)[0] * prod : ((*in)[0] % prod == 0 ? (*in)[0] / prod : -1);
  if (!Fits(batch)) return std::nullopt;
  s[0] = static_cast<int32_t>(batch);
  return s;
}

std::optional<Shape> Pack(const Ctx& c, const graph::Operator& o) {
  const Shape* first = c.In(o, 0);
  if (!first) return std::nullopt;
  for (size_t i = 1; i < o.inputs.size(); ++i) {
    const Shape* t = c.In(o, i);
    if (!t || *t != *first) return std::nullopt;
  }
  const int rank = static_cast<int>(first->size()) + 1;
  int64_t axis = o.builtin_options.GetInt("axis", 0);
  if (axis < -rank || axis >= rank) return std::nullopt;
  if (axis < 0) axis += rank;
  Shape s = *first;
  s.insert(s.begin() + axis, static_cast<int32_t>(o.inputs.size()));
  return s;
}

std::optional<Shape> Transpose(const Ctx& c, const graph::Operator& o) {
  const Shape* in = c.In(o, 0);
  const Values* perm = c.Val(o, 1);
  if (!in || !perm || perm->size() != in->size()) return std::nullopt;
  Shape s;
  std::vector<bool> used(in->size(), false);
  for (int64_t p : *perm) {
    const int64_t a = p < 0 ? p + static_cast<int64_t>(in->size()) : p;
    if (a < 0 || a >= static_cast<int64_t>(in->size()) || used[static_cast<size_t>(a)]) return std::nullopt;
    used[static_cast<size_t>(a)] = true;
    s.push_back((*in)[static_cast<size_t>(a)]);
  }
  return s;
}

// SPLIT: inputs (axis, value); every output gets value's shape with the axis divided.
std::optional<Shape> SplitPart(const Ctx& c, const graph::Operator& o) {
  const Values* axis_v = c.Val(o, 0);
  const Shape* in = c.In(o, 1);
  if (!axis_v || axis_v->size() != 1 || !in || o.outputs.empty()) return std::nullopt;
  const int rank = static_cast<int>(in->size());
  int64_t axis = (*axis_v)[0];
  if (axis < -rank || axis >= rank) return std::nullopt;
  if (axis < 0) axis += rank;
  const int64_t n = static_cast<int64_t>(o.outputs.size());
  if ((*in)[static_cast<size_t>(axis)] % n != 0) return std::nullopt;
  Shape s = *in;
  s[static_cast<size_t>(axis)] = static_cast<int32_t>(s[static_cast<size_t>(axis)] / n);
  return s;
}

// Ops that keep the batch of their first input but whose other dimensions xbnn does not model
// here (the Larq ops): the file's shape with dimension 0 taken from the input when the file's
// shapes agree on it.
std::optional<Shape> PropagateBatch(const Ctx& c, const graph::Operator& o, const Shape& file_out) {
  const Shape* in = c.In(o, 0);
  if (!in || in->empty() || file_out.empty() || o.inputs[0] < 0) return std::nullopt;
  const Shape& file_in = c.sg.tensors[static_cast<size_t>(o.inputs[0])].shape;
  if (file_in.empty() || file_in[0] != file_out[0]) return std::nullopt;
  Shape s = file_out;
  s[0] = (*in)[0];
  return s;
}

bool IsUnary(int32_t code) {
  switch (code) {
    case op::kRelu: case op::kRelu6: case op::kReluN1To1: case op::kLogistic: case op::kHardSwish:
    case op::kLeakyRelu: case op::kSign: case op::kQuantize: case op::kDequantize: case op::kSoftmax:
    case kAbs: case kTanh: case kExp: case kLog: case kSqrt: case kRsqrt: case kNeg: case kSquare:
    case kFloor: case kCast: case kElu: case kGelu:
      return true;
    default:
      return false;
  }
}

bool IsBinary(int32_t code) {
  switch (code) {
    case op::kAdd: case op::kSub: case op::kMul: case op::kDiv: case op::kMaximum: case op::kMinimum:
    case op::kGreaterEqual: case op::kPrelu: case kGreater: case kLess: case kLessEqual: case kEqual:
    case kNotEqual: case kSquaredDifference: case kPow: case kFloorDiv: case kFloorMod:
      return true;
    default:
      return false;
  }
}

// The shape of output `k` of `o`, or nullopt to keep the file's.
std::optional<Shape> OutputShape(const Ctx& c, const graph::Operator& o, size_t k) {
  const graph::OperatorCode& code = c.g.CodeOf(o);
  const Shape& file_out = c.sg.tensors[static_cast<size_t>(o.outputs[k])].shape;
  if (code.builtin == op::kCustom) {
    if (code.custom_code.rfind("Lce", 0) == 0) return PropagateBatch(c, o, file_out);
    return std::nullopt;
  }
  const int32_t b = code.builtin;
  if (b == kSplit) return SplitPart(c, o);
  if (k != 0) return std::nullopt;
  if (IsUnary(b)) {
    const Shape* in = c.In(o, 0);
    return in ? std::optional<Shape>(*in) : std::nullopt;
  }
  if (IsBinary(b)) {
    const Shape* a = c.In(o, 0);
    const Shape* bb = c.In(o, 1);
    if (!a || !bb) return std::nullopt;
    return Broadcast(*a, *bb);
  }
  switch (b) {
    case op::kConv2D: return Conv(c, o, false);
    case op::kDepthwiseConv2D: return Conv(c, o, true);
    case op::kMaxPool2D: case op::kAveragePool2D: return Pool(c, o);
    case op::kFullyConnected: return FullyConnected(c, o);
    case op::kReshape: return Reshape(c, o);
    case op::kSqueeze: return Squeeze(c, o);
    case op::kPad: case op::kPadV2: return Pad(c, o);
    case op::kMean: case kSum: case kReduceMax: case kReduceMin: case kReduceProd: return Reduce(c, o);
    case op::kConcatenation: return Concatenation(c, o);
    case op::kStridedSlice: {
      auto sl = ResolveSlice(c, o);
      return sl ? std::optional<Shape>(sl->out) : std::nullopt;
    }
    case kSpaceToBatchND: return SpaceBatch(c, o, true);
    case kBatchToSpaceND: return SpaceBatch(c, o, false);
    case kShape: {
      const Shape* in = c.In(o, 0);
      return in ? std::optional<Shape>(Shape{static_cast<int32_t>(in->size())}) : std::nullopt;
    }
    case kPack: return Pack(c, o);
    case kTranspose: return Transpose(c, o);
    case op::kSelect: case op::kSelectV2: {
      const Shape* x = c.In(o, 0);
      const Shape* y = c.In(o, 1);
      const Shape* z = c.In(o, 2);
      if (!x || !y || !z) return std::nullopt;
      auto xy = Broadcast(*x, *y);
      return xy ? Broadcast(*xy, *z) : std::nullopt;
    }
    default: return std::nullopt;
  }
}

bool IsIntType(graph::DType t) { return t == graph::DType::kInt32 || t == graph::DType::kInt64; }

// Values of output 0 of `o` when they follow from known values and shapes.
std::optional<Values> OutputValues(const Ctx& c, const graph::Operator& o, const Shape& out_shape) {
  if (o.outputs.size() != 1) return std::nullopt;
  const graph::OperatorCode& code = c.g.CodeOf(o);
  if (code.builtin == op::kCustom) return std::nullopt;
  if (!IsIntType(c.sg.tensors[static_cast<size_t>(o.outputs[0])].type)) return std::nullopt;
  if (Elements(out_shape) > kMaxKnownValues) return std::nullopt;
  switch (code.builtin) {
    case kShape: {
      const Shape* in = c.In(o, 0);
      if (!in) return std::nullopt;
      return Values(in->begin(), in->end());
    }
    case op::kReshape: case op::kSqueeze: {
      const Values* v = c.Val(o, 0);
      if (!v) return std::nullopt;
      return *v;
    }
    case op::kStridedSlice: {
      const Values* v = c.Val(o, 0);
      auto sl = ResolveSlice(c, o);
      if (!v || !sl) return std::nullopt;
      const Shape* in = c.In(o, 0);
      const size_t rank = in->size();
      Values out;
      for (int64_t n : sl->count) {
        if (n == 0) return Values{};
      }
      std::vector<int64_t> idx(rank, 0), stride_in(rank, 1);
      for (size_t a = rank; a-- > 1;) stride_in[a - 1] = stride_in[a] * (*in)[a];
      if (rank == 0) return *v;
      while (true) {
        int64_t off = 0;
        for (size_t a = 0; a < rank; ++a) off += (sl->start[a] + idx[a] * sl->stride[a]) * stride_in[a];
        if (off < 0 || off >= static_cast<int64_t>(v->size())) return std::nullopt;
        out.push_back((*v)[static_cast<size_t>(off)]);
        size_t a = rank;
        while (a > 0 && ++idx[a - 1] == sl->count[a - 1]) idx[--a] = 0;
        if (a == 0) break;
      }
      return out;
    }
    case kPack: case op::kConcatenation: {
      // Along axis 0 only (the shape-building pattern): the inputs' values one after another.
      const int64_t axis = o.builtin_options.GetInt("axis", 0);
      if (axis != 0) return std::nullopt;
      Values out;
      for (size_t i = 0; i < o.inputs.size(); ++i) {
        const Values* v = c.Val(o, i);
        if (!v) return std::nullopt;
        out.insert(out.end(), v->begin(), v->end());
      }
      return out;
    }
    default: return std::nullopt;
  }
}

std::optional<Values> ConstantValues(const graph::Graph& g, const graph::Tensor& t) {
  if (!IsIntType(t.type) || !graph::IsConstant(g, t) || t.NumElements() > kMaxKnownValues) return std::nullopt;
  const auto bytes = g.buffers[t.buffer].bytes();
  const size_t size = t.type == graph::DType::kInt32 ? 4 : 8;
  const int64_t n = t.NumElements();
  if (bytes.size() < static_cast<size_t>(n) * size) return std::nullopt;
  Values v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (size == 4) {
      int32_t x;
      std::memcpy(&x, bytes.data() + i * 4, 4);
      v[static_cast<size_t>(i)] = x;
    } else {
      std::memcpy(&v[static_cast<size_t>(i)], bytes.data() + i * 8, 8);
    }
  }
  return v;
}

}  // namespace

Status InferShapes(const graph::Graph& g, const graph::Subgraph& sg, InferredShapes* out) {
  InferredShapes& r = *out;
  const size_t n = sg.tensors.size();
  r.shapes.resize(n);
  r.values.assign(n, std::nullopt);
  r.folded.assign(sg.operators.size(), false);
  std::vector<bool> constant(n, false);
  for (size_t i = 0; i < n; ++i) {
    r.shapes[i] = sg.tensors[i].shape;
    constant[i] = graph::IsConstant(g, sg.tensors[i]);
    if (constant[i]) r.values[i] = ConstantValues(g, sg.tensors[i]);
  }
  Ctx c{g, sg, r};
  for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
    const graph::Operator& o = sg.operators[oi];
    if (o.opcode_index >= g.operator_codes.size()) continue;
    bool all_known = !o.outputs.empty();
    for (size_t k = 0; k < o.outputs.size(); ++k) {
      const int32_t t = o.outputs[k];
      if (t < 0 || static_cast<size_t>(t) >= n || constant[static_cast<size_t>(t)]) {
        all_known = false;
        continue;
      }
      std::optional<Shape> s = OutputShape(c, o, k);
      if (s) {
        if (static_cast<int>(s->size()) > kMaxRank) {
          return Status::Error("op " + std::to_string(oi) + " (" + g.OpName(o) + "): inferred output shape has rank " +
                               std::to_string(s->size()) + ", over the limit of " + std::to_string(kMaxRank));
        }
        int64_t elements = 1;
        for (int32_t d : *s) {
          if (d < 0 || (d > 0 && elements > kMaxElements / d)) {
            return Status::Error("op " + std::to_string(oi) + " (" + g.OpName(o) +
                                 "): inferred output shape exceeds the limit of 2^31 elements");
          }
          elements *= d;
        }
        r.shapes[static_cast<size_t>(t)] = std::move(*s);
      }
      std::optional<Values> v = k == 0 ? OutputValues(c, o, r.shapes[static_cast<size_t>(t)]) : std::nullopt;
      if (v && static_cast<int64_t>(v->size()) == Elements(r.shapes[static_cast<size_t>(t)])) {
        r.values[static_cast<size_t>(t)] = std::move(*v);
      } else {
        all_known = false;
      }
    }
    r.folded[oi] = all_known;
  }
  return Status::Ok();
}

}  // namespace xbnn::runtime
