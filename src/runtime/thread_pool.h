// One pthreadpool per interpreter, shared by XNNPACK (float ops) and the binary kernels (through
// the kernels' TaskRunner interface).
#pragma once

#include <pthreadpool.h>

#include "kernels/binary/optimized/task_runner.h"

namespace xbnn::runtime {

class PthreadpoolRunner final : public kernels::TaskRunner {
 public:
  explicit PthreadpoolRunner(int num_threads);
  ~PthreadpoolRunner() override;
  PthreadpoolRunner(const PthreadpoolRunner&) = delete;
  PthreadpoolRunner& operator=(const PthreadpoolRunner&) = delete;

  int num_threads() const override { return num_threads_; }
  // Runs num_threads() pool tasks; each takes a distinct thread id and pulls work items from a
  // shared counter, so ids are unique among concurrent calls as the interface requires.
  void ParallelFor(int n, void (*fn)(void* ctx, int thread, int i), void* ctx) override;
  pthreadpool_t pool() const { return pool_; }

 private:
  int num_threads_;
  pthreadpool_t pool_ = nullptr;
};

}  // namespace xbnn::runtime
