// Scalar reference of the TL1/TL2 block kernels: one block of one chunk,
// looked up in the tables the kernels' Prepare builds (lut_tables.h), with
// exact int32 sums. tl1-inl.h and tl2-inl.h call these on targets without a
// SIMD TL kernel (HWY_SCALAR, EMU128, Arm for now).
#ifndef TERNARY_KERNELS_REF_LUT_BLOCKS_H_
#define TERNARY_KERNELS_REF_LUT_BLOCKS_H_

#include <cstddef>
#include <cstdint>

#include "ternary/kernels/ref/lut_tables.h"

namespace ternary::ref {

// TL1: adds L::kStepsPerBlock steps of 64 weight bytes to sums[t][p],
// p = byte position within a step. kLut: table bytes per step
// ((A4 ? 32 : 64) · L::kUnits; the table of unit tq is at 16·tq of each
// part). A byte's high nibble indexes the first pair's table, its low
// nibble the second's.
template <class L, size_t kT, bool kA4, size_t kLut>
void Tl1Block(const uint8_t* w, const uint8_t* const (&lut)[kT],
              int32_t* const (&sums)[kT]) noexcept {
  constexpr size_t kU = L::kUnits;
  for (size_t s = 0; s < L::kStepsPerBlock; ++s) {
    for (size_t p = 0; p < 64; ++p) {
      const uint8_t x = w[s * 64 + p];
      const size_t tq = p / 16 % kU;
      for (size_t t = 0; t < kT; ++t) {
        const uint8_t* tab = lut[t] + s * kLut + 16 * tq;
        if constexpr (kA4) {
          sums[t][p] +=
              TableEntryA4(tab, x >> 4) + TableEntryA4(tab + 16 * kU, x & 15);
        } else {
          sums[t][p] += TableEntryA8(tab, tab + 16 * kU, x >> 4) +
                        TableEntryA8(tab + 32 * kU, tab + 48 * kU, x & 15);
        }
      }
    }
  }
}

// TL2: adds kSteps steps of 32 weight bytes of one chunk to sums[t][pos],
// pos = byte position within a step. kThree: the three part (triple tables
// indexed by |v|, the entry negated where the sign bit is set; signs holds
// one 32-byte group of 16-bit sign words per 4 steps, word j for rows j and
// 16 + j, bit 15 − (4·(s % 4) + r / 16) for the step's first triple, two
// bits lower for its second); otherwise the two part (pair tables, no
// signs). kLut: table bytes per step (A4 ? 32 : 64).
template <class L, size_t kT, bool kA4, bool kThree, size_t kSteps, size_t kLut>
void Tl2Block(const uint8_t* w, const uint8_t* signs,
              const uint8_t* const (&lut)[kT],
              int32_t* const (&sums)[kT]) noexcept {
  for (size_t s = 0; s < kSteps; ++s) {
    for (size_t pos = 0; pos < 32; ++pos) {
      const uint8_t x = w[s * 32 + pos];
      int sign_hi = 1, sign_lo = 1;
      if constexpr (kThree) {
        const size_t r = L::RowOfStepByte(pos), j = r % 16;
        const uint8_t* wd = signs + s / 4 * 32 + 2 * j;
        const unsigned word = wd[0] | unsigned{wd[1]} << 8;
        const size_t i = s % 4 * 4 + r / 16;  // bit 15 − i: triple 2·(s%4)
        sign_hi = (word >> (15 - i) & 1) ? -1 : 1;
        sign_lo = (word >> (13 - i) & 1) ? -1 : 1;  // triple 2·(s%4) + 1
      }
      for (size_t t = 0; t < kT; ++t) {
        const uint8_t* tab = lut[t] + s * kLut;
        if constexpr (kA4) {
          sums[t][pos] += sign_hi * TableEntryA4(tab, x >> 4) +
                          sign_lo * TableEntryA4(tab + 16, x & 15);
        } else {
          sums[t][pos] += sign_hi * TableEntryA8(tab, tab + 16, x >> 4) +
                          sign_lo * TableEntryA8(tab + 32, tab + 48, x & 15);
        }
      }
    }
  }
}

}  // namespace ternary::ref

#endif  // TERNARY_KERNELS_REF_LUT_BLOCKS_H_
