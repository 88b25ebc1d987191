// RMSNorm in float32: y = x / sqrt(mean(x²) + eps) · g (docs/numerics.md §7).
#ifndef TERNARY_NN_RMS_NORM_H_
#define TERNARY_NN_RMS_NORM_H_

#include <cstddef>
#include <string>
#include <utility>

#include "ternary/kernels/dispatch.h"
#include "ternary/simd/policies.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/extent.h"

namespace ternary::nn {

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

  // Normalizes `rows` rows of x (row stride ldx) into y (stride ldy) as
  // transformers' LlamaRMSNorm does in float32: the mean of squares
  // (accumulated in double), rsqrt in float, then (x·r)·g. y may alias x.
  // Run takes a target's ops (kernels/ops-inl.h); Forward dispatches.
  template <class Ops>
  void Run(const float* x, size_t rows, size_t ldx, float* y,
           size_t ldy) const {
    Ops::RmsNorm(x, rows, ldx, weight_.data(), size(), eps_, y, ldy);
  }
  template <simd::Policy S = simd::Dynamic>
  void Forward(const float* x, size_t rows, size_t ldx, float* y,
               size_t ldy) const {
    WithOps<S>([&]<class Ops>() { Run<Ops>(x, rows, ldx, y, ldy); });
  }

 private:
  Extent<kSize> size_;
  AlignedBuffer<float> weight_;
  float eps_ = 1e-5f;
};

}  // namespace ternary::nn

#endif  // TERNARY_NN_RMS_NORM_H_
