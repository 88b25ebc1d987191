// Helpers shared by the test programs.
#ifndef TERNARY_TESTS_TEST_UTIL_H_
#define TERNARY_TESTS_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ternary::test {

// Runs body once per Highway target that is compiled in and supported by
// this CPU (doctest form of hwy/tests/hwy_gtest.h TestWithParamTarget).
template <class Body>
void ForEachTarget(Body&& body) {
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(t);
    const std::string name = hwy::TargetName(t);
    INFO("target: " << name);
    body(t);
  }
  hwy::SetSupportedTargetsForTest(0);
}

inline std::vector<int8_t> RandomTernary(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(-1, 1);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

inline std::vector<int8_t> RandomInt8(size_t n, int lo, int hi,
                                      std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

inline std::string DataPath(const std::string& rel) {
  return std::string(TERNARY_TEST_DATA_DIR) + "/" + rel;
}
inline std::string ModelsPath(const std::string& rel) {
  return std::string(TERNARY_MODELS_DIR) + "/" + rel;
}

}  // namespace ternary::test

#endif  // TERNARY_TESTS_TEST_UTIL_H_
