// How an embedding table / LM head is stored, apart from the table itself so
// that options structs (runtime/engine.h) can name it without the kernels.
#ifndef TERNARY_NN_HEAD_PRECISION_H_
#define TERNARY_NN_HEAD_PRECISION_H_

#include <optional>
#include <string_view>

namespace ternary::nn {

// How the vocab × dim table is stored. The LM head streams the whole table
// once per generated token (657 MB as f16 for 2B4T, more than all ternary
// weights together), so its width sets the decode speed.
enum class HeadPrecision {
  kAuto,  // the narrowest of bf16 / f16 / f32 that holds every value exactly
  kF32,
  kBF16,
  kF16,
  kQ8,  // int8 rows with a per-row scale: half of f16, slightly lossy
  // ggml Q6_K blocks (6.5625 bits a value: 210 bytes / 256), ggml's layout
  // and reference quantizer; 0.41 of f16.
  kQ6K,
  // ggml Q4_0 blocks (4.5 bits a value: 18 bytes / 32); 0.28 of f16, lossier.
  kQ4_0,
};

inline std::string_view HeadPrecisionName(HeadPrecision p) {
  switch (p) {
    case HeadPrecision::kAuto:
      return "auto";
    case HeadPrecision::kF32:
      return "f32";
    case HeadPrecision::kBF16:
      return "bf16";
    case HeadPrecision::kF16:
      return "f16";
    case HeadPrecision::kQ8:
      return "q8";
    case HeadPrecision::kQ6K:
      return "q6_k";
    case HeadPrecision::kQ4_0:
      return "q4_0";
  }
  return "?";
}

// Every precision, in the order --head lists them.
inline constexpr HeadPrecision kHeadPrecisions[] = {
    HeadPrecision::kAuto, HeadPrecision::kF32, HeadPrecision::kBF16,
    HeadPrecision::kF16,  HeadPrecision::kQ8,  HeadPrecision::kQ6K,
    HeadPrecision::kQ4_0};

// The precision named `name` ("auto", "f32", "bf16", "f16", "q8", "q6_k",
// "q4_0").
inline std::optional<HeadPrecision> ParseHeadPrecision(std::string_view name) {
  for (HeadPrecision p : kHeadPrecisions) {
    if (name == HeadPrecisionName(p)) return p;
  }
  return std::nullopt;
}

}  // namespace ternary::nn

#endif  // TERNARY_NN_HEAD_PRECISION_H_
