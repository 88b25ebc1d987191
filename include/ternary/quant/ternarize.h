// Absmean ternarization of a master weight matrix (docs/numerics.md §2).
#ifndef TERNARY_QUANT_TERNARIZE_H_
#define TERNARY_QUANT_TERNARIZE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "ternary/quant/torch_sum.h"
#include "ternary/util/error.h"

namespace ternary::quant {

// γ = mean|W| over the whole matrix, s = 1 / max(γ, 1e-5),
// T = clamp(rne(W·s), −1, 1). Returns α = 1/s, the "multiply" weight scale
// (effective weight T·α). The mean is PyTorch's float32 one (sum in its
// order, then divided by the count), so T and α are those of transformers'
// online quantization and of bitnet.cpp's converter, bit for bit.
inline float AbsMeanTernarize(std::span<const float> w, std::span<int8_t> t) {
  if (w.size() != t.size()) {
    throw ShapeError("AbsMeanTernarize: " + std::to_string(w.size()) +
                     " weights but " + std::to_string(t.size()) + " outputs");
  }
  const float sum =
      TorchSum(w.data(), w.size(), [](float v) { return std::fabs(v); });
  const float gamma = w.empty() ? 0.0f : sum / static_cast<float>(w.size());
  const float s = 1.0f / std::max(gamma, 1e-5f);
  for (size_t i = 0; i < w.size(); ++i) {
    const float r = std::nearbyint(w[i] * s);
    t[i] = static_cast<int8_t>(std::clamp(r, -1.0f, 1.0f));
  }
  return 1.0f / s;
}

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_TERNARIZE_H_
