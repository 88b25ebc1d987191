// Greedy decoding on top of Model::Forward.
#ifndef TERNARY_MODEL_GENERATE_H_
#define TERNARY_MODEL_GENERATE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ternary/model/model.h"
#include "ternary/util/thread_pool.h"

namespace ternary {

// Index of the largest logit; the first one on ties (as torch.argmax).
inline int32_t ArgMax(std::span<const float> logits) noexcept {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

// The continuation of a prompt whose last logits are `last_logits` (state
// already holds the prompt): n greedy tokens, each fed back one at a time
// through the KV cache. Stops early after `stop` when stop >= 0.
template <class M>
std::vector<int32_t> GreedyContinue(const M& model, typename M::State& state,
                                    std::span<const float> last_logits,
                                    size_t n, ThreadPool* pool = nullptr,
                                    int64_t stop = -1) {
  std::vector<int32_t> out;
  out.reserve(n);
  std::vector<float> logits(last_logits.begin(), last_logits.end());
  for (size_t i = 0; i < n; ++i) {
    const int32_t next = ArgMax(logits);
    out.push_back(next);
    if (next == stop || i + 1 == n) break;
    model.Forward(std::span<const int32_t>(&next, 1), state, logits.data(),
                  Logits::kLast, pool);
  }
  return out;
}

// Runs the prompt at once (GEMM path), then n greedy tokens.
template <class M>
std::vector<int32_t> GreedyGenerate(const M& model, typename M::State& state,
                                    std::span<const int32_t> prompt, size_t n,
                                    ThreadPool* pool = nullptr,
                                    int64_t stop = -1) {
  if (prompt.empty() || n == 0) return {};
  const std::vector<float> last =
      model.Forward(prompt, state, Logits::kLast, pool);
  return GreedyContinue(model, state, last, n, pool, stop);
}

}  // namespace ternary

#endif  // TERNARY_MODEL_GENERATE_H_
