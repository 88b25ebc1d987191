// Model dimensions (static or dynamic, field by field), presets, and the
// run-time hyperparameters read from a checkpoint.
#ifndef TERNARY_MODEL_CONFIG_H_
#define TERNARY_MODEL_CONFIG_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "ternary/io/model_limits.h"
#include "ternary/model/family.h"
#include "ternary/util/error.h"
#include "ternary/util/extent.h"

namespace ternary {

// The dimensions of a BitNet b1.58 model. As a template argument of Model,
// every field is a compile-time constant or kDynamic (read from the file),
// like Eigen's fixed and Dynamic sizes.
struct Dims {
  int hidden = kDynamic;    // d_model
  int ffn = kDynamic;       // intermediate size
  int heads = kDynamic;     // query heads
  int kv_heads = kDynamic;  // key/value heads (GQA)
  int head_dim = kDynamic;  // per head; heads·head_dim == hidden (sub-norms)
  int layers = kDynamic;
  int vocab = kDynamic;

  constexpr bool operator==(const Dims&) const = default;

  constexpr bool IsFullyStatic() const noexcept {
    return hidden > 0 && ffn > 0 && heads > 0 && kv_heads > 0 && head_dim > 0 &&
           layers > 0 && vocab > 0;
  }
};

// Every dimension read from the file.
inline constexpr Dims kDynamicDims{};
// microsoft/bitnet-b1.58-2B-4T (docs/model.md §1).
inline constexpr Dims kBitNet2B4T{.hidden = 2560,
                                  .ffn = 6912,
                                  .heads = 20,
                                  .kv_heads = 5,
                                  .head_dim = 128,
                                  .layers = 30,
                                  .vocab = 128256};
// models/tiny-shakespeare.
inline constexpr Dims kTinyShakespeare{.hidden = 384,
                                       .ffn = 1024,
                                       .heads = 6,
                                       .kv_heads = 2,
                                       .head_dim = 64,
                                       .layers = 8,
                                       .vocab = 4096};

namespace detail {
constexpr bool DimOk(int d) { return d == kDynamic || d > 0; }
constexpr bool BothStatic(int a, int b) { return a > 0 && b > 0; }
}  // namespace detail

// Compile-time validation of a Dims template argument; Model<kD> calls it so
// a bad custom size fails with one of these messages. kQDimIsHidden: the
// family has sub-norms (family.h), whose attn_sub_norm is hidden wide.
template <Dims kD, bool kQDimIsHidden = true>
constexpr bool ValidateDims() {
  static_assert(detail::DimOk(kD.hidden) && detail::DimOk(kD.ffn) &&
                    detail::DimOk(kD.heads) && detail::DimOk(kD.kv_heads) &&
                    detail::DimOk(kD.head_dim) && detail::DimOk(kD.layers) &&
                    detail::DimOk(kD.vocab),
                "Dims: every field must be positive or kDynamic");
  static_assert(
      !detail::BothStatic(kD.heads, kD.kv_heads) || kD.heads % kD.kv_heads == 0,
      "Dims: heads must be a multiple of kv_heads (grouped-query attention)");
  static_assert(kD.head_dim == kDynamic || kD.head_dim % 2 == 0,
                "Dims: head_dim must be even (RoPE rotates the two halves)");
  static_assert(!kQDimIsHidden || kD.hidden == kDynamic ||
                    kD.heads == kDynamic || kD.head_dim == kDynamic ||
                    kD.hidden == kD.heads * kD.head_dim,
                "Dims: hidden must equal heads * head_dim (attn_sub_norm and "
                "o_proj read the concatenated heads)");
  static_assert(kD.hidden == kDynamic || kD.hidden % 4 == 0,
                "Dims: hidden must be a multiple of 4 (HF packs 4 output rows "
                "per byte)");
  static_assert(kD.ffn == kDynamic || kD.ffn % 4 == 0,
                "Dims: ffn must be a multiple of 4 (HF packs 4 output rows "
                "per byte)");
  return true;
}

// Index of the first NaN or ±inf in `x`, or x.size() if every value is
// finite. The weight sources scan every float tensor they hand out with it
// (norms, embedding / LM head tables, master weights): a single non-finite
// weight turns every logit into NaN, and generation then repeats one token.
// Branch-free blocks of bit tests, so the compiler vectorizes the loop and it
// runs at memory speed (measured 5.6-6.4 GB/s on a busy 2-core machine:
// about 0.2 s for 2B4T's 1.3 GB f32 embedding table).
inline size_t FirstNonFinite(std::span<const float> x) noexcept {
  constexpr size_t kBlock = 1024;
  constexpr uint32_t kExp = 0x7f800000u;  // all-ones exponent: inf or NaN
  for (size_t b = 0; b < x.size(); b += kBlock) {
    const size_t n = std::min(kBlock, x.size() - b);
    const float* p = x.data() + b;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      uint32_t u;
      std::memcpy(&u, p + i, sizeof(u));
      bad |= (u & kExp) == kExp ? 1u : 0u;
    }
    if (bad != 0) {
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(p[i])) return b + i;
      }
    }
  }
  return x.size();
}

// "nan", "inf" or "-inf" (for messages about FirstNonFinite's value).
inline std::string NonFiniteName(float v) {
  if (std::isnan(v)) return "nan";
  return v < 0.0f ? "-inf" : "inf";
}

// Everything a model needs besides its weights: the resolved dimensions
// (all positive) and the float hyperparameters.
struct ModelConfig {
  // Limits on the hyperparameters, shared by the HF and GGUF readers
  // (ternary/io/model_limits.h says why each).
  static constexpr double kMaxRmsNormEps = io::kMaxRmsNormEps;  // exclusive
  static constexpr int kMaxPositionEmbeddings = io::kMaxPositionEmbeddings;
  static constexpr double kMaxRopeTheta = io::kMaxRopeTheta;

  Dims dims;
  // The graph (family.h): Model<kD, P, F> loads only checkpoints of
  // F::kFamily.
  ModelFamily family = ModelFamily::kBitNet;
  float rms_norm_eps = 1e-5f;
  double rope_theta = 500000.0;
  int max_position_embeddings = 4096;  // RoPE table size; longer still works
  bool tie_word_embeddings = true;
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;

  size_t q_dim() const noexcept { return size_t(dims.heads) * dims.head_dim; }
  size_t kv_dim() const noexcept {
    return size_t(dims.kv_heads) * dims.head_dim;
  }

  // Run-time checks of a fully resolved config (from a file or a user).
  // `file` prefixes messages. Throws ShapeError.
  void Validate(const std::string& file = "config") const {
    auto fail = [&](const std::string& what) {
      throw ShapeError(file + ": " + what);
    };
    const Dims& d = dims;
    if (!d.IsFullyStatic()) fail("every dimension must be positive");
    if (d.heads % d.kv_heads != 0) {
      fail("num_attention_heads " + std::to_string(d.heads) +
           " is not a multiple of num_key_value_heads " +
           std::to_string(d.kv_heads));
    }
    if (d.head_dim % 2 != 0) {
      fail("head_dim " + std::to_string(d.head_dim) + " must be even");
    }
    // In 64 bits: each factor may be up to INT_MAX. Only the sub-norm
    // families need it (attn_sub_norm is hidden wide); Llama's o_proj maps
    // heads·head_dim to hidden whatever the two are.
    const int64_t q_dim = int64_t{d.heads} * d.head_dim;
    if (HasSubNorms(family) && q_dim != d.hidden) {
      fail("num_attention_heads * head_dim = " + std::to_string(q_dim) +
           " differs from hidden_size " + std::to_string(d.hidden));
    }
    constexpr int64_t kMaxQDim = int64_t{1} << 30;  // as every other size
    if (q_dim > kMaxQDim) {
      fail("num_attention_heads * head_dim = " + std::to_string(q_dim) +
           " exceeds the " + std::to_string(kMaxQDim) + " supported");
    }
    if (!(rms_norm_eps >= 0.0f && rms_norm_eps < kMaxRmsNormEps)) {
      fail("rms_norm_eps must be >= 0 and < 1, got " +
           std::to_string(rms_norm_eps));
    }
    if (!(rope_theta > 0.0 && rope_theta <= kMaxRopeTheta)) {
      fail("rope_theta must be positive and finite, got " +
           std::to_string(rope_theta));
    }
    if (max_position_embeddings > kMaxPositionEmbeddings) {
      fail("max_position_embeddings " +
           std::to_string(max_position_embeddings) + " exceeds the " +
           std::to_string(kMaxPositionEmbeddings) + " supported");
    }
  }
};

// Checks run-time dims against the static fields of kD: ShapeError naming
// the first field that disagrees.
template <Dims kD>
void CheckDimsMatch(const Dims& d, const std::string& file) {
  struct Field {
    std::string_view key;  // config.json name
    int want, got;
  };
  const Field fields[] = {
      {"hidden_size", kD.hidden, d.hidden},
      {"intermediate_size", kD.ffn, d.ffn},
      {"num_attention_heads", kD.heads, d.heads},
      {"num_key_value_heads", kD.kv_heads, d.kv_heads},
      {"head_dim", kD.head_dim, d.head_dim},
      {"num_hidden_layers", kD.layers, d.layers},
      {"vocab_size", kD.vocab, d.vocab},
  };
  for (const Field& f : fields) {
    if (f.want != kDynamic && f.want != f.got) {
      throw ShapeError(
          file + ": " + std::string(f.key) + " is " + std::to_string(f.got) +
          ", but the model type was compiled for " + std::to_string(f.want));
    }
  }
}

}  // namespace ternary

#endif  // TERNARY_MODEL_CONFIG_H_
