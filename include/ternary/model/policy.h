// The performance policy of a Model: packing format × activation policy ×
// SIMD dispatch.
#ifndef TERNARY_MODEL_POLICY_H_
#define TERNARY_MODEL_POLICY_H_

#include "ternary/quant/activation.h"
#include "ternary/quant/format.h"
#include "ternary/quant/i2s.h"
#include "ternary/simd/policies.h"

namespace ternary {

// Format: quant::I2S, quant::TL1, quant::TL2 (how weights are packed);
// Act: quant::A8 (BitNet b1.58) or quant::A4 (BitNet a4.8), or any struct
// with a Quantizer<Role> template; Simd: simd::Dynamic, Static or Reference.
template <quant::PackingFormat F = quant::I2S,
          quant::ActivationPolicy A = quant::A8, simd::Policy S = simd::Dynamic>
struct Policy {
  using Format = F;
  using Act = A;
  using Simd = S;
};

template <class P>
concept ModelPolicy = quant::PackingFormat<typename P::Format> &&
    quant::ActivationPolicy<typename P::Act> && simd::Policy<typename P::Simd>;

}  // namespace ternary

#endif  // TERNARY_MODEL_POLICY_H_
