// Highway for ternary's per-target code: highway.h plus the 1.0.3 fixes and
// the ops 1.0.3 lacks. Include it first in every *-inl.h.

// Per-target include guard (re-included once per target by foreach_target).
#if defined(TERNARY_SIMD_HIGHWAY_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_SIMD_HIGHWAY_INL_H_TARGET
#undef TERNARY_SIMD_HIGHWAY_INL_H_TARGET
#else
#define TERNARY_SIMD_HIGHWAY_INL_H_TARGET
#endif

#include <hwy/cache_control.h>
#include <hwy/highway.h>
#include <type_traits>

#if HWY_ARCH_X86
#include <immintrin.h>
#endif

// Highway 1.0.0-1.0.3 name `avxvnni` in AVX3_DL's target string where they
// mean `avx512vnni` (fixed in 1.0.4 by google/highway#1176). AVX-VNNI is a
// separate extension: the VEX-encoded VPDPBUSD of Alder Lake and Zen 5,
// absent from Zen 4, Ice Lake, Tiger Lake and Rocket Lake, which all pass
// Highway's run-time check for AVX3_DL. Two consequences:
//  - _mm512_dpbusd_epi32 needs `avx512vnni`, so our functions add it;
//  - with `avxvnni` enabled, GCC and clang encode every 128/256-bit
//    VPDPBUSD as VEX: an illegal instruction on those CPUs. We cannot drop
//    `avxvnni` from our string (Highway's always_inline ops carry it, and a
//    function cannot inline a callee with more features), so detail::DpBusd
//    below emits the EVEX form itself. scripts/isa_audit.py checks every
//    binary CI builds for VEX-encoded VNNI and other out-of-target code.
#undef TERNARY_HWY_AVX3_DL_HAS_AVXVNNI
#if HWY_TARGET == HWY_AVX3_DL && HWY_MAJOR == 1 && HWY_MINOR == 0 && \
    HWY_PATCH < 4
#define TERNARY_HWY_AVX3_DL_HAS_AVXVNNI 1
#undef HWY_TARGET_STR
#define HWY_TARGET_STR                                          \
  HWY_TARGET_STR_AVX3                                           \
  ",vpclmulqdq,avx512vbmi,avx512vbmi2,vaes,avxvnni,avx512vnni," \
  "avx512bitalg,avx512vpopcntdq"
#else
#define TERNARY_HWY_AVX3_DL_HAS_AVXVNNI 0
#endif

// Highway's version as one number (1.0.3 = 10003): the workarounds below
// are compiled only for the versions that lack the upstream op; newer ones
// use Highway's own (a second definition would make calls ambiguous).
#undef TERNARY_HWY_VERSION
#define TERNARY_HWY_VERSION (HWY_MAJOR * 10000 + HWY_MINOR * 100 + HWY_PATCH)

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#undef TERNARY_SIZELESS_VECTORS
// SVE vectors are sizeless types (svint32_t...), also for the fixed-width
// SVE_256/SVE2_128 targets: no arrays or class members of them.
#if HWY_HAVE_SCALABLE || HWY_TARGET == HWY_SVE_256 || HWY_TARGET == HWY_SVE2_128
#define TERNARY_SIZELESS_VECTORS 1
#else
#define TERNARY_SIZELESS_VECTORS 0
#endif

#undef TERNARY_HAVE_ARM_SIMD
// NEON, SVE, SVE2 (not the HWY_SCALAR fallback): the kernels' portable
// Highway paths (I2_S so far), tested under qemu-user
// (scripts/cross-aarch64.sh).
#if HWY_ARCH_ARM_A64 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
#define TERNARY_HAVE_ARM_SIMD 1
#else
#define TERNARY_HAVE_ARM_SIMD 0
#endif

#undef TERNARY_HAVE_X86_DOT
#undef TERNARY_HAVE_VNNI
// Whether this target has the x86 integer dot-product ops below (not the
// HWY_SCALAR / HWY_EMU128 fallbacks, whose vectors are plain arrays, as
// clang's attainable targets include); elsewhere the kernels use the scalar
// reference, or on Arm a portable path (TERNARY_HAVE_ARM_SIMD).
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
#define TERNARY_HAVE_X86_DOT 1
// 512-bit VPDPBUSD (u8·i8 quads into i32, no saturation).
#define TERNARY_HAVE_VNNI (HWY_TARGET == HWY_AVX3_DL)

namespace detail {
inline __m128i MaddUbs(__m128i a, __m128i b) { return _mm_maddubs_epi16(a, b); }
inline __m128i MaddOnes(__m128i a) {
  return _mm_madd_epi16(a, _mm_set1_epi16(1));
}
#if HWY_TARGET <= HWY_AVX2
inline __m256i MaddUbs(__m256i a, __m256i b) {
  return _mm256_maddubs_epi16(a, b);
}
inline __m256i MaddOnes(__m256i a) {
  return _mm256_madd_epi16(a, _mm256_set1_epi16(1));
}
#endif
#if HWY_TARGET <= HWY_AVX3
inline __m512i MaddUbs(__m512i a, __m512i b) {
  return _mm512_maddubs_epi16(a, b);
}
inline __m512i MaddOnes(__m512i a) {
  return _mm512_madd_epi16(a, _mm512_set1_epi16(1));
}
#endif
#if TERNARY_HAVE_VNNI
#if TERNARY_HWY_AVX3_DL_HAS_AVXVNNI
// s += a (u8) · b (i8) in groups of four, EVEX-encoded whatever the
// compiler would pick ({evex}: GNU as and LLVM's assembler; both syntaxes).
template <class V>
HWY_INLINE V DpBusdEvex(V s, V a, V b) {
  asm("%{evex%} vpdpbusd {%2, %1, %0|%0, %1, %2}" : "+v"(s) : "v"(a), "v"(b));
  return s;
}
inline __m128i DpBusd(__m128i s, __m128i a, __m128i b) {
  return DpBusdEvex(s, a, b);
}
inline __m256i DpBusd(__m256i s, __m256i a, __m256i b) {
  return DpBusdEvex(s, a, b);
}
#else
inline __m128i DpBusd(__m128i s, __m128i a, __m128i b) {
  return _mm_dpbusd_epi32(s, a, b);
}
inline __m256i DpBusd(__m256i s, __m256i a, __m256i b) {
  return _mm256_dpbusd_epi32(s, a, b);
}
#endif
inline __m512i DpBusd(__m512i s, __m512i a, __m512i b) {
  return _mm512_dpbusd_epi32(s, a, b);
}
#endif
}  // namespace detail

#if TERNARY_HWY_VERSION < 10006
// Upstream SatWidenMulPairwiseAdd (Highway 1.0.6): u8·i8 pairs summed into
// saturating i16 (PMADDUBSW).
template <class DI16, class VU8, class VI8>
HWY_INLINE hn::Vec<DI16> SatWidenMulPairwiseAdd(DI16 /*di16*/, VU8 a, VI8 b) {
  return hn::Vec<DI16>{detail::MaddUbs(a.raw, b.raw)};
}
#else
using hn::SatWidenMulPairwiseAdd;
#endif

// i16 pairs summed into i32 (PMADDWD with ones); upstream: WidenMulPairwiseAdd
// with a vector of ones, or SumsOf2(v) (1.1), which takes no tag: the two
// overload by arity.
template <class DI32, class VI16>
HWY_INLINE hn::Vec<DI32> SumsOf2(DI32 /*di32*/, VI16 v) {
  return hn::Vec<DI32>{detail::MaddOnes(v.raw)};
}

// Returns v, materialised in a register: the compiler may no longer fold the
// load that produced it into each instruction that uses it.
template <class V>
HWY_INLINE V KeepInRegister(V v) {
#if HWY_COMPILER_GCC || HWY_COMPILER_CLANG
  asm("" : "+v"(v.raw));
#endif
  return v;
}

// sum + Σ of each group of four u8·i8 products: exact in i32 with VNNI,
// else via PMADDUBSW + PMADDWD, exact while each u8·i8 pair sum fits i16
// (true for ternary codes ≤ 3). Not upstream's SumOfMulQuadAccumulate
// (Highway 1.0.6), which is exact for all inputs and slower without VNNI.
template <class DI32, class VU8, class VI8>
HWY_INLINE hn::Vec<DI32> SmallSumOfMulQuadAccumulate(DI32 di32, VU8 a, VI8 b,
                                                     hn::Vec<DI32> sum) {
#if TERNARY_HAVE_VNNI
  (void)di32;
  return hn::Vec<DI32>{detail::DpBusd(sum.raw, a.raw, b.raw)};
#else
  const hn::Repartition<int16_t, DI32> di16;
  return hn::Add(sum, SumsOf2(di32, SatWidenMulPairwiseAdd(di16, a, b)));
#endif
}

// Adds the 128-bit blocks of v: lane i of the result is the sum of lane i of
// every block.
template <class D>
HWY_INLINE hn::Vec<hn::Full128<hn::TFromD<D>>> SumOfBlocks(D d, hn::Vec<D> v) {
  if constexpr (hn::MaxLanes(d) * sizeof(hn::TFromD<D>) > 16) {
    const hn::Half<D> dh;
    return SumOfBlocks(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)));
  } else {
    return v;
  }
}

// The four totals ReduceSum(a), ReduceSum(b), ReduceSum(c), ReduceSum(e) in
// lanes 0-3, exact (int32 addition in another order). A transpose by
// interleaving, then the blocks added: 13 operations at 512 bits where four
// ReduceSums take ~40, each ending in a move to a general register.
template <class D>
HWY_INLINE hn::Vec<hn::Full128<int32_t>> ReduceSum4(D d, hn::Vec<D> a,
                                                    hn::Vec<D> b, hn::Vec<D> c,
                                                    hn::Vec<D> e) {
  static_assert(std::is_same_v<hn::TFromD<D>, int32_t>);
  const hn::RepartitionToWide<D> d64;
  // Per block: [a0+a2, b0+b2, a1+a3, b1+b3] and the same for c, e.
  const auto ab = hn::BitCast(d64, hn::Add(hn::InterleaveLower(d, a, b),
                                           hn::InterleaveUpper(d, a, b)));
  const auto ce = hn::BitCast(d64, hn::Add(hn::InterleaveLower(d, c, e),
                                           hn::InterleaveUpper(d, c, e)));
  // Per block: [a, b, c, e], the block's share of each total.
  const auto abce =
      hn::Add(hn::BitCast(d, hn::InterleaveLower(d64, ab, ce)),
              hn::BitCast(d, hn::InterleaveUpper(d64, ab, ce)));
  return SumOfBlocks(d, abce);
}
#else
#define TERNARY_HAVE_X86_DOT 0
#define TERNARY_HAVE_VNNI 0
#endif  // HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR/EMU128

#if TERNARY_HWY_VERSION < 10005
// Upstream ReduceSum (Highway 1.0.5).
template <class D>
HWY_INLINE hn::TFromD<D> ReduceSum(D d, hn::Vec<D> v) {
  return hn::GetLane(hn::SumOfLanes(d, v));
}
#else
using hn::ReduceSum;
#endif

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
