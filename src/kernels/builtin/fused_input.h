// The float elementwise op's inputs that have no memory of their own (runtime/fusion.h): a PAD of
// the last axis with zeros (PadAddFusion) and a CONCATENATION along the last axis
// (ConcatFusion). Each input is a list of pieces along the last axis, each read from one tensor
// with its own strides (or the padding's +0.0); a row block is computed piece by piece with the
// same float operations, in the same operand order, as the separate ops.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/builtin/chain_pool.h"
#include "kernels/builtin/common.h"
#include "kernels/builtin/vector_loops.h"

namespace xbnn::kernels::builtin {

class FusedInputRows {
 public:
  // ctx: the op's context (fused_pad, fused_concat); op: its float operation on a and b into
  // out, clamped to [lo, hi]; rows: the op's FloatBroadcastRows, Plan()ed (the strides of an
  // input that is not fused). Nothing to do (active() false) when neither is fused.
  Status Prepare(const OpContext& ctx, FloatBinary op, const FloatBroadcastRows& rows,
                 const RuntimeTensor* a, const RuntimeTensor* b, const RuntimeTensor* out, float lo,
                 float hi);
  bool active() const { return active_; }
  // The op's output, or the first op's rows of its elementwise chain.
  void Run(const OpContext& ctx, const FloatChain& chain, float* out) const;
  // The chain and the pooling of its value fused after it, from these inputs.
  void RunPool(const OpContext& ctx, const FloatChain& chain, const ChainPool& pool) const;

 private:
  // Channels [c0, c1) of an input: channel c of row r at t[offset + r * row + (c - c0) * s],
  // or +0.0 where t is null.
  struct Piece {
    int64_t c0 = 0, c1 = 0;
    const RuntimeTensor* t = nullptr;
    int64_t offset = 0, s = 0, row = 0;
  };
  using Pieces = std::vector<Piece>;
  // Input `x` (input 0 or 1 of the op) as pieces.
  Status Describe(const OpContext& ctx, const FloatBroadcastRows& rows, const RuntimeTensor* x,
                  int input, Pieces* pieces) const;
  template <typename F>
  bool Stretches(int64_t r0, F&& f) const;
  // Rows [r0, r0 + m) into dst (rows of channels_ floats).
  void Rows(int64_t r0, int64_t m, float* dst) const;
  // The same followed by the chain's steps (operand rows from r0), in vector registers: each
  // stretch of channels whose pieces do not change is one FloatRowsVector call. False where one
  // declines (then before writing anything).
  bool ChainRows(int64_t r0, int64_t m, const FloatStep* steps, int nsteps, float* out) const;
  // The two as FloatChain's FirstRows and FirstChain callbacks (self: this object).
  static void FirstRows(const void* self, int64_t q, int64_t m, float* dst);
  static bool FirstChain(const void* self, int64_t q, int64_t m, const FloatStep* steps, int nsteps,
                         float* dst);

  bool active_ = false;
  FloatBinary op_ = FloatBinary::kAdd;
  float lo_ = 0, hi_ = 0;
  int64_t channels_ = 0, rows_ = 0;
  Pieces a_, b_;
};

}  // namespace xbnn::kernels::builtin
