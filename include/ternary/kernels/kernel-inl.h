// Per-target kernel entry points; each format specializes Kernel<F> in its
// own *-inl.h (i2s-inl.h, tl1-inl.h, tl2-inl.h).

#if defined(TERNARY_KERNELS_KERNEL_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_KERNEL_INL_H_TARGET
#undef TERNARY_KERNELS_KERNEL_INL_H_TARGET
#else
#define TERNARY_KERNELS_KERNEL_INL_H_TARGET
#endif

#include <algorithm>

#include "ternary/simd/highway-inl.h"
// After highway.h
#include "ternary/kernels/matmul_args.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {

template <class F>
inline constexpr bool kDependentFalse = false;

// StoreOutput for rows [row, row + n) of one token, s[i] the sum of row
// + i. In vectors, so that a GEMV does not end every row in a scalar
// divide: conversion, division and product are IEEE-rounded lane by lane,
// so every output equals StoreOutput's bit for bit.
HWY_INLINE void StoreOutputs(const MatMulArgs& a, size_t token, size_t row,
                             const int32_t* HWY_RESTRICT s, size_t n) {
  if (a.s != nullptr) {
    std::copy_n(s, n, a.s + token * a.ldy + row);
    return;
  }
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di32;
  const size_t N = hn::Lanes(df);
  const quant::ActScale scale = a.scales[token];
  const auto vscale = hn::Set(df, scale.scale);
  const auto valpha = hn::Set(df, a.alpha);
  float* HWY_RESTRICT y = a.y + token * a.ldy + row;
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = hn::ConvertTo(df, hn::LoadU(di32, s + i));
    hn::StoreU(hn::Mul(hn::Div(v, vscale), valpha), df, y + i);
  }
  for (; i < n; ++i) y[i] = Rescale(s[i], scale, a.alpha);
}

#if TERNARY_HAVE_X86_DOT
// StoreOutputs for the n ≤ 4 rows [row, row + n) of one token whose sums are
// lanes 0..n-1 of s (a GEMM tile's rows, as ReduceSum4 leaves them).
HWY_INLINE void StoreOutputs4(const MatMulArgs& a, size_t token, size_t row,
                              hn::Vec<hn::Full128<int32_t>> s, size_t n) {
  const hn::Full128<int32_t> di32;
  const hn::Full128<float> df;
  if (a.s != nullptr) {
    int32_t* HWY_RESTRICT out = a.s + token * a.ldy + row;
    if (n == 4) {
      hn::StoreU(s, di32, out);
    } else {
      alignas(16) int32_t lanes[4];
      hn::Store(s, di32, lanes);
      std::copy_n(lanes, n, out);
    }
    return;
  }
  const quant::ActScale scale = a.scales[token];
  const auto y = hn::Mul(hn::Div(hn::ConvertTo(df, s), hn::Set(df, scale.scale)),
                         hn::Set(df, a.alpha));
  float* HWY_RESTRICT out = a.y + token * a.ldy + row;
  if (n == 4) {
    hn::StoreU(y, df, out);
  } else {
    alignas(16) float lanes[4];
    hn::Store(y, df, lanes);
    std::copy_n(lanes, n, out);
  }
}
#endif  // TERNARY_HAVE_X86_DOT

// Kernel<F> provides
//   static void Prepare(const PrepareArgs&) noexcept;
//   static void Rows(const MatMulArgs&, size_t row_begin, size_t row_end)
//   noexcept;
template <class F>
struct Kernel {
  static_assert(kDependentFalse<F>,
                "no matmul kernel for this packing format: use quant::I2S, "
                "quant::TL1 or quant::TL2");
};

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
