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
  }
  return "?";
}

// The precision named `name` ("auto", "f32", "bf16", "f16", "q8").
inline std::optional<HeadPrecision> ParseHeadPrecision(std::string_view name) {
  for (HeadPrecision p :
       {HeadPrecision::kAuto, HeadPrecision::kF32, HeadPrecision::kBF16,
        HeadPrecision::kF16, HeadPrecision::kQ8}) {
    if (name == HeadPrecisionName(p)) return p;
  }
  return std::nullopt;
}

}  // namespace ternary::nn

#endif  // TERNARY_NN_HEAD_PRECISION_H_
