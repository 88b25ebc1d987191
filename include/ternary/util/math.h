// Small integer helpers shared by formats, kernels and loaders.
#ifndef TERNARY_UTIL_MATH_H_
#define TERNARY_UTIL_MATH_H_

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ternary {

constexpr size_t DivCeil(size_t a, size_t b) noexcept {
  return (a + b - 1) / b;
}
constexpr size_t RoundUp(size_t a, size_t b) noexcept {
  return DivCeil(a, b) * b;
}

// Overflow-checked arithmetic for sizes read from files: nullopt on overflow.
inline std::optional<uint64_t> CheckedAdd(uint64_t a, uint64_t b) noexcept {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<uint64_t> CheckedMul(uint64_t a, uint64_t b) noexcept {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

}  // namespace ternary

#endif  // TERNARY_UTIL_MATH_H_
