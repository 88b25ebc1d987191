// TL2 matmul kernels (GEMV and GEMM, int8 and int4 activations) for every
// Highway target.
#ifndef TERNARY_KERNELS_TL2_INL_H_
#define TERNARY_KERNELS_TL2_INL_H_
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ternary/kernels/matmul_args.h"
#include "ternary/kernels/ref/lut_blocks.h"
#include "ternary/quant/tl2.h"
#include "ternary/util/math.h"
#endif  // TERNARY_KERNELS_TL2_INL_H_

#if defined(TERNARY_KERNELS_TL2_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_TL2_INL_H_TARGET
#undef TERNARY_KERNELS_TL2_INL_H_TARGET
#else
#define TERNARY_KERNELS_TL2_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"
// After highway.h
#include "ternary/kernels/kernel-inl.h"
#include "ternary/kernels/tl_common-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {

// How it works (bitnet.cpp's x86 TL2 kernel, docs/numerics.md §6.3). Prepare
// builds per token one 14-entry table per activation triple, indexed by the
// stored magnitude |v|, and one TL1 pair table per pair of the two part. A step
// is 32 bytes = 32 rows × 2 triples (index nibbles); the looked-up entry e of a
// row is negated where its sign bit is set. The sign words put the bit of row
// j and of row 16 + j in one 16-bit lane j, matching the int16 lanes after
// PUNPCKL/HBW (rows 0-15 in the lower lanes, 16-31 in the upper, thanks to
// the layout's chunk swap). bitnet.cpp shifts the wanted bit to bit 15 and
// applies (e + s) ^ s with s = that bit broadcast. We either
//  - (SSSE3..AVX2) shift it to bit 15 and use PSIGNW/PSIGNB, which need a
//    non-zero operand: (word | 1) << k has bit k set for k < 15; for int8
//    entries PACKSSWB of the lower and upper operands gives each byte its
//    row's operand; or
//  - (AVX-512) test the bit into a mask register (VPTESTMW; for bytes,
//    VPTESTMB on the sign bytes shuffled to the weight bytes' rows once per
//    4 steps) and negate with a masked subtraction: no shifts or PSIGN, which
//    share the PSHUFB/PUNPCK pipes on Zen 4 (measured there, 2560×2560
//    GEMV: A4 57 → 51 µs, A8 unchanged at ~75 µs: all four vector pipes
//    are busy, 23 ops per step, 8 of them for the signs).
// A8: int16 entries (|e| ≤ 384) from low/high byte tables as in TL1. A4:
// int8 entries (|e| ≤ 24), signed as bytes and summed in int8 for 2 steps.
namespace tl {

#if TERNARY_HAVE_X86_DOT
#if HWY_TARGET <= HWY_AVX3
static_assert(kN == 32, "AVX-512 targets use 256-bit TL vectors");
// VPTESTM operands, read as memory operands (VPTESTM ymm, ymm, m256).
// words[i]: bit 15 − i of every word. bytes[uv]: bit 7 − 2·uv of the lower
// rows' bytes (0-7 of each block), one bit lower for the upper rows'.
struct SignBits {
  alignas(32) uint16_t words[16][16];
  alignas(32) uint8_t bytes[4][32];
};
inline constexpr SignBits kSignBits = [] {
  SignBits b{};
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j)
      b.words[i][j] = static_cast<uint16_t>(1u << (15 - i));
  for (int uv = 0; uv < 4; ++uv)
    for (int p = 0; p < 32; ++p)
      b.bytes[uv][p] = static_cast<uint8_t>(1u << (7 - 2 * uv - (p % 16) / 8));
  return b;
}();

// The sign bits of one 4-step group (8 triples × 32 rows).
struct SignGroup {
  __m256i words;     // A8: word j = rows j, 16 + j
  __m256i bytes[2];  // A4: byte p = sign byte of row perm(p), triples 0-3 / 4-7
  // kSignBits behind an opaque pointer: GCC would otherwise rebuild the
  // known constants in registers (MOVABS + VPBROADCASTQ, a shuffle-port op
  // on Zen 4) and spill them, instead of using memory operands.
  const SignBits* bits;
};
template <bool kA4>
HWY_INLINE SignGroup LoadSignGroup(const uint8_t* p) {
  SignGroup g;
  g.words = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  if constexpr (kA4) {
    // Word j is bytes 2j (bits 0-7: triples 4-7) and 2j + 1 (bits 8-15:
    // triples 0-3). Byte p of either 16-byte block holds a row whose word is
    // p % 8 of that block.
    const __m256i odd = _mm256_set1_epi64x(0x0F0D0B0907050301ll);
    const __m256i even = _mm256_set1_epi64x(0x0E0C0A0806040200ll);
    g.bytes[0] = _mm256_shuffle_epi8(g.words, odd);
    g.bytes[1] = _mm256_shuffle_epi8(g.words, even);
  }
  g.bits = &kSignBits;
  asm("" : "+r"(g.bits));
  return g;
}
// Masks of one step: A8 k[i] for word bit 15 − (4·kJ + i) (lower/upper rows
// of triple 2kJ, then of 2kJ + 1); A4 k[0], k[1] per byte for the triples.
struct StepSigns {
  __mmask32 k[4];
};
template <int kJ, bool kA4>
HWY_INLINE StepSigns MakeStepSigns(const SignGroup& g) {
  StepSigns m;
  if constexpr (kA4) {
    // Triples 2kJ, 2kJ + 1 are in bytes[kJ / 2] at uv % 4 = 2·(kJ % 2) (+1).
    const auto* bits =
        reinterpret_cast<const __m256i*>(g.bits->bytes[2 * (kJ % 2)]);
    m.k[0] = _mm256_test_epi8_mask(g.bytes[kJ / 2], _mm256_load_si256(bits));
    m.k[1] =
        _mm256_test_epi8_mask(g.bytes[kJ / 2], _mm256_load_si256(bits + 1));
  } else {
    for (int i = 0; i < 4; ++i) {
      m.k[i] = _mm256_test_epi16_mask(
          g.words, _mm256_load_si256(reinterpret_cast<const __m256i*>(
                       g.bits->words[4 * kJ + i])));
    }
  }
  return m;
}
HWY_INLINE VI16 ApplySign(VI16 e, const StepSigns& m, int i) {
  return VI16{_mm256_mask_sub_epi16(e.raw, static_cast<__mmask16>(m.k[i]),
                                    _mm256_setzero_si256(), e.raw)};
}
HWY_INLINE VU8 ApplySign8(VU8 e, const StepSigns& m, int i) {
  return VU8{
      _mm256_mask_sub_epi8(e.raw, m.k[i], _mm256_setzero_si256(), e.raw)};
}
#else
struct SignGroup {
  VI16 s, so;  // the sign words, and the words | 1
};
template <bool kA4>
HWY_INLINE SignGroup LoadSignGroup(const uint8_t* p) {
  const DI16 di16;
  const VI16 s = hn::LoadU(di16, reinterpret_cast<const int16_t*>(p));
  return {s, hn::Or(s, hn::Set(di16, 1))};
}
// PSIGN operand with bit 15 = bit (15 − kShift) of the sign word, never 0.
template <int kShift>
HWY_INLINE VI16 SignOperand(const SignGroup& g) {
  if constexpr (kShift == 15) {
    return hn::Or(hn::ShiftLeft<15>(g.s), hn::Set(DI16(), 1));
  } else {
    return hn::ShiftLeft<kShift>(g.so);
  }
}
struct StepSigns {
  VI16 m[4];  // A8: lower/upper rows of triple 2kJ, then of 2kJ + 1
  VU8 b[2];   // A4: per byte, triple 2kJ and 2kJ + 1
};
template <int kJ, bool kA4>
HWY_INLINE StepSigns MakeStepSigns(const SignGroup& g) {
  StepSigns m;
  m.m[0] = SignOperand<4 * kJ>(g);
  m.m[1] = SignOperand<4 * kJ + 1>(g);
  m.m[2] = SignOperand<4 * kJ + 2>(g);
  m.m[3] = SignOperand<4 * kJ + 3>(g);
  if constexpr (kA4) {
    m.b[0] = PacksPerBlock(m.m[0], m.m[1]);
    m.b[1] = PacksPerBlock(m.m[2], m.m[3]);
  }
  return m;
}
HWY_INLINE VI16 ApplySign(VI16 e, const StepSigns& m, int i) {
  return ApplySign(e, m.m[i]);
}
HWY_INLINE VU8 ApplySign8(VU8 e, const StepSigns& m, int i) {
  return ApplySign(e, m.b[i]);
}
#endif  // HWY_TARGET <= HWY_AVX3
#endif  // TERNARY_HAVE_X86_DOT

}  // namespace tl

template <size_t kRowsPerTile, size_t kBK>
struct Kernel<quant::TL2Layout<kRowsPerTile, kBK>>
    : tl::LutDriver<Kernel<quant::TL2Layout<kRowsPerTile, kBK>>, 32,
                    kRowsPerTile / 32> {
  using L = quant::TL2Layout<kRowsPerTile, kBK>;
  static constexpr size_t kChunks = kRowsPerTile / 32;
  // Table bytes per step (two triples or two pairs).
  static constexpr size_t LutStepBytes(bool a4) { return a4 ? 32 : 64; }

  static void Prepare(const PrepareArgs& a) noexcept {
    const bool a4 = a.act_max_abs <= 8;
    const size_t k3 = L::ThreeCols(a.cols), k2 = L::TwoCols(a.cols);
    const size_t step = LutStepBytes(a4), table = a4 ? 16 : 32;
    for (size_t t = 0; t < a.n_tokens; ++t) {
      const int8_t* q = a.q + t * a.q_stride;
      uint8_t* out = reinterpret_cast<uint8_t*>(a.out + t * a.out_stride);
      // Three part: per step [table(u) | table(u + 1)], each 16 low bytes
      // then 16 high bytes (A8) or 16 int8 entries (A4). Columns < K3 ≤ cols.
      for (size_t u = 0; u < k3 / 3; ++u) {
        uint8_t* lo = out + u * table;
        tl::TripleTable(q[3 * u], q[3 * u + 1], q[3 * u + 2], lo,
                        a4 ? nullptr : lo + 16);
      }
      uint8_t* two = out + k3 / 6 * step;
      for (size_t g = 0; g < k2 / 4; ++g) {
        tl::PairStepTables<2>(q + k3, a.cols - k3, 2 * g, a4, two + g * step);
      }
    }
  }

  // Chunks [mo_begin, mo_end) of row tile mb for tokens t0..t0+kT
  // (tl::LutDriver walks the tiles).
  template <size_t kT, bool kA4>
  static HWY_NOINLINE void Tile(const MatMulArgs& a, size_t t0, size_t mb,
                                size_t mo_begin, size_t mo_end,
                                size_t row_begin, size_t row_end) noexcept {
    const size_t mp = L::PaddedRows(a.rows);
    const size_t k3 = L::ThreeCols(a.cols), k2 = L::TwoCols(a.cols);
    constexpr size_t kStep = LutStepBytes(kA4);
    HWY_ALIGN int32_t acc[kT][kChunks][32];
    for (size_t t = 0; t < kT; ++t) {
      std::memset(acc[t][mo_begin], 0, (mo_end - mo_begin) * sizeof(acc[t][0]));
    }
    const uint8_t* lut[kT];
    int32_t* sums[kT];
    for (size_t kb = 0; kb < k3 / kBK; ++kb) {
      for (size_t t = 0; t < kT; ++t) {
        lut[t] =
            reinterpret_cast<const uint8_t*>(a.acts + (t0 + t) * a.act_stride) +
            kb * L::kStepsPerBlock * kStep;
      }
      for (size_t mo = mo_begin; mo < mo_end; ++mo) {
        for (size_t t = 0; t < kT; ++t) sums[t] = acc[t][mo];
        Block<kT, kA4, true, L::kStepsPerBlock>(
            a.weights + L::IndexChunk(mb, kb, mo, mp, k3),
            a.weights + L::SignChunk(mb, kb, mo, mp, k3), lut, sums);
      }
    }
    for (size_t kb2 = 0; kb2 < k2 / L::kTwoBlockCols; ++kb2) {
      for (size_t t = 0; t < kT; ++t) {
        lut[t] =
            reinterpret_cast<const uint8_t*>(a.acts + (t0 + t) * a.act_stride) +
            (k3 / 6 + kb2 * L::kTwoStepsPerBlock) * kStep;
      }
      for (size_t mo = mo_begin; mo < mo_end; ++mo) {
        for (size_t t = 0; t < kT; ++t) sums[t] = acc[t][mo];
        Block<kT, kA4, false, L::kTwoStepsPerBlock>(
            a.weights + L::TwoChunk(mb, kb2, mo, mp, k3, k2), nullptr, lut,
            sums);
      }
    }
    for (size_t t = 0; t < kT; ++t) {
      for (size_t mo = mo_begin; mo < mo_end; ++mo) {
        tl::StoreChunk<32, 32>(a, t0 + t, mb * kRowsPerTile + mo * 32,
                               row_begin, row_end, acc[t][mo],
                               L::RowOfStepByte);
      }
    }
  }

 private:
#if TERNARY_HAVE_X86_DOT
  // int16 bounds. A8: lanes of one nibble's accumulator get one entry
  // (|e| ≤ 3·128 triples, 2·128 pairs) per step and the two nibbles' sums
  // are added before widening: 2·384·40 = 30720 < 32767. A4: int8 lanes get
  // two entries (|e| ≤ 24) per step, 2 steps ≤ 96; int16 ≤ 48 per step.
  static constexpr size_t kMaxSteps =
      40;  // a multiple of the 4-step sign group
  static constexpr size_t kStepsI8 = 2;

  // One step (32 weight bytes; kV vectors) for kT tokens. kJ: step within
  // its sign group (the sign bits of triples 2·kJ and 2·kJ + 1).
  template <size_t kT, bool kA4, bool kThree, int kJ>
  static HWY_INLINE void Step(const uint8_t* HWY_RESTRICT w,
                              const tl::SignGroup* g,
                              const uint8_t* const (&lut)[kT], size_t lut_off,
                              tl::VI16 (&acc)[kT][32 / tl::kN][4],
                              tl::VU8 (&e8)[kT][32 / tl::kN]) {
    const tl::DU8 du8;
    constexpr size_t kV = 32 / tl::kN;
    HWY_UNROLL(2)
    for (size_t v = 0; v < kV; ++v) {
      tl::VU8 hi, lo;
      tl::Nibbles(hn::LoadU(du8, w + v * tl::kN), hi, lo);
      tl::StepSigns m;
      if constexpr (kThree) m = tl::MakeStepSigns<kJ, kA4>(g[v]);
      HWY_UNROLL(4)
      for (size_t t = 0; t < kT; ++t) {
        const uint8_t* tab = lut[t] + lut_off;
        if constexpr (kA4) {
          tl::VU8 eh = hn::TableLookupBytes(hn::LoadDup128(du8, tab), hi);
          tl::VU8 el = hn::TableLookupBytes(hn::LoadDup128(du8, tab + 16), lo);
          if constexpr (kThree) {
            eh = tl::ApplySign8(eh, m, 0);
            el = tl::ApplySign8(el, m, 1);
          }
          e8[t][v] = hn::Add(e8[t][v], hn::Add(eh, el));
        } else {
          tl::VI16 e[4];
          tl::LookupA8(hn::LoadDup128(du8, tab), hn::LoadDup128(du8, tab + 16),
                       hi, e[0], e[1]);
          tl::LookupA8(hn::LoadDup128(du8, tab + 32),
                       hn::LoadDup128(du8, tab + 48), lo, e[2], e[3]);
          HWY_UNROLL(4)
          for (int i = 0; i < 4; ++i) {
            if constexpr (kThree) e[i] = tl::ApplySign(e[i], m, i);
            acc[t][v][i] = hn::Add(acc[t][v][i], e[i]);
          }
        }
      }
    }
  }

  // Adds kSteps steps of one chunk (three part with sign bits, or two part)
  // to sums[t][p], p = byte position within a 32-byte step.
  template <size_t kT, bool kA4, bool kThree, size_t kSteps>
  static HWY_INLINE void Block(const uint8_t* HWY_RESTRICT w,
                               const uint8_t* HWY_RESTRICT signs,
                               const uint8_t* const (&lut)[kT],
                               int32_t* const (&sums)[kT]) {
    const tl::DU8 du8;
    const tl::DI16 di16;
    constexpr size_t kV = 32 / tl::kN;
    constexpr size_t kLut = LutStepBytes(kA4);
    static_assert(kSteps % 4 == 0, "steps come in sign groups of 4");
    for (size_t s0 = 0; s0 < kSteps; s0 += kMaxSteps) {
      const size_t s_end = std::min(kSteps, s0 + kMaxSteps);
      tl::VI16 acc[kT][kV][4];
      tl::VU8 e8[kT][kV];
      HWY_UNROLL(4)
      for (size_t t = 0; t < kT; ++t) {
        HWY_UNROLL(2)
        for (size_t v = 0; v < kV; ++v) {
          HWY_UNROLL(4)
          for (size_t i = 0; i < 4; ++i) acc[t][v][i] = hn::Zero(di16);
          e8[t][v] = hn::Zero(du8);
        }
      }
      // Widens the int8 sums (A4) into acc[..][0] (lower) and [1] (upper).
      auto flush8 = [&]() {
        if constexpr (kA4) {
          HWY_UNROLL(4)
          for (size_t t = 0; t < kT; ++t) {
            HWY_UNROLL(2)
            for (size_t v = 0; v < kV; ++v) {
              tl::VI16 l16, u16;
              tl::WidenI8(e8[t][v], l16, u16);
              acc[t][v][0] = hn::Add(acc[t][v][0], l16);
              acc[t][v][1] = hn::Add(acc[t][v][1], u16);
              e8[t][v] = hn::Zero(du8);
            }
          }
        }
      };
      for (size_t s = s0; s < s_end; s += 4) {
        tl::SignGroup g[kV];
        if constexpr (kThree) {
          HWY_UNROLL(2)
          for (size_t v = 0; v < kV; ++v) {
            g[v] = tl::LoadSignGroup<kA4>(signs + s / 4 * 32 + v * tl::kN);
          }
        }
        const uint8_t* ws = w + s * 32;
        Step<kT, kA4, kThree, 0>(ws, g, lut, s * kLut, acc, e8);
        Step<kT, kA4, kThree, 1>(ws + 32, g, lut, (s + 1) * kLut, acc, e8);
        flush8();  // kStepsI8 = 2
        Step<kT, kA4, kThree, 2>(ws + 64, g, lut, (s + 2) * kLut, acc, e8);
        Step<kT, kA4, kThree, 3>(ws + 96, g, lut, (s + 3) * kLut, acc, e8);
        flush8();
      }
      HWY_UNROLL(4)
      for (size_t t = 0; t < kT; ++t) {
        HWY_UNROLL(2)
        for (size_t v = 0; v < kV; ++v) {
          tl::AddWidened(hn::Add(acc[t][v][0], acc[t][v][2]),
                         hn::Add(acc[t][v][1], acc[t][v][3]),
                         sums[t] + v * tl::kN);
        }
      }
    }
  }
#else
  // Scalar lookups in the same tables (kernels/ref/lut_blocks.h).
  template <size_t kT, bool kA4, bool kThree, size_t kSteps>
  static void Block(const uint8_t* w, const uint8_t* signs,
                    const uint8_t* const (&lut)[kT],
                    int32_t* const (&sums)[kT]) {
    ref::Tl2Block<L, kT, kA4, kThree, kSteps, LutStepBytes(kA4)>(w, signs, lut,
                                                                 sums);
  }
#endif  // TERNARY_HAVE_X86_DOT
};

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
