// Dense matrix products for the embedding-tied LM head and other
// full-precision weights: float/f16/bf16 rows, or Q8 rows with int8
// activations. Rows are split across the pool's threads.
#ifndef TERNARY_KERNELS_DENSE_H_
#define TERNARY_KERNELS_DENSE_H_

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "ternary/kernels/dense_args.h"
#include "ternary/kernels/dense_matrix.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/simd/dispatch.h"
#include "ternary/simd/policies.h"
#include "ternary/util/error.h"
#include "ternary/util/math.h"
#include "ternary/util/thread_pool.h"

namespace ternary {
namespace detail {

template <class Fn>
void ForRowRanges(size_t rows, ThreadPool* pool, const Fn& fn) {
  const size_t threads = pool ? pool->NumThreads() : 1;
  if (threads <= 1) return fn(size_t{0}, rows);
  const size_t per_task =
      std::max<size_t>(64, RoundUp(DivCeil(rows, threads * 8), 16));
  pool->Run(0, DivCeil(rows, per_task), [&](size_t task, size_t) {
    fn(task * per_task, std::min(rows, (task + 1) * per_task));
  });
}

}  // namespace detail

// y[t·ldy + o] = Σ_i W[o][i]·x[t·ldx + i] for t < n_tokens.
template <DenseElement T, simd::Policy S = simd::Dynamic>
void DenseMatMul(const DenseMatrix<T>& w, const float* x, size_t ldx,
                 size_t n_tokens, float* y, size_t ldy,
                 ThreadPool* pool = nullptr) {
  if (ldx < w.cols() || ldy < w.rows())
    throw ShapeError("DenseMatMul: stride too small");
  const DenseArgs args{w.data(), w.rows(), w.cols(), x, ldx, n_tokens, y, ldy};
  if constexpr (std::is_same_v<S, simd::Reference>) {
    for (size_t t = 0; t < n_tokens; ++t)
      for (size_t o = 0; o < w.rows(); ++o) {
        float s = 0.0f;
        for (size_t i = 0; i < w.cols(); ++i)
          s += ToFloat(w.row(o)[i]) * x[t * ldx + i];
        y[t * ldy + o] = s;
      }
  } else {
    const auto fn = TERNARY_CHOOSE_FOR(S, DenseRowsT<T>);
    detail::ForRowRanges(w.rows(), pool,
                         [&](size_t b, size_t e) { fn(args, b, e); });
  }
}

// Q8 rows × x quantized per token to int8 (absmax, codes within ±127).
template <simd::Policy S = simd::Dynamic>
void Q8MatMul(const Q8RowMatrix& w, const QuantizedActs& x, float* y,
              size_t ldy, ThreadPool* pool = nullptr) {
  if (x.cols() != w.cols() || ldy < w.rows())
    throw ShapeError("Q8MatMul: shape mismatch");
  const Q8Args args{w.row(0),   w.rows(),     w.cols(), w.stride(),
                    w.scales(), w.sums(),     x.row(0), x.stride(),
                    x.scales(), x.n_tokens(), y,        ldy};
  if constexpr (std::is_same_v<S, simd::Reference>) {
    for (size_t t = 0; t < x.n_tokens(); ++t)
      for (size_t o = 0; o < w.rows(); ++o) {
        int32_t s = 0;
        for (size_t i = 0; i < w.cols(); ++i)
          s += int32_t{w.row(o)[i]} * x.row(t)[i];
        y[t * ldy + o] = static_cast<float>(s) / x.scale(t).scale * w.scale(o);
      }
  } else {
    const auto fn = TERNARY_CHOOSE_FOR(S, Q8RowsT<void>);
    detail::ForRowRanges(w.rows(), pool,
                         [&](size_t b, size_t e) { fn(args, b, e); });
  }
}

}  // namespace ternary

#endif  // TERNARY_KERNELS_DENSE_H_
