// Rotary position embedding, split-half ("NEOX") convention as transformers'
// rotate_half (docs/numerics.md §8), with precomputed cos/sin tables.
#ifndef TERNARY_NN_ROTARY_H_
#define TERNARY_NN_ROTARY_H_

#include <cmath>
#include <cstddef>
#include <string>

#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/extent.h"

namespace ternary::nn {

// For a head vector x of length d and position p, with h = d/2 and
// θ_i = p · inv_freq_i, i < h:
//   x'[i]   = x[i]·cos θ_i − x[i+h]·sin θ_i
//   x'[i+h] = x[i]·sin θ_i + x[i+h]·cos θ_i
// inv_freq_i = 1 / base^(2i/d) and θ_i = p·inv_freq_i are rounded to float
// as transformers computes them in float32; cos/sin are the correctly
// rounded values of that float θ.
template <int kHeadDim = kDynamic>
class Rotary {
 public:
  Rotary() = default;
  // Tables cover positions [0, table_positions); later positions are
  // computed on the fly. Throws ShapeError for an odd or mismatched head_dim.
  Rotary(size_t head_dim, double theta, size_t table_positions)
      : head_dim_(head_dim), positions_(table_positions) {
    if (head_dim == 0 || head_dim % 2 != 0 ||
        (Extent<kHeadDim>::kStatic &&
         head_dim != static_cast<size_t>(kHeadDim))) {
      throw ShapeError(
          "Rotary: head_dim " + std::to_string(head_dim) + " must be even" +
          (Extent<kHeadDim>::kStatic ? " and equal " + std::to_string(kHeadDim)
                                     : std::string()));
    }
    const size_t half = head_dim / 2;
    inv_freq_ = AlignedBuffer<float>(half);
    const float base = static_cast<float>(theta);
    for (size_t i = 0; i < half; ++i) {
      const float expo =
          static_cast<float>(2 * i) / static_cast<float>(head_dim);
      const float pw = static_cast<float>(
          std::pow(static_cast<double>(base), static_cast<double>(expo)));
      inv_freq_[i] = 1.0f / pw;
    }
    cos_ = AlignedBuffer<float>(positions_ * half);
    sin_ = AlignedBuffer<float>(positions_ * half);
    for (size_t p = 0; p < positions_; ++p) {
      Angles(p, cos_.data() + p * half, sin_.data() + p * half);
    }
  }

  size_t head_dim() const noexcept { return head_dim_.value(); }
  size_t table_positions() const noexcept { return positions_; }

  // cos/sin of θ_i for position p, i < head_dim/2.
  void Angles(size_t p, float* c, float* s) const noexcept {
    const size_t half = head_dim() / 2;
    for (size_t i = 0; i < half; ++i) {
      const float th = static_cast<float>(p) * inv_freq_[i];
      c[i] = static_cast<float>(std::cos(static_cast<double>(th)));
      s[i] = static_cast<float>(std::sin(static_cast<double>(th)));
    }
  }

  // Rotates n_heads consecutive head vectors (stride head_dim) at position p.
  void Apply(float* x, size_t n_heads, size_t p) const noexcept {
    constexpr size_t kMaxStackHalf = 256;
    const size_t half = head_dim() / 2;
    const float* c;
    const float* s;
    float cbuf[kMaxStackHalf], sbuf[kMaxStackHalf];
    if (p < positions_) {
      c = cos_.data() + p * half;
      s = sin_.data() + p * half;
    } else if (half <= kMaxStackHalf) {
      Angles(p, cbuf, sbuf);
      c = cbuf;
      s = sbuf;
    } else {  // head_dim > 512 past the table: one angle at a time
      for (size_t h = 0; h < n_heads; ++h) {
        float* v = x + h * head_dim();
        for (size_t i = 0; i < half; ++i) {
          float ci, si;
          AnglesOne(p, i, &ci, &si);
          const float a = v[i], b = v[i + half];
          v[i] = a * ci - b * si;
          v[i + half] = a * si + b * ci;
        }
      }
      return;
    }
    for (size_t h = 0; h < n_heads; ++h) {
      float* v = x + h * head_dim();
      for (size_t i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = a * s[i] + b * c[i];
      }
    }
  }

 private:
  void AnglesOne(size_t p, size_t i, float* c, float* s) const noexcept {
    const float th = static_cast<float>(p) * inv_freq_[i];
    *c = static_cast<float>(std::cos(static_cast<double>(th)));
    *s = static_cast<float>(std::sin(static_cast<double>(th)));
  }

  Extent<kHeadDim> head_dim_;
  size_t positions_ = 0;
  AlignedBuffer<float> inv_freq_;
  AlignedBuffer<float> cos_;
  AlignedBuffer<float> sin_;
};

}  // namespace ternary::nn

#endif  // TERNARY_NN_ROTARY_H_
