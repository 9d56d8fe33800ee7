#include "kernels/binary/optimized/task_runner.h"

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

// About 100 microseconds of polling before a worker goes to sleep.
constexpr int kSpinIterations = 20000;

constexpr int kIndexBits = 20;
constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1;
constexpr int kMaxBatch = static_cast<int>(kIndexMask);  // tasks per published job
constexpr uint64_t kGenerationMask = (uint64_t{1} << 24) - 1;

uint64_t Generation(uint64_t state) { return state >> (2 * kIndexBits); }
int Count(uint64_t state) { return static_cast<int>((state >> kIndexBits) & kIndexMask); }
int Index(uint64_t state) { return static_cast<int>(state & kIndexMask); }

}  // namespace

StdThreadRunner::StdThreadRunner(int num_threads)
    : num_threads_(num_threads < 1 ? 1 : num_threads) {
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

void StdThreadRunner::RunTasks(uint64_t generation, int thread) {
  uint64_t s = state_.load();
  for (;;) {
    if (Generation(s) != generation || Index(s) >= Count(s)) return;
    if (!state_.compare_exchange_weak(s, s + 1)) continue;  // s reloaded
    // The claimed task is not done, so the job (and fn_, ctx_) cannot change before it is.
    fn_.load()(ctx_.load(), thread, Index(s));
    done_.fetch_add(1);
    s = state_.load();
  }
}

void StdThreadRunner::RunBatch(int n, void (*fn)(void*, int, int), void* ctx) {
  generation_ = (generation_ + 1) & kGenerationMask;
  fn_.store(fn);
  ctx_.store(ctx);
  done_.store(0);
  state_.store((generation_ << (2 * kIndexBits)) | (static_cast<uint64_t>(n) << kIndexBits));
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_all();
  }
  RunTasks(generation_, 0);
  while (done_.load() < n) XBNN_CPU_RELAX();
}

void StdThreadRunner::ParallelFor(int n, void (*fn)(void*, int, int), void* ctx) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1) {
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
  uint64_t seen = Generation(state_.load());
  auto has_news = [&] { return Generation(state_.load()) != seen || stop_.load(); };
  for (;;) {
    bool news = false;
    for (int spin = 0; spin < kSpinIterations && !(news = has_news()); ++spin) XBNN_CPU_RELAX();
    if (!news) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, has_news);
      sleepers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = Generation(state_.load());
    RunTasks(seen, thread);
  }
}

}  // namespace xbnn::kernels
