// Scalar references of the row-wise ops (RMSNorm's sum of squares and
// scaling, the relu² gate, the residual add, softmax): the simd::Reference
// policy and the tails of the vector code, which match them bit for bit on
// finite inputs.
#ifndef TERNARY_KERNELS_REF_VECTOR_OPS_H_
#define TERNARY_KERNELS_REF_VECTOR_OPS_H_

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace ternary::ref {

// Σ x_i², accumulated in double (closer to torch's pairwise float sum than
// a serial float sum).
inline double SumSquares(const float* x, size_t n) noexcept {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

// y = (x·r)·g; y may alias x.
inline void ScaleRow(const float* x, float r, const float* g, size_t n,
                     float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = (x[i] * r) * g[i];
}

// The RMSNorm factor of a row as transformers' LlamaRMSNorm computes it in
// float32: 1 / sqrt(fl32(Σx²/n) + eps).
inline float RmsFactor(double sum_squares, size_t n, float eps) noexcept {
  const float mean =
      n ? static_cast<float>(sum_squares / static_cast<double>(n)) : 0.0f;
  return 1.0f / std::sqrt(mean + eps);
}

// z[i] = fl32(fl32(r·r)·up[i]), r = max(gate[i], 0); z may alias gate or up.
inline void ReluSquaredGate(const float* gate, const float* up, size_t n,
                            float* z) noexcept {
  for (size_t i = 0; i < n; ++i) {
    const float r = gate[i] > 0.0f ? gate[i] : 0.0f;
    z[i] = (r * r) * up[i];
  }
}

// x += y (the residual connections).
inline void AddRows(float* x, const float* y, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

// Attention weights of one query row in place: exp(s − max), summed in
// double, times fl(1 / sum). Shared by the scalar and vector attention.
inline void Softmax(float* s, size_t len) noexcept {
  float m = s[0];
  for (size_t j = 1; j < len; ++j) m = std::max(m, s[j]);
  double sum = 0.0;
  for (size_t j = 0; j < len; ++j) {
    s[j] = std::exp(s[j] - m);
    sum += s[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (size_t j = 0; j < len; ++j) s[j] *= inv;
}

}  // namespace ternary::ref

#endif  // TERNARY_KERNELS_REF_VECTOR_OPS_H_
