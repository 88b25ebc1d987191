// Grouped-query causal attention over a float32 KV cache (docs/numerics.md §9).
#ifndef TERNARY_NN_ATTENTION_H_
#define TERNARY_NN_ATTENTION_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "ternary/kernels/attention_args.h"
#include "ternary/kernels/dispatch.h"
#include "ternary/simd/policies.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/extent.h"
#include "ternary/util/math.h"
#include "ternary/util/thread_pool.h"

namespace ternary::nn {

// Keys and values of every layer, float32, one row of kv_dim = kv_heads ·
// head_dim per position: layer l's K row p is k(l) + p·kv_dim. Grows on
// demand (Reserve), keeping the stored rows.
class KvCache {
 public:
  KvCache() = default;
  KvCache(size_t layers, size_t kv_dim, size_t capacity = 0)
      : layers_(layers), kv_dim_(kv_dim), k_(layers), v_(layers) {
    Reserve(capacity);
  }

  size_t layers() const noexcept { return layers_; }
  size_t kv_dim() const noexcept { return kv_dim_; }
  size_t capacity() const noexcept { return capacity_; }
  // Positions holding valid keys/values.
  size_t size() const noexcept { return size_; }

  float* k(size_t layer) noexcept { return k_[layer].data(); }
  float* v(size_t layer) noexcept { return v_[layer].data(); }
  const float* k(size_t layer) const noexcept { return k_[layer].data(); }
  const float* v(size_t layer) const noexcept { return v_[layer].data(); }

  // Makes room for `positions` rows; at least doubles when it grows.
  void Reserve(size_t positions) {
    if (positions <= capacity_) return;
    const size_t cap = std::max(positions, 2 * capacity_);
    for (size_t l = 0; l < layers_; ++l) {
      AlignedBuffer<float> k(cap * kv_dim_), v(cap * kv_dim_);
      if (size_ != 0) {
        std::memcpy(k.data(), k_[l].data(), size_ * kv_dim_ * sizeof(float));
        std::memcpy(v.data(), v_[l].data(), size_ * kv_dim_ * sizeof(float));
      }
      k_[l] = std::move(k);
      v_[l] = std::move(v);
    }
    capacity_ = cap;
  }

  // Sets the number of valid positions (≤ capacity); Resize(0) clears.
  void Resize(size_t positions) noexcept {
    TERNARY_DASSERT(positions <= capacity_);
    size_ = positions;
  }

 private:
  size_t layers_ = 0;
  size_t kv_dim_ = 0;
  size_t capacity_ = 0;
  size_t size_ = 0;
  std::vector<AlignedBuffer<float>> k_;
  std::vector<AlignedBuffer<float>> v_;
};

// Head counts and size of one attention layer.
struct AttentionShape {
  size_t heads;
  size_t kv_heads;
  size_t head_dim;
};

// The per-thread score buffers of Attention (kernels/attention_args.h).
using AttentionScratch = ::ternary::AttentionScratch;

// Causal GQA attention for n query rows at positions pos0 … pos0+n−1.
//   q:   n rows (stride ldq) of heads·head_dim, already rotated
//   k,v: rows 0 … pos0+n−1 (stride ldkv) of kv_heads·head_dim, rotated keys
//   out: n rows (stride ldo) of heads·head_dim
// Query head h reads kv head h / (heads / kv_heads). Scores are q·k /
// sqrt(head_dim), softmax in float32 with the max subtracted; a task holds
// at most kQueryBlock × (pos0+n) scores, never n². kHeadDim, when not
// kDynamic, must equal shape.head_dim.
template <int kHeadDim = kDynamic, simd::Policy S = simd::Dynamic>
void Attention(const float* q, size_t ldq, size_t n, size_t pos0,
               const float* k, const float* v, size_t ldkv,
               const AttentionShape& shape, float* out, size_t ldo,
               AttentionScratch& scratch, ThreadPool* pool = nullptr) {
  TERNARY_DASSERT(Extent<kHeadDim>(shape.head_dim).value() == shape.head_dim);
  const AttentionArgs args{
      q,   ldq,  n,           pos0,           k,
      v,   ldkv, shape.heads, shape.kv_heads, shape.head_dim,
      out, ldo};
  WithOps<S>([&]<class Ops>() { Ops::Attention(args, scratch, pool); });
}

}  // namespace ternary::nn

#endif  // TERNARY_NN_ATTENTION_H_
