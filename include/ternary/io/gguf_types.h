// ggml tensor type ids that may appear in a GGUF file, and their payload sizes.
#ifndef TERNARY_IO_GGUF_TYPES_H_
#define TERNARY_IO_GGUF_TYPES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ternary/util/error.h"
#include "ternary/util/math.h"

namespace ternary::io {

// ggml type ids (docs/formats.md §3). 36–39 are bitnet.cpp's; upstream
// llama.cpp reused them for other types, so the reader accepts 36/38/39 only
// when the payload span matches the bitnet.cpp size formula.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ8_0 = 8,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kI2_S = 36,
  kI8_S = 37,
  kTL1 = 38,
  kTL2 = 39,
  kIQ1_BN = 134,
  kIQ2_BN = 135,
};

// How a type's payload size follows from its dimensions.
enum class GgmlLayout {
  kBlocks,     // ne0 % block_elements == 0; N / block_elements · block_bytes
  kRowHeader,  // per row: row_header_bytes + ne0 / block_elements · block_bytes
  kI2S,        // N/4 + 32 (codes, f32 scale, filler)
  kTL1,        // N/4 + 32, like I2_S (docs/formats.md §5)
  kTL2,        // ggml_nbytes' TL2 formula (docs/formats.md §6)
  kNotInFiles  // I8_S: bitnet.cpp activation scratch
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;
  GgmlLayout layout;
  uint32_t block_elements;
  uint32_t block_bytes;
  uint32_t row_header_bytes;
};

namespace detail {
// Block sizes of the block types; their byte layouts, codecs and a check that
// these numbers match are in ternary/quant/ggml_blocks.h.
inline constexpr std::array<GgmlTypeInfo, 15> kGgmlTypes = {{
    {GgmlType::kF32, "F32", GgmlLayout::kBlocks, 1, 4, 0},
    {GgmlType::kF16, "F16", GgmlLayout::kBlocks, 1, 2, 0},
    {GgmlType::kQ4_0, "Q4_0", GgmlLayout::kBlocks, 32, 18, 0},
    {GgmlType::kQ8_0, "Q8_0", GgmlLayout::kBlocks, 32, 34, 0},
    {GgmlType::kQ6_K, "Q6_K", GgmlLayout::kBlocks, 256, 210, 0},
    {GgmlType::kQ8_K, "Q8_K", GgmlLayout::kBlocks, 256, 292, 0},
    {GgmlType::kBF16, "BF16", GgmlLayout::kBlocks, 1, 2, 0},
    {GgmlType::kTQ1_0, "TQ1_0", GgmlLayout::kBlocks, 256, 54, 0},
    {GgmlType::kTQ2_0, "TQ2_0", GgmlLayout::kBlocks, 256, 66, 0},
    {GgmlType::kI2_S, "I2_S", GgmlLayout::kI2S, 1, 1, 0},
    {GgmlType::kI8_S, "I8_S", GgmlLayout::kNotInFiles, 1, 1, 0},
    {GgmlType::kTL1, "TL1", GgmlLayout::kTL1, 1, 1, 0},
    {GgmlType::kTL2, "TL2", GgmlLayout::kTL2, 1, 1, 0},
    {GgmlType::kIQ1_BN, "IQ1_BN", GgmlLayout::kRowHeader, 64, 13, 2},
    {GgmlType::kIQ2_BN, "IQ2_BN", GgmlLayout::kRowHeader, 64, 16, 4},
}};
[[noreturn]] inline void ThrowGgmlSizeOverflow() {
  throw ShapeError("element count or byte size overflows 64 bits");
}
}  // namespace detail

// nullptr for ids this library does not know.
constexpr const GgmlTypeInfo* FindGgmlType(uint32_t id) noexcept {
  for (const GgmlTypeInfo& t : detail::kGgmlTypes) {
    if (static_cast<uint32_t>(t.type) == id) return &t;
  }
  return nullptr;
}

inline const GgmlTypeInfo& GetGgmlTypeInfo(GgmlType type) {
  const GgmlTypeInfo* t = FindGgmlType(static_cast<uint32_t>(type));
  if (t == nullptr) {
    throw UsageError("unknown ggml type id " +
                     std::to_string(static_cast<uint32_t>(type)));
  }
  return *t;
}

inline std::string_view GgmlTypeName(GgmlType type) noexcept {
  const GgmlTypeInfo* t = FindGgmlType(static_cast<uint32_t>(type));
  return t != nullptr ? t->name : std::string_view("unknown");
}

// Payload bytes of a tensor with dims ne (innermost first; missing dims are
// 1), computed with overflow checks. Throws ShapeError saying why the shape
// cannot be stored in this type (the caller adds file and tensor names).
inline uint64_t GgmlTensorBytes(GgmlType type, std::span<const int64_t> ne) {
  const GgmlTypeInfo& info = GetGgmlTypeInfo(type);
  if (ne.size() > 4) {
    throw ShapeError(std::to_string(ne.size()) + " dimensions (at most 4)");
  }
  int64_t d[4] = {1, 1, 1, 1};
  for (size_t i = 0; i < ne.size(); ++i) {
    if (ne[i] < 0)
      throw ShapeError("negative dimension " + std::to_string(ne[i]));
    d[i] = ne[i];
  }
  // rows = ne1·ne2·ne3, n = ne0·rows, both must fit in int64 like ggml's.
  uint64_t rows = 1;
  for (int i = 1; i < 4; ++i) {
    const auto m = CheckedMul(rows, static_cast<uint64_t>(d[i]));
    if (!m || *m > static_cast<uint64_t>(INT64_MAX))
      detail::ThrowGgmlSizeOverflow();
    rows = *m;
  }
  const uint64_t ne0 = static_cast<uint64_t>(d[0]);
  const auto n_checked = CheckedMul(ne0, rows);
  if (!n_checked || *n_checked > static_cast<uint64_t>(INT64_MAX)) {
    detail::ThrowGgmlSizeOverflow();
  }
  const uint64_t n = *n_checked;
  switch (info.layout) {
    case GgmlLayout::kBlocks:
    case GgmlLayout::kRowHeader: {
      if (ne0 % info.block_elements != 0) {
        throw ShapeError("row length ne0 = " + std::to_string(ne0) +
                         " is not a multiple of the " + std::string(info.name) +
                         " block size " + std::to_string(info.block_elements));
      }
      // Every product checked: an unchecked ne0 · 4 once wrapped 2^62 + 16
      // F32 values to a 64-byte payload (fuzz/README.md).
      const auto blocks =
          CheckedMul(ne0 / info.block_elements, info.block_bytes);
      const auto row =
          blocks ? CheckedAdd(info.row_header_bytes, *blocks) : std::nullopt;
      const auto total = row ? CheckedMul(*row, rows) : std::nullopt;
      if (!total) detail::ThrowGgmlSizeOverflow();
      return *total;
    }
    case GgmlLayout::kI2S:
    case GgmlLayout::kTL1:
      return n / 4 + 32;
    case GgmlLayout::kTL2: {
      // bitnet.cpp's ggml_nbytes, in its int64 arithmetic:
      //   ((ne0 − 256)·ne1/3·5/8 + 256·ne1/2·4/8) rounded up to 32, + 32.
      if (d[0] < 256) {
        throw ShapeError("TL2 needs ne0 >= 256, got " + std::to_string(d[0]));
      }
      const auto a = CheckedMul(static_cast<uint64_t>(d[0] - 256),
                                static_cast<uint64_t>(d[1]));
      const auto b = CheckedMul(256, static_cast<uint64_t>(d[1]));
      if (!a || !b) detail::ThrowGgmlSizeOverflow();
      const auto p = CheckedAdd(*a / 3 * 5 / 8, *b / 2 * 4 / 8);
      const auto total = p ? CheckedAdd(*p, 31 + 32) : std::nullopt;
      if (!total) detail::ThrowGgmlSizeOverflow();
      return *total / 32 * 32;  // round P up to 32, then the 32-byte tail
    }
    case GgmlLayout::kNotInFiles:
      throw ShapeError(
          std::string(info.name) +
          " is an activation scratch type that never appears in files");
  }
  throw ShapeError("unhandled ggml type layout");
}

}  // namespace ternary::io

#endif  // TERNARY_IO_GGUF_TYPES_H_
