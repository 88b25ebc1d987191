// A program's own per-target code beside ternary's: its HWY_TARGET_INCLUDE
// file includes ternary's kernels, so one foreach_target pass compiles
// both, and its per-target code calls ternary's ops directly.
#include "ternary/kernels/all-inl.h"

#if defined(TERNARY_TESTS_OWN_OPS_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_TESTS_OWN_OPS_INL_H_TARGET
#undef TERNARY_TESTS_OWN_OPS_INL_H_TARGET
#else
#define TERNARY_TESTS_OWN_OPS_INL_H_TARGET
#endif

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace own::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// y = 2·x with Highway, then ternary's residual add for this target:
// y += x, so y = 3·x. Returns the target, to check the pairing.
int64_t TripleAndReport(const float* x, size_t n, float* y) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = hn::LoadU(df, x + i);
    hn::StoreU(hn::Add(v, v), df, y + i);
  }
  for (; i < n; ++i) y[i] = x[i] + x[i];
  ternary::HWY_NAMESPACE::Ops::AddRows(y, x, n);
  return ternary::HWY_NAMESPACE::Ops::kTarget;
}

}  // namespace own::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
