// The threading interface of the kernel library. The kernels depend on nothing but this abstract
// runner; StdThreadRunner below is the interpreter's pool and the one tests and benchmarks use. A
// kernel splits its work into tasks whose results do not depend on which thread runs them, so
// every thread count gives identical output.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/binary/optimized/aligned_buffer.h"

namespace xbnn::kernels {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // Threads that may call a task at once; task functions get a thread id in [0, num_threads()).
  virtual int num_threads() const = 0;
  // Calls fn(ctx, thread, i) once for every i in [0, n) and returns when all calls have returned.
  // No two concurrent calls share a thread id, so per-thread scratch indexed by it is safe.
  virtual void ParallelFor(int n, void (*fn)(void* ctx, int thread, int i), void* ctx) = 0;
  // Threads the next ParallelFor will run tasks on: num_threads(), or 1 while a pool runs jobs on
  // the calling thread alone (StdThreadRunner backing off on a busy machine). A kernel may then
  // plan one task; it still calls ParallelFor, so that the pool counts the time.
  virtual int threads_now() const { return num_threads(); }

  // Per-thread scratch that the kernels running on this runner share (they run one at a time, as
  // the interpreter's ops do): a kernel reserves at prepare time and takes Scratch(thread) in its
  // tasks: one buffer per thread for all kernels instead of one per kernel (the AMX bconv's
  // expanded input: 12 layers of 43-118 KB per thread in Bi-Real Net). 64-byte aligned. A kernel
  // whose tasks use scratch only when few threads run them reserves for its first `threads`.
  void ReserveScratch(size_t bytes, int threads) {
    threads = std::min(threads, num_threads());
    if (bytes <= scratch_bytes_ && threads <= scratch_threads()) return;
    bytes = std::max(bytes, scratch_bytes_);
    threads = std::max(threads, scratch_threads());
    scratch_.clear();
    for (int t = 0; t < threads; ++t) scratch_.emplace_back(bytes);
    scratch_bytes_ = bytes;
  }
  void ReserveScratch(size_t bytes) { ReserveScratch(bytes, num_threads()); }
  size_t scratch_bytes() const { return scratch_bytes_; }
  // Scratch(thread) exists for thread < scratch_threads().
  int scratch_threads() const { return static_cast<int>(scratch_.size()); }
  int8_t* Scratch(int thread) { return scratch_[static_cast<size_t>(thread)].data(); }

 private:
  std::vector<optimized::AlignedBuffer<int8_t>> scratch_;
  size_t scratch_bytes_ = 0;
};

// Runs every task on the calling thread.
class SerialRunner final : public TaskRunner {
 public:
  int num_threads() const override { return 1; }
  void ParallelFor(int n, void (*fn)(void* ctx, int thread, int i), void* ctx) override {
    for (int i = 0; i < n; ++i) fn(ctx, 0, i);
  }
};

// The thread pool of the kernels and of the interpreter (one per interpreter, shared by binary
// and float ops). The calling thread works as thread 0 and never waits for a worker that has not
// started: each thread owns an equal contiguous range of a job's tasks (an atomic word holding job
// generation, begin and end), claims from its front and, when it is empty, takes tasks from the
// back of the other threads' ranges; the caller works too, and a job is done when all its tasks
// are done, not when every worker has checked in. A worker that wakes after the caller took the
// last task finds nothing and goes back to waiting. Since kernels number their tasks in memory
// order (rows, pixel blocks), thread t keeps about the same part of every op's output, so the
// next op mostly reads what its own core wrote (with one shared counter the two cores' tasks
// interleaved and every op read half its input from the other core's cache). Workers poll briefly
// after a job (the ops of one network run back to back) and then sleep on a condition variable.
// Sleeping workers are woken with the caller's CPU taken out of their affinity mask (restored once
// they run), since Linux tends to place a thread woken by another on the waker's CPU, behind it; a
// worker that still wakes on the caller's CPU moves to another CPU first. In the first window
// after an idle gap between invokes, workers slow to wake are forgiven as long as the caller did
// not wait for them.
//
// Two things make extra threads slower than one on a machine whose cores run other work, and the
// pool watches for both. A worker that the OS preempts while it holds a task stalls the job until
// it runs again (a scheduler slice, ~1-3 ms, 10-100x a task). And when every core is busy, this
// process's threads split the CPU time it gets (Linux schedules a session's threads as a group)
// instead of adding to it, so the workers take few tasks and the caller itself runs slower. After
// a stall, or a window of jobs in which the workers took less than half their share of the tasks,
// the caller got less than 3/4 of the wall time on a CPU, or the jobs were less than 1.1x faster
// than the caller's own rate predicts for one thread, the pool runs jobs on the calling thread
// alone for a while (the workers then sleep), doubling that time while it keeps happening; so on
// a busy machine two threads are no slower than one.
// ParallelFor must not be called concurrently from several threads.
class StdThreadRunner final : public TaskRunner {
 public:
  explicit StdThreadRunner(int num_threads);
  ~StdThreadRunner() override;
  StdThreadRunner(const StdThreadRunner&) = delete;
  StdThreadRunner& operator=(const StdThreadRunner&) = delete;

  int num_threads() const override { return num_threads_; }
  int threads_now() const override { return serial_left_ns_ > 0 ? 1 : num_threads_; }
  void ParallelFor(int n, void (*fn)(void* ctx, int thread, int i), void* ctx) override;

  // Counters for benchmarks and tests (read them only between ParallelFor calls).
  struct Stats {
    int64_t parallel_jobs = 0;         // jobs offered to the workers
    int64_t serial_jobs = 0;           // jobs run on the calling thread while backing off
    int64_t stalls = 0;                // jobs that waited for a preempted worker
    int64_t absent_windows = 0;        // windows of jobs in which the workers took too few tasks
    int64_t tasks = 0, own_tasks = 0;  // tasks of parallel jobs, and those the caller ran
    int64_t busy_ns = 0;               // caller time running tasks of parallel jobs
    int64_t wait_ns = 0;               // caller time waiting for workers' last tasks
    int64_t worker_moves = 0;          // workers that woke on the caller's CPU and moved
    int64_t worker_steers = 0;         // sleeping workers woken with the caller's CPU masked
  };
  Stats stats() const {
    Stats s = stats_;
    s.worker_moves = moves_.load(std::memory_order_relaxed);
    return s;
  }

  // A window of parallel jobs, as the caller saw it.
  struct Window {
    int64_t tasks = 0, own_tasks = 0;  // tasks, and those the caller ran
    int64_t busy_ns = 0, wait_ns = 0;  // caller time running tasks / waiting for the last ones
    int64_t cpu_ns = 0, wall_ns = 0;   // caller CPU time and wall time over the window
    bool after_gap = false;            // the window started after an idle gap (kGapNs)
  };
  // Whether the workers made the window's jobs faster than the caller alone would have been.
  static bool WorkersHelped(int threads, const Window& w);
  // The back-off after a stall (`stall`) or a window in which the workers did not help, given
  // the last back-off (0: none) and the job time of the clean windows since it ended. It doubles
  // (from 2 ms, up to 200 ms) after every stall, which costs a scheduler slice; after a window
  // without help (which costs little) only when those clean windows lasted less than a quarter
  // of it: contention that comes and goes (another process's threads spinning for ~2 ms after
  // their work, between this process's invokes) then keeps it short. Doubling at every such
  // window had made it reach 200 ms, and QuickNetSmall at 2 threads ran no faster than at 1 when
  // invoked in turns with LCE's interpreter; not doubling after stalls either made 2 threads
  // slower than 1 beside busy loops.
  static int64_t NextBackoffNs(int64_t backoff_ns, int64_t clean_ns, bool stall);
  // Moves the calling thread to another CPU of its affinity mask when it runs on `cpu` (what a
  // worker does when it wakes on the caller's CPU); the mask stays as it was. Returns whether it
  // moved the thread.
  static bool LeaveCpu(int cpu);
  // Whether a thread with affinity mask `mask` would be kept off `cpu` by taking `cpu` out of it:
  // the mask holds `cpu` and another CPU. Then `steered` is the mask without `cpu`.
  static bool MaskWithout(const void* mask, int cpu, void* steered);

 private:
  void WorkerLoop(int thread);
  // Under mutex_: takes the caller's CPU out of every sleeping worker's affinity mask before the
  // workers are woken (each restores its own mask once it runs).
  void SteerSleepers(int cpu);
  // Claims and runs tasks of job `generation` until none is left; returns the tasks it ran.
  int RunTasks(uint64_t generation, int thread);
  void RunBatch(int n, void (*fn)(void*, int, int), void* ctx);
  // Waits until `n` tasks are done; returns false when that took long enough to call it a stall.
  bool WaitDone(int n, int64_t own_ns, int own_tasks);
  void ResetWindow() {
    window_jobs_ = 0;
    window_tasks_ = window_own_ = window_busy_ns_ = window_wait_ns_ = 0;
  }

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;       // workers: a new job or stop
  std::condition_variable done_wake_;  // caller: the last task of its job is done
  // Each thread's share of a job's tasks, [generation:24][begin:20][end:20], on a cache line of
  // its own: the owner claims from the front, the others take from the back when theirs is empty.
  struct alignas(64) Range {
    std::atomic<uint64_t> word{0};
  };
  std::unique_ptr<Range[]> ranges_;
  // Per worker (index thread - 1), guarded by mutex_: asleep on wake_, its affinity mask when it
  // went to sleep (a cpu_set_t on Linux), and whether the caller narrowed that mask.
  struct Sleeper {
    bool asleep = false, steered = false, has_mask = false;
    alignas(8) unsigned char mask[128] = {};
  };
  std::unique_ptr<Sleeper[]> sleepers_state_;
  // Separate cache lines: the completion counter is written by every thread once per task, the
  // job description only by the caller. job_ is the generation of the last job published.
  alignas(64) std::atomic<int> done_{0};
  alignas(64) std::atomic<uint64_t> job_{0};
  std::atomic<int> count_{0};
  alignas(64) std::atomic<void (*)(void*, int, int)> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> caller_cpu_{-1};  // the CPU the caller ran on when it published the last job
  std::atomic<int64_t> moves_{0};    // Stats::worker_moves
  // Owned by the ParallelFor caller.
  uint64_t generation_ = 0;
  int64_t serial_left_ns_ = 0;  // job time still to run on the caller alone (backing off)
  int64_t backoff_ns_ = 0;
  int64_t clean_ns_ = 0;         // job time of the good windows since the last back-off
  int64_t last_job_end_ns_ = 0;  // steady-clock end of the last parallel job
  int window_jobs_ = 0;          // jobs of the current window, started at window_start_ns_
  int64_t window_start_ns_ = 0;
  bool window_after_gap_ = false;  // Window::after_gap
  int64_t window_cpu_ns_ = 0;      // the caller's CPU time at window_start_ns_
  int64_t window_tasks_ = 0;       // tasks of the window's jobs
  int64_t window_own_ = 0;         // of which the caller ran
  int64_t window_busy_ns_ = 0;     // the caller's time running tasks in the window
  int64_t window_wait_ns_ = 0;     // and waiting for the workers' last tasks
  Stats stats_;
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
