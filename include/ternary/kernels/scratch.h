// Working memory of the kernels, owned by the caller: a Model::State holds
// one, so that a sequence's memory is known (bytes()) and freed with it.
// Nothing is kept in thread_local or static buffers.
#ifndef TERNARY_KERNELS_SCRATCH_H_
#define TERNARY_KERNELS_SCRATCH_H_

#include <cstddef>
#include <cstdint>

#include "ternary/kernels/attention_args.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/util/aligned_buffer.h"

namespace ternary {

class KernelScratch {
 public:
  // Activations in a packing format's kernel layout (or its lookup
  // tables): at least `bytes`, 64-byte aligned; grows, never shrinks.
  int8_t* Prepared(size_t bytes) {
    if (prepared_.size() < bytes) prepared_ = AlignedBuffer<int8_t>(bytes);
    return prepared_.data();
  }
  // Score rows of the attention tasks.
  AttentionScratch& attention() noexcept { return attention_; }
  // The int8 input of a Q8 LM head.
  QuantizedActs& head_acts() noexcept { return head_acts_; }

  size_t bytes() const noexcept {
    return prepared_.size() + attention_.bytes() + head_acts_.bytes();
  }

 private:
  AlignedBuffer<int8_t> prepared_;
  AttentionScratch attention_;
  QuantizedActs head_acts_;
};

}  // namespace ternary

#endif  // TERNARY_KERNELS_SCRATCH_H_
