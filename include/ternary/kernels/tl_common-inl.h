// The lookup-table (T-MAC) machinery the TL1 and TL2 kernels share, per
// Highway target: table builders and lookups, the int16/int32 widening, and
// LutDriver, the one loop over tokens and row tiles both formats run. The
// scalar table entries are in kernels/ref/lut_tables.h.
#ifndef TERNARY_KERNELS_TL_COMMON_INL_H_
#define TERNARY_KERNELS_TL_COMMON_INL_H_
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ternary/kernels/matmul_args.h"
#include "ternary/kernels/ref/lut_tables.h"
#include "ternary/util/math.h"
#endif  // TERNARY_KERNELS_TL_COMMON_INL_H_

#if defined(TERNARY_KERNELS_TL_COMMON_INL_H_TARGET) == \
    defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_TL_COMMON_INL_H_TARGET
#undef TERNARY_KERNELS_TL_COMMON_INL_H_TARGET
#else
#define TERNARY_KERNELS_TL_COMMON_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"
// After highway.h
#include "ternary/kernels/kernel-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {

// How it works (bitnet.cpp / T-MAC lookup tables, docs/numerics.md §6.2).
// Prepare builds, per token, one 16-entry table per activation pair; the weight
// bytes of a step are table indices, looked up for 16 rows at a time with
// PSHUFB (TableLookupBytes) on 16-byte tables broadcast to every 128-bit block
// (LoadDup128). int8 activations need int16 entries: a low-byte and a
// high-byte table, re-interleaved into int16 (PUNPCKL/HBW); int4 activations
// (act_max_abs ≤ 8) use one int8 table and half the lookups. Entries are
// summed in int16 (int8 first for A4) and widened to int32 often enough that
// nothing can wrap (bounds at kMaxSteps*), so S is exact.
//
// Loop order follows the layout: for a tile of rows, each column block's
// tables (2 KiB per token for BK = 128) stay in L1 while the tile's chunks
// sweep them; the int32 sums of the tile's chunks live in a stack array.
// GEMM runs kGemmTokens tokens per loaded weight vector.
//
// Vectors are capped at 256 bits: the loops are bound by PSHUFB/PUNPCK
// (A8 TL1: 9 of 15 ops per 32 weight bytes, 4.8 cycles measured on Zen 4
// for the 4.5 the two shuffle pipes allow), which run at the same bytes per
// cycle on 256 and 512 bits (Intel port 5 vs ports 1+5; Zen 4 double-pumps
// 512 bits), and the TL2 chunk (32 bytes) is one AVX2 register as bitnet.cpp
// designed it.
namespace tl {

#if TERNARY_HAVE_X86_DOT
using DU8 = hn::CappedTag<uint8_t, 32>;
using DI16 = hn::Repartition<int16_t, DU8>;
using DI32 = hn::Repartition<int32_t, DU8>;
using VU8 = hn::Vec<DU8>;
using VI16 = hn::Vec<DI16>;
inline constexpr size_t kN = hn::MaxLanes(DU8());  // 16 or 32 bytes
// Tokens per loaded weight vector in GEMM: AVX-512 targets have 32 vector
// registers for the 4 tokens' accumulators, AVX2/SSE 16.
inline constexpr size_t kGemmTokens = HWY_TARGET <= HWY_AVX3 ? 4 : 2;

namespace raw {
inline __m128i Sign16(__m128i e, __m128i m) { return _mm_sign_epi16(e, m); }
inline __m128i Sign8(__m128i e, __m128i m) { return _mm_sign_epi8(e, m); }
inline __m128i Packs16(__m128i a, __m128i b) { return _mm_packs_epi16(a, b); }
#if HWY_TARGET <= HWY_AVX2
inline __m256i Sign16(__m256i e, __m256i m) { return _mm256_sign_epi16(e, m); }
inline __m256i Sign8(__m256i e, __m256i m) { return _mm256_sign_epi8(e, m); }
inline __m256i Packs16(__m256i a, __m256i b) {
  return _mm256_packs_epi16(a, b);
}
#endif
}  // namespace raw

// e where m > 0, −e where m < 0 (PSIGNW/PSIGNB; m must not be 0). Highway
// 1.0.3 has no integer CopySign.
HWY_INLINE VI16 ApplySign(VI16 e, VI16 m) {
  return VI16{raw::Sign16(e.raw, m.raw)};
}
HWY_INLINE VU8 ApplySign(VU8 e, VU8 m) { return VU8{raw::Sign8(e.raw, m.raw)}; }
// int16 → int8 with saturation, per 128-bit block: [a0..a7 b0..b7] (PACKSSWB;
// upstream OrderedDemote2To crosses blocks, which we do not want here).
HWY_INLINE VU8 PacksPerBlock(VI16 a, VI16 b) {
  return VU8{raw::Packs16(a.raw, b.raw)};
}

// Both nibbles of each weight byte as table indices.
HWY_INLINE void Nibbles(VU8 x, VU8& hi, VU8& lo) {
  const DU8 du8;
  const hn::Repartition<uint16_t, DU8> du16;
  const VU8 k0F = hn::Set(du8, 0x0F);
  hi = hn::And(hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(du16, x))), k0F);
  lo = hn::And(x, k0F);
}

// int16 sums of the table entries looked up for the rows in bytes 0-7
// (lower) and 8-15 (upper) of each 16-byte block.
HWY_INLINE void LookupA8(VU8 tab_lo, VU8 tab_hi, VU8 idx, VI16& lower,
                         VI16& upper) {
  const DU8 du8;
  const DI16 di16;
  const VU8 l = hn::TableLookupBytes(tab_lo, idx),
            h = hn::TableLookupBytes(tab_hi, idx);
  lower = hn::BitCast(di16, hn::InterleaveLower(du8, l, h));
  upper = hn::BitCast(di16, hn::InterleaveUpper(du8, l, h));
}

// Sign-extends int8 sums to int16 in the same lane order as LookupA8.
HWY_INLINE void WidenI8(VU8 e, VI16& lower, VI16& upper) {
  const DU8 du8;
  const DI16 di16;
  lower = hn::ShiftRight<8>(hn::BitCast(di16, hn::InterleaveLower(du8, e, e)));
  upper = hn::ShiftRight<8>(hn::BitCast(di16, hn::InterleaveUpper(du8, e, e)));
}

// acc[p] += the int16 sums of weight bytes p ∈ [0, kN) of one vector, given
// in LookupA8's lane order: the lower half of `lower`'s lanes holds bytes
// 0.., its upper half bytes kSecond..; `upper` is the same shifted by 8.
HWY_INLINE void AddWidened(VI16 lower, VI16 upper, int32_t* HWY_RESTRICT acc) {
  const DI32 di32;
  const hn::Half<DI16> dh;
  constexpr size_t kSecond = kN == 32 ? 16 : 4;
  auto add = [&](size_t p, hn::Vec<decltype(dh)> v) {
    hn::StoreU(hn::Add(hn::LoadU(di32, acc + p), hn::PromoteTo(di32, v)), di32,
               acc + p);
  };
  add(0, hn::LowerHalf(dh, lower));
  add(kSecond, hn::UpperHalf(dh, lower));
  add(8, hn::LowerHalf(dh, upper));
  add(8 + kSecond, hn::UpperHalf(dh, upper));
}

// Table builders, one 16-byte table at a time (entries as in
// ref::PairEntry / TripleEntry): int16 entries computed in two
// 8-lane halves, then split into low and high bytes.
HWY_INLINE void StoreTables(hn::Vec<hn::Full128<int16_t>> e0,
                            hn::Vec<hn::Full128<int16_t>> e1, uint8_t* lo,
                            uint8_t* hi) {
  const hn::Full128<uint8_t> d8;
  const auto b0 = hn::BitCast(d8, e0), b1 = hn::BitCast(d8, e1);
  hn::StoreU(hn::ConcatEven(d8, b1, b0), d8, lo);
  if (hi != nullptr) hn::StoreU(hn::ConcatOdd(d8, b1, b0), d8, hi);
}
// hi == nullptr: int8 entries (A4) into lo.
HWY_INLINE void PairTable(int a, int b, uint8_t* lo, uint8_t* hi) {
  const hn::Full128<int16_t> d16;
  HWY_ALIGN static constexpr int16_t kA[8] = {-1, -1, -1, 0, 0, 0, 1, 1};
  HWY_ALIGN static constexpr int16_t kB[8] = {-1, 0, 1, -1, 0, 1, -1, 0};
  HWY_ALIGN static constexpr int16_t kE8[8] = {1, 0, 0, 0,
                                               0, 0, 0, 0};  // entry 8: a + b
  const auto va = hn::Set(d16, static_cast<int16_t>(a));
  const auto vb = hn::Set(d16, static_cast<int16_t>(b));
  const auto e0 =
      hn::Add(hn::Mul(va, hn::Load(d16, kA)), hn::Mul(vb, hn::Load(d16, kB)));
  const auto e1 = hn::Mul(hn::Add(va, vb), hn::Load(d16, kE8));
  StoreTables(e0, e1, lo, hi);
}
HWY_INLINE void TripleTable(int a, int b, int c, uint8_t* lo, uint8_t* hi) {
  const hn::Full128<int16_t> d16;
  // Balanced-ternary digits of k = 0..7 and 8..15 (14, 15 unused: 0).
  HWY_ALIGN static constexpr int16_t kD0[16] = {0, 0, 0, 0, 0, 1, 1, 1,
                                                1, 1, 1, 1, 1, 1, 0, 0};
  HWY_ALIGN static constexpr int16_t kD1[16] = {0, 0, 1, 1, 1, -1, -1, -1,
                                                0, 0, 0, 1, 1, 1,  0,  0};
  HWY_ALIGN static constexpr int16_t kD2[16] = {0,  1, -1, 0,  1, -1, 0, 1,
                                                -1, 0, 1,  -1, 0, 1,  0, 0};
  const auto va = hn::Set(d16, static_cast<int16_t>(a));
  const auto vb = hn::Set(d16, static_cast<int16_t>(b));
  const auto vc = hn::Set(d16, static_cast<int16_t>(c));
  auto half = [&](size_t i) {
    return hn::Add(hn::Add(hn::Mul(va, hn::Load(d16, kD0 + i)),
                           hn::Mul(vb, hn::Load(d16, kD1 + i))),
                   hn::Mul(vc, hn::Load(d16, kD2 + i)));
  };
  StoreTables(half(0), half(8), lo, hi);
}
#else
HWY_INLINE void PairTable(int a, int b, uint8_t* lo, uint8_t* hi) {
  if (hi == nullptr) {
    ref::ScalarPairTableA4(a, b, lo);
  } else {
    ref::ScalarPairTableA8(a, b, lo, hi);
  }
}
HWY_INLINE void TripleTable(int a, int b, int c, uint8_t* lo, uint8_t* hi) {
  if (hi == nullptr) {
    ref::ScalarTripleTableA4(a, b, c, lo);
  } else {
    ref::ScalarTripleTableA8(a, b, c, lo, hi);
  }
}
#endif  // TERNARY_HAVE_X86_DOT

// Writes the pair tables of one step of P consecutive pairs: A8 as
//   [hi-nibble pairs: low bytes][hi-nibble: high bytes][lo-nibble:
//   low][lo-nibble: high]
// each part U = P/2 tables of 16 bytes (tq order); A4 without the high parts.
// Pair 2·tq + 1 (low nibble) follows pair 2·tq (high nibble) in the weights.
template <size_t kPairs>
HWY_INLINE void PairStepTables(const int8_t* q, size_t cols, size_t first_pair,
                               bool a4, uint8_t* out) {
  constexpr size_t kU = kPairs / 2;
  for (size_t i = 0; i < kPairs; ++i) {
    const size_t col = 2 * (first_pair + i), nib = i % 2, tq = i / 2;
    const int x0 = ref::ActAt(q, cols, col), x1 = ref::ActAt(q, cols, col + 1);
    if (a4) {
      PairTable(x0, x1, out + nib * 16 * kU + 16 * tq, nullptr);
    } else {
      uint8_t* lo = out + nib * 32 * kU + 16 * tq;
      PairTable(x0, x1, lo, lo + 16 * kU);
    }
  }
}

// Folds a chunk's int32 sums (indexed by the byte position in a step, whose
// row RowOf(p) gives) into rows and stores the rows in [row_begin, row_end).
template <size_t kRows, size_t kPositions, class RowOf>
HWY_INLINE void StoreChunk(const MatMulArgs& a, size_t token, size_t first_row,
                           size_t row_begin, size_t row_end, const int32_t* acc,
                           RowOf row_of) {
  int32_t rows[kRows] = {};
  for (size_t p = 0; p < kPositions; ++p) rows[row_of(p)] += acc[p];
  const size_t begin = std::max(row_begin, first_row);
  const size_t end = std::min({row_end, a.rows, first_row + kRows});
  for (size_t r = begin; r < end; ++r)
    StoreOutput(a, token, r, rows[r - first_row]);
}

// The loops TL1 and TL2 share: tokens in GEMM groups of kGemmTokens (then
// one at a time), and for each group the row tiles (kChunks chunks of
// kChunkRows rows) that cover [row_begin, row_end). K::Tile<kT, kA4>(a, t0,
// mb, mo_begin, mo_end, row_begin, row_end) computes chunks [mo_begin,
// mo_end) of tile mb; a chunk partly outside the range is computed whole
// and stored in part (kernels/matmul.h splits threads on whole chunks).
template <class K, size_t kChunkRows, size_t kChunks>
struct LutDriver {
  static void Rows(const MatMulArgs& a, size_t row_begin,
                   size_t row_end) noexcept {
    if (a.act_max_abs <= 8) {
      RowsT<true>(a, row_begin, row_end);
    } else {
      RowsT<false>(a, row_begin, row_end);
    }
  }

 private:
  template <bool kA4>
  static void RowsT(const MatMulArgs& a, size_t row_begin,
                    size_t row_end) noexcept {
    size_t t = 0;
#if TERNARY_HAVE_X86_DOT
    constexpr size_t kT = kGemmTokens;
    for (; t + kT <= a.n_tokens; t += kT)
      Tiles<kT, kA4>(a, t, row_begin, row_end);
#endif
    for (; t < a.n_tokens; ++t) Tiles<1, kA4>(a, t, row_begin, row_end);
  }

  template <size_t kT, bool kA4>
  static void Tiles(const MatMulArgs& a, size_t t0, size_t row_begin,
                    size_t row_end) noexcept {
    if (row_begin >= row_end) return;
    const size_t c_begin = row_begin / kChunkRows;
    const size_t c_end = DivCeil(row_end, kChunkRows);
    for (size_t mb = c_begin / kChunks; mb * kChunks < c_end; ++mb) {
      const size_t first = mb * kChunks;
      K::template Tile<kT, kA4>(a, t0, mb, std::max(c_begin, first) - first,
                                std::min(c_end, first + kChunks) - first,
                                row_begin, row_end);
    }
  }
};

}  // namespace tl

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
