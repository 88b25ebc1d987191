// The scalar reference ops (simd::Reference): the same members as the
// per-target Ops of kernels/ops-inl.h, each the plain loop its vector
// version is tested against. Single-threaded; the pool is ignored.
#ifndef TERNARY_KERNELS_REF_OPS_H_
#define TERNARY_KERNELS_REF_OPS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ternary/kernels/attention_args.h"
#include "ternary/kernels/dense_matrix.h"
#include "ternary/kernels/matmul_args.h"
#include "ternary/kernels/packed_matrix.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/kernels/ref/attention.h"
#include "ternary/kernels/ref/dense.h"
#include "ternary/kernels/ref/matmul.h"
#include "ternary/kernels/ref/vector_ops.h"
#include "ternary/kernels/scratch.h"
#include "ternary/quant/activation.h"
#include "ternary/util/thread_pool.h"

namespace ternary::ref {

struct Ops {
  static constexpr int64_t kTarget = 0;  // not a Highway target

  // Unpacks W with the format's scalar code and multiplies in int32.
  template <class F>
  static void MatMul(const PackedMatrix<F>& w, const QuantizedActs& x, float* y,
                     int32_t* s, size_t ldy, KernelScratch&, ThreadPool*) {
    CheckMatMulShape(w.rows(), w.cols(), x.cols(), ldy);
    if (x.n_tokens() == 0) return;
    const std::vector<int8_t> t = w.Unpack();
    const MatMulArgs args{w.data(),     w.rows(),   w.cols(),    w.alpha(),
                          x.row(0),     x.stride(), x.max_abs(), x.scales(),
                          x.n_tokens(), y,          s,           ldy};
    MatMulUnpacked(t.data(), args, 0, w.rows());
  }

  template <class Q>
  static void Quantize(const float* x, size_t n, size_t cols, size_t ldx,
                       QuantizedActs& acts) {
    acts.Shape(n, cols, Q::kMaxAbs);
    for (size_t t = 0; t < n; ++t) acts.template QuantizeRow<Q>(t, x + t * ldx);
  }

  static void RmsNorm(const float* x, size_t rows, size_t ldx, const float* g,
                      size_t n, float eps, float* y, size_t ldy) {
    for (size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * ldx;
      ScaleRow(xr, RmsFactor(ref::SumSquares(xr, n), n, eps), g, n,
               y + r * ldy);
    }
  }

  static void ReluSquaredGate(const float* gate, const float* up, size_t n,
                              float* z) {
    ref::ReluSquaredGate(gate, up, n, z);
  }
  static void SiluGate(const float* gate, const float* up, size_t n, float* z) {
    ref::SiluGate(gate, up, n, z);
  }
  static void AddRows(float* x, const float* y, size_t n) {
    ref::AddRows(x, y, n);
  }

  static void Attention(const AttentionArgs& a, AttentionScratch& scratch,
                        ThreadPool*) {
    detail::RunAttention(a, scratch, nullptr, [](const AttentionBlockArgs& b) {
      AttentionBlock(b);
    });
  }

  template <class T>
  static void DenseMatMul(const DenseMatrix<T>& w, const float* x, size_t ldx,
                          size_t n, float* y, size_t ldy, ThreadPool*) {
    ref::DenseMatMul(w, x, ldx, n, y, ldy);
  }
  static void Q8MatMul(const Q8RowMatrix& w, const QuantizedActs& x, float* y,
                       size_t ldy, ThreadPool*) {
    ref::Q8MatMul(w, x, y, ldy);
  }

  template <class B>
  static void BlockMatMul(const BlockMatrix<B>& w, const QuantizedActs& x,
                          float* y, size_t ldy, ThreadPool*) {
    ref::BlockMatMul(w, x, y, ldy);
  }

  static float AbsMax(const float* x, size_t n) {
    return quant::detail::AbsMax(x, n);
  }
  static int32_t QuantizeRow(const float* x, size_t n, float scale, int lo,
                             int hi, int8_t* q) {
    return quant::detail::QuantizeWithScale(x, n, scale, lo, hi, q).sum;
  }
  static double SumSquares(const float* x, size_t n) {
    return ref::SumSquares(x, n);
  }
  static void ScaleRow(const float* x, float r, const float* g, size_t n,
                       float* y) {
    ref::ScaleRow(x, r, g, n, y);
  }
};

}  // namespace ternary::ref

#endif  // TERNARY_KERNELS_REF_OPS_H_
