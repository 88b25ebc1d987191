// Every per-target header of the library: the one HWY_TARGET_INCLUDE of
// ternary/simd/dispatch.h. New *-inl.h files are added here.
// clang-format off
#include "ternary/simd/highway-inl.h"
#include "ternary/kernels/kernel-inl.h"
#include "ternary/kernels/i2s-inl.h"
#include "ternary/kernels/tl_common-inl.h"
#include "ternary/kernels/tl1-inl.h"
#include "ternary/kernels/tl2-inl.h"
#include "ternary/kernels/dense-inl.h"
#include "ternary/kernels/vector_ops-inl.h"
// clang-format on
