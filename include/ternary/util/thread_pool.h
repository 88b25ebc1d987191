// A small fork-join thread pool for row-parallel kernels: Run(begin, end, fn)
// calls fn(task, thread) for every task, the caller taking part. Workers spin
// briefly before sleeping, so back-to-back dispatches (about seven per layer
// in decode) cost microseconds, not a futex round trip each.
#ifndef TERNARY_UTIL_THREAD_POOL_H_
#define TERNARY_UTIL_THREAD_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "ternary/util/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TERNARY_PAUSE() _mm_pause()
#else
#define TERNARY_PAUSE() \
  do {                  \
  } while (0)
#endif

namespace ternary {

class ThreadPool {
 public:
  // num_threads counts the caller: 1 means no worker threads at all. When
  // the system refuses a thread (std::system_error, e.g. EAGAIN at the
  // process or user thread limit), the workers already started are stopped
  // and joined, and ternary::Error says which thread failed and why.
  explicit ThreadPool(size_t num_threads = std::thread::hardware_concurrency())
      : num_threads_(num_threads == 0 ? 1 : num_threads) {
    workers_.reserve(num_threads_ - 1);  // emplace_back never reallocates
    try {
      for (size_t i = 1; i < num_threads_; ++i) {
        if (spawn_hook_for_tests) spawn_hook_for_tests(i);
        workers_.emplace_back([this, i] { WorkerLoop(i); });
      }
    } catch (const std::system_error& e) {
      const size_t started = workers_.size() + 1;  // with the caller
      StopWorkers();
      throw Error("cannot start " + std::to_string(num_threads_) +
                  " threads: the system refused thread " +
                  std::to_string(started + 1) + " (" + e.code().message() +
                  ") after " + std::to_string(started) +
                  " had started; use fewer threads");
    } catch (...) {
      StopWorkers();
      throw;
    }
  }
  ~ThreadPool() { StopWorkers(); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t NumThreads() const noexcept { return num_threads_; }

  // Calls fn(task, thread) for task in [begin, end); thread < NumThreads().
  // Not reentrant: fn must not call Run on the same pool.
  template <class Fn>
  void Run(size_t begin, size_t end, const Fn& fn) {
    if (end <= begin) return;
    if (num_threads_ == 1 || end - begin == 1) {
      for (size_t t = begin; t < end; ++t) fn(t, 0);
      return;
    }
    job_ = [&fn](size_t task, size_t thread) { fn(task, thread); };
    next_.store(begin, std::memory_order_relaxed);
    end_ = end;
    // Open the job (no worker inside yet); the release publishes job_,
    // next_ and end_ to every worker that enters.
    state_.store(0, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    Work(0);
    // Every task is taken. Close the job so that workers still waking up
    // skip it, and wait only for those inside, each finishing its task: a
    // descheduled or sleeping worker never delays the caller.
    state_.fetch_or(kClosed, std::memory_order_acq_rel);
    for (int spin = 0;
         (state_.load(std::memory_order_acquire) & kInsideMask) != 0; ++spin) {
      if (spin < kSpins) {
        TERNARY_PAUSE();
      } else {
        std::this_thread::yield();
      }
    }
  }

  // Tests only: called with the worker's index (1, 2, ...) before each
  // worker thread is created; throwing std::system_error from it stands in
  // for the system refusing that thread. Not thread-safe; null otherwise.
  static inline void (*spawn_hook_for_tests)(size_t index) = nullptr;

 private:
  static constexpr int kSpins = 1 << 14;
  // state_: bit 32 says the job is closed, the low bits count the workers
  // inside it.
  static constexpr uint64_t kClosed = uint64_t{1} << 32;
  static constexpr uint64_t kInsideMask = kClosed - 1;

  // Enters the open job, if any: false once the caller has closed it.
  bool Enter() {
    uint64_t s = state_.load(std::memory_order_acquire);
    while ((s & kClosed) == 0) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
        return true;
      }
    }
    return false;
  }

  void Work(size_t thread) {
    for (;;) {
      const size_t t = next_.fetch_add(1, std::memory_order_relaxed);
      if (t >= end_) break;
      job_(t, thread);
    }
  }

  void WorkerLoop(size_t thread) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = generation_.load(std::memory_order_acquire);
      for (int spin = 0; g == seen && spin < kSpins; ++spin) {
        TERNARY_PAUSE();
        g = generation_.load(std::memory_order_acquire);
      }
      if (g == seen) {
        generation_.wait(seen, std::memory_order_acquire);
        continue;
      }
      seen = g;
      if (stop_.load(std::memory_order_relaxed)) return;
      if (!Enter()) continue;
      Work(thread);
      state_.fetch_sub(1, std::memory_order_release);
    }
  }

  // Stops and joins every worker started (the pool is unusable after).
  void StopWorkers() noexcept {
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& w : workers_) {
      if (w.joinable()) w.join();
    }
    workers_.clear();
  }

  size_t num_threads_;
  std::vector<std::thread> workers_;
  std::function<void(size_t, size_t)> job_;
  std::atomic<size_t> next_{0};
  size_t end_ = 0;
  std::atomic<uint64_t> state_{kClosed};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace ternary

#endif  // TERNARY_UTIL_THREAD_POOL_H_
