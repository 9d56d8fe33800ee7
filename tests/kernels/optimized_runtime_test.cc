// Variant selection (CPU features, XBNN_ISA) and the thread runners.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kernels/binary/optimized/bconv2d.h"
#include "kernels/binary/optimized/isa.h"
#include "kernels/binary/optimized/task_runner.h"
#include "optimized_test_util.h"

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__arm__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace xbnn::kernels::optimized {
namespace {

TEST(IsaTest, NamesRoundTrip) {
  std::vector<Isa> all = {Isa::kBest};
  all.insert(all.end(), std::begin(kAllIsas), std::end(kAllIsas));
  for (Isa isa : all) {
    auto parsed = ParseIsa(IsaName(isa));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, isa);
  }
  auto bad = ParseIsa("sse9");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown instruction set 'sse9' (expected portable, avx2, avx512bw, avx512vpopcnt, amx, "
            "neon or best)");
}

TEST(IsaTest, PortableAlwaysAvailableAndBestIsAvailable) {
  EXPECT_TRUE(IsaAvailable(Isa::kPortable));
  EXPECT_TRUE(IsaAvailable(DetectBestIsa()));
  for (Isa isa : kAllIsas) {
    if (!IsaAvailable(isa)) {
      EXPECT_FALSE(IsaUnavailableReason(isa).empty());
      auto resolved = ResolveIsa(isa);
      ASSERT_FALSE(resolved.ok());
      EXPECT_NE(resolved.status().message().find(IsaName(isa)), std::string::npos);
    }
  }
#if defined(__x86_64__)
  EXPECT_FALSE(IsaAvailable(Isa::kNeon));
#endif
}

#if defined(__aarch64__)
TEST(IsaTest, NeonIsBestOnAarch64) {
  EXPECT_TRUE(IsaAvailable(Isa::kNeon));
  EXPECT_EQ(DetectBestIsa(), Isa::kNeon);
}
#elif defined(__arm__) && defined(__linux__)
// 32-bit ARM: NEON exactly when the kernel reports it (scripts/test-cross.sh also runs the tests
// on an emulated CPU without NEON, where any NEON instruction would trap).
TEST(IsaTest, NeonOnArmv7FollowsHwcap) {
  const bool neon = (getauxval(AT_HWCAP) & HWCAP_NEON) != 0;
  EXPECT_EQ(IsaAvailable(Isa::kNeon), neon);
  EXPECT_EQ(DetectBestIsa(), neon ? Isa::kNeon : Isa::kPortable);
  if (!neon) {
    EXPECT_NE(IsaUnavailableReason(Isa::kNeon).find("CPU lacks neon"), std::string::npos);
    EXPECT_FALSE(ResolveIsa(Isa::kNeon).ok());
  }
}
#endif

TEST(IsaTest, EnvironmentForcesVariant) {
  const char* old = std::getenv("XBNN_ISA");
  const std::string saved = old ? old : "";
  setenv("XBNN_ISA", "portable", 1);
  auto forced = ResolveIsa(Isa::kBest);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(*forced, Isa::kPortable);

  BConv2DParams p;
  p.in_h = p.in_w = 3;
  p.channels_in = 32;
  p.out_channels = 4;
  p.kernel_h = p.kernel_w = 1;
  p.output_type = BOutputType::kBitpacked;
  const std::vector<int32_t> filter(4, 0), thresholds(4, 0);
  auto kernel = BConv2DKernel::Create(p, filter.data(), nullptr, nullptr, thresholds.data());
  ASSERT_TRUE(kernel.ok());
  EXPECT_EQ((*kernel)->isa(), Isa::kPortable);
  // An explicit request wins over the environment.
  auto explicit_best = ResolveIsa(DetectBestIsa());
  ASSERT_TRUE(explicit_best.ok());
  EXPECT_EQ(*explicit_best, DetectBestIsa());

  setenv("XBNN_ISA", "nonsense", 1);
  auto bad = ResolveIsa(Isa::kBest);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("XBNN_ISA"), std::string::npos);

  if (old) {
    setenv("XBNN_ISA", saved.c_str(), 1);
  } else {
    unsetenv("XBNN_ISA");
  }
}

void CountTask(void* ctx, int thread, int i) {
  auto* hits = static_cast<std::vector<std::atomic<int>>*>(ctx);
  (*hits)[i].fetch_add(1 + 1000 * thread);
}

// Scratch grows to the largest size and thread count asked for, at most the runner's threads,
// and stays 64-byte aligned (the AMX kernel reserves for the two threads that use it).
TEST(TaskRunnerTest, ScratchGrowsToTheLargestReservation) {
  StdThreadRunner runner(4);
  EXPECT_EQ(runner.scratch_threads(), 0);
  runner.ReserveScratch(0, 0);
  EXPECT_EQ(runner.scratch_threads(), 0);
  runner.ReserveScratch(1000, 2);
  EXPECT_EQ(runner.scratch_threads(), 2);
  EXPECT_EQ(runner.scratch_bytes(), 1000u);
  runner.ReserveScratch(500, 1);  // smaller in both: unchanged
  EXPECT_EQ(runner.scratch_threads(), 2);
  EXPECT_EQ(runner.scratch_bytes(), 1000u);
  runner.ReserveScratch(300, 3);  // more threads: the larger size for all of them
  EXPECT_EQ(runner.scratch_threads(), 3);
  EXPECT_EQ(runner.scratch_bytes(), 1000u);
  runner.ReserveScratch(2000, 16);  // at most the runner's threads
  EXPECT_EQ(runner.scratch_threads(), 4);
  EXPECT_EQ(runner.scratch_bytes(), 2000u);
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(runner.Scratch(t)) % 64, 0u);
    std::memset(runner.Scratch(t), t, 2000);  // all of it writable (ASan checks the bounds)
  }
  runner.ReserveScratch(100);  // every thread
  EXPECT_EQ(runner.scratch_threads(), 4);
}

TEST(TaskRunnerTest, EveryTaskRunsOnceWithValidThreadIds) {
  for (int threads : {1, 2, 3, 8}) {
    StdThreadRunner runner(threads);
    EXPECT_EQ(runner.num_threads(), threads);
    for (int round = 0; round < 50; ++round) {
      const int n = round % 7 == 0 ? 1 : 1 + round * 13;
      std::vector<std::atomic<int>> hits(n);
      runner.ParallelFor(n, &CountTask, &hits);
      for (int i = 0; i < n; ++i) {
        const int v = hits[i].load();
        EXPECT_EQ(v % 1000, 1) << "task " << i;
        EXPECT_LT(v / 1000, threads);
      }
    }
  }
}

// Each thread starts at the front of its own contiguous share of the tasks, and a thread whose
// share is done takes the others' tasks from the back: consecutive ops then find most of their
// input in the cache of the core that wrote it. The handshake pins down who runs what: the
// caller's first task waits until the worker runs one, and the worker's first task waits until
// every other task is done.
struct ClaimOrder {
  int n = 0;
  std::atomic<bool> worker_started{false};
  std::atomic<int> finished{0};
  std::mutex mutex;
  std::vector<int> order[2];
  static bool WaitFor(const std::function<bool()>& ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!ready()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
  static void Task(void* ctx, int thread, int i) {
    auto* c = static_cast<ClaimOrder*>(ctx);
    if (thread == 0 && i == 0) WaitFor([&] { return c->worker_started.load(); });
    if (thread == 1 && !c->worker_started.exchange(true)) {
      WaitFor([&] { return c->finished.load() == c->n - 1; });
    }
    {
      std::lock_guard<std::mutex> lock(c->mutex);
      c->order[thread].push_back(i);
    }
    c->finished.fetch_add(1);
  }
};

TEST(TaskRunnerTest, ThreadsStartInTheirOwnRangeAndTakeOthersFromTheBack) {
  StdThreadRunner runner(2);
  ClaimOrder c;
  c.n = 8;
  runner.ParallelFor(c.n, &ClaimOrder::Task, &c);
  ASSERT_TRUE(c.worker_started.load()) << "the worker never ran a task";
  EXPECT_EQ(c.order[0], (std::vector<int>{0, 1, 2, 3, 7, 6, 5}));
  EXPECT_EQ(c.order[1], (std::vector<int>{4}));
}

// A worker that holds a task far longer than the caller's tasks take (as when the OS preempts it)
// is a stall: the pool then runs the next jobs on the calling thread alone, and every task still
// runs exactly once.
void SlowOnWorker(void* ctx, int thread, int i) {
  // The caller's tasks take long enough for the worker to claim one.
  std::this_thread::sleep_for(std::chrono::microseconds(thread == 0 ? 100 : 5000));
  CountTask(ctx, 0, i);
}

TEST(TaskRunnerTest, RunsOnTheCallerAfterAWorkerStalls) {
  StdThreadRunner runner(2);
  for (int attempt = 0; attempt < 50 && runner.stats().stalls == 0; ++attempt) {
    std::vector<std::atomic<int>> hits(4);
    runner.ParallelFor(4, &SlowOnWorker, &hits);
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  ASSERT_GT(runner.stats().stalls, 0) << "the worker never took a task";
  const int64_t serial = runner.stats().serial_jobs;
  for (int k = 0; k < 5; ++k) {
    std::vector<std::atomic<int>> hits(64);
    runner.ParallelFor(64, &CountTask, &hits);
    for (auto& h : hits) ASSERT_EQ(h.load() % 1000, 1);
  }
  EXPECT_GT(runner.stats().serial_jobs, serial);
}

// The back-off is counted in time spent running jobs: an idle gap between invokes (longer than
// the shortest back-off, 2 ms) does not end it, so a busy machine does not cost a new stall at
// the start of every invoke.
TEST(TaskRunnerTest, BackOffOutlastsIdleTime) {
  StdThreadRunner runner(2);
  for (int attempt = 0; attempt < 50 && runner.stats().stalls == 0; ++attempt) {
    std::vector<std::atomic<int>> hits(4);
    runner.ParallelFor(4, &SlowOnWorker, &hits);
  }
  ASSERT_GT(runner.stats().stalls, 0) << "the worker never took a task";
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int64_t serial = runner.stats().serial_jobs;
  // Kernels see the back-off before they plan their tasks.
  EXPECT_EQ(runner.threads_now(), 1);
  EXPECT_EQ(runner.num_threads(), 2);
  std::vector<std::atomic<int>> hits(64);
  runner.ParallelFor(64, &CountTask, &hits);
  EXPECT_EQ(runner.stats().serial_jobs, serial + 1);
  // A one-task job (what such a kernel hands over) counts towards the back-off too.
  runner.ParallelFor(1, &CountTask, &hits);
  EXPECT_EQ(runner.stats().serial_jobs, serial + 2);
}

// The back-off decision over a window of 32 jobs. Numbers from QuickNetSmall at 2 threads on an
// idle 2-core machine: the caller waited 190 us for workers' last tasks against 650 us running
// its own (57% of the tasks); two threads were still ~1.35x faster, so that is help.
TEST(TaskRunnerTest, WorkersHelpedJudgesTheSpeedup) {
  using W = StdThreadRunner::Window;
  EXPECT_TRUE(StdThreadRunner::WorkersHelped(2, W{1000, 570, 650'000, 190'000, 880'000, 980'000}));
  // Even split, little waiting.
  EXPECT_TRUE(StdThreadRunner::WorkersHelped(2, W{1000, 500, 500'000, 10'000, 600'000, 620'000}));
  // The worker took 20% of the tasks, under half its share, and the caller waited for it.
  EXPECT_FALSE(
      StdThreadRunner::WorkersHelped(2, W{1000, 800, 800'000, 100'000, 1'000'000, 1'000'000}));
  // The worker took few tasks or none and the caller never waited for it: right after an idle gap
  // (a worker slow to wake) no reason to run alone; later, a worker that seldom gets a CPU.
  EXPECT_TRUE(StdThreadRunner::WorkersHelped(2, W{1000, 800, 800'000, 0, 900'000, 900'000, true}));
  EXPECT_TRUE(
      StdThreadRunner::WorkersHelped(2, W{568, 568, 1'933'000, 900, 2'104'000, 2'096'000, true}));
  EXPECT_FALSE(StdThreadRunner::WorkersHelped(2, W{1000, 800, 800'000, 0, 900'000, 900'000}));
  // After a gap too: the caller waited for the worker it hardly had.
  EXPECT_FALSE(StdThreadRunner::WorkersHelped(
      2, W{568, 465, 1'697'000, 87'000, 1'978'000, 1'975'000, true}));
  // The caller ran 60% of the tasks and then waited as long again: slower than one thread.
  EXPECT_FALSE(
      StdThreadRunner::WorkersHelped(2, W{1000, 600, 600'000, 600'000, 1'300'000, 1'300'000}));
  // The caller was off its CPU for most of the window (other processes on every core).
  EXPECT_FALSE(StdThreadRunner::WorkersHelped(2, W{1000, 500, 500'000, 0, 300'000, 1'000'000}));
  // Four threads: workers ran 3/4 of the tasks in a third of the one-thread time.
  EXPECT_TRUE(StdThreadRunner::WorkersHelped(4, W{1000, 250, 250'000, 50'000, 330'000, 340'000}));
}

TEST(TaskRunnerTest, BackOffDoublesUnlessTheJobsRecovered) {
  constexpr int64_t kMs = 1'000'000;
  for (bool stall : {false, true}) {
    EXPECT_EQ(StdThreadRunner::NextBackoffNs(0, 0, stall), 2 * kMs);  // the first one
    EXPECT_EQ(StdThreadRunner::NextBackoffNs(0, 50 * kMs, stall), 2 * kMs);
    EXPECT_EQ(StdThreadRunner::NextBackoffNs(2 * kMs, 0, stall), 4 * kMs);  // straight after one
    EXPECT_EQ(StdThreadRunner::NextBackoffNs(8 * kMs, 2 * kMs - 1, stall), 16 * kMs);
    EXPECT_EQ(StdThreadRunner::NextBackoffNs(150 * kMs, 0, stall), 200 * kMs);  // capped
  }
  // Clean windows for a quarter of the last back-off: a window without help keeps it, a stall
  // doubles it.
  EXPECT_EQ(StdThreadRunner::NextBackoffNs(8 * kMs, 2 * kMs, false), 8 * kMs);
  EXPECT_EQ(StdThreadRunner::NextBackoffNs(2 * kMs, kMs, false), 2 * kMs);
  EXPECT_EQ(StdThreadRunner::NextBackoffNs(8 * kMs, 2 * kMs, true), 16 * kMs);
}

#if defined(__linux__)
TEST(TaskRunnerTest, MaskWithoutTakesOutOneOfSeveralCpus) {
  cpu_set_t mask, out;
  CPU_ZERO(&mask);
  CPU_SET(1, &mask);
  EXPECT_FALSE(StdThreadRunner::MaskWithout(&mask, 1, &out));  // the only CPU
  EXPECT_FALSE(StdThreadRunner::MaskWithout(&mask, 0, &out));  // not in the mask
  CPU_SET(3, &mask);
  ASSERT_TRUE(StdThreadRunner::MaskWithout(&mask, 3, &out));
  EXPECT_EQ(CPU_COUNT(&out), 1);
  EXPECT_TRUE(CPU_ISSET(1, &out));
  EXPECT_FALSE(StdThreadRunner::MaskWithout(&mask, -1, &out));
  EXPECT_FALSE(StdThreadRunner::MaskWithout(&mask, CPU_SETSIZE, &out));
}

// Task 0 (the caller's) waits inside itself until task 1 ran, so the worker must run task 1;
// the worker reports its affinity mask from inside that task.
struct SteerProbe {
  std::atomic<bool> worker_ran{false};
  std::atomic<int> worker_thread{-1};
  cpu_set_t worker_mask;
};
void ProbeTask(void* ctx, int thread, int i) {
  auto* p = static_cast<SteerProbe*>(ctx);
  if (i == 1) {
    sched_getaffinity(0, sizeof p->worker_mask, &p->worker_mask);
    p->worker_thread.store(thread);
    p->worker_ran.store(true);
    return;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!p->worker_ran.load() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
}

// A sleeping worker is woken with the caller's CPU taken out of its mask (so that Linux cannot
// queue it behind the caller) and runs its tasks with its own mask restored.
TEST(TaskRunnerTest, SleepingWorkersWakeOffTheCallersCpuWithTheirMask) {
  cpu_set_t mask;
  ASSERT_EQ(sched_getaffinity(0, sizeof mask, &mask), 0);
  if (CPU_COUNT(&mask) < 2) GTEST_SKIP() << "one CPU allowed";
  StdThreadRunner runner(2);
  for (int round = 0; round < 3; ++round) {
    // Longer than the workers poll (100 us): they sleep.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    SteerProbe probe;
    runner.ParallelFor(2, &ProbeTask, &probe);
    ASSERT_TRUE(probe.worker_ran.load());
    EXPECT_EQ(probe.worker_thread.load(), 1);
    EXPECT_TRUE(CPU_EQUAL(&probe.worker_mask, &mask)) << "round " << round;
  }
  // Every round woke a sleeping worker (a round where the caller had not yet published when the
  // worker fell asleep still counts: 20 ms is far beyond the poll).
  EXPECT_EQ(runner.stats().worker_steers, 3);
}

TEST(TaskRunnerTest, LeaveCpuMovesTheThreadAndKeepsItsMask) {
  cpu_set_t mask;
  ASSERT_EQ(sched_getaffinity(0, sizeof mask, &mask), 0);
  if (CPU_COUNT(&mask) < 2) GTEST_SKIP() << "one CPU allowed";
  // On a thread of its own, so that a failed restore could not pin the test runner.
  std::thread t([&] {
    int moved = 0, said_moved = 0;
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int cpu = sched_getcpu();
      said_moved += StdThreadRunner::LeaveCpu(cpu);
      moved += sched_getcpu() != cpu;
      cpu_set_t after;
      ASSERT_EQ(sched_getaffinity(0, sizeof after, &after), 0);
      EXPECT_TRUE(CPU_EQUAL(&after, &mask));
    }
    // The move happens inside the call; the scheduler may move the thread back at any time after
    // it, so most (not all) checks right after the call see another CPU.
    EXPECT_GE(moved, 15);
    EXPECT_GE(said_moved, 15);
    EXPECT_FALSE(StdThreadRunner::LeaveCpu(-1));
    EXPECT_FALSE(StdThreadRunner::LeaveCpu(CPU_SETSIZE));
  });
  t.join();
}
#endif

TEST(TaskRunnerTest, ZeroTasksAndSerialRunner) {
  EXPECT_EQ(StdThreadRunner(3).threads_now(), 3);  // a fresh pool splits
  StdThreadRunner runner(2);
  runner.ParallelFor(0, &CountTask, nullptr);
  SerialRunner serial;
  std::vector<std::atomic<int>> hits(5);
  serial.ParallelFor(5, &CountTask, &hits);
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

}  // namespace
}  // namespace xbnn::kernels::optimized
