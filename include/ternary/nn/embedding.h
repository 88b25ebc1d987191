// Token embedding table and the float32 LM head (tied or untied) (SPEC §1.7).
#ifndef TERNARY_NN_EMBEDDING_H_
#define TERNARY_NN_EMBEDDING_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "ternary/nn/attention.h"  // detail::DotF32
#include "ternary/nn/extent.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/math.h"
#include "ternary/util/thread_pool.h"

namespace ternary::nn {

// A vocab × dim float32 matrix: the embedding table, and the LM head
// (logits = E · h) when the model ties them.
class Embedding {
 public:
  Embedding() = default;
  Embedding(AlignedBuffer<float> table, size_t vocab, size_t dim)
      : table_(std::move(table)), vocab_(vocab), dim_(dim) {
    if (table_.size() != vocab * dim) {
      throw ShapeError("Embedding: " + std::to_string(table_.size()) +
                       " values for " + std::to_string(vocab) + " x " +
                       std::to_string(dim));
    }
  }

  size_t vocab() const noexcept { return vocab_; }
  size_t dim() const noexcept { return dim_; }
  const float* data() const noexcept { return table_.data(); }
  const float* row(size_t id) const noexcept { return table_.data() + id * dim_; }

  // out row t (stride ldo) = E[ids[t]]. Throws UsageError for ids outside
  // [0, vocab).
  void Lookup(std::span<const int32_t> ids, float* out, size_t ldo) const {
    for (size_t t = 0; t < ids.size(); ++t) {
      if (ids[t] < 0 || static_cast<size_t>(ids[t]) >= vocab_) {
        throw UsageError("token id " + std::to_string(ids[t]) +
                         " outside the vocabulary [0, " +
                         std::to_string(vocab_) + ")");
      }
      std::memcpy(out + t * ldo, row(static_cast<size_t>(ids[t])),
                  dim_ * sizeof(float));
    }
  }

  // logits[t·ldl + v] = Σ_i E[v][i]·h[t][i] for n rows of h (stride ldh).
  // Rows of E are split across the pool in blocks that stay in L2.
  void Project(const float* h, size_t n, size_t ldh, float* logits, size_t ldl,
               ThreadPool* pool = nullptr) const noexcept {
    constexpr size_t kRowsPerTask = 64;
    const size_t tasks = DivCeil(vocab_, kRowsPerTask);
    const Extent<kDynamic> len(dim_);
    auto task = [&](size_t task_id, size_t) {
      const size_t v0 = task_id * kRowsPerTask;
      const size_t v1 = std::min(vocab_, v0 + kRowsPerTask);
      for (size_t t = 0; t < n; ++t) {
        const float* ht = h + t * ldh;
        float* lt = logits + t * ldl;
        for (size_t v = v0; v < v1; ++v) {
          lt[v] = detail::DotF32(row(v), ht, len);
        }
      }
    };
    if (pool != nullptr) {
      pool->Run(0, tasks, task);
    } else {
      for (size_t t = 0; t < tasks; ++t) task(t, 0);
    }
  }

 private:
  AlignedBuffer<float> table_;
  size_t vocab_ = 0;
  size_t dim_ = 0;
};

}  // namespace ternary::nn

#endif  // TERNARY_NN_EMBEDDING_H_
