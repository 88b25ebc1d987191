// What a model reads from a checkpoint, independent of the file format:
// tensor ids and the interface every weight source implements.
#ifndef TERNARY_MODEL_WEIGHTS_H_
#define TERNARY_MODEL_WEIGHTS_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ternary/model/config.h"
#include "ternary/nn/head_precision.h"
#include "ternary/util/aligned_buffer.h"

namespace ternary {

// A tensor of the BitNet graph (docs/model.md §2), by role and layer.
struct TensorId {
  enum Kind : uint8_t {
    kEmbed,        // [vocab, hidden]
    kOutputNorm,   // [hidden]
    kLmHead,       // [vocab, hidden], untied models only
    kAttnNorm,     // [hidden]  input_layernorm
    kAttnSubNorm,  // [hidden]  before o_proj
    kFfnNorm,      // [hidden]  post_attention_layernorm
    kFfnSubNorm,   // [ffn]     before down_proj
    kQ,
    kK,
    kV,
    kO,
    kGate,
    kUp,
    kDown,  // ternary projections [out, in]
  };
  Kind kind;
  int layer = -1;  // -1 for the global tensors

  bool IsTernary() const noexcept { return kind >= kQ; }
};

// A ternary matrix in natural row-major [rows, cols] order, values in
// {-1, 0, +1}, with its multiply-convention scale α (W ≈ T·α).
struct TernaryMatrix {
  std::vector<int8_t> values;
  float alpha = 1.0f;
};

// Packed ternary bytes a source can lend in place (zero copy): `bytes` stay
// valid while the object from the source's Retain() is alive.
struct PackedTernary {
  std::span<const uint8_t> bytes;
  float alpha = 1.0f;
};

// An embedding / LM head table a source can lend as it is stored: a GGUF's
// Q6_K or Q4_0 token_embd / output (BlockMatrix's layout) or its F16 /
// BF16 one (DenseMatrix's). `precision` is kQ6K, kQ4_0, kF16 or kBF16;
// `bytes` stay valid while the object from the source's Retain() is alive.
struct TableBytes {
  nn::HeadPrecision precision;
  std::span<const uint8_t> bytes;
};

// A weight source: the model asks for each tensor with the shape it
// expects; the source checks the shape (FormatError naming file and
// tensor) and converts.
//   ModelConfig config()                            the hyperparameters
//   TernaryMatrix Ternary(TensorId, rows, cols)     projections
//   AlignedBuffer<float> Floats(TensorId, rows, cols)  norms (rows = 1),
//                                                     embeddings, lm_head
// and optionally, for tensors it can lend in place (GgufCheckpoint):
//   std::optional<PackedTernary> PackedI2S(TensorId, rows, cols)
//   std::optional<TableBytes> HeadTable(TensorId, rows, cols)
//   std::shared_ptr<const void> Retain()
template <class S>
concept WeightSource = requires(S& s, TensorId id, size_t n) {
  { s.config() } -> std::convertible_to<ModelConfig>;
  { s.Ternary(id, n, n) } -> std::same_as<TernaryMatrix>;
  { s.Floats(id, n, n) } -> std::same_as<AlignedBuffer<float>>;
};

}  // namespace ternary

#endif  // TERNARY_MODEL_WEIGHTS_H_
