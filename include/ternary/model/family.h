// Model families: the graphs ternary runs, as a run-time tag (ModelFamily,
// what a checkpoint says it is) and as compile-time policies of Model (what
// a forward pass computes). A light header: no kernels.
#ifndef TERNARY_MODEL_FAMILY_H_
#define TERNARY_MODEL_FAMILY_H_

#include <concepts>
#include <cstdint>
#include <string_view>
#include <utility>

#include "ternary/nn/ffn_activation.h"

namespace ternary {

// Which graph a checkpoint holds (docs/model.md §5). Every family uses the
// same decoder: RMSNorm, BitLinear q/k/v, split-halves RoPE, GQA attention,
// BitLinear o, a gated BitLinear FFN, a float LM head (tied or untied, as
// config.json says); they differ where the policies below say.
enum class ModelFamily : uint8_t {
  // BitNetForCausalLM (microsoft/bitnet-b1.58-2B-4T; GGUF bitnet-b1.58,
  // bitnet-25): relu² FFN, sub-norms before o_proj and down_proj.
  kBitNet,
  // LlamaForCausalLM with quantization_config.quant_method "bitnet"
  // (HF1BitLLM/Llama3-8B-1.58-100B-tokens, tiiuae/Falcon3-*-1.58bit): SiLU
  // FFN, no sub-norms.
  kLlamaBitNet,
  // 1bitLLM's BitnetForCausalLM (model_type "llama": 1bitLLM/bitnet_b1_58-
  // large, -3B; GGUF bitnet): SiLU FFN with sub-norms (HF inner_attn_ln,
  // ffn_layernorm), latent fp16/f32 weights ternarized at load.
  kOneBitLlm,
};

namespace family {

// The compile-time graph of a family (Model's third template argument):
//   kFamily         the run-time tag a checkpoint must carry
//   kName           for messages
//   kFfnActivation  act in down(act(gate(x)) · up(x))
//   kSubNorms       RMSNorms before o_proj (over heads·head_dim) and
//                   down_proj (over ffn); without them heads·head_dim may
//                   differ from hidden
// RoPE is split-halves (rotate_half) for every family: that is the HF
// layout; files with q/k rows permuted for interleaved RoPE (GGUF arch
// llama) are to be un-permuted by their loader.
struct BitNet {
  static constexpr ModelFamily kFamily = ModelFamily::kBitNet;
  static constexpr std::string_view kName = "bitnet (BitNetForCausalLM)";
  static constexpr nn::FfnActivation kFfnActivation =
      nn::FfnActivation::kReluSquared;
  static constexpr bool kSubNorms = true;
};

struct LlamaBitNet {
  static constexpr ModelFamily kFamily = ModelFamily::kLlamaBitNet;
  static constexpr std::string_view kName =
      "llama-bitnet (LlamaForCausalLM, quant_method bitnet)";
  static constexpr nn::FfnActivation kFfnActivation = nn::FfnActivation::kSilu;
  static constexpr bool kSubNorms = false;
};

struct OneBitLlm {
  static constexpr ModelFamily kFamily = ModelFamily::kOneBitLlm;
  static constexpr std::string_view kName =
      "1bitllm-bitnet (BitnetForCausalLM, model_type llama)";
  static constexpr nn::FfnActivation kFfnActivation = nn::FfnActivation::kSilu;
  static constexpr bool kSubNorms = true;
};

}  // namespace family

template <class F>
concept FamilyPolicy = requires {
  { F::kFamily } -> std::convertible_to<ModelFamily>;
  { F::kName } -> std::convertible_to<std::string_view>;
  { F::kFfnActivation } -> std::convertible_to<nn::FfnActivation>;
  { F::kSubNorms } -> std::convertible_to<bool>;
};

// Calls fn(policy) with the family policy of `f` (family::BitNet{},
// family::LlamaBitNet{} or family::OneBitLlm{}) and returns its result; fn must
// return the same type for each. Programs that pick the family from a file
// instantiate their Model for each:
//
//   WithFamily(source.config().family, [&]<class F>(F) {
//     return Use(Model<kDynamicDims, P, F>::FromSource(source));
//   });
template <class Fn>
constexpr decltype(auto) WithFamily(ModelFamily f, Fn&& fn) {
  if (f == ModelFamily::kLlamaBitNet) {
    return std::forward<Fn>(fn)(family::LlamaBitNet{});
  }
  if (f == ModelFamily::kOneBitLlm) {
    return std::forward<Fn>(fn)(family::OneBitLlm{});
  }
  return std::forward<Fn>(fn)(family::BitNet{});
}

// The policy facts of a run-time family (for code without a Model type).
constexpr std::string_view ModelFamilyName(ModelFamily f) noexcept {
  return WithFamily(f, [](auto p) { return decltype(p)::kName; });
}
constexpr bool HasSubNorms(ModelFamily f) noexcept {
  return WithFamily(f, [](auto p) { return decltype(p)::kSubNorms; });
}
constexpr nn::FfnActivation FfnActivationOf(ModelFamily f) noexcept {
  return WithFamily(f, [](auto p) { return decltype(p)::kFfnActivation; });
}

}  // namespace ternary

#endif  // TERNARY_MODEL_FAMILY_H_
