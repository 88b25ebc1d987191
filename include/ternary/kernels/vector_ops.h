// The row-wise ops (RMSNorm's pieces, the absmax quantizer, the relu² and
// SiLU gates) one call at a time, for tests and benchmarks: each call is one
// dispatch (kernels/dispatch.h). Layers run them through a target's Ops.
#ifndef TERNARY_KERNELS_VECTOR_OPS_H_
#define TERNARY_KERNELS_VECTOR_OPS_H_

#include <cstddef>
#include <cstdint>

#include "ternary/kernels/dispatch.h"
#include "ternary/simd/policies.h"

namespace ternary::vec {

// max_i |x_i|.
template <simd::Policy S = simd::Dynamic>
float AbsMax(const float* x, size_t n) {
  float r = 0.0f;
  WithOps<S>([&]<class Ops>() { r = Ops::AbsMax(x, n); });
  return r;
}

// q = clamp(rne(x·scale), lo, hi); returns Σq.
template <simd::Policy S = simd::Dynamic>
int32_t QuantizeRow(const float* x, size_t n, float scale, int lo, int hi,
                    int8_t* q) {
  int32_t r = 0;
  WithOps<S>(
      [&]<class Ops>() { r = Ops::QuantizeRow(x, n, scale, lo, hi, q); });
  return r;
}

// Σ x_i², accumulated in double.
template <simd::Policy S = simd::Dynamic>
double SumSquares(const float* x, size_t n) {
  double r = 0.0;
  WithOps<S>([&]<class Ops>() { r = Ops::SumSquares(x, n); });
  return r;
}

// y = (x·r)·g; y may alias x.
template <simd::Policy S = simd::Dynamic>
void ScaleRow(const float* x, float r, const float* g, size_t n, float* y) {
  WithOps<S>([&]<class Ops>() { Ops::ScaleRow(x, r, g, n, y); });
}

// z = relu(gate)²·up; z may alias gate or up.
template <simd::Policy S = simd::Dynamic>
void ReluSquaredGate(const float* gate, const float* up, size_t n, float* z) {
  WithOps<S>([&]<class Ops>() { Ops::ReluSquaredGate(gate, up, n, z); });
}

// z = silu(gate)·up (ref::SiluGate); z may alias gate or up.
template <simd::Policy S = simd::Dynamic>
void SiluGate(const float* gate, const float* up, size_t n, float* z) {
  WithOps<S>([&]<class Ops>() { Ops::SiluGate(gate, up, n, z); });
}

}  // namespace ternary::vec

#endif  // TERNARY_KERNELS_VECTOR_OPS_H_
