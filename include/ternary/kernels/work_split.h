// How the kernels split rows across a thread pool's tasks (target-
// independent; the per-target drivers in ops-inl.h call these).
#ifndef TERNARY_KERNELS_WORK_SPLIT_H_
#define TERNARY_KERNELS_WORK_SPLIT_H_

#include <algorithm>
#include <cstddef>

#include "ternary/util/math.h"
#include "ternary/util/thread_pool.h"

namespace ternary::detail {

// Rows per parallel task: enough work to amortise a task claim (at least
// 16 rows), in whole row tiles of the format: a tile split between two
// tasks would be computed in full by both (TL1's 64-row chunks on 640 rows
// and 2 threads: 16 chunks instead of 10 with 16-row tasks).
// Rounding down the units per task keeps at least `threads * 4` tasks when
// there are that many units (640 TL1 rows, 2 threads: 10 one-chunk tasks,
// 5 per thread, rather than 5 two-chunk tasks split 3:2).
inline size_t RowsPerTask(size_t rows, size_t threads, size_t row_tile) {
  if (threads <= 1) return rows;
  const size_t tasks = threads * 4;
  const size_t unit = RoundUp(std::max<size_t>(16, row_tile), row_tile);
  return unit * std::max<size_t>(1, DivCeil(rows, unit) / tasks);
}

// Calls fn(begin, end) over [0, rows) in tasks of `per_task` rows, on the
// pool when there is more than one task.
template <class Fn>
void ForRowTasks(size_t rows, size_t per_task, ThreadPool* pool, const Fn& fn) {
  const size_t tasks = DivCeil(rows, std::max<size_t>(per_task, 1));
  if (tasks <= 1 || pool == nullptr) return fn(size_t{0}, rows);
  pool->Run(0, tasks, [&](size_t task, size_t) {
    fn(task * per_task, std::min(rows, (task + 1) * per_task));
  });
}

// The dense (LM head) split: at least 64 rows a task, about 8 per thread.
template <class Fn>
void ForRowRanges(size_t rows, ThreadPool* pool, const Fn& fn) {
  const size_t threads = pool ? pool->NumThreads() : 1;
  if (threads <= 1) return fn(size_t{0}, rows);
  ForRowTasks(rows,
              std::max<size_t>(64, RoundUp(DivCeil(rows, threads * 8), 16)),
              pool, fn);
}

}  // namespace ternary::detail

#endif  // TERNARY_KERNELS_WORK_SPLIT_H_
