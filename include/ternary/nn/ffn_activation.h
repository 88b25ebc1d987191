// The activations of the gated FFN, named apart from their kernels so that
// light headers (model/family.h, model/config.h) can name them.
#ifndef TERNARY_NN_FFN_ACTIVATION_H_
#define TERNARY_NN_FFN_ACTIVATION_H_

#include <cstdint>
#include <string_view>

namespace ternary::nn {

// The activation applied to the gate projection before it multiplies up
// (docs/model.md §2, §5.2).
enum class FfnActivation : uint8_t {
  kReluSquared,  // relu(g)²: BitNetForCausalLM, hidden_act "relu2"
  kSilu,         // g·sigmoid(g): LlamaForCausalLM, hidden_act "silu"
};

// The config.json name of the activation ("relu2", "silu").
constexpr std::string_view FfnActivationName(FfnActivation a) noexcept {
  return a == FfnActivation::kSilu ? "silu" : "relu2";
}

}  // namespace ternary::nn

#endif  // TERNARY_NN_FFN_ACTIVATION_H_
