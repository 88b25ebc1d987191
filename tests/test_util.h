// Helpers shared by the test programs.
#ifndef TERNARY_TESTS_TEST_UTIL_H_
#define TERNARY_TESTS_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ternary/simd/targets.h"

namespace ternary::test {

// Runs body once per Highway target that is compiled in and supported by
// this CPU, with ternary's dispatch capped at it (simd::SetMaxTarget, the
// switch behind TERNARY_SIMD and --simd): doctest form of
// hwy/tests/hwy_gtest.h TestWithParamTarget. A kernel or layer with an
// instruction outside some target's ISA fails here on a CPU that lacks it.
template <class Body>
void ForEachTarget(Body&& body) {
  for (int64_t t : simd::RunnableTargets()) {
    simd::ScopedMaxTarget cap(t);
    INFO("target: " << simd::TargetName(t));
    body(t);
  }
}

// Whether a target's float kernels fuse multiply-adds (as PyTorch's CPU
// kernels do): x86 from AVX2 up and every Arm SIMD target, not the 128-bit
// x86 targets or the scalar fallback.
inline bool HasFma(int64_t target) {
  if (target == simd::kFallbackTarget) return false;
#if HWY_ARCH_X86
  return (target & (HWY_AVX2 | HWY_AVX3 | HWY_AVX3_DL)) != 0;
#else
  return true;
#endif
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
