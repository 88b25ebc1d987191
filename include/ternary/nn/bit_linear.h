// BitLinear: ternary weights × quantized activations (docs/numerics.md §5),
// generic in the packing format, the activation policy's quantizer for its
// role, and the SIMD policy.
#ifndef TERNARY_NN_BIT_LINEAR_H_
#define TERNARY_NN_BIT_LINEAR_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "ternary/kernels/matmul.h"
#include "ternary/kernels/scratch.h"
#include "ternary/quant/activation.h"
#include "ternary/quant/format.h"
#include "ternary/simd/policies.h"
#include "ternary/util/thread_pool.h"

namespace ternary::nn {

// y = (W_ternary · q(x)) / scale(x) · α for every token row of x, where q is
// the quantizer Act assigns to kRole (A8: int8 absmax everywhere; A4: the
// a4.8 mix). The weights are packed once, in Format's layout.
template <quant::PackingFormat Format, quant::ActivationPolicy Act,
          quant::Role kRole, simd::Policy Simd = simd::Dynamic>
class BitLinear {
 public:
  using Quantizer = typename Act::template Quantizer<kRole>;
  static constexpr quant::Role kInputRole = kRole;

  BitLinear() = default;
  explicit BitLinear(PackedMatrix<Format> w) : w_(std::move(w)) {}

  // t: rows×cols row-major ternary values; alpha: multiply-convention scale.
  // Throws ShapeError for shapes Format cannot hold.
  static BitLinear FromTernary(std::span<const int8_t> t, size_t rows,
                               size_t cols, float alpha) {
    return BitLinear(PackedMatrix<Format>::Pack(t, rows, cols, alpha));
  }

  size_t rows() const noexcept { return w_.rows(); }
  size_t cols() const noexcept { return w_.cols(); }
  const PackedMatrix<Format>& weights() const noexcept { return w_; }

  // With a target's ops (kernels/ops-inl.h), as a forward pass runs it:
  // Quantize n rows of x (stride ldx, cols() values each) for this role
  // (layers that share an input, q/k/v and gate/up, quantize it once), then
  // Run: y rows (stride ldy ≥ rows()) from the quantized activations.
  template <class Ops>
  void Quantize(const float* x, size_t n, size_t ldx,
                QuantizedActs& acts) const {
    Ops::template Quantize<Quantizer>(x, n, cols(), ldx, acts);
  }
  template <class Ops>
  void Run(const QuantizedActs& acts, float* y, size_t ldy,
           KernelScratch& scratch, ThreadPool* pool) const {
    Ops::template MatMul<Format>(w_, acts, y, nullptr, ldy, scratch, pool);
  }

  // The same, one dispatch per call with the Simd policy.
  void QuantizeInput(const float* x, size_t n, size_t ldx,
                     QuantizedActs& acts) const {
    QuantizeActs<Quantizer, Simd>(x, n, cols(), ldx, acts);
  }
  void Forward(const QuantizedActs& acts, float* y, size_t ldy,
               ThreadPool* pool = nullptr) const {
    MatMul<Format, Simd>(w_, acts, y, ldy, pool);
  }

  // Quantize, then multiply; `acts` is scratch.
  void Forward(const float* x, size_t n, size_t ldx, float* y, size_t ldy,
               QuantizedActs& acts, ThreadPool* pool = nullptr) const {
    QuantizeInput(x, n, ldx, acts);
    Forward(acts, y, ldy, pool);
  }

 private:
  PackedMatrix<Format> w_;
};

}  // namespace ternary::nn

#endif  // TERNARY_NN_BIT_LINEAR_H_
