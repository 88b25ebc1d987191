// Grouped-query causal attention over a float32 KV cache (SPEC §1.5).
#ifndef TERNARY_NN_ATTENTION_H_
#define TERNARY_NN_ATTENTION_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "ternary/kernels/vector_ops.h"
#include "ternary/nn/extent.h"
#include "ternary/simd/policies.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
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

namespace detail {

// 8 independent accumulators so the compiler can keep a vector of partial
// sums without reassociating (no -ffast-math needed).
template <int kN>
inline float DotF32(const float* a, const float* b, Extent<kN> n) noexcept {
  constexpr size_t kLanes = 8;
  float acc[kLanes] = {};
  const size_t len = n.value();
  size_t i = 0;
  for (; i + kLanes <= len; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float tail = 0.0f;
  if constexpr (!Extent<kN>::kStatic || kN % kLanes != 0) {
    for (; i < len; ++i) tail += a[i] * b[i];
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
         ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

}  // namespace detail

// Per-thread score buffers: kQueryBlock rows of up to `context` scores.
class AttentionScratch {
 public:
  // Queries of one head processed together: they share each key row load.
  static constexpr size_t kQueryBlock = 16;

  // Sizes the buffers for `threads` tasks in flight over `context` keys.
  // Call before the parallel region; Slot never allocates.
  void Prepare(size_t threads, size_t context) {
    per_ = RoundUp(kQueryBlock * std::max<size_t>(context, 1), 16);
    if (threads * per_ > buf_.size()) {
      buf_ = AlignedBuffer<float>(std::max(threads * per_, 2 * buf_.size()));
    }
  }
  float* Slot(size_t thread) noexcept { return buf_.data() + thread * per_; }

 private:
  AlignedBuffer<float> buf_;
  size_t per_ = 0;
};

// Causal GQA attention for n query rows at positions pos0 … pos0+n−1.
//   q:   n rows (stride ldq) of heads·head_dim, already rotated
//   k,v: rows 0 … pos0+n−1 (stride ldkv) of kv_heads·head_dim, rotated keys
//   out: n rows (stride ldo) of heads·head_dim
// Query head h reads kv head h / (heads / kv_heads). Scores are q·k /
// sqrt(head_dim), softmax in float32 with the max subtracted; a task holds
// at most kQueryBlock × (pos0+n) scores, never n².
template <int kHeadDim = kDynamic, simd::Policy S = simd::Dynamic>
void Attention(const float* q, size_t ldq, size_t n, size_t pos0,
               const float* k, const float* v, size_t ldkv,
               const AttentionShape& shape, float* out, size_t ldo,
               AttentionScratch& scratch, ThreadPool* pool = nullptr) {
  if (n == 0) return;
  const Extent<kHeadDim> hd(shape.head_dim);
  TERNARY_DASSERT(hd.value() == shape.head_dim);
  TERNARY_DASSERT(shape.heads % shape.kv_heads == 0);
  const size_t group = shape.heads / shape.kv_heads;
  const size_t context = pos0 + n;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd.value()));
  const size_t blocks = DivCeil(n, AttentionScratch::kQueryBlock);
  const size_t threads = pool ? pool->NumThreads() : 1;
  scratch.Prepare(threads, context);

  auto task = [&](size_t task_id, size_t thread) {
    const size_t h = task_id / blocks;
    const size_t t0 = (task_id % blocks) * AttentionScratch::kQueryBlock;
    const size_t t1 = std::min(n, t0 + AttentionScratch::kQueryBlock);
    const size_t g = h / group;
    const size_t d = hd.value();
    float* scores = scratch.Slot(thread);
    if constexpr (!vec::kScalar<S>) {
      vec::AttentionBlock<S>({q, ldq, k, v, ldkv, pos0, t0, t1, h, g, d,
                              context, scale, scores, out, ldo});
      return;
    }
    const size_t keys = pos0 + t1;  // keys the last query of the block sees

    // Scores: key rows outer so each is loaded once for the whole block.
    for (size_t j = 0; j < keys; ++j) {
      const float* kj = k + j * ldkv + g * d;
      const size_t first = j > pos0 ? std::max(t0, j - pos0) : t0;
      for (size_t t = first; t < t1; ++t) {
        const float* qt = q + t * ldq + h * d;
        scores[(t - t0) * context + j] = detail::DotF32(qt, kj, hd) * scale;
      }
    }
    for (size_t t = t0; t < t1; ++t) {
      float* s = scores + (t - t0) * context;
      const size_t len = pos0 + t + 1;
      vec::scalar::Softmax(s, len);
      float* o = out + t * ldo + h * d;
      for (size_t i = 0; i < d; ++i) o[i] = 0.0f;
      for (size_t j = 0; j < len; ++j) {
        const float p = s[j];
        const float* vj = v + j * ldkv + g * d;
        for (size_t i = 0; i < d; ++i) o[i] += p * vj[i];
      }
    }
  };
  const size_t tasks = shape.heads * blocks;
  if (pool != nullptr) {
    pool->Run(0, tasks, task);
  } else {
    for (size_t t = 0; t < tasks; ++t) task(t, 0);
  }
}

}  // namespace ternary::nn

#endif  // TERNARY_NN_ATTENTION_H_
