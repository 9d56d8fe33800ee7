#include "kernels/builtin/chain_pool.h"

#include <algorithm>

#include "kernels/builtin/vector_loops.h"

namespace xbnn::kernels::builtin {

Status ChainPool::Prepare(const OpContext& ctx, const RuntimeTensor* value) {
  pool_ctx_ = nullptr;
  if (!ctx.fused_pool) return Status::Ok();
  const OpContext& pool = *ctx.fused_pool;
  XBNN_RETURN_IF_ERROR(ReadPool(pool, &pool_));
  if (pool.input(0) != value || !value || value->type() != DType::kFloat32 ||
      pool.output(0)->type() != DType::kFloat32) {
    return pool.Error("a pooling fused into an elementwise chain needs its float value");
  }
  pool_ctx_ = &pool;
  const MaxPoolGeometry& g = pool_.rows;
  rows_floats_ = int64_t{g.filter_h} * g.in_w * g.channels;
  // The chain's ops on the pooled windows' rows, and the pooling.
  seconds_ = pool_.seconds + static_cast<double>(value->elements()) * (ctx.fused_chain.size() + 1) /
                                 kElementwiseFloatsPerSecond;
  if (!ctx.shapes_only) {
    scratch_.assign(static_cast<size_t>(NumThreads(ctx)) * static_cast<size_t>(rows_floats_), 0.0f);
  }
  return Status::Ok();
}

void ChainPool::Run(const OpContext& ctx, const FloatChain& chain, const float* a, const float* b,
                    FloatChain::FirstRows first, const void* self,
                    FloatChain::FirstChain first_chain) const {
  const MaxPoolGeometry& g = pool_.rows;
  float* pooled = pool_ctx_->output(0)->as<float>();
  const int64_t out_row = int64_t{g.out_w} * g.channels;
  auto row = [&](int thread, int t) {
    const int bi = t / g.out_h, py = t % g.out_h;
    const int y0 = py * g.stride_h - g.pad_top;
    const int lo = std::max(0, y0), hi = std::min(g.in_h, y0 + g.filter_h);
    float* buf = scratch_.data() + static_cast<size_t>(thread) * static_cast<size_t>(rows_floats_);
    if (hi > lo) {
      bool vector = true;
      chain.ValueRows(thread, a, b, (int64_t{bi} * g.in_h + lo) * g.in_w, int64_t{hi - lo} * g.in_w,
                      buf, &vector, first, self, first_chain);
    }
    // The window rows as a one-row image: the same window, clipped the same way.
    MaxPoolGeometry w = g;
    w.in_h = std::max(0, hi - lo);
    w.out_h = 1;
    w.pad_top = lo - y0;
    MaxPoolRowF32(w, buf, pooled + int64_t{t} * out_row, 0, 0);
  };
  ParallelFor(ctx, pool_.batch * g.out_h, row, seconds_);
}

}  // namespace xbnn::kernels::builtin
