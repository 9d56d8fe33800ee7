#include "kernels/builtin/fused_input.h"

#include <algorithm>

namespace xbnn::kernels::builtin {

Status FusedInputRows::Describe(const OpContext& ctx, const FloatBroadcastRows& rows,
                                const RuntimeTensor* x, int input, Pieces* pieces) const {
  const int rank = static_cast<int>(ctx.output(0)->rank());
  const RuntimeTensor* out = ctx.output(0);
  pieces->clear();
  if (ctx.fused_pad && x == ctx.fused_pad->output(0)) {
    // Its input's channels in [before, before + ci) of the output's, +0.0 elsewhere.
    const OpContext& pad = *ctx.fused_pad;
    const RuntimeTensor* in = pad.input(0);
    const RuntimeTensor* paddings = pad.input(1);
    const bool ok = op_ == FloatBinary::kAdd && in && in->type() == DType::kFloat32 &&
                    in->rank() == rank && x->shape() == out->shape() && paddings &&
                    paddings->constant && paddings->type() == DType::kInt32 &&
                    paddings->elements() == 2 * rank;
    if (!ok) return pad.Error("cannot run inside the ADD that reads it");
    const int64_t ci = in->dim(rank - 1);
    const int64_t before = paddings->as<int32_t>()[2 * rank - 2];
    if (before < 0 || before + ci > channels_) {
      return pad.Error("cannot run inside the ADD that reads it");
    }
    pieces->push_back({0, before});
    pieces->push_back({before, before + ci, in, 0, 1, ci});
    pieces->push_back({before + ci, channels_});
    return Status::Ok();
  }
  if (ctx.fused_concat && x == ctx.fused_concat) {
    // The parts side by side.
    auto fail = [&] {
      return ctx.Error("cannot read the concatenation " + TensorName(x) + " in place");
    };
    if (x->shape() != out->shape()) return fail();
    int64_t c0 = 0;
    for (const RuntimeTensor* p : ctx.fused_concat_parts) {
      if (p->type() != DType::kFloat32 || p->rank() != rank) return fail();
      for (int d = 0; d + 1 < rank; ++d) {
        if (p->dim(d) != out->dim(d)) return fail();
      }
      const int64_t n = p->dim(rank - 1);
      pieces->push_back({c0, c0 + n, p, 0, 1, n});
      c0 += n;
    }
    if (c0 != channels_) return fail();
    return Status::Ok();
  }
  // Any other input as the op's own rows read it (the output's shape, one value per channel, or
  // one value).
  if (out->elements() > 0 && (rows.rows_ == 0 || rows.n_ != channels_)) {
    return ctx.Error("input " + TensorName(x) + " does not broadcast by rows");
  }
  pieces->push_back({0, channels_, x, 0, input == 0 ? rows.sa_ : rows.sb_,
                     input == 0 ? rows.a_row_ : rows.b_row_});
  return Status::Ok();
}

Status FusedInputRows::Prepare(const OpContext& ctx, FloatBinary op, const FloatBroadcastRows& rows,
                               const RuntimeTensor* a, const RuntimeTensor* b,
                               const RuntimeTensor* out, float lo, float hi) {
  active_ = false;
  if (!ctx.fused_pad && !ctx.fused_concat) return Status::Ok();
  const int rank = out->rank();
  if (rank == 0) return ctx.Error("a fused input needs rank >= 1");
  op_ = op;
  lo_ = lo;
  hi_ = hi;
  channels_ = out->dim(rank - 1);
  rows_ = channels_ > 0 ? out->elements() / channels_ : 0;
  const auto is_fused = [&](const RuntimeTensor* t) {
    return (ctx.fused_pad && t == ctx.fused_pad->output(0)) ||
           (ctx.fused_concat && t == ctx.fused_concat);
  };
  if (a == b && is_fused(a)) return ctx.Error("reads a fused input twice");
  XBNN_RETURN_IF_ERROR(Describe(ctx, rows, a, 0, &a_));
  XBNN_RETURN_IF_ERROR(Describe(ctx, rows, b, 1, &b_));
  active_ = true;
  return Status::Ok();
}

// Walks both inputs' pieces from row r0: each stretch [c, end) where neither changes is one
// call f(c, end, a, sa, a_row, b, sb, b_row); stops where f returns false.
template <typename F>
bool FusedInputRows::Stretches(int64_t r0, F&& f) const {
  static constexpr float kZero = 0.0f;
  auto at = [&](const Piece& p, int64_t c, int64_t* s, int64_t* row) -> const float* {
    if (p.t == nullptr) {
      *s = *row = 0;
      return &kZero;
    }
    *s = p.s;
    *row = p.row;
    return p.t->as<float>() + p.offset + r0 * p.row + (c - p.c0) * p.s;
  };
  size_t i = 0, j = 0;
  for (int64_t c = 0; c < channels_;) {
    while (a_[i].c1 <= c) ++i;
    while (b_[j].c1 <= c) ++j;
    const int64_t end = std::min(a_[i].c1, b_[j].c1);
    int64_t sa = 0, arow = 0, sb = 0, brow = 0;
    const float* pa = at(a_[i], c, &sa, &arow);
    const float* pb = at(b_[j], c, &sb, &brow);
    if (!f(c, end, pa, sa, arow, pb, sb, brow)) return false;
    c = end;
  }
  return true;
}

void FusedInputRows::Rows(int64_t r0, int64_t m, float* dst) const {
  Stretches(r0, [&](int64_t c, int64_t end, const float* pa, int64_t sa, int64_t arow,
                    const float* pb, int64_t sb, int64_t brow) {
    BinaryRowsStridedF32(op_, pa, sa, arow, pb, sb, brow, dst + c, channels_, m, end - c, lo_, hi_);
    return true;
  });
}

bool FusedInputRows::ChainRows(int64_t r0, int64_t m, const FloatStep* steps, int nsteps,
                               float* out) const {
  if (nsteps > kMaxFloatSteps) return false;
  FloatStep shifted[kMaxFloatSteps];
  // rows: m, or 0 to ask every stretch whether it can run (FloatRowsVector then writes nothing).
  auto stretches = [&](int64_t rows) {
    return Stretches(r0, [&](int64_t c, int64_t end, const float* pa, int64_t sa, int64_t arow,
                             const float* pb, int64_t sb, int64_t brow) {
      // The steps' operands from channel c on (a value for all channels stays where it is).
      for (int k = 0; k < nsteps; ++k) {
        shifted[k] = steps[k];
        shifted[k].k += c * steps[k].s;
      }
      return FloatRowsVector(op_, pa, sa, arow, pb, sb, brow, lo_, hi_, shifted, nsteps, r0,
                             out + c, channels_, rows, end - c);
    });
  };
  // All or nothing: no stretch is computed before every one is known to run.
  return stretches(0) && stretches(m);
}

void FusedInputRows::Run(const OpContext& ctx, const FloatChain& chain, float* out) const {
  if (chain.active()) {
    chain.Run(ctx, nullptr, nullptr, out, FirstRows, this, FirstChain);
    return;
  }
  ParallelForRows(ctx, rows_, static_cast<double>(rows_ * channels_) / kElementwiseFloatsPerSecond,
                  [&](int, int64_t r0, int64_t r1) { Rows(r0, r1 - r0, out + r0 * channels_); });
}

void FusedInputRows::RunPool(const OpContext& ctx, const FloatChain& chain,
                             const ChainPool& pool) const {
  pool.Run(ctx, chain, nullptr, nullptr, FirstRows, this, FirstChain);
}

void FusedInputRows::FirstRows(const void* self, int64_t q, int64_t m, float* dst) {
  static_cast<const FusedInputRows*>(self)->Rows(q, m, dst);
}

bool FusedInputRows::FirstChain(const void* self, int64_t q, int64_t m, const FloatStep* steps,
                                int nsteps, float* dst) {
  return static_cast<const FusedInputRows*>(self)->ChainRows(q, m, steps, nsteps, dst);
}

}  // namespace xbnn::kernels::builtin
