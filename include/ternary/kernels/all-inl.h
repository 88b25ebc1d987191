// Every per-target header of the library, compiled once per Highway target
// by kernels/dispatch.h. A program that runs its own hwy/foreach_target.h
// pass includes this file from its HWY_TARGET_INCLUDE file (see
// kernels/dispatch.h).
#define TERNARY_KERNELS_ALL_INL_SEEN 1
// clang-format off
#include "ternary/simd/highway-inl.h"
#include "ternary/kernels/ops-inl.h"
// clang-format on
