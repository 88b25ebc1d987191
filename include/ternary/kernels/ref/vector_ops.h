// Scalar references of the row-wise ops (RMSNorm's sum of squares and
// scaling, the relu² and SiLU gates, the residual add, softmax): the
// simd::Reference
// policy and the tails of the vector code, which match them bit for bit on
// finite inputs.
#ifndef TERNARY_KERNELS_REF_VECTOR_OPS_H_
#define TERNARY_KERNELS_REF_VECTOR_OPS_H_

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

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

// SiLU (docs/model.md §5.2). The vector twin (kernels/vector_ops-inl.h)
// performs the same operations in the same order, so every step is one
// IEEE-rounded float operation and both give the same bits: exp is Cephes'
// expf (range reduction by n·ln2 in two parts, a degree-5 polynomial, 2ⁿ
// from the exponent bits), every product that feeds a sum is an explicit
// fused multiply-add (so no compiler contraction can change a result), and
// the argument is clamped to ±87 so that 2ⁿ stays a normal float.
namespace silu {
inline constexpr float kMaxArg = 87.0f;  // exp(±87): n = ±126
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;  // 355/512, exact
inline constexpr float kLn2Lo = -2.12194440e-4f;
inline constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f,
                       kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                       kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;
}  // namespace silu

// z[i] = fl32(fl32(g / fl32(1 + e)) · up[i]), g = gate[i], e ≈ exp(−g)
// (|g| > 87 uses exp(∓87): silu(g) = g or ≈ 0 there in float anyway);
// z may alias gate or up.
inline void SiluGate(const float* gate, const float* up, size_t n,
                     float* z) noexcept {
  using namespace silu;
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float x = std::min(std::max(-g, -kMaxArg), kMaxArg);
    const float k = std::nearbyint(x * kLog2e);
    float r = std::fma(-k, kLn2Hi, x);
    r = std::fma(-k, kLn2Lo, r);
    float p = std::fma(kP0, r, kP1);
    p = std::fma(p, r, kP2);
    p = std::fma(p, r, kP3);
    p = std::fma(p, r, kP4);
    p = std::fma(p, r, kP5);
    const float rr = r * r;
    const float y = std::fma(p, rr, r) + 1.0f;  // exp(r)
    const float two_k = std::bit_cast<float>(
        static_cast<uint32_t>(static_cast<int32_t>(k) + 127) << 23);
    const float d = std::fma(y, two_k, 1.0f);  // 1 + exp(x)
    z[i] = (g / d) * up[i];
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
