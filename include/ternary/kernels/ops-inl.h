// The ops of a forward pass for one Highway target: everything a layer
// computes, as one struct of static functions (Ops) that per-target code
// calls directly. kernels/dispatch.h picks a target's Ops once (WithOps)
// and hands it to generic code such as Model's forward pass; ref::Ops
// (kernels/ref/ops.h) has the same members in scalar code. A new op is one
// member here and one there.

#ifndef TERNARY_KERNELS_OPS_INL_H_
#define TERNARY_KERNELS_OPS_INL_H_
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ternary/kernels/attention_args.h"
#include "ternary/kernels/dense_args.h"
#include "ternary/kernels/dense_matrix.h"
#include "ternary/kernels/matmul_args.h"
#include "ternary/kernels/packed_matrix.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/kernels/ref/dense.h"
#include "ternary/kernels/ref/vector_ops.h"
#include "ternary/kernels/scratch.h"
#include "ternary/kernels/work_split.h"
#include "ternary/quant/activation.h"
#include "ternary/util/math.h"
#include "ternary/util/thread_pool.h"

#endif  // TERNARY_KERNELS_OPS_INL_H_

#if defined(TERNARY_KERNELS_OPS_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_OPS_INL_H_TARGET
#undef TERNARY_KERNELS_OPS_INL_H_TARGET
#else
#define TERNARY_KERNELS_OPS_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"
// After highway.h
#include "ternary/kernels/dense-inl.h"
#include "ternary/kernels/i2s-inl.h"
#include "ternary/kernels/kernel-inl.h"
#include "ternary/kernels/quant_head-inl.h"
#include "ternary/kernels/tl1-inl.h"
#include "ternary/kernels/tl2-inl.h"
#include "ternary/kernels/vector_ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {

struct Ops {
  // The Highway target these ops were compiled for.
  static constexpr int64_t kTarget = HWY_TARGET;

  // y (or, with s set, the exact int32 sums) = W · x for every token of x;
  // rows split across the pool in whole row tiles of F.
  template <class F>
  static void MatMul(const PackedMatrix<F>& w, const QuantizedActs& x, float* y,
                     int32_t* s, size_t ldy, KernelScratch& scratch,
                     ThreadPool* pool) {
    CheckMatMulShape(w.rows(), w.cols(), x.cols(), ldy);
    if (x.n_tokens() == 0) return;
    const size_t stride = RoundUp(F::PreparedActBytes(w.cols()), kAlignment);
    int8_t* prepared = scratch.Prepared(stride * x.n_tokens());
    Kernel<F>::Prepare(PrepareArgs{x.row(0), x.stride(), x.n_tokens(), x.cols(),
                                   x.max_abs(), prepared, stride});
    const MatMulArgs args{w.data(),     w.rows(), w.cols(),    w.alpha(),
                          prepared,     stride,   x.max_abs(), x.scales(),
                          x.n_tokens(), y,        s,           ldy};
    const size_t threads = pool ? pool->NumThreads() : 1;
    ::ternary::detail::ForRowTasks(
        w.rows(),
        ::ternary::detail::RowsPerTask(w.rows(), threads, F::kRowTile), pool,
        [&](size_t begin, size_t end) { Kernel<F>::Rows(args, begin, end); });
  }

  // Quantizes n rows of x (stride ldx, cols values each) with Q; int8
  // absmax is vectorized, the other quantizers run their scalar code.
  template <class Q>
  static void Quantize(const float* x, size_t n, size_t cols, size_t ldx,
                       QuantizedActs& acts) {
    acts.Shape(n, cols, Q::kMaxAbs);
    for (size_t t = 0; t < n; ++t) {
      const float* xt = x + t * ldx;
      if constexpr (std::is_same_v<Q, quant::Int8AbsMax>) {
        const float scale = Q::ScaleFor(vec::AbsMax(xt, cols));
        acts.SetScale(t, {scale, vec::QuantizeRow(xt, cols, scale, Q::kLo,
                                                  Q::kHi, acts.row(t))});
        acts.PadRow(t);
      } else {
        acts.template QuantizeRow<Q>(t, xt);
      }
    }
  }

  // y row r = x row r · RmsFactor · g for `rows` rows; y may alias x.
  static void RmsNorm(const float* x, size_t rows, size_t ldx, const float* g,
                      size_t n, float eps, float* y, size_t ldy) {
    for (size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * ldx;
      vec::ScaleRow(xr, ref::RmsFactor(vec::SumSquares(xr, n), n, eps), g, n,
                    y + r * ldy);
    }
  }

  static void ReluSquaredGate(const float* gate, const float* up, size_t n,
                              float* z) {
    vec::ReluSquaredGate(gate, up, n, z);
  }
  static void SiluGate(const float* gate, const float* up, size_t n, float* z) {
    vec::SiluGate(gate, up, n, z);
  }
  static void AddRows(float* x, const float* y, size_t n) {
    vec::AddRows(x, y, n);
  }

  static void Attention(const AttentionArgs& a, AttentionScratch& scratch,
                        ThreadPool* pool) {
    ::ternary::detail::RunAttention(
        a, scratch, pool,
        [](const AttentionBlockArgs& b) { vec::AttentionBlock(b); });
  }

  // y[t·ldy + o] = Σ_i W[o][i]·x[t·ldx + i] (float/f16/bf16 rows).
  template <class T>
  static void DenseMatMul(const DenseMatrix<T>& w, const float* x, size_t ldx,
                          size_t n, float* y, size_t ldy, ThreadPool* pool) {
    const DenseArgs args{w.data(), w.rows(), w.cols(), x, ldx, n, y, ldy};
    ::ternary::detail::ForRowRanges(w.rows(), pool, [&](size_t b, size_t e) {
      dense::Rows<T>(args, b, e);
    });
  }

  // Q8 rows × int8 tokens (codes within ±127).
  static void Q8MatMul(const Q8RowMatrix& w, const QuantizedActs& x, float* y,
                       size_t ldy, ThreadPool* pool) {
    const Q8Args args{w.row(0),   w.rows(),     w.cols(), w.stride(),
                      w.scales(), w.sums(),     x.row(0), x.stride(),
                      x.scales(), x.n_tokens(), y,        ldy};
    ::ternary::detail::ForRowRanges(
        w.rows(), pool, [&](size_t b, size_t e) { dense::Q8Rows(args, b, e); });
  }

  // ggml-block rows (Q6_K, Q4_0) × int8 tokens (codes within ±128), equal
  // to ref::BlockMatMul bit for bit.
  template <class B>
  static void BlockMatMul(const BlockMatrix<B>& w, const QuantizedActs& x,
                          float* y, size_t ldy, ThreadPool* pool) {
    const BlockArgs args = ref::MakeBlockArgs(w, x, y, ldy);
    ::ternary::detail::ForRowRanges(w.rows(), pool, [&](size_t b, size_t e) {
      qhead::BlockRows<B>(args, b, e);
    });
  }

  // Row primitives (the vec:: API and its tests).
  static float AbsMax(const float* x, size_t n) { return vec::AbsMax(x, n); }
  static int32_t QuantizeRow(const float* x, size_t n, float scale, int lo,
                             int hi, int8_t* q) {
    return vec::QuantizeRow(x, n, scale, lo, hi, q);
  }
  static double SumSquares(const float* x, size_t n) {
    return vec::SumSquares(x, n);
  }
  static void ScaleRow(const float* x, float r, const float* g, size_t n,
                       float* y) {
    vec::ScaleRow(x, r, g, n, y);
  }
};

// The entry kernels/dispatch.h's tables point at: runs the generic body
// with this target's ops (one template parameter, so that the name passes
// through Highway's macros).
template <class Body>
void WithOpsT(Body* body) {
  body->template operator()<Ops>();
}

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
