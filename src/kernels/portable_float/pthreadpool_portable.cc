// The part of pthreadpool's C API that xbnn calls (create, destroy, parallelize_1d), on
// std::thread. Linked instead of Debian's libpthreadpool when XBNN_XNNPACK is OFF (static
// builds: Debian ships pthreadpool and XNNPACK only as shared libraries).
#include <pthreadpool.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

struct pthreadpool {
  std::mutex mu;
  std::condition_variable work_cv;  // workers wait for a new job or shutdown
  std::condition_variable done_cv;  // the caller waits for the workers to finish a job
  std::vector<std::thread> workers;
  // The job in flight: items [0, range) are claimed through `next`.
  pthreadpool_task_1d_t task = nullptr;
  void* context = nullptr;
  size_t range = 0;
  std::atomic<size_t> next{0};
  unsigned generation = 0;  // bumped per job, so a worker joins each job once
  int active = 0;           // workers still inside the current job
  bool stop = false;
  std::mutex call_mu;  // serializes parallelize calls, as pthreadpool does

  void RunItems() {
    for (size_t i = next.fetch_add(1); i < range; i = next.fetch_add(1)) task(context, i);
  }

  void WorkerLoop() {
    unsigned seen = 0;
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      work_cv.wait(lock, [&] { return stop || generation != seen; });
      if (stop) return;
      seen = generation;
      lock.unlock();
      RunItems();
      lock.lock();
      if (--active == 0) done_cv.notify_one();
    }
  }
};

extern "C" {

pthreadpool_t pthreadpool_create(size_t threads_count) {
  if (threads_count == 0) threads_count = std::thread::hardware_concurrency();
  if (threads_count == 0) threads_count = 1;
  auto* pool = new (std::nothrow) pthreadpool;
  if (pool == nullptr) return nullptr;
  // The calling thread works too: threads_count - 1 helpers.
  try {
    for (size_t i = 1; i < threads_count; ++i)
      pool->workers.emplace_back([pool] { pool->WorkerLoop(); });
  } catch (...) {
    pthreadpool_destroy(pool);
    return nullptr;
  }
  return pool;
}

size_t pthreadpool_get_threads_count(pthreadpool_t pool) {
  return pool == nullptr ? 1 : pool->workers.size() + 1;
}

void pthreadpool_parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t function, void* context,
                                size_t range, uint32_t /*flags*/) {
  if (pool == nullptr || pool->workers.empty() || range <= 1) {
    for (size_t i = 0; i < range; ++i) function(context, i);
    return;
  }
  std::lock_guard<std::mutex> call(pool->call_mu);
  {
    std::lock_guard<std::mutex> lock(pool->mu);
    pool->task = function;
    pool->context = context;
    pool->range = range;
    pool->next.store(0);
    pool->active = static_cast<int>(pool->workers.size());
    ++pool->generation;
  }
  pool->work_cv.notify_all();
  pool->RunItems();
  std::unique_lock<std::mutex> lock(pool->mu);
  pool->done_cv.wait(lock, [pool] { return pool->active == 0; });
}

void pthreadpool_destroy(pthreadpool_t pool) {
  if (pool == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(pool->mu);
    pool->stop = true;
  }
  pool->work_cv.notify_all();
  for (std::thread& t : pool->workers) t.join();
  delete pool;
}

}  // extern "C"
