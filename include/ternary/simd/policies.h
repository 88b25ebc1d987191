// SIMD policies: how a kernel call picks its instruction set.
#ifndef TERNARY_SIMD_POLICIES_H_
#define TERNARY_SIMD_POLICIES_H_

#include <concepts>

namespace ternary::simd {

// Best target the running CPU supports, among those compiled (Highway's
// dynamic dispatch; one indirect call per kernel invocation).
struct Dynamic {};
// The translation unit's static target only (HWY_STATIC_DISPATCH): compile
// with -march=... and optionally -DHWY_COMPILE_ONLY_STATIC to build just it.
struct Static {};
// The plain scalar reference kernels in ternary::ref (the tests' oracle).
struct Reference {};

template <class S>
concept Policy = std::same_as<S, Dynamic> || std::same_as<S, Static> ||
    std::same_as<S, Reference>;

}  // namespace ternary::simd

#endif  // TERNARY_SIMD_POLICIES_H_
