// Token embedding table and the float32 LM head (tied or untied) (SPEC §1.7).
#ifndef TERNARY_NN_EMBEDDING_H_
#define TERNARY_NN_EMBEDDING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "ternary/kernels/dense.h"
#include "ternary/kernels/dense_matrix.h"
#include "ternary/simd/policies.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/thread_pool.h"

namespace ternary::nn {

// A vocab × dim float32 matrix: the embedding table, and the LM head
// (logits = E · h) when the model ties them.
template <simd::Policy Simd = simd::Dynamic>
class Embedding {
 public:
  Embedding() = default;
  // Takes ownership of the table (vocab·dim floats, row-major).
  Embedding(AlignedBuffer<float> table, size_t vocab, size_t dim)
      : table_(std::move(table)), vocab_(vocab), dim_(dim) {
    if (table_.size() != vocab * dim) {
      throw ShapeError("Embedding: " + std::to_string(table_.size()) +
                       " values for " + std::to_string(vocab) + " x " +
                       std::to_string(dim));
    }
    // A view: moving the Embedding moves the buffer, not the floats.
    matrix_ = DenseMatrix<float>::View(table_.span(), vocab, dim);
  }
  Embedding(Embedding&&) noexcept = default;
  Embedding& operator=(Embedding&&) noexcept = default;

  size_t vocab() const noexcept { return vocab_; }
  size_t dim() const noexcept { return dim_; }
  const float* row(size_t id) const noexcept {
    return table_.data() + id * dim_;
  }
  const DenseMatrix<float>& matrix() const noexcept { return matrix_; }

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

  // logits[t·ldl + v] = Σ_i E[v][i]·h[t][i] for n rows of h (stride ldh),
  // with the dense kernels (rows split across the pool). Each (v, t) sum
  // is accumulated in the same order whatever n is, so prompt and decode
  // logits agree bit for bit.
  void Project(const float* h, size_t n, size_t ldh, float* logits, size_t ldl,
               ThreadPool* pool = nullptr) const {
    DenseMatMul<float, Simd>(matrix_, h, ldh, n, logits, ldl, pool);
  }

 private:
  AlignedBuffer<float> table_;
  DenseMatrix<float> matrix_;
  size_t vocab_ = 0;
  size_t dim_ = 0;
};

}  // namespace ternary::nn

#endif  // TERNARY_NN_EMBEDDING_H_
