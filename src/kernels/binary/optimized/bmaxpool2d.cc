#include "kernels/binary/optimized/bmaxpool2d.h"

#include <algorithm>
#include <limits>

namespace xbnn::kernels::optimized {

Result<std::unique_ptr<BMaxPool2DKernel>> BMaxPool2DKernel::Create(const BMaxPool2DParams& p,
                                                                   Isa isa) {
  Result<BMaxPool2DGeometry> geometry = ComputeBMaxPool2DGeometry(p);
  if (!geometry.ok()) return geometry.status();
  if (int64_t{p.batch} * geometry->out_h > std::numeric_limits<int32_t>::max()) {
    return Status::Error("bmaxpool2d: tensor too large for the optimized kernel");
  }
  Result<Isa> resolved = ResolveIsa(isa);
  if (!resolved.ok()) return resolved.status().Prefixed("bmaxpool2d: ");
  std::unique_ptr<BMaxPool2DKernel> k(new BMaxPool2DKernel());
  k->params_ = p;
  k->geometry_ = *geometry;
  k->isa_ = *resolved;
  k->variant_ = BMaxPoolVariantFor(*resolved);
  if (k->variant_ == nullptr) return Status::Error("bmaxpool2d: variant not compiled");
  BMaxPoolPlan& plan = k->plan_;
  plan.batch = p.batch;
  plan.in_h = p.in_h;
  plan.in_w = p.in_w;
  plan.words = p.packed_channels;
  plan.out_h = geometry->out_h;
  plan.out_w = geometry->out_w;
  plan.filter_h = p.filter_h;
  plan.filter_w = p.filter_w;
  plan.stride_h = p.stride_h;
  plan.stride_w = p.stride_w;
  plan.pad_top = geometry->pad_top;
  plan.pad_left = geometry->pad_left;
  return k;
}

namespace {

struct PoolContext {
  const BMaxPoolPlan* plan;
  const BMaxPoolVariant* variant;
  const int32_t* input;
  int32_t* output;
  int rows;
  int rows_per_task;
};

}  // namespace

void BMaxPool2DKernel::RunTask(void* ctx, int /*thread*/, int task) {
  const PoolContext& c = *static_cast<const PoolContext*>(ctx);
  const int r0 = task * c.rows_per_task;
  const int r1 = std::min(c.rows, r0 + c.rows_per_task);
  c.variant->run(*c.plan, c.input, c.output, r0, r1);
}

void BMaxPool2DKernel::Run(const int32_t* input, int32_t* output, TaskRunner* runner) const {
  const int rows = plan_.batch * plan_.out_h;
  if (rows == 0 || plan_.out_w == 0 || plan_.words == 0) return;
  const int threads = runner == nullptr ? 1 : runner->num_threads();
  // Split by output rows only when there is enough work (~16K words written per task).
  const int64_t row_words = int64_t{plan_.out_w} * plan_.words;
  const int64_t max_tasks = std::max<int64_t>(1, rows * row_words / 16384);
  const int tasks = static_cast<int>(std::min<int64_t>({int64_t{threads} * 4, rows, max_tasks}));
  PoolContext c{&plan_, variant_, input, output, rows, rows};
  if (threads <= 1 || tasks <= 1) {
    variant_->run(plan_, input, output, 0, rows);
    return;
  }
  c.rows_per_task = (rows + tasks - 1) / tasks;
  RunParallel(runner, (rows + c.rows_per_task - 1) / c.rows_per_task, &BMaxPool2DKernel::RunTask,
              &c);
}

}  // namespace xbnn::kernels::optimized
