// TL1 matmul kernels (GEMV and GEMM, int8 and int4 activations) for every
// Highway target, and the lookup-table helpers the TL2 kernels share.
#ifndef TERNARY_KERNELS_TL1_INL_H_
#define TERNARY_KERNELS_TL1_INL_H_
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ternary/kernels/matmul_args.h"
#include "ternary/quant/tl1.h"
#include "ternary/util/math.h"

namespace ternary::detail {

// Activation i of a row of `cols` codes; 0 in the columns a format pads
// (which may lie past the row's own zero padding).
inline int ActAt(const int8_t* q, size_t cols, size_t i) noexcept {
  return i < cols ? q[i] : 0;
}

// The tables of one pair (a, b) = (q[2t], q[2t+1]): entry n < 9 is
// (n/3 − 1)·a + (n%3 − 1)·b (SPEC §4.2), entries 9..15 are 0. A8: |entry| ≤
// 256 as int16, split into 16 low bytes and 16 high bytes; A4 (|q| ≤ 8):
// |entry| ≤ 16, one int8 table.
inline int PairEntry(int a, int b, int n) noexcept {
  return n < 9 ? (n / 3 - 1) * a + (n % 3 - 1) * b : 0;
}
// The table of one triple (a, b, c) = (q[3u], q[3u+1], q[3u+2]) indexed by
// |v| (SPEC §4.3): entry k < 14 is d0·a + d1·b + d2·c for the balanced
// ternary digits of k = 9·d0 + 3·d1 + d2; |entry| ≤ 384 (A8), ≤ 24 (A4).
inline int TripleEntry(int a, int b, int c, int k) noexcept {
  if (k >= 14) return 0;
  const int d2 = (k + 1) % 3 - 1, k1 = (k - d2) / 3;
  const int d1 = (k1 + 1) % 3 - 1, d0 = (k1 - d1) / 3;
  return d0 * a + d1 * b + d2 * c;
}

inline void ScalarPairTableA8(int a, int b, uint8_t* lo, uint8_t* hi) noexcept {
  for (int n = 0; n < 16; ++n) {
    const int e = PairEntry(a, b, n);
    lo[n] = static_cast<uint8_t>(e & 0xFF);
    hi[n] = static_cast<uint8_t>((e >> 8) & 0xFF);
  }
}
inline void ScalarPairTableA4(int a, int b, uint8_t* t) noexcept {
  for (int n = 0; n < 16; ++n) t[n] = static_cast<uint8_t>(PairEntry(a, b, n));
}
inline void ScalarTripleTableA8(int a, int b, int c, uint8_t* lo,
                                uint8_t* hi) noexcept {
  for (int k = 0; k < 16; ++k) {
    const int e = TripleEntry(a, b, c, k);
    lo[k] = static_cast<uint8_t>(e & 0xFF);
    hi[k] = static_cast<uint8_t>((e >> 8) & 0xFF);
  }
}
inline void ScalarTripleTableA4(int a, int b, int c, uint8_t* t) noexcept {
  for (int k = 0; k < 16; ++k)
    t[k] = static_cast<uint8_t>(TripleEntry(a, b, c, k));
}

// Entry n of a table written by the builders above.
inline int TableEntryA8(const uint8_t* lo, const uint8_t* hi, int n) noexcept {
  return static_cast<int16_t>(static_cast<uint16_t>(lo[n] | hi[n] << 8));
}
inline int TableEntryA4(const uint8_t* t, int n) noexcept {
  return static_cast<int8_t>(t[n]);
}

}  // namespace ternary::detail

#endif  // TERNARY_KERNELS_TL1_INL_H_

#if defined(TERNARY_KERNELS_TL1_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_TL1_INL_H_TARGET
#undef TERNARY_KERNELS_TL1_INL_H_TARGET
#else
#define TERNARY_KERNELS_TL1_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"
// After highway.h
#include "ternary/kernels/kernel-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {

// How it works (bitnet.cpp / T-MAC lookup tables, SPEC §4.2). Prepare builds,
// per token, one 16-entry table per activation pair; the weight bytes of a
// step are table indices, looked up for 16 rows at a time with PSHUFB
// (TableLookupBytes) on 16-byte tables broadcast to every 128-bit block
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
// ternary::detail::PairEntry / TripleEntry): int16 entries computed in two
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
    ternary::detail::ScalarPairTableA4(a, b, lo);
  } else {
    ternary::detail::ScalarPairTableA8(a, b, lo, hi);
  }
}
HWY_INLINE void TripleTable(int a, int b, int c, uint8_t* lo, uint8_t* hi) {
  if (hi == nullptr) {
    ternary::detail::ScalarTripleTableA4(a, b, c, lo);
  } else {
    ternary::detail::ScalarTripleTableA8(a, b, c, lo, hi);
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
    const int x0 = ternary::detail::ActAt(q, cols, col),
              x1 = ternary::detail::ActAt(q, cols, col + 1);
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

}  // namespace tl

template <size_t kBM, size_t kBK, size_t kbm>
struct Kernel<quant::TL1Layout<kBM, kBK, kbm>> {
  using L = quant::TL1Layout<kBM, kBK, kbm>;
  static constexpr size_t kU = L::kUnits;
  static constexpr size_t kChunks = kBM / kbm;
  static constexpr size_t LutStepBytes(bool a4) { return (a4 ? 32 : 64) * kU; }

  static void Prepare(const PrepareArgs& a) noexcept {
    const bool a4 = a.act_max_abs <= 8;
    const size_t steps = L::PaddedCols(a.cols) / L::kStepCols;
    for (size_t t = 0; t < a.n_tokens; ++t) {
      const int8_t* q = a.q + t * a.q_stride;
      uint8_t* out = reinterpret_cast<uint8_t*>(a.out + t * a.out_stride);
      for (size_t g = 0; g < steps; ++g) {
        tl::PairStepTables<L::kPairsPerStep>(q, a.cols, g * L::kPairsPerStep,
                                             a4, out + g * LutStepBytes(a4));
      }
    }
  }

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
    constexpr size_t kT = tl::kGemmTokens;
    for (; t + kT <= a.n_tokens; t += kT)
      Tiles<kT, kA4>(a, t, row_begin, row_end);
#endif
    for (; t < a.n_tokens; ++t) Tiles<1, kA4>(a, t, row_begin, row_end);
  }

  // The tiles' chunks that cover [row_begin, row_end), for tokens t0..t0+kT.
  template <size_t kT, bool kA4>
  static void Tiles(const MatMulArgs& a, size_t t0, size_t row_begin,
                    size_t row_end) noexcept {
    if (row_begin >= row_end) return;
    const size_t c_begin = row_begin / kbm, c_end = DivCeil(row_end, kbm);
    for (size_t mb = c_begin / kChunks; mb * kChunks < c_end; ++mb) {
      const size_t first = mb * kChunks;
      Tile<kT, kA4>(a, t0, mb, std::max(c_begin, first) - first,
                    std::min(c_end, first + kChunks) - first, row_begin,
                    row_end);
    }
  }

  template <size_t kT, bool kA4>
  static HWY_NOINLINE void Tile(const MatMulArgs& a, size_t t0, size_t mb,
                                size_t mo_begin, size_t mo_end,
                                size_t row_begin, size_t row_end) noexcept {
    const size_t mp = L::PaddedRows(a.rows), kp = L::PaddedCols(a.cols);
    const size_t lut_block = L::kStepsPerBlock * LutStepBytes(kA4);
    HWY_ALIGN int32_t acc[kT][kChunks][64];
    for (size_t t = 0; t < kT; ++t) {
      std::memset(acc[t][mo_begin], 0, (mo_end - mo_begin) * sizeof(acc[t][0]));
    }
    for (size_t kb = 0; kb < kp / kBK; ++kb) {
      const uint8_t* lut[kT];
      for (size_t t = 0; t < kT; ++t) {
        lut[t] =
            reinterpret_cast<const uint8_t*>(a.acts + (t0 + t) * a.act_stride) +
            kb * lut_block;
      }
      for (size_t mo = mo_begin; mo < mo_end; ++mo) {
        const uint8_t* w = a.weights + L::ChunkOffset(mb, kb, mo, mp, kp);
        int32_t* sums[kT];
        for (size_t t = 0; t < kT; ++t) sums[t] = acc[t][mo];
        Block<kT, kA4>(w, lut, sums);
      }
    }
    for (size_t t = 0; t < kT; ++t) {
      for (size_t mo = mo_begin; mo < mo_end; ++mo) {
        tl::StoreChunk<kbm, 64>(a, t0 + t, mb * kBM + mo * kbm, row_begin,
                                row_end, acc[t][mo], L::RowOfStepByte);
      }
    }
  }

#if TERNARY_HAVE_X86_DOT
  // Table vector of one table part as vector v of a step sees it: the same
  // table in every block (U = 1), or tq 0 and 1 side by side (U = 2).
  static HWY_INLINE tl::VU8 LoadTable(const uint8_t* part, size_t v) {
    const tl::DU8 du8;
    if constexpr (kU == 1) {
      return hn::LoadDup128(du8, part);
    } else if constexpr (tl::kN == 32) {
      return hn::LoadU(du8, part);
    } else {
      return hn::LoadU(du8, part + 16 * (v % 2));
    }
  }

  // int16 bounds. A8: each int16 lane gets two entries (|e| ≤ 2·128) per
  // step, so 63 steps stay ≤ 32256. A4: int8 lanes get two entries
  // (|e| ≤ 2·8) per step, 3 steps ≤ 96; int16 then gets ≤ 32 per step.
  static constexpr size_t kMaxStepsA8 = 63;
  static constexpr size_t kMaxStepsA4 = 1023;
  static constexpr size_t kStepsI8 = 3;

  // Adds one block of one chunk (kStepsPerBlock steps of 64 bytes) to
  // sums[t][p], p = byte position within a step.
  template <size_t kT, bool kA4>
  static HWY_INLINE void Block(const uint8_t* HWY_RESTRICT w,
                               const uint8_t* const (&lut)[kT],
                               int32_t* const (&sums)[kT]) {
    const tl::DU8 du8;
    const tl::DI16 di16;
    constexpr size_t kV = 64 / tl::kN;
    constexpr size_t kLut = LutStepBytes(kA4);
    constexpr size_t kSteps = L::kStepsPerBlock;
    constexpr size_t kMax = kA4 ? kMaxStepsA4 : kMaxStepsA8;
    for (size_t s0 = 0; s0 < kSteps; s0 += kMax) {
      const size_t s_end = std::min(kSteps, s0 + kMax);
      tl::VI16 lower[kT][kV], upper[kT][kV];
      HWY_UNROLL(4)
      for (size_t t = 0; t < kT; ++t) {
        HWY_UNROLL(4)
        for (size_t v = 0; v < kV; ++v)
          lower[t][v] = upper[t][v] = hn::Zero(di16);
      }
      for (size_t s = s0; s < s_end;) {
        if constexpr (kA4) {
          const size_t g_end = std::min(s_end, s + kStepsI8);
          tl::VU8 e8[kT][kV];
          HWY_UNROLL(4)
          for (size_t t = 0; t < kT; ++t) {
            HWY_UNROLL(4)
            for (size_t v = 0; v < kV; ++v) e8[t][v] = hn::Zero(du8);
          }
          for (; s < g_end; ++s) {
            HWY_UNROLL(4)
            for (size_t v = 0; v < kV; ++v) {
              tl::VU8 hi, lo;
              tl::Nibbles(hn::LoadU(du8, w + s * 64 + v * tl::kN), hi, lo);
              HWY_UNROLL(4)
              for (size_t t = 0; t < kT; ++t) {
                const uint8_t* tab = lut[t] + s * kLut;
                const tl::VU8 eh = hn::TableLookupBytes(LoadTable(tab, v), hi);
                const tl::VU8 el =
                    hn::TableLookupBytes(LoadTable(tab + 16 * kU, v), lo);
                e8[t][v] = hn::Add(e8[t][v], hn::Add(eh, el));
              }
            }
          }
          HWY_UNROLL(4)
          for (size_t t = 0; t < kT; ++t) {
            HWY_UNROLL(4)
            for (size_t v = 0; v < kV; ++v) {
              tl::VI16 l16, u16;
              tl::WidenI8(e8[t][v], l16, u16);
              lower[t][v] = hn::Add(lower[t][v], l16);
              upper[t][v] = hn::Add(upper[t][v], u16);
            }
          }
        } else {
          HWY_UNROLL(4)
          for (size_t v = 0; v < kV; ++v) {
            tl::VU8 hi, lo;
            tl::Nibbles(hn::LoadU(du8, w + s * 64 + v * tl::kN), hi, lo);
            HWY_UNROLL(4)
            for (size_t t = 0; t < kT; ++t) {
              const uint8_t* tab = lut[t] + s * kLut;
              tl::VI16 lh, uh, ll, ul;
              tl::LookupA8(LoadTable(tab, v), LoadTable(tab + 16 * kU, v), hi,
                           lh, uh);
              tl::LookupA8(LoadTable(tab + 32 * kU, v),
                           LoadTable(tab + 48 * kU, v), lo, ll, ul);
              lower[t][v] = hn::Add(lower[t][v], hn::Add(lh, ll));
              upper[t][v] = hn::Add(upper[t][v], hn::Add(uh, ul));
            }
          }
          ++s;
        }
      }
      HWY_UNROLL(4)
      for (size_t t = 0; t < kT; ++t) {
        HWY_UNROLL(4)
        for (size_t v = 0; v < kV; ++v) {
          tl::AddWidened(lower[t][v], upper[t][v], sums[t] + v * tl::kN);
        }
      }
    }
  }
#else
  // Scalar lookups in the same tables (HWY_SCALAR and targets without a
  // SIMD TL kernel yet); int32 sums, exact.
  template <size_t kT, bool kA4>
  static void Block(const uint8_t* w, const uint8_t* const (&lut)[kT],
                    int32_t* const (&sums)[kT]) {
    constexpr size_t kLut = LutStepBytes(kA4);
    for (size_t s = 0; s < L::kStepsPerBlock; ++s) {
      for (size_t p = 0; p < 64; ++p) {
        const uint8_t x = w[s * 64 + p];
        const size_t tq = p / 16 % kU;
        for (size_t t = 0; t < kT; ++t) {
          const uint8_t* tab = lut[t] + s * kLut + 16 * tq;
          if constexpr (kA4) {
            sums[t][p] += ternary::detail::TableEntryA4(tab, x >> 4) +
                          ternary::detail::TableEntryA4(tab + 16 * kU, x & 15);
          } else {
            sums[t][p] +=
                ternary::detail::TableEntryA8(tab, tab + 16 * kU, x >> 4) +
                ternary::detail::TableEntryA8(tab + 32 * kU, tab + 48 * kU,
                                              x & 15);
          }
        }
      }
    }
  }
#endif  // TERNARY_HAVE_X86_DOT
};

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
