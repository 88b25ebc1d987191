// Which block layout a GGUF's I2_S tensors use (docs/formats.md §4.2, §4.3).
// The type id, the size and the metadata are the same for both, so nothing
// in a file tells them apart: the user says which build wrote it.
#ifndef TERNARY_QUANT_I2S_LAYOUT_H_
#define TERNARY_QUANT_I2S_LAYOUT_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace ternary::quant {

enum class I2SLayout {
  // 128-value blocks of 32 bytes: bitnet.cpp's x86 builds, and its Arm
  // builds before QK_I2_S became 64; every published file.
  kX86,
  // 64-value blocks of 16 bytes: what llama-quantize writes when bitnet.cpp
  // is built for Arm (QK_I2_S = 64 in src/ggml-bitnet-mad.cpp).
  kArm,
};

// Values per block and the bit-plane width inside it: element j of block b
// is in byte b·(block/4) + j mod (block/4), at shift 6 − 2·⌊j / (block/4)⌋.
constexpr size_t I2SBlockValues(I2SLayout layout) noexcept {
  return layout == I2SLayout::kArm ? 64 : 128;
}

inline constexpr std::string_view kI2SLayoutNames = "x86, arm";

constexpr std::string_view I2SLayoutName(I2SLayout layout) noexcept {
  return layout == I2SLayout::kArm ? "arm" : "x86";
}

constexpr std::optional<I2SLayout> ParseI2SLayout(
    std::string_view name) noexcept {
  if (name == "x86") return I2SLayout::kX86;
  if (name == "arm") return I2SLayout::kArm;
  return std::nullopt;
}

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_I2S_LAYOUT_H_
