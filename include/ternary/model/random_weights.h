// A weight source of seeded random weights, for custom sizes without a
// checkpoint (examples, benchmarks, tests).
#ifndef TERNARY_MODEL_RANDOM_WEIGHTS_H_
#define TERNARY_MODEL_RANDOM_WEIGHTS_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ternary/model/config.h"
#include "ternary/model/weights.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/half.h"

namespace ternary {

// Every tensor is a pure function of (seed, tensor id): ternary weights
// uniform in {−1, 0, +1} with α = 1/sqrt(cols) (outputs of order 1 for
// normalized inputs), norms 1 ± 0.1, embeddings of RMS 1/sqrt(hidden).
class RandomWeights {
 public:
  RandomWeights(const ModelConfig& config, uint64_t seed)
      : config_(config), seed_(seed) {}

  ModelConfig config() const { return config_; }

  TernaryMatrix Ternary(TensorId id, size_t rows, size_t cols) const {
    uint64_t s = StreamSeed(id);
    TernaryMatrix m;
    m.values.resize(rows * cols);
    // Eight values per generator call, byte b → (3·b) >> 8 ∈ {0, 1, 2}
    // (uniform to 1/256): one call per value made the 2B4T shape's 2.1 G
    // weights take ~10 s longer to generate.
    int8_t* v = m.values.data();
    const size_t n = m.values.size();
    for (size_t i = 0; i < n; i += 8) {
      uint64_t x = Next(s);
      for (size_t j = i; j < std::min(n, i + 8); ++j, x >>= 8) {
        v[j] = static_cast<int8_t>(static_cast<int>(((x & 0xFF) * 3) >> 8) - 1);
      }
    }
    m.alpha = 1.0f / std::sqrt(static_cast<float>(cols));
    return m;
  }

  AlignedBuffer<float> Floats(TensorId id, size_t rows, size_t cols) const {
    uint64_t s = StreamSeed(id);
    AlignedBuffer<float> out(rows * cols);
    const bool norm = rows == 1;
    const float scale =
        norm ? 0.1f : 1.0f / std::sqrt(static_cast<float>(cols));
    for (float& v : out) {
      // Sum of 4 uniforms (16 bits each, from one call): roughly normal,
      // variance 1/3.
      uint64_t x = Next(s);
      float u = -2.0f;
      for (int i = 0; i < 4; ++i, x >>= 16) {
        u += static_cast<float>(x & 0xFFFF) * (1.0f / 65536.0f);
      }
      v = (norm ? 1.0f : 0.0f) + scale * u * 1.7320508f;
      // Embeddings as a checkpoint stores them (bf16), so the exact-storage
      // choice of the LM head is the one a real model gets.
      if (!norm) v = Bf16ToFloat(FloatToBf16(v));
    }
    return out;
  }

 private:
  // splitmix64: fast, and good enough for weights nobody trains.
  static uint64_t Next(uint64_t& s) noexcept {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t StreamSeed(TensorId id) const noexcept {
    uint64_t s = seed_ ^ (uint64_t{id.kind} << 32) ^
                 static_cast<uint64_t>(static_cast<uint32_t>(id.layer + 1));
    Next(s);
    return s;
  }

  ModelConfig config_;
  uint64_t seed_;
};

}  // namespace ternary

#endif  // TERNARY_MODEL_RANDOM_WEIGHTS_H_
