// I2_S: bitnet.cpp's x86 "MAD" weight layout, 2 bits per weight.
#ifndef TERNARY_QUANT_I2S_H_
#define TERNARY_QUANT_I2S_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ternary/util/error.h"
#include "ternary/util/math.h"

namespace ternary::quant {

// Each row is cut into blocks of 128 weights; a block is 32 bytes and byte p
// of block b holds four weights as unsigned codes c = w + 1 ∈ {0, 1, 2}:
//
//   byte 32b+p:  bits 7..6      5..4         3..2         1..0
//                c[128b+p]  c[128b+32+p]  c[128b+64+p]  c[128b+96+p]
//
// Rows are padded with zero weights (code 1) to a multiple of 128 columns,
// so any shape packs; for cols % 128 == 0 (every BitNet 2B4T matrix) the
// bytes are exactly bitnet.cpp's I2_S tensor data (docs/formats.md §4) minus
// the trailing f32 scale, which we keep separately.
struct I2S {
  static constexpr std::string_view kName = "i2s";
  static constexpr size_t kBlockWeights = 128;
  // Rows are independent (the GEMM's 4-row tiles repeat a ragged edge).
  static constexpr size_t kRowTile = 1;
  static constexpr size_t kBlockBytes = 32;

  static constexpr size_t PaddedCols(size_t cols) noexcept {
    return RoundUp(cols, kBlockWeights);
  }
  static void CheckShape(size_t rows, size_t cols) {
    if (rows == 0 || cols == 0) {
      throw ShapeError("i2s: cannot pack a " + std::to_string(rows) + "x" +
                       std::to_string(cols) + " matrix");
    }
  }
  static size_t PackedBytes(size_t rows, size_t cols) noexcept {
    return rows * PaddedCols(cols) / 4;
  }
  // Kernels read activations in whole vectors of up to 4 blocks.
  static size_t PreparedActBytes(size_t cols) noexcept {
    return RoundUp(cols, 4 * kBlockWeights);
  }

  static void Pack(const int8_t* t, size_t rows, size_t cols,
                   uint8_t* out) noexcept {
    const size_t kp = PaddedCols(cols);
    for (size_t r = 0; r < rows; ++r) {
      uint8_t* row = out + r * kp / 4;
      for (size_t b = 0; b < kp / kBlockWeights; ++b) {
        for (size_t p = 0; p < kBlockBytes; ++p) {
          uint8_t byte = 0;
          for (size_t j = 0; j < 4; ++j) {
            const size_t col = b * kBlockWeights + j * 32 + p;
            const int w = col < cols ? t[r * cols + col] : 0;
            byte |= static_cast<uint8_t>((w + 1) << (6 - 2 * j));
          }
          row[b * kBlockBytes + p] = byte;
        }
      }
    }
  }

  // Code 3 never occurs in valid data; it unpacks as +2 so that a corrupt
  // matrix is visible in tests rather than silently zeroed.
  static void Unpack(const uint8_t* p, size_t rows, size_t cols,
                     int8_t* t) noexcept {
    const size_t kp = PaddedCols(cols);
    for (size_t r = 0; r < rows; ++r) {
      const uint8_t* row = p + r * kp / 4;
      for (size_t col = 0; col < cols; ++col) {
        const size_t b = col / kBlockWeights, j = (col % kBlockWeights) / 32,
                     pos = col % 32;
        const int c = (row[b * kBlockBytes + pos] >> (6 - 2 * j)) & 3;
        t[r * cols + col] = static_cast<int8_t>(c - 1);
      }
    }
  }
};

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_I2S_H_
