#include "kernels/binary/optimized/task_runner.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XBNN_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define XBNN_CPU_RELAX() asm volatile("yield" ::: "memory")
#else
#define XBNN_CPU_RELAX() std::this_thread::yield()
#endif

namespace xbnn::kernels {

namespace {

// How long an idle worker polls for the next job before it sleeps. Ops of one inference follow
// each other within microseconds; polling longer only burns a core between inferences.
constexpr int64_t kWorkerSpinNs = 100'000;
// A job whose caller waited this long (and more than 2 tasks' time) for the last task had a
// worker preempted while holding a task; normal waits are below one task.
constexpr int64_t kStallNs = 200'000;
// After a stall, or a window of jobs in which the workers did not help (kWindowJobs), jobs run on
// the caller alone for a back-off time, doubled each time up to kMaxBackoffNs. The back-off is
// counted in time spent running jobs, not wall time: an application that invokes now and then
// (or a benchmark that runs other engines in between) keeps it across the idle gaps, instead of
// paying a new stall of a scheduler slice at the start of every invoke. It ends after kCleanNs of
// job time in good windows in a row (job time again: in wall time, two good windows with an idle
// gap between them would end it): threads that keep their cores for longer than a few scheduler
// slices have cores to themselves.
constexpr int64_t kMinBackoffNs = 2'000'000;
constexpr int64_t kMaxBackoffNs = 200'000'000;
constexpr int64_t kCleanNs = 16'000'000;
// A window does not span a gap this long between jobs (the application idle between invokes):
// the caller's CPU time over the window would count the idle time as time it could not run.
constexpr int64_t kGapNs = 2'000'000;
// Parallel jobs over which the workers' share of the tasks and the caller's CPU time are measured.
constexpr int kWindowJobs = 32;

constexpr int kIndexBits = 20;
constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1;
constexpr int kMaxBatch = static_cast<int>(kIndexMask);  // tasks per published job
constexpr uint64_t kGenerationMask = (uint64_t{1} << 24) - 1;

// A range word: [generation:24][begin:20][end:20].
uint64_t Generation(uint64_t range) { return range >> (2 * kIndexBits); }
int Begin(uint64_t range) { return static_cast<int>((range >> kIndexBits) & kIndexMask); }
int End(uint64_t range) { return static_cast<int>(range & kIndexMask); }
uint64_t RangeWord(uint64_t generation, int begin, int end) {
  return (generation << (2 * kIndexBits)) | (static_cast<uint64_t>(begin) << kIndexBits) |
         static_cast<uint64_t>(end);
}

// CPU time of the calling thread.
int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The CPU the calling thread runs on, or -1 where that is unknown.
int CurrentCpu() {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

}  // namespace

// Linux places a thread woken by another one on the waker's CPU when it can, where the two then
// take turns while another CPU idles (seen after idle gaps of a few ms between invokes: the
// caller got half of the wall time and the pool backed off). Setting the mask migrates the
// thread before the call returns; restoring it does not move it back.
bool StdThreadRunner::LeaveCpu(int cpu) {
#if defined(__linux__)
  cpu_set_t mask, others;
  if (cpu < 0 || cpu >= CPU_SETSIZE || CurrentCpu() != cpu) return false;
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) return false;
  if (!MaskWithout(&mask, cpu, &others)) return false;
  if (sched_setaffinity(0, sizeof others, &others) != 0) return false;
  sched_setaffinity(0, sizeof mask, &mask);
  return true;
#else
  (void)cpu;
  return false;
#endif
}

bool StdThreadRunner::MaskWithout(const void* mask, int cpu, void* steered) {
#if defined(__linux__)
  static_assert(sizeof(cpu_set_t) <= sizeof(Sleeper::mask));
  const auto* m = static_cast<const cpu_set_t*>(mask);
  if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, m) || CPU_COUNT(m) < 2) return false;
  auto* out = static_cast<cpu_set_t*>(steered);
  *out = *m;
  CPU_CLR(cpu, out);
  return true;
#else
  (void)mask, (void)cpu, (void)steered;
  return false;
#endif
}

// A worker woken from its condition variable is placed by Linux, often on the waker's CPU (see
// LeaveCpu). In a KVM guest after idle gaps of tens of ms that happened at nearly every wake:
// the other vCPU, halted, counts as preempted, so the worker queued behind the running caller
// and took no task during a whole invoke (QuickNetSmall at 2 threads no faster than at 1 with
// 50 ms between invokes; the pool then backed off). A mask without the caller's CPU, set before
// the wake, leaves the scheduler no such choice; the worker widens it again once it runs.
void StdThreadRunner::SteerSleepers(int cpu) {
#if defined(__linux__)
  for (int t = 1; t < num_threads_; ++t) {
    Sleeper& s = sleepers_state_[static_cast<size_t>(t - 1)];
    cpu_set_t narrow;
    if (!s.asleep || s.steered || !s.has_mask || !MaskWithout(s.mask, cpu, &narrow)) continue;
    if (pthread_setaffinity_np(workers_[static_cast<size_t>(t - 1)].native_handle(), sizeof narrow,
                               &narrow) == 0) {
      s.steered = true;
      ++stats_.worker_steers;
    }
  }
#else
  (void)cpu;
#endif
}

StdThreadRunner::StdThreadRunner(int num_threads)
    : num_threads_(num_threads < 1 ? 1 : num_threads),
      ranges_(std::make_unique<Range[]>(static_cast<size_t>(num_threads_))),
      sleepers_state_(std::make_unique<Sleeper[]>(static_cast<size_t>(num_threads_ - 1))) {
  workers_.reserve(num_threads_ - 1);
  for (int t = 1; t < num_threads_; ++t) workers_.emplace_back([this, t] { WorkerLoop(t); });
}

StdThreadRunner::~StdThreadRunner() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (std::thread& w : workers_) w.join();
}

int StdThreadRunner::RunTasks(uint64_t generation, int thread) {
  int ran = 0;
  // The thread's own range from its front, then the other ranges from their backs: a thread
  // keeps the neighbouring tasks of one op, and the next op's tasks at the same place.
  for (int k = 0; k < num_threads_; ++k) {
    std::atomic<uint64_t>& word = ranges_[static_cast<size_t>((thread + k) % num_threads_)].word;
    uint64_t s = word.load();
    for (;;) {
      if (Generation(s) != generation || Begin(s) >= End(s)) break;
      const bool own = k == 0;
      if (!word.compare_exchange_weak(s, own ? s + (uint64_t{1} << kIndexBits) : s - 1)) {
        continue;  // s reloaded
      }
      // The claimed task is not counted, so the job (fn_, ctx_, count_) cannot change before it is.
      fn_.load()(ctx_.load(), thread, own ? Begin(s) : End(s) - 1);
      ++ran;
      s = word.load();
    }
  }
  // One count per thread and job, not per task: done_ is the one line every thread writes, and
  // an add per task moved it between the cores' caches 16 times per op (on a 2-vCPU Zen 5, 6.5%
  // of the CPU time of QuickNet at two threads went to that add). The job cannot change before
  // this add, since done_ cannot reach count_ without it.
  if (ran > 0 && done_.fetch_add(ran) + ran == count_.load() && thread != 0 &&
      caller_sleeping_.load()) {
    // The caller sleeps or is about to check done_ under the mutex: wake it.
    { std::lock_guard<std::mutex> lock(mutex_); }
    done_wake_.notify_one();
  }
  return ran;
}

bool StdThreadRunner::WaitDone(int n, int64_t own_ns, int own_tasks) {
  if (done_.load() >= n) return true;
  const int64_t start = NowNs();
  const int64_t task_ns = own_tasks > 0 ? own_ns / own_tasks : own_ns;
  // Poll for about two tasks' time (the worker's last task normally ends within one), then sleep.
  const int64_t spin_ns = std::max<int64_t>(20'000, 2 * task_ns);
  int64_t now = start;
  for (int i = 1; done_.load() < n; ++i) {
    XBNN_CPU_RELAX();
    if (i % 64 == 0 && (now = NowNs()) - start > spin_ns) break;
  }
  if (done_.load() < n) {
    caller_sleeping_.store(true);
    {
      std::unique_lock<std::mutex> lock(mutex_);
      done_wake_.wait(lock, [&] { return done_.load() >= n; });
    }
    caller_sleeping_.store(false);
    now = NowNs();
  }
  return now - start <= std::max(kStallNs, 2 * task_ns);
}

bool StdThreadRunner::WorkersHelped(int threads, const Window& w) {
  // The caller itself was runnable but not running: the cores are shared with other processes,
  // and this process's threads split the CPU time it gets instead of adding to it.
  if (4 * w.cpu_ns < 3 * w.wall_ns) return false;
  // The first window after an idle gap (between invokes), in which the caller hardly waited for
  // the workers: they were slow to wake from their idle CPUs (and took few tasks or none) but
  // cost the caller nothing. Later windows judge them by their share: on a busy machine a worker
  // that seldom runs will sooner or later be preempted holding a task.
  if (w.after_gap && 32 * w.wait_ns <= w.busy_ns) return true;
  // The workers took less than half of the (T - 1) / T of the tasks they take on idle cores.
  if (2 * threads * (w.tasks - w.own_tasks) < (threads - 1) * w.tasks) return false;
  // Estimated speedup under 1.1: the caller's time per task times all tasks (the jobs on one
  // thread) over the time the caller spent in the jobs, running its tasks and waiting for the
  // workers' last ones. Waiting alone is no sign of absent workers: with small jobs the last
  // task often ends a few microseconds after the caller's, and two threads are still faster.
  if (w.own_tasks == 0) return true;
  return 10 * w.busy_ns * w.tasks >= 11 * w.own_tasks * (w.busy_ns + w.wait_ns);
}

int64_t StdThreadRunner::NextBackoffNs(int64_t backoff_ns, int64_t clean_ns, bool stall) {
  if (!stall && backoff_ns > 0 && 4 * clean_ns >= backoff_ns) return backoff_ns;
  return std::clamp(2 * backoff_ns, kMinBackoffNs, kMaxBackoffNs);
}

void StdThreadRunner::RunBatch(int n, void (*fn)(void*, int, int), void* ctx) {
  const int64_t t0 = NowNs();
  if (serial_left_ns_ > 0) {
    ++stats_.serial_jobs;
    for (int i = 0; i < n; ++i) fn(ctx, 0, i);
    serial_left_ns_ -= NowNs() - t0;
    return;
  }
  ++stats_.parallel_jobs;
  // A window starts with its first job (its CPU time read before the job runs, so that the
  // window's CPU time and wall time cover the same span).
  if (window_jobs_ > 0 && t0 - last_job_end_ns_ > kGapNs) {
    ResetWindow();
  }
  if (window_jobs_ == 0) {
    window_after_gap_ = t0 - last_job_end_ns_ > kGapNs;
    window_start_ns_ = t0;
    window_cpu_ns_ = ThreadCpuNs();
  }
  generation_ = generation_ == kGenerationMask ? 1 : generation_ + 1;  // 0: no job yet
  const int cpu = CurrentCpu();
  caller_cpu_.store(cpu, std::memory_order_relaxed);
  fn_.store(fn);
  ctx_.store(ctx);
  count_.store(n);
  done_.store(0);
  // Thread t's range: the t-th of num_threads_ equal parts of the tasks.
  for (int t = 0; t < num_threads_; ++t) {
    ranges_[static_cast<size_t>(t)].word.store(
        RangeWord(generation_, static_cast<int>(int64_t{n} * t / num_threads_),
                  static_cast<int>(int64_t{n} * (t + 1) / num_threads_)));
  }
  job_.store(generation_);
  if (sleepers_.load() > 0) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      SteerSleepers(cpu);
    }
    wake_.notify_all();
  }
  const int own = RunTasks(generation_, 0);
  const int64_t t1 = NowNs();
  const bool clean = WaitDone(n, t1 - t0, own);
  const int64_t t2 = NowNs();
  stats_.tasks += n;
  stats_.own_tasks += own;
  stats_.busy_ns += t1 - t0;
  stats_.wait_ns += t2 - t1;
  if (!clean) ++stats_.stalls;
  // Over a window of jobs: did the workers take their share of the tasks? When the OS gives
  // them little time (other processes on every core, or this process's share split among its
  // threads), they add synchronization and take CPU time from the caller without speeding up
  // the work.
  last_job_end_ns_ = t2;
  window_tasks_ += n;
  window_own_ += own;
  window_busy_ns_ += t1 - t0;
  window_wait_ns_ += t2 - t1;
  bool absent = false;
  if (clean && ++window_jobs_ == kWindowJobs) {
    absent = !WorkersHelped(
        num_threads_, {window_tasks_, window_own_, window_busy_ns_, window_wait_ns_,
                       ThreadCpuNs() - window_cpu_ns_, t2 - window_start_ns_, window_after_gap_});
    // Good windows for kCleanNs of job time in a row end the back-off.
    if (!absent && backoff_ns_ > 0) {
      clean_ns_ += window_busy_ns_ + window_wait_ns_;
      if (clean_ns_ > kCleanNs) backoff_ns_ = clean_ns_ = 0;
    }
    ResetWindow();
  }
  if (clean && !absent) return;
  if (absent) ++stats_.absent_windows;
  backoff_ns_ = NextBackoffNs(backoff_ns_, clean_ns_, !clean);
  clean_ns_ = 0;
  serial_left_ns_ = backoff_ns_;
  ResetWindow();
}

void StdThreadRunner::ParallelFor(int n, void (*fn)(void*, int, int), void* ctx) {
  if (n <= 0) return;
  // A single task runs inline, except while backing off: the back-off is counted in job time,
  // and kernels that see threads_now() == 1 hand over one task (their whole op).
  if (workers_.empty() || (n == 1 && serial_left_ns_ <= 0)) {
    for (int i = 0; i < n; ++i) fn(ctx, 0, i);
    return;
  }
  // Batches keep the index field from overflowing; tasks are independent, so any split works.
  struct Offset {
    void (*fn)(void*, int, int);
    void* ctx;
    int base;
    static void Call(void* c, int thread, int i) {
      auto* o = static_cast<Offset*>(c);
      o->fn(o->ctx, thread, o->base + i);
    }
  };
  for (int base = 0; base < n; base += kMaxBatch) {
    const int count = n - base < kMaxBatch ? n - base : kMaxBatch;
    if (base == 0 && count == n) {
      RunBatch(n, fn, ctx);
    } else {
      Offset o{fn, ctx, base};
      RunBatch(count, &Offset::Call, &o);
    }
  }
}

void StdThreadRunner::WorkerLoop(int thread) {
  // Generation 0 is no job: a worker that starts after the first job was published still runs it.
  uint64_t seen = 0;
  auto has_news = [&] { return job_.load() != seen || stop_.load(); };
  for (;;) {
    bool news = has_news();
    if (!news) {
      const int64_t start = NowNs();
      for (int i = 1; !(news = has_news()); ++i) {
        XBNN_CPU_RELAX();
        if (i % 64 == 0 && NowNs() - start > kWorkerSpinNs) break;
      }
    }
    if (!news) {
      Sleeper& me = sleepers_state_[static_cast<size_t>(thread - 1)];
      std::unique_lock<std::mutex> lock(mutex_);
#if defined(__linux__)
      me.has_mask =
          sched_getaffinity(0, sizeof(cpu_set_t), reinterpret_cast<cpu_set_t*>(me.mask)) == 0;
#endif
      me.asleep = true;
      sleepers_.fetch_add(1);
      wake_.wait(lock, has_news);
      sleepers_.fetch_sub(1);
      me.asleep = false;
      const bool steered = me.steered;
      me.steered = false;
      lock.unlock();
#if defined(__linux__)
      // Widening the mask does not move the thread.
      if (steered) sched_setaffinity(0, sizeof(cpu_set_t), reinterpret_cast<cpu_set_t*>(me.mask));
#endif
    }
    if (stop_.load()) return;
    seen = job_.load();
    if (LeaveCpu(caller_cpu_.load(std::memory_order_relaxed))) {
      moves_.fetch_add(1, std::memory_order_relaxed);
    }
    RunTasks(seen, thread);
  }
}

}  // namespace xbnn::kernels
