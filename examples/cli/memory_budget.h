// Up-front checks of allocations an argument sizes (--ctx, -p, -n): a
// context beyond the model's, or a sequence's memory (KV cache,
// activations, kernel scratch, logits) larger than this
// machine's memory, is a one-line usage error naming the option instead of
// a std::bad_alloc (or the OOM killer) minutes later.
#ifndef TERNARY_EXAMPLES_CLI_MEMORY_BUDGET_H_
#define TERNARY_EXAMPLES_CLI_MEMORY_BUDGET_H_

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "cli/output.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/model/config.h"
#include "ternary/nn/attention.h"
#include "ternary/util/error.h"

namespace ternary::cli {

// Tokens per forward batch (Model::kMaxBatch): the rows of activations a
// prompt allocates, and the rows of logits perplexity asks for at a time.
inline constexpr uint64_t kBatchRows = 512;

// Physical memory (sysconf), 0 if unknown.
inline uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return uint64_t(pages) * uint64_t(page);
}

// Bytes one sequence of `positions` tokens allocates: the KV cache, the
// activations of one forward batch, the kernels' scratch (KernelScratch in
// Model::State, for `threads` threads) and `logit_rows` rows of logits.
inline uint64_t SequenceBytes(const ModelConfig& c, uint64_t positions,
                              uint64_t logit_rows, uint64_t threads) {
  const uint64_t layers = uint64_t(c.dims.layers);
  const uint64_t h = uint64_t(c.dims.hidden), f = uint64_t(c.dims.ffn);
  const uint64_t qd = c.q_dim(), kv = c.kv_dim();
  const uint64_t vocab = uint64_t(c.dims.vocab);
  const uint64_t rows = std::min<uint64_t>(positions, kBatchRows);
  const uint64_t widest = std::max({h, f, qd});  // a projection's input
  const uint64_t kv_cache = 2 * layers * kv * positions * sizeof(float);
  const uint64_t acts = rows * (3 * h + 2 * qd + 2 * f) * sizeof(float) +
                        rows * widest;  // quantized input
  const uint64_t logits = logit_rows * vocab * sizeof(float);
  // KernelScratch (kernels/scratch.h), an estimate from above:
  //  - prepared activations: one batch of the widest projection input in
  //    its format's kernel layout; TL1/TL2 lookup tables are the largest,
  //    32 bytes per pair (PreparedActBytes), i.e. 16 bytes per column, and
  //    rows are padded (a QuantizedActs row padding is ample);
  //  - attention scores: kQueryBlock rows of `positions` floats per thread,
  //    doubled because AttentionScratch grows its buffer by doubling;
  //  - the Q8 LM head's int8 input: one batch of padded hidden rows.
  const uint64_t padded = widest + QuantizedActs::kRowPadding;
  const uint64_t prepared = rows * 16 * padded;
  const uint64_t scores = 2 * threads * nn::AttentionScratch::kQueryBlock *
                          positions * sizeof(float);
  const uint64_t head_acts = rows * (h + QuantizedActs::kRowPadding);
  const uint64_t scratch = prepared + scores + head_acts;
  return kv_cache + acts + scratch + logits;
}

// Throws UsageError naming `option` (e.g. "--ctx") when `positions` exceeds
// the model's max_position_embeddings.
inline void CheckContext(std::string_view option, uint64_t positions,
                         const ModelConfig& c) {
  if (positions > uint64_t(std::max(c.max_position_embeddings, 1))) {
    throw UsageError(std::string(option) + " " + std::to_string(positions) +
                     ": the model's context is " +
                     std::to_string(c.max_position_embeddings) + " positions");
  }
}

// Throws UsageError naming `option` when `state_bytes` (SequenceBytes) plus
// `weight_bytes` exceed this machine's physical memory.
inline void CheckMemory(std::string_view option, uint64_t value,
                        uint64_t state_bytes, uint64_t weight_bytes) {
  const uint64_t have = PhysicalMemoryBytes();
  if (have == 0 || state_bytes + weight_bytes <= have) return;
  std::string msg = std::string(option) + " " + std::to_string(value) +
                    " needs " + FormatBytes(state_bytes) +
                    " for the sequence (KV cache, activations, "
                    "kernel scratch, logits)";
  if (weight_bytes != 0) {
    msg += " (plus " + FormatBytes(weight_bytes) + " of weights)";
  }
  msg += "; this machine has " + FormatBytes(have);
  throw UsageError(msg);
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_MEMORY_BUDGET_H_
