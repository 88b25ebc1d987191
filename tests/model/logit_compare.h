// Comparing rows of logits: gaps as a fraction of the reference row's range.
#ifndef TERNARY_TESTS_MODEL_LOGIT_COMPARE_H_
#define TERNARY_TESTS_MODEL_LOGIT_COMPARE_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace ternary::test {

inline float Range(std::span<const float> row) {
  const auto [lo, hi] = std::minmax_element(row.begin(), row.end());
  return *hi - *lo;
}

// max |a − b| as a fraction of b's range.
inline double Gap(std::span<const float> a, std::span<const float> b) {
  double worst = 0;
  for (size_t i = 0; i < b.size(); ++i)
    worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  return worst / Range(b);
}

// Row t of a tokens × vocab logits matrix.
inline std::span<const float> Row(const std::vector<float>& logits,
                                  size_t vocab, size_t t) {
  return std::span<const float>(logits).subspan(t * vocab, vocab);
}

}  // namespace ternary::test

#endif  // TERNARY_TESTS_MODEL_LOGIT_COMPARE_H_
