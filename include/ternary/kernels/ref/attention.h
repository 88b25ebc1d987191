// Scalar reference of causal GQA attention (the simd::Reference policy).
#ifndef TERNARY_KERNELS_REF_ATTENTION_H_
#define TERNARY_KERNELS_REF_ATTENTION_H_

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "ternary/kernels/attention_args.h"
#include "ternary/kernels/ref/vector_ops.h"

namespace ternary::ref {

// Σ a_i·b_i with 8 independent accumulators, so the compiler can keep a
// vector of partial sums without reassociating (no -ffast-math needed).
inline float DotF32(const float* a, const float* b, size_t n) noexcept {
  constexpr size_t kLanes = 8;
  float acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
         ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// One task of the attention (same split as the vector version): scores
// q·k·scale, key rows outer so each is loaded once for the block, softmax
// (ref::Softmax), then out = Σ_j p_j·v_j in order.
inline void AttentionBlock(const AttentionBlockArgs& a) noexcept {
  const size_t d = a.head_dim;
  const size_t keys = a.pos0 + a.t1;  // keys the last query sees
  for (size_t j = 0; j < keys; ++j) {
    const float* kj = a.k + j * a.ldkv + a.g * d;
    const size_t first = j > a.pos0 ? std::max(a.t0, j - a.pos0) : a.t0;
    for (size_t t = first; t < a.t1; ++t) {
      const float* qt = a.q + t * a.ldq + a.h * d;
      a.scores[(t - a.t0) * a.context + j] = DotF32(qt, kj, d) * a.scale;
    }
  }
  for (size_t t = a.t0; t < a.t1; ++t) {
    float* s = a.scores + (t - a.t0) * a.context;
    const size_t len = a.pos0 + t + 1;
    Softmax(s, len);
    float* o = a.out + t * a.ldo + a.h * d;
    for (size_t i = 0; i < d; ++i) o[i] = 0.0f;
    for (size_t j = 0; j < len; ++j) {
      const float p = s[j];
      const float* vj = a.v + j * a.ldkv + a.g * d;
      for (size_t i = 0; i < d; ++i) o[i] += p * vj[i];
    }
  }
}

}  // namespace ternary::ref

#endif  // TERNARY_KERNELS_REF_ATTENTION_H_
