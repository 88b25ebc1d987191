// The relu² gated FFN's elementwise core: z = relu(gate)² · up
// (docs/model.md §2).
#ifndef TERNARY_NN_FFN_H_
#define TERNARY_NN_FFN_H_

#include <cstddef>

#include "ternary/kernels/vector_ops.h"
#include "ternary/simd/policies.h"

namespace ternary::nn {

// z[i] = fl32(fl32(r·r)·up[i]), r = max(gate[i], 0); z may alias gate or up.
template <simd::Policy S = simd::Dynamic>
void ReluSquaredGate(const float* gate, const float* up, size_t n, float* z) {
  vec::ReluSquaredGate<S>(gate, up, n, z);
}

}  // namespace ternary::nn

#endif  // TERNARY_NN_FFN_H_
