// The relu² gated FFN's elementwise core: z = relu(gate)² · up (SPEC §1.2).
#ifndef TERNARY_NN_FFN_H_
#define TERNARY_NN_FFN_H_

#include <cstddef>

namespace ternary::nn {

// z[i] = fl32(fl32(r·r)·up[i]), r = max(gate[i], 0); z may alias gate or up.
inline void ReluSquaredGate(const float* gate, const float* up, size_t n,
                            float* z) noexcept {
  for (size_t i = 0; i < n; ++i) {
    const float r = gate[i] > 0.0f ? gate[i] : 0.0f;
    z[i] = (r * r) * up[i];
  }
}

}  // namespace ternary::nn

#endif  // TERNARY_NN_FFN_H_
