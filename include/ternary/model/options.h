// The options of Model::Load and Model::Forward, apart from the model so
// that light headers (runtime/engine.h) can name them without the kernels.
#ifndef TERNARY_MODEL_OPTIONS_H_
#define TERNARY_MODEL_OPTIONS_H_

#include "ternary/nn/head_precision.h"
#include "ternary/quant/i2s_layout.h"

namespace ternary {

// Choices made when a model is loaded.
struct LoadOptions {
  // Storage of the embedding table and LM head (nn/embedding.h): kAuto keeps
  // the checkpoint's values exactly in the narrowest type (a GGUF's Q6_K /
  // Q4_0 table as it is); kQ8 halves the head's bytes (and decode time
  // spent in it) at a small accuracy cost.
  nn::HeadPrecision head = nn::HeadPrecision::kAuto;
  // true: with the I2S format, use a GGUF's I2_S projections, and with any
  // format its Q6_K / Q4_0 embedding or head, in place from the
  // memory-mapped file (zero copy, the model keeps the file mapped; loads
  // 2B4T in 0.3 s instead of 2 s and shares the page cache). false (the
  // default): copy those bytes as they are into the model's own memory,
  // which asks for 2 MiB pages: streaming them in decode was 1.2-1.4x
  // faster than streaming the file's 4 KiB page-cache pages (bench/README,
  // "Weights copied onto 2 MiB pages by default").
  bool map_weights = false;
  // The block layout of a GGUF's I2_S tensors: x86 (every published file)
  // or the 64-value blocks of bitnet.cpp's Arm builds. Files do not record
  // it; reading one layout as the other gives wrong weights, not an error.
  quant::I2SLayout i2s_layout = quant::I2SLayout::kX86;
};

// Which positions of a Forward call produce logits.
enum class Logits {
  kAll,   // one row of vocab logits per input token
  kLast,  // only the last token's row
  kNone,  // fill the KV cache only
};

}  // namespace ternary

#endif  // TERNARY_MODEL_OPTIONS_H_
