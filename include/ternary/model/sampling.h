// Token sampling from a row of logits: repeat penalty, top-k, top-p, min-p,
// temperature and a seeded std::mt19937_64 (temperature 0 = greedy argmax).
#ifndef TERNARY_MODEL_SAMPLING_H_
#define TERNARY_MODEL_SAMPLING_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "ternary/util/error.h"

namespace ternary {

// What Sampler does with each row of logits, in this order (llama.cpp's
// default chain): repeat penalty on the last `repeat_last_n` accepted
// tokens; greedy argmax if temperature == 0; else keep the top_k largest,
// then the smallest prefix whose probability reaches top_p, then those with
// p >= min_p · p_max (all three on the unscaled logits); then divide by the
// temperature, softmax, and draw. A filter at its "off" value does nothing.
struct SamplingParams {
  float temperature = 0.8f;     // >= 0; 0: greedy
  int top_k = 40;               // >= 0; 0: off
  float top_p = 0.95f;          // (0, 1]; 1: off
  float min_p = 0.05f;          // [0, 1]; 0: off
  float repeat_penalty = 1.0f;  // > 0; 1: off. >1 discourages repeats:
                                // logit > 0 ? logit / r : logit · r (CTRL)
  int repeat_last_n = 64;       // >= 0 tokens of history the penalty sees
  uint64_t seed = 0;

  // Throws UsageError naming the first field out of range.
  void Validate() const {
    auto fail = [](const std::string& what) {
      throw UsageError("sampling: " + what);
    };
    if (!(temperature >= 0.0f) || !std::isfinite(temperature)) {
      fail("temperature must be >= 0, got " + std::to_string(temperature));
    }
    if (top_k < 0) fail("top_k must be >= 0, got " + std::to_string(top_k));
    if (!(top_p > 0.0f && top_p <= 1.0f)) {
      fail("top_p must be in (0, 1], got " + std::to_string(top_p));
    }
    if (!(min_p >= 0.0f && min_p <= 1.0f)) {
      fail("min_p must be in [0, 1], got " + std::to_string(min_p));
    }
    if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty)) {
      fail("repeat_penalty must be > 0, got " + std::to_string(repeat_penalty));
    }
    if (repeat_last_n < 0) {
      fail("repeat_last_n must be >= 0, got " + std::to_string(repeat_last_n));
    }
  }
};

// A seeded sampler. The same seed, parameters and logits give the same ids
// on every platform: the uniform draw is built from the raw 64-bit engine
// output, not std::uniform_real_distribution (whose algorithm the standard
// leaves open).
class Sampler {
 public:
  explicit Sampler(const SamplingParams& params)
      : params_(params), rng_(params.seed) {
    params_.Validate();
  }

  const SamplingParams& params() const noexcept { return params_; }

  // Adds a token to the history the repeat penalty looks at (prompt tokens
  // too, if they should count, as llama.cpp does).
  void Accept(int32_t id) {
    if (params_.repeat_last_n == 0) return;
    history_.push_back(id);
    if (history_.size() > static_cast<size_t>(params_.repeat_last_n)) {
      history_.pop_front();
    }
  }

  // Forgets the history (the random stream continues).
  void Reset() noexcept { history_.clear(); }

  // Draws the next token from one row of logits. Does not Accept it.
  int32_t Sample(std::span<const float> logits) {
    if (logits.empty()) throw UsageError("Sampler: empty logits");
    const bool penalize = params_.repeat_penalty != 1.0f && !history_.empty();
    if (params_.temperature == 0.0f && !penalize) return ArgMax(logits);
    const size_t n = logits.size();
    cand_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      cand_[i] = {logits[i], static_cast<int32_t>(i)};
    }
    if (penalize) ApplyRepeatPenalty();
    if (params_.temperature == 0.0f) {
      // First maximum, as ArgMax: ids are in ascending order here.
      size_t best = 0;
      for (size_t i = 1; i < n; ++i) {
        if (cand_[i].logit > cand_[best].logit) best = i;
      }
      return cand_[best].id;
    }
    size_t kept = n;
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) {
      kept = static_cast<size_t>(params_.top_k);
      std::partial_sort(cand_.begin(), cand_.begin() + kept, cand_.end(),
                        Greater);
    } else if (params_.top_p < 1.0f) {
      kept = SortForTopP();
    } else {
      std::sort(cand_.begin(), cand_.end(), Greater);
    }
    // cand_[0, kept) is sorted by descending logit from here on.
    if (params_.top_p < 1.0f) kept = TopP(kept);
    if (params_.min_p > 0.0f && kept > 1) {
      // p_i ≥ min_p · p_max ⇔ l_i ≥ l_max + log(min_p).
      const double floor = double(cand_[0].logit) + std::log(params_.min_p);
      size_t k = 1;
      while (k < kept && double(cand_[k].logit) >= floor) ++k;
      kept = k;
    }
    // Temperature, softmax in double, then one draw.
    probs_.resize(kept);
    const double inv_t = 1.0 / params_.temperature;
    const double max = cand_[0].logit;
    double sum = 0.0;
    for (size_t i = 0; i < kept; ++i) {
      probs_[i] = std::exp((double(cand_[i].logit) - max) * inv_t);
      sum += probs_[i];
    }
    const double u = Uniform() * sum;
    double acc = 0.0;
    for (size_t i = 0; i < kept; ++i) {
      acc += probs_[i];
      if (u < acc) return cand_[i].id;
    }
    return cand_[kept - 1].id;  // u rounded up to sum
  }

  // Index of the largest logit; the first one on ties (as torch.argmax).
  static int32_t ArgMax(std::span<const float> logits) noexcept {
    size_t best = 0;
    for (size_t i = 1; i < logits.size(); ++i) {
      if (logits[i] > logits[best]) best = i;
    }
    return static_cast<int32_t>(best);
  }

 private:
  struct Candidate {
    float logit;
    int32_t id;
  };
  // Descending logit, ascending id on ties: a strict order, so the result
  // does not depend on the sort algorithm.
  static bool Greater(const Candidate& a, const Candidate& b) noexcept {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }

  // Uniform in [0, 1) from the top 53 bits of one engine output.
  double Uniform() noexcept {
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  }

  void ApplyRepeatPenalty() {
    seen_.assign(history_.begin(), history_.end());
    std::sort(seen_.begin(), seen_.end());
    seen_.erase(std::unique(seen_.begin(), seen_.end()), seen_.end());
    const float r = params_.repeat_penalty;
    for (int32_t id : seen_) {
      if (id < 0 || static_cast<size_t>(id) >= cand_.size()) continue;
      float& l = cand_[static_cast<size_t>(id)].logit;
      l = l > 0.0f ? l / r : l * r;
    }
  }

  // Without top-k, top-p only needs the head of the order: sort a growing
  // prefix (256, 1024, ...) until it holds top_p of the mass. A 128k-vocab
  // full sort costs ~10 ms a token; the head is usually a few hundred.
  size_t SortForTopP() {
    const size_t n = cand_.size();
    double max = cand_[0].logit;
    for (const Candidate& c : cand_) max = std::max(max, double(c.logit));
    double total = 0.0;
    for (const Candidate& c : cand_) total += std::exp(double(c.logit) - max);
    const double target = double(params_.top_p) * total;
    for (size_t head = std::min<size_t>(256, n);;
         head = std::min(n, head * 4)) {
      std::partial_sort(cand_.begin(), cand_.begin() + head, cand_.end(),
                        Greater);
      double acc = 0.0;
      for (size_t i = 0; i < head; ++i) {
        acc += std::exp(double(cand_[i].logit) - max);
      }
      if (acc >= target || head == n) return head;
    }
  }

  // The smallest prefix of the sorted cand_[0, kept) whose probability
  // (softmax over those kept) reaches top_p; at least one token.
  size_t TopP(size_t kept) const {
    const double max = cand_[0].logit;
    double total = 0.0;
    for (size_t i = 0; i < kept; ++i) {
      total += std::exp(double(cand_[i].logit) - max);
    }
    const double target = double(params_.top_p) * total;
    double acc = 0.0;
    for (size_t i = 0; i < kept; ++i) {
      acc += std::exp(double(cand_[i].logit) - max);
      if (acc >= target) return i + 1;
    }
    return kept;
  }

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::deque<int32_t> history_;
  std::vector<Candidate> cand_;
  std::vector<double> probs_;
  std::vector<int32_t> seen_;
};

}  // namespace ternary

#endif  // TERNARY_MODEL_SAMPLING_H_
