// The gated FFN's elementwise core: z = act(gate) · up, with relu² (BitNet
// b1.58 2B4T) or SiLU (the Llama-architecture ternary models)
// (docs/model.md §2, §5.2).
#ifndef TERNARY_NN_FFN_H_
#define TERNARY_NN_FFN_H_

#include <cstddef>

#include "ternary/kernels/vector_ops.h"
#include "ternary/nn/ffn_activation.h"
#include "ternary/simd/policies.h"

namespace ternary::nn {

// z[i] = fl32(fl32(r·r)·up[i]), r = max(gate[i], 0); z may alias gate or up.
template <simd::Policy S = simd::Dynamic>
void ReluSquaredGate(const float* gate, const float* up, size_t n, float* z) {
  vec::ReluSquaredGate<S>(gate, up, n, z);
}

// z[i] = silu(gate[i])·up[i] (kernels/ref/vector_ops.h SiluGate); z may
// alias gate or up.
template <simd::Policy S = simd::Dynamic>
void SiluGate(const float* gate, const float* up, size_t n, float* z) {
  vec::SiluGate<S>(gate, up, n, z);
}

// The gate of activation A with a target's ops (a forward pass's Ops or
// ref::Ops): z = act(gate)·up over n values.
template <FfnActivation A, class Ops>
void GatedActivation(const float* gate, const float* up, size_t n, float* z) {
  if constexpr (A == FfnActivation::kSilu) {
    Ops::SiluGate(gate, up, n, z);
  } else {
    Ops::ReluSquaredGate(gate, up, n, z);
  }
}

}  // namespace ternary::nn

#endif  // TERNARY_NN_FFN_H_
