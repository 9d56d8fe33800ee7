// The threading interface of the kernel library. The kernels depend on nothing but this abstract
// runner; the runtime adapts its pool (pthreadpool) to it, tests and benchmarks use
// StdThreadRunner. A kernel splits its work into tasks whose results do not depend on which
// thread runs them, so every thread count gives identical output.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace xbnn::kernels {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // Threads that may call a task at once; task functions get a thread id in [0, num_threads()).
  virtual int num_threads() const = 0;
  // Calls fn(ctx, thread, i) once for every i in [0, n) and returns when all calls have returned.
  // No two concurrent calls share a thread id, so per-thread scratch indexed by it is safe.
  virtual void ParallelFor(int n, void (*fn)(void* ctx, int thread, int i), void* ctx) = 0;
};

// Runs every task on the calling thread.
class SerialRunner final : public TaskRunner {
 public:
  int num_threads() const override { return 1; }
  void ParallelFor(int n, void (*fn)(void* ctx, int thread, int i), void* ctx) override {
    for (int i = 0; i < n; ++i) fn(ctx, 0, i);
  }
};

// A small pool of std::threads; the calling thread works as thread 0. Workers spin briefly after a
// job (kernels of one network run back to back) and then sleep on a condition variable.
// Tasks are claimed through one atomic word holding (job generation, task count, next index), so
// the caller never waits for a worker that the OS has not scheduled: it runs the remaining tasks
// itself and returns as soon as every task is done. ParallelFor must not be called concurrently
// from several threads.
class StdThreadRunner final : public TaskRunner {
 public:
  explicit StdThreadRunner(int num_threads);
  ~StdThreadRunner() override;
  StdThreadRunner(const StdThreadRunner&) = delete;
  StdThreadRunner& operator=(const StdThreadRunner&) = delete;

  int num_threads() const override { return num_threads_; }
  void ParallelFor(int n, void (*fn)(void* ctx, int thread, int i), void* ctx) override;

 private:
  void WorkerLoop(int thread);
  // Claims and runs tasks of job `generation` until none is left.
  void RunTasks(uint64_t generation, int thread);
  void RunBatch(int n, void (*fn)(void*, int, int), void* ctx);

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // Separate cache lines: the claim word and the completion counter are written by every thread
  // once per task, the job description only by the caller.
  // [generation:24][task count:20][next index:20].
  alignas(64) std::atomic<uint64_t> state_{0};
  alignas(64) std::atomic<int> done_{0};
  alignas(64) std::atomic<void (*)(void*, int, int)> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  uint64_t generation_ = 0;  // owned by the ParallelFor caller
};

// Runs fn on `runner`, or inline when it is null or has one thread.
inline void RunParallel(TaskRunner* runner, int n, void (*fn)(void*, int, int), void* ctx) {
  if (runner == nullptr || runner->num_threads() <= 1 || n <= 1) {
    for (int i = 0; i < n; ++i) fn(ctx, 0, i);
  } else {
    runner->ParallelFor(n, fn, ctx);
  }
}

}  // namespace xbnn::kernels
