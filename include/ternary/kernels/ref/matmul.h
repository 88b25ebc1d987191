// Scalar reference matmul: the oracle for every SIMD kernel and the
// simd::Reference policy.
#ifndef TERNARY_KERNELS_REF_MATMUL_H_
#define TERNARY_KERNELS_REF_MATMUL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ternary/kernels/matmul_args.h"
#include "ternary/quant/format.h"

namespace ternary::ref {

// Σ_i t[i]·q[i] in int32 (|S| ≤ 128·cols, no overflow below 16M columns).
inline int32_t TernaryDot(const int8_t* t, const int8_t* q, size_t n) noexcept {
  int32_t s = 0;
  for (size_t i = 0; i < n; ++i) s += int32_t{t[i]} * int32_t{q[i]};
  return s;
}

// `ternary` is the unpacked rows×cols matrix; `a.acts` natural-order codes.
inline void MatMulUnpacked(const int8_t* ternary, const MatMulArgs& a,
                           size_t row_begin, size_t row_end) noexcept {
  for (size_t t = 0; t < a.n_tokens; ++t) {
    const int8_t* q = a.acts + t * a.act_stride;
    for (size_t o = row_begin; o < row_end; ++o) {
      StoreOutput(a, t, o, TernaryDot(ternary + o * a.cols, q, a.cols));
    }
  }
}

// Unpacks with the format's scalar Unpack, then multiplies.
template <quant::PackingFormat F>
void MatMul(const MatMulArgs& a, size_t row_begin, size_t row_end) {
  std::vector<int8_t> t(a.rows * a.cols);
  F::Unpack(a.weights, a.rows, a.cols, t.data());
  MatMulUnpacked(t.data(), a, row_begin, row_end);
}

}  // namespace ternary::ref

#endif  // TERNARY_KERNELS_REF_MATMUL_H_
