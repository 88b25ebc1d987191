// Row-wise helpers of the layers (RMSNorm, absmax quantization, the relu²
// gate) for a SIMD policy: vectorized per Highway target, or the scalar
// twins for simd::Reference.
#ifndef TERNARY_KERNELS_VECTOR_OPS_H_
#define TERNARY_KERNELS_VECTOR_OPS_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ternary/quant/activation.h"
#include "ternary/simd/dispatch.h"
#include "ternary/simd/policies.h"

namespace ternary::vec {

template <simd::Policy S>
inline constexpr bool kScalar = std::is_same_v<S, simd::Reference>;

// max_i |x_i|.
template <simd::Policy S = simd::Dynamic>
float AbsMax(const float* x, size_t n) {
  if constexpr (kScalar<S>) {
    return quant::detail::AbsMax(x, n);
  } else {
    return TERNARY_CHOOSE_FOR(S, AbsMaxT<void>)(x, n);
  }
}

// q = clamp(rne(x·scale), lo, hi); returns Σq.
template <simd::Policy S = simd::Dynamic>
int32_t QuantizeRow(const float* x, size_t n, float scale, int lo, int hi,
                    int8_t* q) {
  if constexpr (kScalar<S>) {
    return quant::detail::QuantizeWithScale(x, n, scale, lo, hi, q).sum;
  } else {
    return TERNARY_CHOOSE_FOR(
        S, QuantizeRowT<void>)(QuantizeRowArgs{x, n, scale, lo, hi, q});
  }
}

// Σ x_i², accumulated in double.
template <simd::Policy S = simd::Dynamic>
double SumSquares(const float* x, size_t n) {
  if constexpr (kScalar<S>) {
    return scalar::SumSquares(x, n);
  } else {
    return TERNARY_CHOOSE_FOR(S, SumSquaresT<void>)(x, n);
  }
}

// y = (x·r)·g; y may alias x.
template <simd::Policy S = simd::Dynamic>
void ScaleRow(const float* x, float r, const float* g, size_t n, float* y) {
  if constexpr (kScalar<S>) {
    scalar::ScaleRow(x, r, g, n, y);
  } else {
    TERNARY_CHOOSE_FOR(S, ScaleRowT<void>)(x, r, g, n, y);
  }
}

// z = relu(gate)²·up; z may alias gate or up.
template <simd::Policy S = simd::Dynamic>
void ReluSquaredGate(const float* gate, const float* up, size_t n, float* z) {
  if constexpr (kScalar<S>) {
    scalar::ReluSquaredGate(gate, up, n, z);
  } else {
    TERNARY_CHOOSE_FOR(S, ReluSquaredGateT<void>)(gate, up, n, z);
  }
}

// One head × query block of causal attention (nn::Attention's task).
template <simd::Policy S = simd::Dynamic>
void AttentionBlock(const AttentionBlockArgs& a) {
  static_assert(!kScalar<S>, "nn::Attention keeps the scalar version");
  TERNARY_CHOOSE_FOR(S, AttentionBlockT<void>)(a);
}

}  // namespace ternary::vec

#endif  // TERNARY_KERNELS_VECTOR_OPS_H_
