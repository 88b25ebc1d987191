// A batch of quantized activation rows: int8 codes + one scale per token.
#ifndef TERNARY_KERNELS_QUANTIZED_ACTS_H_
#define TERNARY_KERNELS_QUANTIZED_ACTS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "ternary/quant/activation.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/math.h"

namespace ternary {

class QuantizedActs {
 public:
  // Rows are zero-padded to a multiple of this many codes, so kernels may
  // read whole blocks past `cols` (every format's block divides it).
  static constexpr size_t kRowPadding = 512;

  // Shapes the buffer for n_tokens rows of cols codes, all zero; reuses the
  // allocation when it is large enough.
  void Resize(size_t n_tokens, size_t cols, int max_abs = 128) {
    Shape(n_tokens, cols, max_abs);
    std::memset(q_.data(), 0, n_tokens * stride_);
  }

  // Sets the shape for n_tokens rows of cols codes (with the bound on |q|
  // kernels must handle) and clears the scales; the codes are left as they
  // were: the caller writes each row, then PadRow. Reuses the allocation
  // when it is large enough.
  void Shape(size_t n_tokens, size_t cols, int max_abs) {
    n_tokens_ = n_tokens;
    cols_ = cols;
    stride_ = RoundUp(cols == 0 ? 1 : cols, kRowPadding);
    max_abs_ = max_abs;
    if (q_.size() < n_tokens * stride_)
      q_ = AlignedBuffer<int8_t>(n_tokens * stride_);
    scales_.assign(n_tokens, quant::ActScale{});
  }
  // Zeroes row t past cols() (kernels read whole blocks).
  void PadRow(size_t t) noexcept {
    std::memset(row(t) + cols_, 0, stride_ - cols_);
  }
  // Quantizes one row of cols() floats into row t with Q's own (scalar)
  // quantizer: the reference for every quantizer, and the path for all
  // but int8 absmax on SIMD targets.
  template <quant::ActivationQuantizer Q>
  void QuantizeRow(size_t t, const float* x) {
    if constexpr (requires { Q::Quantize(x, cols_, row(t), order_); }) {
      scales_[t] = Q::Quantize(x, cols_, row(t), order_);
    } else {
      scales_[t] = Q::Quantize(x, cols_, row(t));
    }
    PadRow(t);
  }

  // For callers that fill codes themselves (tests, benchmarks).
  void SetScale(size_t t, quant::ActScale s) noexcept { scales_[t] = s; }
  // Recomputes every token's Σq from its codes (after writing codes by hand).
  void RecomputeSums() noexcept {
    for (size_t t = 0; t < n_tokens_; ++t) {
      int32_t sum = 0;
      for (size_t i = 0; i < cols_; ++i) sum += row(t)[i];
      scales_[t].sum = sum;
    }
  }

  size_t n_tokens() const noexcept { return n_tokens_; }
  size_t cols() const noexcept { return cols_; }
  size_t stride() const noexcept { return stride_; }
  int max_abs() const noexcept { return max_abs_; }
  int8_t* row(size_t t) noexcept { return q_.data() + t * stride_; }
  const int8_t* row(size_t t) const noexcept { return q_.data() + t * stride_; }
  quant::ActScale scale(size_t t) const noexcept { return scales_[t]; }
  const quant::ActScale* scales() const noexcept { return scales_.data(); }

  // Bytes held (codes, scales and the top-k quantizer's order buffer).
  size_t bytes() const noexcept {
    return q_.size() + scales_.capacity() * sizeof(quant::ActScale) +
           order_.capacity() * sizeof(uint32_t);
  }

 private:
  AlignedBuffer<int8_t> q_;
  std::vector<quant::ActScale> scales_;
  std::vector<uint32_t> order_;  // scratch of quant::TopKInt8
  size_t n_tokens_ = 0, cols_ = 0, stride_ = 0;
  int max_abs_ = 128;
};

}  // namespace ternary

#endif  // TERNARY_KERNELS_QUANTIZED_ACTS_H_
