// Test helper: small random Hugging Face BitNet checkpoints written to a
// temp folder, so loader tests can corrupt one thing at a time.
#ifndef TERNARY_TESTS_MODEL_CHECKPOINT_BUILDER_H_
#define TERNARY_TESTS_MODEL_CHECKPOINT_BUILDER_H_

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "io/safetensors_writer.h"
#include "ternary/model/hf_checkpoint.h"

namespace ternary::test {

struct TinyCheckpoint {
  nlohmann::json config;
  std::vector<TensorBytes> tensors;

  TensorBytes& Get(const std::string& name) {
    for (auto& t : tensors) {
      if (t.name == name) return t;
    }
    throw std::runtime_error("no tensor " + name);
  }
  void Remove(const std::string& name) {
    std::erase_if(tensors,
                  [&](const TensorBytes& t) { return t.name == name; });
  }
  void Write(const std::filesystem::path& dir) const {
    std::filesystem::create_directories(dir);
    WriteText(dir / "config.json", config.dump(2));
    WriteFile(dir / "model.safetensors", SerializeTensors(tensors));
  }
};

// hidden 64, ffn 128, 4 heads on 2 KV heads of 16, 2 layers, vocab 48.
// Offline: U8 packed ternary + BF16 weight_scale (autobitlinear unless
// `linear_class` says otherwise); online: BF16 master weights.
inline TinyCheckpoint MakeTinyCheckpoint(
    bool online = false, bool tied = true, uint32_t seed = 7,
    const std::string& linear_class = "autobitlinear") {
  constexpr int kHidden = 64, kFfn = 128, kHeads = 4, kKvHeads = 2,
                kHeadDim = 16, kLayers = 2, kVocab = 48;
  TinyCheckpoint c;
  c.config = {{"architectures", {"BitNetForCausalLM"}},
              {"model_type", "bitnet"},
              {"hidden_act", "relu2"},
              {"hidden_size", kHidden},
              {"intermediate_size", kFfn},
              {"num_hidden_layers", kLayers},
              {"num_attention_heads", kHeads},
              {"num_key_value_heads", kKvHeads},
              {"head_dim", kHeadDim},
              {"vocab_size", kVocab},
              {"max_position_embeddings", 64},
              {"rms_norm_eps", 1e-5},
              {"rope_theta", 10000.0},
              {"tie_word_embeddings", tied},
              {"quantization_config",
               {{"quant_method", "bitnet"},
                {"linear_class", linear_class},
                {"quantization_mode", online ? "online" : "offline"}}}};
  std::mt19937 rng{seed};
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto floats = [&](size_t n, float mean, float sd) {
    std::vector<float> v(n);
    for (float& x : v) x = mean + sd * normal(rng);
    return v;
  };
  auto add_float = [&](const std::string& name, std::vector<uint64_t> shape,
                       float mean, float sd) {
    size_t n = 1;
    for (auto d : shape) n *= d;
    c.tensors.push_back(Bf16Tensor(name, shape, floats(n, mean, sd)));
  };
  auto add_proj = [&](const std::string& name, size_t out, size_t in) {
    if (online) {
      add_float(name, {out, in}, 0.0f, 0.05f);
      return;
    }
    std::vector<int8_t> t(out * in);
    std::uniform_int_distribution<int> tern(-1, 1);
    for (int8_t& v : t) v = static_cast<int8_t>(tern(rng));
    TensorBytes p{
        name, "U8", {out / 4, in}, std::vector<uint8_t>(out / 4 * in)};
    PackHfTernary(t.data(), out, in, p.data.data());
    c.tensors.push_back(p);
    c.tensors.push_back(
        Bf16Tensor(name + "_scale", {1}, {0.02f + 0.01f * (out % 7)}));
  };
  add_float("model.embed_tokens.weight", {kVocab, kHidden}, 0.0f, 1.0f);
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add_float(p + "input_layernorm.weight", {kHidden}, 1.0f, 0.1f);
    add_float(p + "post_attention_layernorm.weight", {kHidden}, 1.0f, 0.1f);
    add_float(p + "self_attn.attn_sub_norm.weight", {kHidden}, 1.0f, 0.1f);
    add_float(p + "mlp.ffn_sub_norm.weight", {kFfn}, 1.0f, 0.1f);
    add_proj(p + "self_attn.q_proj.weight", kHeads * kHeadDim, kHidden);
    add_proj(p + "self_attn.k_proj.weight", kKvHeads * kHeadDim, kHidden);
    add_proj(p + "self_attn.v_proj.weight", kKvHeads * kHeadDim, kHidden);
    add_proj(p + "self_attn.o_proj.weight", kHidden, kHeads * kHeadDim);
    add_proj(p + "mlp.gate_proj.weight", kFfn, kHidden);
    add_proj(p + "mlp.up_proj.weight", kFfn, kHidden);
    add_proj(p + "mlp.down_proj.weight", kHidden, kFfn);
  }
  add_float("model.norm.weight", {kHidden}, 1.0f, 0.1f);
  if (!tied) add_float("lm_head.weight", {kVocab, kHidden}, 0.0f, 1.0f);
  return c;
}

}  // namespace ternary::test

#endif  // TERNARY_TESTS_MODEL_CHECKPOINT_BUILDER_H_
