// TL2: bitnet.cpp's x86 lookup-table weight layout, 5 bits per 3 weights
// (1.67 bits per weight): triples as a 4-bit magnitude index plus a sign bit,
// and a TL1-style pair part for the columns left over.
#ifndef TERNARY_QUANT_TL2_H_
#define TERNARY_QUANT_TL2_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ternary/util/error.h"
#include "ternary/util/math.h"

namespace ternary::quant {

// Columns split into a "three" part K3 = ⌊K/BK⌋·BK and a "two" part K2 (the
// rest, padded with zero weights to a multiple of 32). Row chunks are 32 rows
// (bitnet.cpp's bm, fixed for TL2); within a 32-byte chunk vector, byte pos
// holds row perm(pos) = [0,2,1,3][pos/8]·8 + pos%8, so that PUNPCKL/HBW of an
// AVX2 register yields rows 0-15 and 16-31 in order (docs/formats.md §6).
//
// Triple u of row m: v = 9·T[3u] + 3·T[3u+1] + T[3u+2] ∈ [−13, 13], stored as
// |v| (balanced ternary: |v| determines the triple up to its sign) and a
// sign bit (v < 0).
//
//   A  index nibbles, Mp·K3/6 bytes:
//      for mb (BM-row tile) for kb (BK-column block) for mo (32-row chunk)
//      for ky < BK/6 for pos < 32:
//        byte = |v(m, u)| << 4 | |v(m, u+1)|,  m = mb·BM + mo·32 + perm(pos),
//        u = kb·BK/3 + 2·ky
//   B  sign bits, Mp·K3/24 bytes of little-endian uint16 words:
//      for mb for kb for mo for kq < BK/24 for j < 16:
//        word bit 15−i (i < 16) = sign of triple kb·BK/3 + 8·kq + i/2
//                                 of row mb·BM + mo·32 + (i%2)·16 + j
//   C  two-part pair nibbles n = 3·T0 + T1 + 4 (as TL1), Mp·K2/4 bytes:
//      for mb for kb2 < K2/32 for mo for ky < 8 for pos < 32:
//        byte = n(m, t) << 4 | n(m, t+1),  m as in A,  t = kb2·16 + 2·ky
//        (pair t covers columns K3 + 2t, K3 + 2t + 1)
//
// A, B and C are concatenated. Rows are padded with zero weights to a
// multiple of 32; when they are not a multiple of BM the last tile is shorter
// (same loops with BM replaced by its height). For M % BM == 0 and
// (K − K3) % 32 == 0 these are exactly the bytes bitnet.cpp's converter
// writes before its zero padding to P = (K−256)·M/3·5/8 + 256·M/2·4/8 and
// the f32 scale (docs/formats.md §6); the scale is kept separately.
template <size_t kRowsPerTile_, size_t kBK_>
struct TL2Layout {
  static constexpr size_t kRowsPerTile = kRowsPerTile_;
  static constexpr size_t kBK = kBK_;
  static constexpr size_t kRowsPerChunk = 32;
  // A chunk's 32 rows come out of one table lookup: computed whole.
  static constexpr size_t kRowTile = kRowsPerChunk;
  static constexpr size_t kStepCols = 6;    // two triples per byte
  static constexpr size_t kStepBytes = 32;  // one 32-row chunk step
  static constexpr size_t kStepsPerBlock = kBK / kStepCols;
  static constexpr size_t kSignGroupSteps =
      4;  // 32-byte sign group = 8 triples
  static constexpr size_t kTwoBlockCols = 32;
  static constexpr size_t kTwoStepCols = 4;  // two pairs per byte
  static constexpr size_t kTwoStepsPerBlock = kTwoBlockCols / kTwoStepCols;

  static_assert(
      kBK % 24 == 0 && kBK > 0,
      "TL2: BK must be a multiple of 24 (bitnet.cpp uses 96): 3 columns per "
      "triple, 8 triples per sign word");
  static_assert(kRowsPerTile % kRowsPerChunk == 0 && kRowsPerTile <= 1024,
                "TL2: BM must be a multiple of 32, at most 1024");

  static constexpr std::string_view kName = "tl2";

  static constexpr size_t PaddedRows(size_t rows) noexcept {
    return RoundUp(rows, kRowsPerChunk);
  }
  static constexpr size_t ThreeCols(size_t cols) noexcept {
    return cols / kBK * kBK;
  }
  static constexpr size_t TwoCols(size_t cols) noexcept {
    return RoundUp(cols - ThreeCols(cols), kTwoBlockCols);
  }
  static constexpr size_t TileRows(size_t mb, size_t padded_rows) noexcept {
    return padded_rows - mb * kRowsPerTile < kRowsPerTile
               ? padded_rows - mb * kRowsPerTile
               : kRowsPerTile;
  }
  // Byte pos of a 32-byte chunk vector holds this row of the chunk (and
  // vice versa: the permutation is its own inverse).
  static constexpr size_t RowOfStepByte(size_t pos) noexcept {
    constexpr size_t kSwap[4] = {0, 2, 1, 3};
    return kSwap[pos / 8] * 8 + pos % 8;
  }

  // Section offsets and the start of chunk mo of block (mb, kb) in each.
  static constexpr size_t SignsBegin(size_t mp, size_t k3) noexcept {
    return mp * k3 / 6;
  }
  static constexpr size_t TwoBegin(size_t mp, size_t k3) noexcept {
    return mp * k3 / 6 + mp * k3 / 24;
  }
  static constexpr size_t IndexChunk(size_t mb, size_t kb, size_t mo, size_t mp,
                                     size_t k3) noexcept {
    return mb * kRowsPerTile * k3 / 6 + kb * TileRows(mb, mp) * kBK / 6 +
           mo * kRowsPerChunk * kBK / 6;
  }
  static constexpr size_t SignChunk(size_t mb, size_t kb, size_t mo, size_t mp,
                                    size_t k3) noexcept {
    return SignsBegin(mp, k3) + mb * kRowsPerTile * k3 / 24 +
           kb * TileRows(mb, mp) * kBK / 24 + mo * kRowsPerChunk * kBK / 24;
  }
  static constexpr size_t TwoChunk(size_t mb, size_t kb2, size_t mo, size_t mp,
                                   size_t k3, size_t k2) noexcept {
    return TwoBegin(mp, k3) + mb * kRowsPerTile * k2 / 4 +
           kb2 * TileRows(mb, mp) * kTwoBlockCols / 4 +
           mo * kRowsPerChunk * kTwoBlockCols / 4;
  }

  static void CheckShape(size_t rows, size_t cols) {
    if (rows == 0 || cols == 0) {
      throw ShapeError("tl2: cannot pack a " + std::to_string(rows) + "x" +
                       std::to_string(cols) + " matrix");
    }
  }
  static size_t PackedBytes(size_t rows, size_t cols) noexcept {
    const size_t mp = PaddedRows(rows);
    return TwoBegin(mp, ThreeCols(cols)) + mp * TwoCols(cols) / 4;
  }
  // Per token: one 16-entry table per triple and per pair of the two part,
  // 16 low bytes + 16 high bytes of int16 sums (int8 activations); 4-bit
  // activations use 16 int8 entries.
  static size_t PreparedActBytes(size_t cols) noexcept {
    return ThreeCols(cols) / 3 * 32 + TwoCols(cols) / 2 * 32;
  }

  // Balanced-ternary digit j (0: weight 3u, 1: 3u+1, 2: 3u+2) of magnitude
  // index k ∈ [0, 13]: k = 9·d0 + 3·d1 + d2. Indices 14, 15 never occur in
  // valid data and decode to a digit 2 (visible as corrupt in tests).
  static constexpr int TripleDigit(int k, int j) noexcept {
    const int d2 = (k + 1) % 3 - 1, k1 = (k - d2) / 3;
    const int d1 = (k1 + 1) % 3 - 1, d0 = (k1 - d1) / 3;
    return j == 0 ? d0 : j == 1 ? d1 : d2;
  }
  static constexpr int TripleCode(int w0, int w1, int w2) noexcept {
    return 9 * w0 + 3 * w1 + w2;
  }

  static void Pack(const int8_t* t, size_t rows, size_t cols,
                   uint8_t* out) noexcept {
    const size_t mp = PaddedRows(rows), k3 = ThreeCols(cols),
                 k2 = TwoCols(cols);
    auto w = [&](size_t m, size_t c) -> int {
      return m < rows && c < cols ? t[m * cols + c] : 0;
    };
    auto code = [&](size_t m, size_t u) {
      return TripleCode(w(m, 3 * u), w(m, 3 * u + 1), w(m, 3 * u + 2));
    };
    auto abs = [](int v) { return v < 0 ? -v : v; };
    for (size_t mb = 0; mb * kRowsPerTile < mp; ++mb) {
      const size_t tile_rows = TileRows(mb, mp);
      for (size_t mo = 0; mo < tile_rows / kRowsPerChunk; ++mo) {
        const size_t m0 = mb * kRowsPerTile + mo * kRowsPerChunk;
        for (size_t kb = 0; kb < k3 / kBK; ++kb) {
          uint8_t* a = out + IndexChunk(mb, kb, mo, mp, k3);
          for (size_t ky = 0; ky < kStepsPerBlock; ++ky) {
            const size_t u = kb * kBK / 3 + 2 * ky;
            for (size_t pos = 0; pos < 32; ++pos) {
              const size_t m = m0 + RowOfStepByte(pos);
              a[ky * 32 + pos] = static_cast<uint8_t>(abs(code(m, u)) << 4 |
                                                      abs(code(m, u + 1)));
            }
          }
          uint8_t* s = out + SignChunk(mb, kb, mo, mp, k3);
          for (size_t kq = 0; kq < kBK / 24; ++kq) {
            for (size_t j = 0; j < 16; ++j) {
              unsigned word = 0;
              for (size_t i = 0; i < 16; ++i) {
                const size_t u = kb * kBK / 3 + 8 * kq + i / 2;
                if (code(m0 + (i % 2) * 16 + j, u) < 0) word |= 1u << (15 - i);
              }
              s[kq * 32 + 2 * j] = static_cast<uint8_t>(word);
              s[kq * 32 + 2 * j + 1] = static_cast<uint8_t>(word >> 8);
            }
          }
        }
        for (size_t kb2 = 0; kb2 < k2 / kTwoBlockCols; ++kb2) {
          uint8_t* c = out + TwoChunk(mb, kb2, mo, mp, k3, k2);
          for (size_t ky = 0; ky < kTwoStepsPerBlock; ++ky) {
            for (size_t pos = 0; pos < 32; ++pos) {
              const size_t m = m0 + RowOfStepByte(pos);
              const size_t col = k3 + kb2 * kTwoBlockCols + ky * kTwoStepCols;
              const int n0 = 3 * w(m, col) + w(m, col + 1) + 4;
              const int n1 = 3 * w(m, col + 2) + w(m, col + 3) + 4;
              c[ky * 32 + pos] = static_cast<uint8_t>(n0 << 4 | n1);
            }
          }
        }
      }
    }
  }

  static void Unpack(const uint8_t* p, size_t rows, size_t cols,
                     int8_t* t) noexcept {
    const size_t mp = PaddedRows(rows), k3 = ThreeCols(cols),
                 k2 = TwoCols(cols);
    for (size_t m = 0; m < rows; ++m) {
      const size_t mb = m / kRowsPerTile, mo = m % kRowsPerTile / kRowsPerChunk,
                   r = m % kRowsPerChunk;
      const size_t pos = RowOfStepByte(r);
      int8_t* row = t + m * cols;
      for (size_t u = 0; u < k3 / 3; ++u) {
        const size_t kb = 3 * u / kBK,
                     ub = u - kb * kBK / 3;  // triple within block
        const uint8_t idx =
            p[IndexChunk(mb, kb, mo, mp, k3) + ub / 2 * 32 + pos];
        const int k = ub % 2 == 0 ? idx >> 4 : idx & 15;
        const size_t kq = ub / 8, i = ub % 8 * 2 + r / 16, j = r % 16;
        const size_t s_off = SignChunk(mb, kb, mo, mp, k3) + kq * 32 + 2 * j;
        const unsigned word = p[s_off] | unsigned{p[s_off + 1]} << 8;
        const int sign = (word >> (15 - i) & 1) ? -1 : 1;
        for (int d = 0; d < 3; ++d) {
          row[3 * u + d] = static_cast<int8_t>(sign * TripleDigit(k, d));
        }
      }
      for (size_t c = k3; c < k3 + k2 && c < cols; c += 2) {
        const size_t pair = (c - k3) / 2, kb2 = pair / 16, ky = pair % 16 / 2;
        const uint8_t b = p[TwoChunk(mb, kb2, mo, mp, k3, k2) + ky * 32 + pos];
        const int n = pair % 2 == 0 ? b >> 4 : b & 15;
        row[c] = static_cast<int8_t>(n / 3 - 1);
        if (c + 1 < cols) row[c + 1] = static_cast<int8_t>(n % 3 - 1);
      }
    }
  }
};

// Default geometry: BM = 128 divides every BitNet 2B4T row count (640, 2560,
// 6912); BK = 96 is bitnet.cpp's choice in every preset: 6912 = 72·96 has no
// two part, 2560 = 26·96 + 64 a 64-column one; a block's tables (1 KiB per
// token) stay in L1 while the tile's rows sweep them.
using TL2 = TL2Layout<128, 96>;

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_TL2_H_
