// STRIDED_SLICE (versions 1-4): constant begin/end/strides, begin_mask, end_mask and
// shrink_axis_mask, tensors up to rank 5 of any fixed-size type, with TFLite's index resolution
// (negative indices wrap once, then clamp). ellipsis_mask, new_axis_mask and offset are refused.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

constexpr int kMaxSliceRank = 5;

class StridedSlice final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 4, 4));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, in_->type(), "output"));
    elem_ = graph::DTypeSize(in_->type());
    if (elem_ <= 0) return ctx.Error(std::string("type ") + graph::DTypeName(in_->type()) + " is not supported");
    rank_ = in_->rank();
    if (rank_ < 1 || rank_ > kMaxSliceRank) {
      return ctx.Error("input rank " + std::to_string(rank_) + " is outside the supported 1 to " +
                       std::to_string(kMaxSliceRank));
    }
    const auto& o = ctx.options();
    if (o.GetInt("ellipsis_mask", 0) != 0) return ctx.Error("ellipsis_mask is not supported");
    if (o.GetInt("new_axis_mask", 0) != 0) return ctx.Error("new_axis_mask is not supported");
    if (o.GetInt("offset", 0) != 0) return ctx.Error("offset = true is not supported");
    const int64_t begin_mask = o.GetInt("begin_mask", 0), end_mask = o.GetInt("end_mask", 0);
    const int64_t shrink_mask = o.GetInt("shrink_axis_mask", 0);
    std::vector<int64_t> begin, end, strides;
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, ctx.input(1), "begin", &begin));
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, ctx.input(2), "end", &end));
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, ctx.input(3), "strides", &strides));
    if (static_cast<int>(begin.size()) != rank_ || end.size() != begin.size() || strides.size() != begin.size()) {
      return ctx.Error("begin, end and strides must each have " + std::to_string(rank_) + " values, found " +
                       std::to_string(begin.size()) + ", " + std::to_string(end.size()) + ", " +
                       std::to_string(strides.size()));
    }
    for (const auto* v : {&begin, &end, &strides}) {
      for (int64_t x : *v) {
        if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
          return ctx.Error("slice index " + std::to_string(x) + " does not fit in int32");
        }
      }
    }
    std::vector<int32_t> expected;
    for (int a = 0; a < rank_; ++a) {
      const int64_t dim = in_->dim(a), s = strides[a];
      if (s == 0) return ctx.Error("stride of axis " + std::to_string(a) + " is 0");
      const bool shrink = (shrink_mask >> a) & 1;
      // A masked begin starts at the first element in the stride's direction, a masked end stops
      // past the last; negative indices wrap once, then everything clamps.
      constexpr int64_t kLow = std::numeric_limits<int32_t>::lowest(), kHigh = std::numeric_limits<int32_t>::max();
      auto resolve = [&](int64_t v, bool masked, bool is_end) {
        if (masked) v = (s > 0) != is_end ? kLow : kHigh;
        if (v < 0) v += dim;
        return s > 0 ? std::clamp<int64_t>(v, 0, dim) : std::clamp<int64_t>(v, -1, dim - 1);
      };
      const int64_t start = dim == 0 ? 0 : resolve(begin[a], (begin_mask >> a) & 1, false);
      const int64_t stop = shrink ? start + 1 : (dim == 0 ? 0 : resolve(end[a], (end_mask >> a) & 1, true));
      int64_t count = s > 0 ? (stop - start + s - 1) / s : (start - stop + (-s) - 1) / (-s);
      count = std::max<int64_t>(count, 0);
      if (shrink && count != 1) {
        return ctx.Error("shrink_axis_mask on axis " + std::to_string(a) + " selects index " +
                         std::to_string(begin[a]) + ", outside the dimension of size " + std::to_string(dim));
      }
      start_[a] = start;
      stride_[a] = s;
      count_[a] = count;
      if (!shrink) expected.push_back(static_cast<int32_t>(count));
    }
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, expected, "output"));
    int64_t st = elem_;
    for (int a = rank_ - 1; a >= 0; --a) {
      in_strides_[a] = st;
      st *= in_->dim(a);
    }
    return Status::Ok();
  }

  void Invoke(OpContext&) override {
    for (int a = 0; a < rank_; ++a) {
      if (count_[a] == 0) return;
    }
    std::array<int64_t, kMaxSliceRank> idx{};
    uint8_t* out = out_->data;
    const uint8_t* in = in_->data;
    const int last = rank_ - 1;
    const bool contiguous = stride_[last] == 1;
    const size_t row = static_cast<size_t>(count_[last] * elem_);
    while (true) {
      int64_t base = 0;
      for (int a = 0; a < last; ++a) base += (start_[a] + idx[a] * stride_[a]) * in_strides_[a];
      if (contiguous) {
        std::memcpy(out, in + base + start_[last] * elem_, row);
        out += row;
      } else {
        for (int64_t j = 0; j < count_[last]; ++j) {
          std::memcpy(out, in + base + (start_[last] + j * stride_[last]) * elem_, static_cast<size_t>(elem_));
          out += elem_;
        }
      }
      int a = last - 1;
      while (a >= 0 && ++idx[a] == count_[a]) idx[a--] = 0;
      if (a < 0) return;
    }
  }

 private:
  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int elem_ = 0, rank_ = 0;
  std::array<int64_t, kMaxSliceRank> start_{}, stride_{}, count_{}, in_strides_{};
};

// STRIDED_SLICE without ellipsis / new-axis masks at load time: the output shape and, per axis,
// the first index, stride and count (the same resolution as the kernel above).
struct Slice {
  ops::Shape out;
  std::vector<int64_t> start, stride, count;
};

std::optional<Slice> ResolveSlice(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  const ops::Values* begin = q.Val(1);
  const ops::Values* end = q.Val(2);
  const ops::Values* strides = q.Val(3);
  if (!in || !begin || !end || !strides) return std::nullopt;
  const auto& opt = q.options();
  if (opt.GetInt("ellipsis_mask", 0) != 0 || opt.GetInt("new_axis_mask", 0) != 0 ||
      opt.GetInt("offset", 0) != 0) {
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
    constexpr int64_t kLow = std::numeric_limits<int32_t>::lowest(),
                      kHigh = std::numeric_limits<int32_t>::max();
    auto resolve = [&](int64_t v, bool masked, bool is_end) {
      if (masked) v = (s > 0) != is_end ? kLow : kHigh;
      if (v < 0) v += dim;
      return s > 0 ? std::clamp<int64_t>(v, 0, dim) : std::clamp<int64_t>(v, -1, dim - 1);
    };
    const int64_t start = dim == 0 ? 0 : resolve((*begin)[a], (begin_mask >> a) & 1, false);
    const int64_t stop =
        shrink ? start + 1 : (dim == 0 ? 0 : resolve((*end)[a], (end_mask >> a) & 1, true));
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

std::optional<ops::Shape> StridedSliceShape(const ops::ShapeQuery& q) {
  auto sl = ResolveSlice(q);
  return sl ? std::optional<ops::Shape>(sl->out) : std::nullopt;
}

// The sliced values of a known input (shape vectors).
std::optional<ops::Values> StridedSliceValues(const ops::ShapeQuery& q, const ops::Shape&) {
  const ops::Values* v = q.Val(0);
  auto sl = ResolveSlice(q);
  if (!v || !sl) return std::nullopt;
  const ops::Shape* in = q.In(0);
  const size_t rank = in->size();
  ops::Values out;
  for (int64_t n : sl->count) {
    if (n == 0) return ops::Values{};
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

}  // namespace

extern const ops::OpDef kStridedSliceOp{
    .signature =
        graph::BuiltinSignature(graph::op::kStridedSlice, 4, 4, graph::options_type::kStridedSlice),
    .max_version = 4,
    .shape = StridedSliceShape,
    .values = StridedSliceValues,
    .create = ops::MakeKernel<StridedSlice>,
};

}  // namespace xbnn::kernels
