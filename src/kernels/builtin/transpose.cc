// TRANSPOSE (versions 1-6): any permutation of a tensor of rank up to 6 and any fixed-size type,
// with a constant permutation. A plain strided copy: in the models xbnn meets it permutes
// weights, which the interpreter folds at load time.
#include <cstring>

#include "kernels/builtin/common.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

constexpr int kMaxTransposeRank = 6;

class Transpose final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 2));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, in_->type(), "output"));
    elem_ = graph::DTypeSize(in_->type());
    if (elem_ <= 0) return ctx.Error(std::string("type ") + graph::DTypeName(in_->type()) + " is not supported");
    rank_ = in_->rank();
    if (rank_ > kMaxTransposeRank) {
      return ctx.Error("input rank " + std::to_string(rank_) + " exceeds the supported " +
                       std::to_string(kMaxTransposeRank));
    }
    std::vector<int64_t> perm;
    XBNN_RETURN_IF_ERROR(ReadConstInts(ctx, ctx.input(1), "perm", &perm));
    if (static_cast<int>(perm.size()) != rank_) {
      return ctx.Error("perm has " + std::to_string(perm.size()) + " values for an input of rank " +
                       std::to_string(rank_));
    }
    std::array<int64_t, kMaxTransposeRank> in_strides{};
    int64_t s = 1;
    for (int d = rank_ - 1; d >= 0; --d) {
      in_strides[d] = s;
      s *= in_->dim(d);
    }
    std::vector<bool> used(static_cast<size_t>(rank_), false);
    std::vector<int32_t> expected;
    for (int d = 0; d < rank_; ++d) {
      int64_t p = perm[static_cast<size_t>(d)];
      if (p < 0) p += rank_;
      if (p < 0 || p >= rank_ || used[static_cast<size_t>(p)]) {
        return ctx.Error("perm " + std::to_string(perm[static_cast<size_t>(d)]) + " is not a valid permutation entry");
      }
      used[static_cast<size_t>(p)] = true;
      expected.push_back(in_->dim(static_cast<int>(p)));
      out_dims_[d] = in_->dim(static_cast<int>(p));
      strides_[d] = in_strides[static_cast<size_t>(p)];
    }
    return ExpectShape(ctx, out_, expected, "output");
  }

  void Invoke(OpContext&) override {
    if (out_->elements() == 0) return;
    if (rank_ == 0) {
      std::memcpy(out_->data, in_->data, static_cast<size_t>(elem_));
      return;
    }
    switch (elem_) {
      case 1: Run<uint8_t>(); break;
      case 2: Run<uint16_t>(); break;
      case 4: Run<uint32_t>(); break;
      case 8: Run<uint64_t>(); break;
      default: RunBytes(); break;
    }
  }

 private:
  // Walks the output in order; the innermost output axis steps through the input by its stride.
  template <typename T>
  void Run() {
    const T* in = reinterpret_cast<const T*>(in_->data);
    T* out = reinterpret_cast<T*>(out_->data);
    const int last = rank_ - 1;
    const int64_t inner = out_dims_[last], step = strides_[last];
    std::array<int64_t, kMaxTransposeRank> idx{};
    while (true) {
      int64_t base = 0;
      for (int d = 0; d < last; ++d) base += idx[d] * strides_[d];
      for (int64_t j = 0; j < inner; ++j) *out++ = in[base + j * step];
      int d = last - 1;
      while (d >= 0 && ++idx[d] == out_dims_[d]) idx[d--] = 0;
      if (d < 0) return;
    }
  }

  void RunBytes() {
    const int64_t n = out_->elements();
    for (int64_t o = 0; o < n; ++o) {
      int64_t rest = o, off = 0;
      for (int d = rank_ - 1; d >= 0; --d) {
        off += (rest % out_dims_[d]) * strides_[d];
        rest /= out_dims_[d];
      }
      std::memcpy(out_->data + o * elem_, in_->data + off * elem_, static_cast<size_t>(elem_));
    }
  }

  RuntimeTensor *in_ = nullptr, *out_ = nullptr;
  int elem_ = 0, rank_ = 0;
  std::array<int64_t, kMaxTransposeRank> out_dims_{}, strides_{};
};

std::optional<ops::Shape> TransposeShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  const ops::Values* perm = q.Val(1);
  if (!in || !perm || perm->size() != in->size()) return std::nullopt;
  ops::Shape s;
  std::vector<bool> used(in->size(), false);
  for (int64_t p : *perm) {
    const int64_t a = p < 0 ? p + static_cast<int64_t>(in->size()) : p;
    if (a < 0 || a >= static_cast<int64_t>(in->size()) || used[static_cast<size_t>(a)])
      return std::nullopt;
    used[static_cast<size_t>(a)] = true;
    s.push_back((*in)[static_cast<size_t>(a)]);
  }
  return s;
}

}  // namespace

extern const ops::OpDef kTransposeOp{
    .signature =
        graph::BuiltinSignature(graph::op::kTranspose, 2, 2, graph::options_type::kTranspose),
    .max_version = 6,
    .shape = TransposeShape,
    .create = ops::MakeKernel<Transpose>,
};

}  // namespace xbnn::kernels
