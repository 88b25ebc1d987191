// ThreadPool: every task runs exactly once per Run, on a thread index below
// NumThreads(), whether the workers are spinning, asleep or late to wake;
// results written by workers are visible to the caller when Run returns.
#include "ternary/util/thread_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "ternary/util/error.h"

namespace ternary {
namespace {

// Runs [begin, end) on the pool and checks each task ran once.
void CheckRun(ThreadPool& pool, size_t begin, size_t end) {
  std::vector<int> count(end, 0);  // plain ints: Run must publish them
  std::atomic<bool> bad_thread{false};
  pool.Run(begin, end, [&](size_t task, size_t thread) {
    if (thread >= pool.NumThreads()) bad_thread = true;
    ++count[task];
  });
  CHECK_FALSE(bad_thread.load());
  for (size_t t = 0; t < end; ++t) {
    REQUIRE_MESSAGE(count[t] == (t >= begin ? 1 : 0), "task " << t);
  }
}

TEST_CASE("thread pool: each task once, back to back and after sleeping") {
  for (size_t threads : {1, 2, 3, 8}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    CHECK(pool.NumThreads() == threads);
    // Back to back, as decode does: the workers are still spinning, and
    // with one or two tasks most of them arrive after the job is closed.
    for (int i = 0; i < 2000; ++i) {
      CheckRun(pool, static_cast<size_t>(i % 3),
               1 + static_cast<size_t>(i % 37));
    }
    // After the workers have given up spinning and sleep.
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      CheckRun(pool, 0, 64);
    }
    CheckRun(pool, 5, 5);  // empty range: nothing runs
  }
}

TEST_CASE("thread pool: a slow task holds Run until it is done") {
  ThreadPool pool(2);
  std::vector<int> out(4, 0);
  pool.Run(0, 4, [&](size_t task, size_t) {
    if (task == 3) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out[task] = static_cast<int>(task) + 1;
  });
  CHECK(out == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("thread pool: tasks spread over the threads when they are long") {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> per_thread(2);
  pool.Run(0, 8, [&](size_t, size_t thread) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ++per_thread[thread];
  });
  CHECK(per_thread[0] + per_thread[1] == 8);
  CHECK(per_thread[1] > 0);  // a worker awake for 40 ms of work took some
}

TEST_CASE("thread pool: created and destroyed without any job") {
  for (int i = 0; i < 20; ++i) ThreadPool pool(4);
}

// The system refusing a thread partway (EAGAIN at a thread limit): the
// constructor stops and joins the workers it started and throws
// ternary::Error; before the fix the joinable threads were destroyed and
// the process aborted ("terminate called without an active exception").
size_t g_fail_at = 0;
void FailAt(size_t index) {
  if (index == g_fail_at) {
    throw std::system_error(
        std::make_error_code(std::errc::resource_unavailable_try_again));
  }
}

TEST_CASE("thread pool: a thread the system refuses is an error, not abort") {
  ThreadPool::spawn_hook_for_tests = &FailAt;
  for (size_t fail_at : {1, 2, 5, 15}) {
    CAPTURE(fail_at);
    g_fail_at = fail_at;
    std::string what;
    try {
      ThreadPool pool(16);
      FAIL("the constructor did not throw");
    } catch (const Error& e) {
      what = e.what();
    }
    const std::string refused = std::to_string(fail_at + 1);
    const std::string started = std::to_string(fail_at);
    CHECK(what ==
          "cannot start 16 threads: the system refused thread " + refused +
              " (" +
              std::make_error_code(std::errc::resource_unavailable_try_again)
                  .message() +
              ") after " + started + " had started; use fewer threads");
  }
  // Any other exception passes through, the started workers joined.
  ThreadPool::spawn_hook_for_tests = [](size_t index) {
    if (index == 3) throw std::bad_alloc();
  };
  CHECK_THROWS_AS(ThreadPool(8), std::bad_alloc);
  ThreadPool::spawn_hook_for_tests = nullptr;
  // Still usable afterwards.
  ThreadPool pool(4);
  CheckRun(pool, 0, 64);
}

}  // namespace
}  // namespace ternary
