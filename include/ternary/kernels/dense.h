// Dense matrix products for the embedding-tied LM head and other
// full-precision weights: float/f16/bf16 rows, or Q8 / Q6_K / Q4_0 rows with
// int8 activations. Rows are split across the pool's threads. One dispatch per
// call (kernels/dispatch.h).
#ifndef TERNARY_KERNELS_DENSE_H_
#define TERNARY_KERNELS_DENSE_H_

#include <cstddef>

#include "ternary/kernels/dense_matrix.h"
#include "ternary/kernels/dispatch.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/simd/policies.h"
#include "ternary/util/error.h"
#include "ternary/util/thread_pool.h"

namespace ternary {

// y[t·ldy + o] = Σ_i W[o][i]·x[t·ldx + i] for t < n_tokens.
template <DenseElement T, simd::Policy S = simd::Dynamic>
void DenseMatMul(const DenseMatrix<T>& w, const float* x, size_t ldx,
                 size_t n_tokens, float* y, size_t ldy,
                 ThreadPool* pool = nullptr) {
  if (ldx < w.cols() || ldy < w.rows())
    throw ShapeError("DenseMatMul: stride too small");
  WithOps<S>([&]<class Ops>() {
    Ops::template DenseMatMul<T>(w, x, ldx, n_tokens, y, ldy, pool);
  });
}

// Q8 rows × x quantized per token to int8 (absmax, codes within ±127).
template <simd::Policy S = simd::Dynamic>
void Q8MatMul(const Q8RowMatrix& w, const QuantizedActs& x, float* y,
              size_t ldy, ThreadPool* pool = nullptr) {
  if (x.cols() != w.cols() || ldy < w.rows())
    throw ShapeError("Q8MatMul: shape mismatch");
  WithOps<S>([&]<class Ops>() { Ops::Q8MatMul(w, x, y, ldy, pool); });
}

// ggml Q6_K / Q4_0 rows × x quantized per token to int8 (absmax):
// y[t·ldy + o] = fl32(Σ_b fp16 d_b · S_b / x_scale[t]), S_b the exact int32
// sum of block b, the Σ in double in block order (kernels/ref/dense.h).
template <class B, simd::Policy S = simd::Dynamic>
void BlockMatMul(const BlockMatrix<B>& w, const QuantizedActs& x, float* y,
                 size_t ldy, ThreadPool* pool = nullptr) {
  if (x.cols() != w.cols() || x.stride() < w.padded_cols() || ldy < w.rows())
    throw ShapeError("BlockMatMul: shape mismatch");
  WithOps<S>([&]<class Ops>() { Ops::BlockMatMul(w, x, y, ldy, pool); });
}

}  // namespace ternary

#endif  // TERNARY_KERNELS_DENSE_H_
