// Target-independent arguments and scratch of the attention kernels.
#ifndef TERNARY_KERNELS_ATTENTION_ARGS_H_
#define TERNARY_KERNELS_ATTENTION_ARGS_H_

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/math.h"
#include "ternary/util/thread_pool.h"

namespace ternary {

// Causal GQA attention for n query rows at positions pos0 … pos0+n−1.
//   q:   n rows (stride ldq) of heads·head_dim, already rotated
//   k,v: rows 0 … pos0+n−1 (stride ldkv) of kv_heads·head_dim, rotated keys
//   out: n rows (stride ldo) of heads·head_dim
// Query head h reads kv head h / (heads / kv_heads).
struct AttentionArgs {
  const float* q;
  size_t ldq;
  size_t n;
  size_t pos0;
  const float* k;
  const float* v;
  size_t ldkv;
  size_t heads, kv_heads, head_dim;
  float* out;
  size_t ldo;
};

// One task: query rows [t0, t1) of head h (kv head g) against keys
// 0 … pos0+t1−1; `scores` holds (t1−t0) rows of `context` floats.
struct AttentionBlockArgs {
  const float* q;
  size_t ldq;
  const float* k;
  const float* v;
  size_t ldkv;
  size_t pos0, t0, t1, h, g, head_dim, context;
  float scale;
  float* scores;
  float* out;
  size_t ldo;
};

// Per-thread score buffers: kQueryBlock rows of up to `context` scores.
// Owned by the caller (a Model::State), so its size is known and freed
// with it.
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
  size_t bytes() const noexcept { return buf_.size() * sizeof(float); }

 private:
  AlignedBuffer<float> buf_;
  size_t per_ = 0;
};

namespace detail {

// The attention's task split (heads × blocks of kQueryBlock queries), the
// same for every target and the reference; block(args) runs one task.
template <class Block>
void RunAttention(const AttentionArgs& a, AttentionScratch& scratch,
                  ThreadPool* pool, const Block& block) {
  if (a.n == 0) return;
  TERNARY_DASSERT(a.heads % a.kv_heads == 0);
  const size_t group = a.heads / a.kv_heads;
  const size_t context = a.pos0 + a.n;
  const float scale = 1.0f / std::sqrt(static_cast<float>(a.head_dim));
  const size_t blocks = DivCeil(a.n, AttentionScratch::kQueryBlock);
  scratch.Prepare(pool ? pool->NumThreads() : 1, context);
  auto task = [&](size_t task_id, size_t thread) {
    const size_t h = task_id / blocks;
    const size_t t0 = (task_id % blocks) * AttentionScratch::kQueryBlock;
    const size_t t1 = std::min(a.n, t0 + AttentionScratch::kQueryBlock);
    block(AttentionBlockArgs{a.q, a.ldq, a.k, a.v, a.ldkv, a.pos0, t0, t1, h,
                             h / group, a.head_dim, context, scale,
                             scratch.Slot(thread), a.out, a.ldo});
  };
  const size_t tasks = a.heads * blocks;
  if (pool != nullptr) {
    pool->Run(0, tasks, task);
  } else {
    for (size_t t = 0; t < tasks; ++t) task(t, 0);
  }
}

}  // namespace detail
}  // namespace ternary

#endif  // TERNARY_KERNELS_ATTENTION_ARGS_H_
