// The library's one Highway dispatch point. Compiles the per-target kernels
// (kernels/all-inl.h) for each enabled target and picks one target's Ops
// per call of WithOps: a Model's forward pass, or one kernel of the public
// kernel API, is a single indirect call; everything below it is per-target
// code calling per-target code.
//
// Highway's foreach_target.h runs once per translation unit. A program
// with its own per-target code runs that pass itself, with an
// HWY_TARGET_INCLUDE file that also includes "ternary/kernels/all-inl.h",
// before including ternary's headers; this header then uses that pass.
#ifndef TERNARY_KERNELS_DISPATCH_H_
#define TERNARY_KERNELS_DISPATCH_H_

#if defined(HIGHWAY_HWY_FOREACH_TARGET_H_)
#if !defined(TERNARY_KERNELS_ALL_INL_SEEN)
#error \
    "hwy/foreach_target.h ran before ternary's headers without ternary's \
kernels: add #include \"ternary/kernels/all-inl.h\" to your \
HWY_TARGET_INCLUDE file"
#endif
#else
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ternary/kernels/all-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
// clang-format on
#endif
#include <hwy/highway.h>

#include <type_traits>
#include <utility>

#include "ternary/kernels/all-inl.h"
#include "ternary/kernels/ref/ops.h"
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

namespace ternary {

// Runs body.template operator()<Ops>() once, with the ops S selects: the
// run-time choice (simd::Dynamic), the translation unit's static target
// (simd::Static) or the scalar references (simd::Reference, ref::Ops).
// Body is typically a generic lambda: [&]<class Ops>() { ... }.
template <simd::Policy S, class Body>
void WithOps(Body&& body) {
  using B = std::remove_reference_t<Body>;
  if constexpr (std::is_same_v<S, simd::Reference>) {
    body.template operator()<ref::Ops>();
  } else if constexpr (std::is_same_v<S, simd::Static>) {
    HWY_STATIC_DISPATCH(WithOpsT<B>)(&body);
  } else {
    TERNARY_CHOOSE(WithOpsT<B>)(&body);
  }
}

// The Highway target the Dynamic policy runs on now, as the dispatch
// tables see it (simd::ActiveTarget() is what they are told; tests check
// they agree).
inline int64_t DispatchedTarget() {
  int64_t target = 0;
  WithOps<simd::Dynamic>([&]<class Ops>() { target = Ops::kTarget; });
  return target;
}

}  // namespace ternary

#endif  // TERNARY_KERNELS_DISPATCH_H_
