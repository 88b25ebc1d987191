// Ternary-weight × int8-activation matrix products: the public kernel API.
//
//   y[t·ldy + o] = fl32(fl32(S / scale(t)) · alpha),  S = Σ_i W[o][i]·q[t][i]
//
// S is exact (int32) for every format and target; n_tokens == 1 runs the
// GEMV kernels, more tokens the GEMM kernels (weights unpacked once per
// group of tokens). Rows are split across the pool's threads.
#ifndef TERNARY_KERNELS_MATMUL_H_
#define TERNARY_KERNELS_MATMUL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ternary/kernels/matmul_args.h"
#include "ternary/kernels/packed_matrix.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/kernels/ref/matmul.h"
#include "ternary/quant/i2s.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "ternary/simd/dispatch.h"
#include "ternary/simd/policies.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/math.h"
#include "ternary/util/thread_pool.h"

namespace ternary {
namespace detail {

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

template <quant::PackingFormat F, simd::Policy S>
void MatMulImpl(const PackedMatrix<F>& w, const QuantizedActs& x, float* y,
                int32_t* s, size_t ldy, ThreadPool* pool) {
  if (x.cols() != w.cols()) {
    throw ShapeError("MatMul: activations have " + std::to_string(x.cols()) +
                     " columns, weights " + std::to_string(w.cols()));
  }
  if (ldy < w.rows()) {
    throw ShapeError("MatMul: output stride " + std::to_string(ldy) + " < " +
                     std::to_string(w.rows()) + " rows");
  }
  if (x.n_tokens() == 0) return;
  MatMulArgs args{w.data(),     w.rows(),   w.cols(),    w.alpha(),
                  x.row(0),     x.stride(), x.max_abs(), x.scales(),
                  x.n_tokens(), y,          s,           ldy};
  const size_t threads = pool ? pool->NumThreads() : 1;
  if constexpr (std::is_same_v<S, simd::Reference>) {
    const std::vector<int8_t> t = w.Unpack();
    ref::MatMulUnpacked(t.data(), args, 0, w.rows());
    (void)threads;
  } else {
    const size_t stride = RoundUp(F::PreparedActBytes(w.cols()), kAlignment);
    thread_local AlignedBuffer<int8_t> prepared;
    if (prepared.size() < stride * x.n_tokens()) {
      prepared = AlignedBuffer<int8_t>(stride * x.n_tokens());
    }
    TERNARY_CHOOSE_FOR(S, PrepareT<F>)
    (PrepareArgs{x.row(0), x.stride(), x.n_tokens(), x.cols(), x.max_abs(),
                 prepared.data(), stride});
    args.acts = prepared.data();
    args.act_stride = stride;
    const auto rows_fn = TERNARY_CHOOSE_FOR(S, MatMulRowsT<F>);
    const size_t per_task = RowsPerTask(w.rows(), threads, F::kRowTile);
    const size_t tasks = DivCeil(w.rows(), per_task);
    if (tasks <= 1) {
      rows_fn(args, 0, w.rows());
    } else {
      pool->Run(0, tasks, [&](size_t task, size_t) {
        const size_t begin = task * per_task;
        rows_fn(args, begin, std::min(w.rows(), begin + per_task));
      });
    }
  }
}

}  // namespace detail

// The Highway target the kernels run on now, as the dispatch tables see it
// (simd::ActiveTarget() is what they are told; tests check they agree).
inline int64_t DispatchedTarget() { return TERNARY_CHOOSE(TargetOfT<void>)(); }

// Float outputs: y[t·ldy + o] for t < x.n_tokens(), o < w.rows().
template <quant::PackingFormat F, simd::Policy S = simd::Dynamic>
void MatMul(const PackedMatrix<F>& w, const QuantizedActs& x, float* y,
            size_t ldy, ThreadPool* pool = nullptr) {
  detail::MatMulImpl<F, S>(w, x, y, nullptr, ldy, pool);
}

// The exact integer sums S[t·lds + o] = Σ_i W[o][i]·q[t][i] (for tests and
// for callers with their own epilogue).
template <quant::PackingFormat F, simd::Policy S = simd::Dynamic>
void MatMulInt32(const PackedMatrix<F>& w, const QuantizedActs& x, int32_t* s,
                 size_t lds, ThreadPool* pool = nullptr) {
  detail::MatMulImpl<F, S>(w, x, nullptr, s, lds, pool);
}

}  // namespace ternary

#endif  // TERNARY_KERNELS_MATMUL_H_
