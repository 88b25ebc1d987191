// Ternary-weight × int8-activation matrix products: the public kernel API.
//
//   y[t·ldy + o] = fl32(fl32(S / scale(t)) · alpha),  S = Σ_i W[o][i]·q[t][i]
//
// S is exact (int32) for every format and target; n_tokens == 1 runs the
// GEMV kernels, more tokens the GEMM kernels (weights unpacked once per
// group of tokens). Rows are split across the pool's threads in whole row
// tiles of the format. Each call is one dispatch (kernels/dispatch.h);
// code that runs many ops takes a target's Ops once with WithOps instead.
#ifndef TERNARY_KERNELS_MATMUL_H_
#define TERNARY_KERNELS_MATMUL_H_

#include <cstddef>
#include <cstdint>

#include "ternary/kernels/dispatch.h"
#include "ternary/kernels/packed_matrix.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/kernels/scratch.h"
#include "ternary/quant/activation.h"
#include "ternary/quant/format.h"
#include "ternary/simd/policies.h"
#include "ternary/util/thread_pool.h"

namespace ternary {

// Quantizes n_tokens rows of x (row stride ldx floats, cols each) with
// quantizer Q into acts; int8 absmax runs vectorized unless S is
// simd::Reference.
template <quant::ActivationQuantizer Q, simd::Policy S = simd::Dynamic>
void QuantizeActs(const float* x, size_t n_tokens, size_t cols, size_t ldx,
                  QuantizedActs& acts) {
  WithOps<S>([&]<class Ops>() {
    Ops::template Quantize<Q>(x, n_tokens, cols, ldx, acts);
  });
}

// Float outputs: y[t·ldy + o] for t < x.n_tokens(), o < w.rows(). `scratch`
// holds the activations in the format's layout between calls.
template <quant::PackingFormat F, simd::Policy S = simd::Dynamic>
void MatMul(const PackedMatrix<F>& w, const QuantizedActs& x, float* y,
            size_t ldy, KernelScratch& scratch, ThreadPool* pool = nullptr) {
  WithOps<S>([&]<class Ops>() {
    Ops::template MatMul<F>(w, x, y, nullptr, ldy, scratch, pool);
  });
}
template <quant::PackingFormat F, simd::Policy S = simd::Dynamic>
void MatMul(const PackedMatrix<F>& w, const QuantizedActs& x, float* y,
            size_t ldy, ThreadPool* pool = nullptr) {
  KernelScratch scratch;
  MatMul<F, S>(w, x, y, ldy, scratch, pool);
}

// The exact integer sums S[t·lds + o] = Σ_i W[o][i]·q[t][i] (for tests and
// for callers with their own epilogue).
template <quant::PackingFormat F, simd::Policy S = simd::Dynamic>
void MatMulInt32(const PackedMatrix<F>& w, const QuantizedActs& x, int32_t* s,
                 size_t lds, KernelScratch& scratch,
                 ThreadPool* pool = nullptr) {
  WithOps<S>([&]<class Ops>() {
    Ops::template MatMul<F>(w, x, nullptr, s, lds, scratch, pool);
  });
}
template <quant::PackingFormat F, simd::Policy S = simd::Dynamic>
void MatMulInt32(const PackedMatrix<F>& w, const QuantizedActs& x, int32_t* s,
                 size_t lds, ThreadPool* pool = nullptr) {
  KernelScratch scratch;
  MatMulInt32<F, S>(w, x, s, lds, scratch, pool);
}

}  // namespace ternary

#endif  // TERNARY_KERNELS_MATMUL_H_
