#include "runtime/thread_pool.h"

#include <atomic>

namespace xbnn::runtime {
namespace {

struct Job {
  void (*fn)(void*, int, int);
  void* ctx;
  int n;
  std::atomic<int> next{0};
};

void RunWorker(void* context, size_t thread) {
  Job* job = static_cast<Job*>(context);
  for (int i = job->next.fetch_add(1, std::memory_order_relaxed); i < job->n;
       i = job->next.fetch_add(1, std::memory_order_relaxed)) {
    job->fn(job->ctx, static_cast<int>(thread), i);
  }
}

}  // namespace

PthreadpoolRunner::PthreadpoolRunner(int num_threads) : num_threads_(num_threads < 1 ? 1 : num_threads) {
  if (num_threads_ > 1) pool_ = pthreadpool_create(static_cast<size_t>(num_threads_));
  if (!pool_) num_threads_ = 1;
}

PthreadpoolRunner::~PthreadpoolRunner() {
  if (pool_) pthreadpool_destroy(pool_);
}

void PthreadpoolRunner::ParallelFor(int n, void (*fn)(void*, int, int), void* ctx) {
  if (!pool_ || n <= 1) {
    for (int i = 0; i < n; ++i) fn(ctx, 0, i);
    return;
  }
  Job job{fn, ctx, n};
  size_t workers = static_cast<size_t>(n < num_threads_ ? n : num_threads_);
  pthreadpool_parallelize_1d(pool_, RunWorker, &job, workers, 0);
}

}  // namespace xbnn::runtime
