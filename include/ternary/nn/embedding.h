// Token embedding table and the LM head (tied or untied) (docs/model.md §3),
// stored as f32, bf16, f16, Q8 rows or ggml Q6_K / Q4_0 blocks.
#ifndef TERNARY_NN_EMBEDDING_H_
#define TERNARY_NN_EMBEDDING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "ternary/kernels/dense.h"
#include "ternary/kernels/dense_matrix.h"
#include "ternary/kernels/dispatch.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/nn/head_precision.h"
#include "ternary/simd/policies.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"
#include "ternary/util/thread_pool.h"

namespace ternary::nn {

// The kAuto choice for a table: exact round trips only.
inline HeadPrecision ExactPrecision(std::span<const float> v) {
  bool bf16 = true, f16 = true;
  for (float x : v) {
    bf16 = bf16 && Bf16ToFloat(FloatToBf16(x)) == x;
    f16 = f16 && F16ToFloat(FloatToF16(x)) == x;
    if (!bf16 && !f16) return HeadPrecision::kF32;
  }
  return bf16 ? HeadPrecision::kBF16 : HeadPrecision::kF16;
}

template <simd::Policy Simd = simd::Dynamic>
class Embedding {
 public:
  Embedding() = default;
  // Takes the table (vocab·dim floats, row-major) and stores it at the
  // given precision.
  Embedding(AlignedBuffer<float> table, size_t vocab, size_t dim,
            HeadPrecision precision = HeadPrecision::kAuto)
      : vocab_(vocab), dim_(dim) {
    if (table.size() != vocab * dim) {
      throw ShapeError("Embedding: " + std::to_string(table.size()) +
                       " values for " + std::to_string(vocab) + " x " +
                       std::to_string(dim));
    }
    if (precision == HeadPrecision::kAuto)
      precision = ExactPrecision(table.span());
    precision_ = precision;
    switch (precision) {
      case HeadPrecision::kBF16:
        table_ =
            DenseMatrix<hwy::bfloat16_t>::FromFloats(table.span(), vocab, dim);
        break;
      case HeadPrecision::kF16:
        table_ =
            DenseMatrix<hwy::float16_t>::FromFloats(table.span(), vocab, dim);
        break;
      case HeadPrecision::kQ8:
        table_ = Q8RowMatrix::Quantize(vocab, dim, [&](size_t r, float* out) {
          std::memcpy(out, table.data() + r * dim, dim * sizeof(float));
        });
        break;
      case HeadPrecision::kQ6K:
        table_ = QuantizeBlocks<quant::BlockQ6_K>(table, vocab, dim);
        break;
      case HeadPrecision::kQ4_0:
        table_ = QuantizeBlocks<quant::BlockQ4_0>(table, vocab, dim);
        break;
      default:
        owned_f32_ = std::move(table);
        table_ = DenseMatrix<float>::View(owned_f32_.span(), vocab, dim);
    }
  }
  // A table already in ggml blocks, e.g. a GGUF's Q6_K / Q4_0 token_embd or
  // output tensor viewed in place (BlockMatrix::View over the mapped bytes,
  // which must outlive the embedding); precision() says which.
  template <class B>
  explicit Embedding(BlockMatrix<B> table)
      : vocab_(table.rows()), dim_(table.cols()) {
    precision_ = std::is_same_v<B, quant::BlockQ6_K> ? HeadPrecision::kQ6K
                                                     : HeadPrecision::kQ4_0;
    table_ = std::move(table);
  }
  // A half-precision table as it was stored (a GGUF's F16 / BF16
  // token_embd or output, viewed in place or copied): kF16 or kBF16.
  template <class T>
  requires(std::is_same_v<T, hwy::float16_t> ||
           std::is_same_v<T, hwy::bfloat16_t>) explicit Embedding(DenseMatrix<T>
                                                                      table)
      : vocab_(table.rows()), dim_(table.cols()) {
    precision_ = std::is_same_v<T, hwy::float16_t> ? HeadPrecision::kF16
                                                   : HeadPrecision::kBF16;
    table_ = std::move(table);
  }
  Embedding(Embedding&&) noexcept = default;
  Embedding& operator=(Embedding&&) noexcept = default;

  size_t vocab() const noexcept { return vocab_; }
  size_t dim() const noexcept { return dim_; }
  HeadPrecision precision() const noexcept { return precision_; }
  size_t bytes() const noexcept {
    return std::visit([](const auto& m) { return m.bytes(); }, table_);
  }

  // out row t (stride ldo) = E[ids[t]]. Throws UsageError for ids outside
  // [0, vocab).
  void Lookup(std::span<const int32_t> ids, float* out, size_t ldo) const {
    for (size_t t = 0; t < ids.size(); ++t) {
      if (ids[t] < 0 || static_cast<size_t>(ids[t]) >= vocab_) {
        throw UsageError("token id " + std::to_string(ids[t]) +
                         " outside the vocabulary [0, " +
                         std::to_string(vocab_) + ")");
      }
      std::visit(
          [&](const auto& m) {
            m.RowToFloat(static_cast<size_t>(ids[t]), out + t * ldo);
          },
          table_);
    }
  }

  // logits[t·ldl + v] = Σ_i E[v][i]·h[t][i] for n rows of h (stride ldh),
  // rows split across the pool. Each (v, t) sum is accumulated in the same
  // order whatever n is, so prompt and decode logits agree bit for bit.
  // `acts` holds the int8 input of a Q8, Q6_K or Q4_0 table. Project<Ops> runs
  // with a target's ops (kernels/ops-inl.h); Project dispatches once.
  template <class Ops>
  void Project(const float* h, size_t n, size_t ldh, float* logits, size_t ldl,
               QuantizedActs& acts, ThreadPool* pool) const {
    std::visit(
        [&](const auto& m) {
          using M = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<M, Q8RowMatrix>) {
            Ops::template Quantize<quant::Int8AbsMax>(h, n, dim_, ldh, acts);
            Ops::Q8MatMul(m, acts, logits, ldl, pool);
          } else if constexpr (requires { typename M::Block; }) {
            Ops::template Quantize<quant::Int8AbsMax>(h, n, dim_, ldh, acts);
            Ops::BlockMatMul(m, acts, logits, ldl, pool);
          } else {
            Ops::template DenseMatMul<typename M::Element>(m, h, ldh, n, logits,
                                                           ldl, pool);
          }
        },
        table_);
  }
  void Project(const float* h, size_t n, size_t ldh, float* logits, size_t ldl,
               ThreadPool* pool = nullptr) const {
    QuantizedActs acts;
    WithOps<Simd>(
        [&]<class Ops>() { Project<Ops>(h, n, ldh, logits, ldl, acts, pool); });
  }

 private:
  AlignedBuffer<float> owned_f32_;
  // Q6_K's scale search is slow (~0.1 ms a 2560-value row): large tables
  // are quantized on all cores.
  template <class B>
  static BlockMatrix<B> QuantizeBlocks(const AlignedBuffer<float>& table,
                                       size_t vocab, size_t dim) {
    auto row = [&](size_t r, float* out) {
      std::memcpy(out, table.data() + r * dim, dim * sizeof(float));
    };
    if (vocab * dim < (size_t{1} << 20))
      return BlockMatrix<B>::Quantize(vocab, dim, row);
    ThreadPool pool;
    return BlockMatrix<B>::Quantize(vocab, dim, row, &pool);
  }

  std::variant<DenseMatrix<float>, DenseMatrix<hwy::bfloat16_t>,
               DenseMatrix<hwy::float16_t>, Q8RowMatrix, Q6KMatrix, Q4_0Matrix>
      table_;
  HeadPrecision precision_ = HeadPrecision::kF32;
  size_t vocab_ = 0;
  size_t dim_ = 0;
};

}  // namespace ternary::nn

#endif  // TERNARY_NN_EMBEDDING_H_
