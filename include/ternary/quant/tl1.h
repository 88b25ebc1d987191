// TL1: bitnet.cpp's lookup-table weight layout (its ARM format), 2 bits per
// weight: pairs of weights as 4-bit table indices, tiled for 16-byte lookups.
#ifndef TERNARY_QUANT_TL1_H_
#define TERNARY_QUANT_TL1_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ternary/util/error.h"
#include "ternary/util/math.h"

namespace ternary::quant {

// Weights are taken in pairs along a row, (w0, w1) = (T[m][2t], T[m][2t+1]),
// and coded as the nibble n = 3·w0 + w1 + 4 ∈ [0, 8]; a byte holds two pairs
// of one row, n(t) << 4 | n(t+1). The kernels look the nibbles up in a
// per-token table of the 9 sums (n/3 − 1)·q[2t] + (n%3 − 1)·q[2t+1].
//
// Geometry = bitnet.cpp's kernel_config.ini: row tiles of BM = kRowsPerTile
// rows (its bm), column blocks of BK = kBK columns (bk), chunks of
// bm = kRowsPerChunk rows (bmm);
// a step is by = 256/bm columns of one chunk, 64 bytes (docs/formats.md §5):
//
//   for mb (BM-row tile)  for kb (BK-column block)  for mo (bm-row chunk)
//   for ky (step of by columns)  for mg < bm/16  for tq < by/4  for ml < 16:
//     byte  = n(m, t) << 4 | n(m, t + 1)
//     m     = mb·BM + mo·bm + mg·16 + ml
//     t     = (kb·BK + ky·by) / 2 + 2·tq
//
//   bm = 64 (by = 4): a step is 4 row groups × 16 bytes, one pair couple:
//     [rows 0-15 | rows 16-31 | rows 32-47 | rows 48-63]  byte = n(t)<<4|n(t+1)
//   bm = 32 (by = 8): 2 row groups × 2 pair couples:
//     [rows 0-15 t,t+1 | rows 0-15 t+2,t+3 | rows 16-31 t,t+1 | rows 16-31
//     t+2,t+3]
//
// Any shape packs: columns are padded with zero weights (n = 4) to a multiple
// of BK, rows to a multiple of bm; when the rows are not a multiple of BM the
// last tile is shorter (its chunks follow the same loops with BM replaced by
// the tile's height). For M % BM == 0 and K % BK == 0 the bytes are exactly
// bitnet.cpp's TL1 tensor data (docs/formats.md §5) minus the trailing f32
// scale, which we keep separately.
template <size_t kRowsPerTile_, size_t kBK_, size_t kRowsPerChunk_>
struct TL1Layout {
  static constexpr size_t kRowsPerTile = kRowsPerTile_;
  static constexpr size_t kBK = kBK_;
  static constexpr size_t kRowsPerChunk = kRowsPerChunk_;
  // A chunk's kRowsPerChunk rows come out of one table lookup: computed whole.
  static constexpr size_t kRowTile = kRowsPerChunk;
  // Columns per step (bitnet.cpp by) and 16-byte units per row group.
  static constexpr size_t kStepCols = 256 / kRowsPerChunk;
  static constexpr size_t kPairsPerStep = kStepCols / 2;
  static constexpr size_t kUnits = kStepCols / 4;  // tq values
  static constexpr size_t kStepBytes = 64;
  static constexpr size_t kStepsPerBlock = kBK / kStepCols;

  static_assert(kRowsPerChunk == 32 || kRowsPerChunk == 64,
                "TL1: bm (bitnet.cpp bmm) must be 32 or 64");
  static_assert(kRowsPerTile % kRowsPerChunk == 0 && kRowsPerTile <= 1024,
                "TL1: BM must be a multiple of bm, at most 1024");
  static_assert(kBK % kStepCols == 0 && kBK > 0,
                "TL1: BK must be a multiple of 256 / bm");

  static constexpr std::string_view kName = "tl1";

  static constexpr size_t PaddedRows(size_t rows) noexcept {
    return RoundUp(rows, kRowsPerChunk);
  }
  static constexpr size_t PaddedCols(size_t cols) noexcept {
    return RoundUp(cols, kBK);
  }
  // Rows of tile mb (BM, or fewer for the last one).
  static constexpr size_t TileRows(size_t mb, size_t padded_rows) noexcept {
    return padded_rows - mb * kRowsPerTile < kRowsPerTile
               ? padded_rows - mb * kRowsPerTile
               : kRowsPerTile;
  }
  // Offset of chunk mo of block (mb, kb).
  static constexpr size_t ChunkOffset(size_t mb, size_t kb, size_t mo,
                                      size_t padded_rows,
                                      size_t padded_cols) noexcept {
    return mb * kRowsPerTile * padded_cols / 4 +
           kb * TileRows(mb, padded_rows) * kBK / 4 +
           mo * kRowsPerChunk * kBK / 4;
  }
  // Row within its chunk of byte p ∈ [0, 64) of a step.
  static constexpr size_t RowOfStepByte(size_t p) noexcept {
    return p / 16 / kUnits * 16 + p % 16;
  }

  static void CheckShape(size_t rows, size_t cols) {
    if (rows == 0 || cols == 0) {
      throw ShapeError("tl1: cannot pack a " + std::to_string(rows) + "x" +
                       std::to_string(cols) + " matrix");
    }
  }
  static size_t PackedBytes(size_t rows, size_t cols) noexcept {
    return PaddedRows(rows) * PaddedCols(cols) / 4;
  }
  // One 9-entry table per pair: 16 low bytes + 16 high bytes of int16 sums
  // (int8 activations); 4-bit activations use 16 int8 entries.
  static size_t PreparedActBytes(size_t cols) noexcept {
    return PaddedCols(cols) / 2 * 32;
  }

  // Weights of nibble n: w0 = n/3 − 1, w1 = n%3 − 1.
  static constexpr int PairW0(int n) noexcept { return n / 3 - 1; }
  static constexpr int PairW1(int n) noexcept { return n % 3 - 1; }
  static constexpr uint8_t PairNibble(int w0, int w1) noexcept {
    return static_cast<uint8_t>(3 * w0 + w1 + 4);
  }

  static void Pack(const int8_t* t, size_t rows, size_t cols,
                   uint8_t* out) noexcept {
    const size_t mp = PaddedRows(rows), kp = PaddedCols(cols);
    auto w = [&](size_t m, size_t c) -> int {
      return m < rows && c < cols ? t[m * cols + c] : 0;
    };
    auto nib = [&](size_t m, size_t pair) {
      return PairNibble(w(m, 2 * pair), w(m, 2 * pair + 1));
    };
    for (size_t mb = 0; mb * kRowsPerTile < mp; ++mb) {
      const size_t tile_rows = TileRows(mb, mp);
      for (size_t kb = 0; kb < kp / kBK; ++kb) {
        for (size_t mo = 0; mo < tile_rows / kRowsPerChunk; ++mo) {
          uint8_t* chunk = out + ChunkOffset(mb, kb, mo, mp, kp);
          for (size_t ky = 0; ky < kStepsPerBlock; ++ky) {
            for (size_t p = 0; p < kStepBytes; ++p) {
              const size_t m =
                  mb * kRowsPerTile + mo * kRowsPerChunk + RowOfStepByte(p);
              const size_t pair =
                  (kb * kBK + ky * kStepCols) / 2 + 2 * (p / 16 % kUnits);
              chunk[ky * kStepBytes + p] =
                  static_cast<uint8_t>(nib(m, pair) << 4 | nib(m, pair + 1));
            }
          }
        }
      }
    }
  }

  // Nibbles 9..15 never occur in valid data; they unpack to a weight of ±2 so
  // that a corrupt matrix is visible in tests.
  static void Unpack(const uint8_t* p, size_t rows, size_t cols,
                     int8_t* t) noexcept {
    const size_t mp = PaddedRows(rows), kp = PaddedCols(cols);
    for (size_t m = 0; m < rows; ++m) {
      const size_t mb = m / kRowsPerTile, mo = m % kRowsPerTile / kRowsPerChunk,
                   r = m % kRowsPerChunk;
      const size_t byte_in_unit = r % 16, mg = r / 16;
      for (size_t c = 0; c < cols; c += 2) {
        const size_t pair = c / 2, kb = c / kBK, ky = c % kBK / kStepCols;
        const size_t in_step = pair % kPairsPerStep;  // 2·tq + (0 hi, 1 lo)
        const size_t off = ChunkOffset(mb, kb, mo, mp, kp) + ky * kStepBytes +
                           (mg * kUnits + in_step / 2) * 16 + byte_in_unit;
        const int n = in_step % 2 == 0 ? p[off] >> 4 : p[off] & 15;
        t[m * cols + c] = static_cast<int8_t>(PairW0(n));
        if (c + 1 < cols) t[m * cols + c + 1] = static_cast<int8_t>(PairW1(n));
      }
    }
  }
};

// Default geometry: BM = 128 divides every BitNet 2B4T row count (640, 2560,
// 6912), so those matrices need no row padding; BK = 128 divides both
// column counts (2560, 6912) and keeps a block's lookup tables (2 KiB per
// token) in L1 while the tile's rows sweep them; bm = 64 makes each 32-byte
// vector 32 distinct rows of one pair couple, so one broadcast 16-byte table
// serves both halves of an AVX2 register.
using TL1 = TL1Layout<128, 128, 64>;

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_TL1_H_
