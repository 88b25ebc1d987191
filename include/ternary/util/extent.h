// Sizes known at compile time or at run time, in the spirit of Eigen's
// fixed vs Dynamic sizes and CuTe's Int<N> vs int.
#ifndef TERNARY_UTIL_EXTENT_H_
#define TERNARY_UTIL_EXTENT_H_

#include <cstddef>

namespace ternary {

// A dimension whose value is read from the model file.
inline constexpr int kDynamic = 0;

// A length that is the constant kN, or a run-time value when kN == kDynamic.
// Loops bounded by a static Extent get constant trip counts.
template <int kN>
struct Extent {
  static_assert(kN > 0, "an Extent is positive or kDynamic");
  constexpr Extent() = default;
  constexpr explicit Extent(size_t) noexcept {}  // checked by the caller
  static constexpr size_t value() noexcept { return static_cast<size_t>(kN); }
  static constexpr bool kStatic = true;
};

template <>
struct Extent<kDynamic> {
  constexpr Extent() = default;
  constexpr explicit Extent(size_t n) noexcept : n_(n) {}
  constexpr size_t value() const noexcept { return n_; }
  static constexpr bool kStatic = false;

 private:
  size_t n_ = 0;
};

}  // namespace ternary

#endif  // TERNARY_UTIL_EXTENT_H_
