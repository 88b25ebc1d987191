// Scalar references of the dense (embedding / LM head) products.
#ifndef TERNARY_KERNELS_REF_DENSE_H_
#define TERNARY_KERNELS_REF_DENSE_H_

#include <cstddef>
#include <cstdint>

#include "ternary/kernels/dense_matrix.h"
#include "ternary/kernels/quantized_acts.h"

namespace ternary::ref {

// y[t·ldy + o] = Σ_i W[o][i]·x[t·ldx + i], summed in float in order.
template <DenseElement T>
void DenseMatMul(const DenseMatrix<T>& w, const float* x, size_t ldx,
                 size_t n_tokens, float* y, size_t ldy) noexcept {
  for (size_t t = 0; t < n_tokens; ++t) {
    for (size_t o = 0; o < w.rows(); ++o) {
      float s = 0.0f;
      for (size_t i = 0; i < w.cols(); ++i) {
        s += ToFloat(w.row(o)[i]) * x[t * ldx + i];
      }
      y[t * ldy + o] = s;
    }
  }
}

// Q8 rows × int8 tokens: exact int32 sums, then fl(fl(S / sx) · sw).
inline void Q8MatMul(const Q8RowMatrix& w, const QuantizedActs& x, float* y,
                     size_t ldy) noexcept {
  for (size_t t = 0; t < x.n_tokens(); ++t) {
    for (size_t o = 0; o < w.rows(); ++o) {
      int32_t s = 0;
      for (size_t i = 0; i < w.cols(); ++i) {
        s += int32_t{w.row(o)[i]} * x.row(t)[i];
      }
      y[t * ldy + o] = static_cast<float>(s) / x.scale(t).scale * w.scale(o);
    }
  }
}

}  // namespace ternary::ref

#endif  // TERNARY_KERNELS_REF_DENSE_H_
