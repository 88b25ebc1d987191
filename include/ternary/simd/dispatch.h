// The library's single Highway dispatch point: compiles every per-target
// header (kernels/all-inl.h) for each enabled target and defines
// TERNARY_CHOOSE, the table lookup for function templates.
//
// foreach_target.h is include-guarded once per translation unit, so a TU
// that includes this header cannot run its own foreach_target pass.
#ifndef TERNARY_SIMD_DISPATCH_H_
#define TERNARY_SIMD_DISPATCH_H_

// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ternary/kernels/all-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
// clang-format on
#include <hwy/highway.h>

#include <type_traits>

#include "ternary/kernels/all-inl.h"
#include "ternary/simd/policies.h"
#include "ternary/simd/targets.h"

// Backport of HWY_EXPORT_T (Highway 1.2) for a function template
// instantiation FUNC named relative to namespace ternary (one template
// argument, no commas): yields the pointer for the target ternary's
// run-time switch has chosen (simd/targets.h: the best the CPU supports,
// capped by TERNARY_SIMD or SetMaxTarget). That choice is made before any
// lookup, so entry 0 (Highway's ChooseAndCall) is never taken.
#define TERNARY_CHOOSE(FUNC)                                              \
  ([]() {                                                                 \
    using Fn = decltype(&HWY_STATIC_DISPATCH(FUNC));                      \
    static Fn const kTable[HWY_MAX_DYNAMIC_TARGETS + 2] = {               \
        &decltype(hwy::DeduceFunctionCache(                               \
            &HWY_STATIC_DISPATCH(FUNC)))::template ChooseAndCall<kTable>, \
        HWY_CHOOSE_TARGET_LIST(FUNC), HWY_CHOOSE_FALLBACK(FUNC)};         \
    return kTable[::ternary::simd::detail::Choice().chosen().GetIndex()]; \
  }())

// FUNC's pointer for policy S: the static target for simd::Static, else the
// dynamic choice (callers handle simd::Reference themselves).
#define TERNARY_CHOOSE_FOR(S, FUNC)                             \
  ([]() {                                                       \
    if constexpr (std::is_same_v<S, ::ternary::simd::Static>) { \
      return &HWY_STATIC_DISPATCH(FUNC);                        \
    } else {                                                    \
      return TERNARY_CHOOSE(FUNC);                              \
    }                                                           \
  }())

#endif  // TERNARY_SIMD_DISPATCH_H_
