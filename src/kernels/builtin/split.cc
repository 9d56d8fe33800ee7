// SPLIT (versions 1-4) and SPLIT_V (versions 1-3): a tensor of any fixed-size type cut along one
// axis into equal parts (SPLIT) or parts of the given sizes, one of which may be -1 (SPLIT_V).
// The axis and sizes must be constants, as the converters write them.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

class Split final : public runtime::OpKernel {
 public:
  explicit Split(bool sizes) : sizes_(sizes) {}

  Status Prepare(OpContext& ctx) override {
    // SPLIT: (axis, input); SPLIT_V: (input, size_splits, axis).
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, sizes_ ? 3 : 2, sizes_ ? 3 : 2));
    in_ = ctx.input(sizes_ ? 0 : 1);
    const RuntimeTensor* axis_t = ctx.input(sizes_ ? 2 : 0);
    const size_t n = ctx.outputs.size();
    if (n < 1) return ctx.Error("expects at least one output");
    const int64_t expected_count = ctx.options().GetInt("num_splits", 0);
    if (expected_count != 0 && expected_count != static_cast<int64_t>(n)) {
      return ctx.Error("num_splits is " + std::to_string(expected_count) + " but the op has " + std::to_string(n) +
                       " outputs");
    }
    elem_ = graph::DTypeSize(in_->type());
    if (elem_ <= 0) return ctx.Error(std::string("type ") + graph::DTypeName(in_->type()) + " is not supported");
    std::vector<int64_t> axis_v;
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, axis_t, "axis", &axis_v));
    if (axis_v.size() != 1) return ctx.Error("axis must hold one value, found " + std::to_string(axis_v.size()));
    const int rank = in_->rank();
    int64_t axis = axis_v[0];
    if (axis < -rank || axis >= rank) {
      return ctx.Error("axis " + std::to_string(axis) + " is out of range for input of rank " + std::to_string(rank));
    }
    if (axis < 0) axis += rank;
    const int64_t dim = in_->dim(static_cast<int>(axis));
    std::vector<int64_t> parts;
    if (sizes_) {
      XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, ctx.input(1), "size_splits", &parts));
      if (parts.size() != n) {
        return ctx.Error("size_splits has " + std::to_string(parts.size()) + " values for " + std::to_string(n) +
                         " outputs");
      }
      int64_t known = 0;
      int unknown = -1;
      for (size_t i = 0; i < n; ++i) {
        if (parts[i] == -1 && unknown < 0) {
          unknown = static_cast<int>(i);
        } else if (parts[i] < 0) {
          return ctx.Error("size_splits holds an invalid size " + std::to_string(parts[i]));
        } else {
          known += parts[i];
        }
      }
      if (unknown >= 0) parts[static_cast<size_t>(unknown)] = dim - known;
      int64_t total = 0;
      for (int64_t p : parts) total += p;
      if (total != dim || (unknown >= 0 && parts[static_cast<size_t>(unknown)] < 0)) {
        return ctx.Error("size_splits add up to " + std::to_string(total) + ", but axis " + std::to_string(axis) +
                         " has " + std::to_string(dim));
      }
    } else {
      if (dim % static_cast<int64_t>(n) != 0) {
        return ctx.Error("axis " + std::to_string(axis) + " of size " + std::to_string(dim) +
                         " does not split into " + std::to_string(n) + " equal parts");
      }
      parts.assign(n, dim / static_cast<int64_t>(n));
    }
    outer_ = 1;
    for (int d = 0; d < axis; ++d) outer_ *= in_->dim(d);
    int64_t inner = 1;
    for (int d = static_cast<int>(axis) + 1; d < rank; ++d) inner *= in_->dim(d);
    in_row_ = static_cast<size_t>(dim * inner * elem_);
    outputs_.clear();
    rows_.clear();
    for (size_t i = 0; i < n; ++i) {
      RuntimeTensor* out = ctx.output(i);
      const std::string what = "output " + std::to_string(i);
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out, in_->type(), what.c_str()));
      std::vector<int32_t> expected = in_->shape();
      expected[static_cast<size_t>(axis)] = static_cast<int32_t>(parts[i]);
      XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out, expected, what.c_str()));
      outputs_.push_back(out);
      rows_.push_back(static_cast<size_t>(parts[i] * inner * elem_));
    }
    return Status::Ok();
  }

  void Invoke(OpContext& ctx) override {
    const uint8_t* in = in_->data;
    // Chunks of outer rows on the threads, as CONCATENATION.
    auto task = [&](int, int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        const uint8_t* src = in + static_cast<size_t>(k) * in_row_;
        for (size_t i = 0; i < outputs_.size(); ++i) {
          CopyRow(outputs_[i]->data + static_cast<size_t>(k) * rows_[i], src, rows_[i]);
          src += rows_[i];
        }
      }
    };
    ParallelForRows(ctx, outer_, static_cast<double>(in_->bytes) / kCopyBytesPerSecond, task);
  }

 private:
  bool sizes_;
  RuntimeTensor* in_ = nullptr;
  std::vector<RuntimeTensor*> outputs_;
  std::vector<size_t> rows_;
  size_t in_row_ = 0;
  int64_t outer_ = 1;
  int elem_ = 0;
};

// SPLIT: inputs (axis, value); every output gets value's shape with the axis divided.
std::optional<ops::Shape> SplitShape(const ops::ShapeQuery& q) {
  const ops::Values* axis_v = q.Val(0);
  const ops::Shape* in = q.In(1);
  if (!axis_v || axis_v->size() != 1 || !in || q.op.outputs.empty()) return std::nullopt;
  const int rank = static_cast<int>(in->size());
  const std::optional<int64_t> axis = ops::NormalizeAxis((*axis_v)[0], rank);
  if (!axis) return std::nullopt;
  const int64_t n = static_cast<int64_t>(q.op.outputs.size());
  if ((*in)[static_cast<size_t>(*axis)] % n != 0) return std::nullopt;
  ops::Shape s = *in;
  s[static_cast<size_t>(*axis)] = static_cast<int32_t>(s[static_cast<size_t>(*axis)] / n);
  return s;
}

}  // namespace

// Versions: 2 int8, 3 int16, 4 int32.
extern const ops::OpDef kSplitOp{
    .signature = graph::BuiltinSignature(graph::op::kSplit, 2, 2, graph::options_type::kSplit, 0, 1,
                                         graph::kManyTensors),
    .max_version = 4,
    .shape = SplitShape,
    .create = ops::MakeKernel<Split, false>,
    .shape_every_output = true,
};

// The output sizes come from a tensor: outputs keep the file's shapes.
extern const ops::OpDef kSplitVOp{
    .signature = graph::BuiltinSignature(graph::op::kSplitV, 3, 3, graph::options_type::kSplitV, 0,
                                         1, graph::kManyTensors),
    .max_version = 3,
    .create = ops::MakeKernel<Split, true>,
};

}  // namespace xbnn::kernels
