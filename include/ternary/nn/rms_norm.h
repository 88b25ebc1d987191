// RMSNorm in float32: y = x / sqrt(mean(x²) + eps) · g (SPEC §1.3).
#ifndef TERNARY_NN_RMS_NORM_H_
#define TERNARY_NN_RMS_NORM_H_

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "ternary/kernels/vector_ops.h"
#include "ternary/nn/extent.h"
#include "ternary/simd/policies.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"

namespace ternary::nn {

// One row as transformers' LlamaRMSNorm computes it in float32: the mean of
// squares (accumulated in double, closer to torch's pairwise float sum than
// a serial float sum), rsqrt in float, then (x·r)·g. y may alias x.
template <simd::Policy S = simd::Dynamic>
void RmsNormRow(const float* x, const float* g, size_t n, float eps, float* y) {
  const double ss = vec::SumSquares<S>(x, n);
  const float mean = n ? static_cast<float>(ss / static_cast<double>(n)) : 0.0f;
  vec::ScaleRow<S>(x, 1.0f / std::sqrt(mean + eps), g, n, y);
}

// A learned RMSNorm of length kSize (or a run-time length for kDynamic).
template <int kSize = kDynamic>
class RmsNorm {
 public:
  RmsNorm() = default;
  // Throws ShapeError when a static size disagrees with the weight's.
  RmsNorm(AlignedBuffer<float> weight, float eps)
      : size_(weight.size()), weight_(std::move(weight)), eps_(eps) {
    if (Extent<kSize>::kStatic && weight_.size() != size_.value()) {
      throw ShapeError("RmsNorm: weight has " + std::to_string(weight_.size()) +
                       " entries, expected " + std::to_string(size_.value()));
    }
  }

  size_t size() const noexcept { return size_.value(); }
  float eps() const noexcept { return eps_; }
  const float* weight() const noexcept { return weight_.data(); }

  // Normalizes `rows` rows of x (row stride ldx) into y (stride ldy); y may
  // alias x.
  template <simd::Policy S = simd::Dynamic>
  void Forward(const float* x, size_t rows, size_t ldx, float* y,
               size_t ldy) const {
    for (size_t r = 0; r < rows; ++r) {
      RmsNormRow<S>(x + r * ldx, weight_.data(), size(), eps_, y + r * ldy);
    }
  }

 private:
  Extent<kSize> size_;
  AlignedBuffer<float> weight_;
  float eps_ = 1e-5f;
};

}  // namespace ternary::nn

#endif  // TERNARY_NN_RMS_NORM_H_
