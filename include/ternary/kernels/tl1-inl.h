// TL1 matmul kernels (GEMV and GEMM, int8 and int4 activations) for every
// Highway target (shared lookup-table machinery: tl_common-inl.h).
#ifndef TERNARY_KERNELS_TL1_INL_H_
#define TERNARY_KERNELS_TL1_INL_H_
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ternary/kernels/matmul_args.h"
#include "ternary/kernels/ref/lut_blocks.h"
#include "ternary/quant/tl1.h"
#include "ternary/util/math.h"
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
#include "ternary/kernels/tl_common-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {

template <size_t kRowsPerTile, size_t kBK, size_t kRowsPerChunk>
struct Kernel<quant::TL1Layout<kRowsPerTile, kBK, kRowsPerChunk>>
    : tl::LutDriver<Kernel<quant::TL1Layout<kRowsPerTile, kBK, kRowsPerChunk>>,
                    kRowsPerChunk, kRowsPerTile / kRowsPerChunk> {
  using L = quant::TL1Layout<kRowsPerTile, kBK, kRowsPerChunk>;
  static constexpr size_t kU = L::kUnits;
  static constexpr size_t kChunks = kRowsPerTile / kRowsPerChunk;
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

  // Chunks [mo_begin, mo_end) of row tile mb for tokens t0..t0+kT
  // (tl::LutDriver walks the tiles).
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
        tl::StoreChunk<kRowsPerChunk, 64>(
            a, t0 + t, mb * kRowsPerTile + mo * kRowsPerChunk, row_begin,
            row_end, acc[t][mo], L::RowOfStepByte);
      }
    }
  }

 private:
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
  // Scalar lookups in the same tables (kernels/ref/lut_blocks.h).
  template <size_t kT, bool kA4>
  static void Block(const uint8_t* w, const uint8_t* const (&lut)[kT],
                    int32_t* const (&sums)[kT]) {
    ref::Tl1Block<L, kT, kA4, LutStepBytes(kA4)>(w, lut, sums);
  }
#endif  // TERNARY_HAVE_X86_DOT
};

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
