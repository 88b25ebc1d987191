// Per-target kernel entry points; each format specializes Kernel<F> in its
// own *-inl.h (i2s-inl.h, tl1-inl.h, tl2-inl.h).

#if defined(TERNARY_KERNELS_KERNEL_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_KERNEL_INL_H_TARGET
#undef TERNARY_KERNELS_KERNEL_INL_H_TARGET
#else
#define TERNARY_KERNELS_KERNEL_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"
// After highway.h
#include "ternary/kernels/matmul_args.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {

template <class F>
inline constexpr bool kDependentFalse = false;

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
