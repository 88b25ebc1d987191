// 1bitLLM's BitNet b1.58 (family::OneBitLlm: HF BitnetForCausalLM,
// model_type llama) end to end: the checkpoint of tests/data/families/1bitllm
// (SiLU FFN with sub-norms named inner_attn_ln / ffn_layernorm, fp16 latent
// weights ternarized at load, tied head, head_dim 100 without GQA, stored
// inv_freq buffers) against the logits of an independent numpy forward pass
// (tests/data/make/make_1bitllm.py), for every packing and SIMD target; the
// config.json rules of the family and its one-line errors.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors_writer.h"
#include "model/checkpoint_builder.h"
#include "model/family_reference.h"
#include "model/logit_compare.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/family.h"
#include "ternary/model/model.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"
#include "test_util.h"

namespace ternary {
namespace {

const std::filesystem::path kOneBit =
    std::filesystem::path(TERNARY_TEST_DATA_DIR) / "families" / "1bitllm";

// The fixture's sizes (make_1bitllm.py): bitnet_b1_58-3B's head_dim 100.
constexpr Dims kOneBitDims{.hidden = 100,
                           .ffn = 128,
                           .heads = 1,
                           .kv_heads = 1,
                           .head_dim = 100,
                           .layers = 2,
                           .vocab = 512};

// Tolerance, as a fraction of the reference row's range: as for the llama
// fixture (family_test.cc), the generator keeps a seed whose every
// activation and weight code is at least 2e-6 (relative) from a rounding
// tie, so the codes agree exactly and only float32 against float64 in the
// float ops is left (measured 1.1e-7); one weight code flipped moves a row
// by 8e-3 (layer 1 down_proj) to 2e-2 (layer 0 q_proj) of its range.
constexpr double kTolerance = 1e-5;

template <class Format>
void CheckFormat() {
  using M = Model<kDynamicDims, Policy<Format>, family::OneBitLlm>;
  const auto cases = test::LoadReference(kOneBit);
  const M model = M::Load(kOneBit);
  CHECK(model.config().family == ModelFamily::kOneBitLlm);
  CHECK(model.config().tie_word_embeddings);
  CHECK(model.head_dim() == 100);
  CHECK(model.q_dim() == model.hidden());
  test::ForEachTarget(
      [&](int64_t) { test::CheckAgainstReference(model, cases, kTolerance); });
}

TEST_CASE("1bitllm checkpoint I2S/A8 matches the numpy reference") {
  CheckFormat<quant::I2S>();
}
TEST_CASE("1bitllm checkpoint TL1/A8 matches the numpy reference") {
  CheckFormat<quant::TL1>();
}
TEST_CASE("1bitllm checkpoint TL2/A8 matches the numpy reference") {
  CheckFormat<quant::TL2>();
}

using RefPolicy = Policy<quant::I2S, quant::A8, simd::Reference>;

TEST_CASE("1bitllm: scalar reference ops and static dims agree") {
  const auto cases = test::LoadReference(kOneBit);
  test::CheckAgainstReference(
      Model<kDynamicDims, RefPolicy, family::OneBitLlm>::Load(kOneBit), cases,
      kTolerance);
  test::CheckAgainstReference(
      Model<kOneBitDims, RefPolicy, family::OneBitLlm>::Load(kOneBit), cases,
      kTolerance);
}

// The fixture with every F16 tensor widened to F32 (exactly: the same
// values), as 1bitLLM's published files may store them.
test::TinyCheckpoint WidenedToF32() {
  test::TinyCheckpoint c = test::ReadFixture(kOneBit);
  for (test::TensorBytes& t : c.tensors) {
    if (t.dtype != "F16") continue;
    std::vector<float> v(t.data.size() / 2);
    for (size_t i = 0; i < v.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, &t.data[2 * i], 2);
      v[i] = F16ToFloat(h);
    }
    t = test::F32Tensor(t.name, t.shape, v);
  }
  c.config["torch_dtype"] = "float32";
  return c;
}

TEST_CASE("1bitllm: F32 latent weights load to the same model") {
  const auto dir = test::TempDir("onebit_f32");
  WidenedToF32().Write(dir);
  using M = Model<kDynamicDims, RefPolicy, family::OneBitLlm>;
  const M a = M::Load(kOneBit);
  const M b = M::Load(dir);
  const std::vector<int32_t> ids = test::LoadReference(kOneBit)[0].ids;
  auto sa = a.NewState();
  auto sb = b.NewState();
  CHECK(a.Forward(ids, sa) == b.Forward(ids, sb));
  std::filesystem::remove_all(dir);
}

TEST_CASE("1bitllm: a lm_head.weight beside tied embeddings is ignored") {
  // transformers ties lm_head to embed_tokens on load when
  // tie_word_embeddings is true, whatever the file holds.
  test::TinyCheckpoint c = test::ReadFixture(kOneBit);
  c.tensors.push_back(test::F32Tensor("lm_head.weight", {512, 100},
                                      std::vector<float>(512 * 100, 0.5f)));
  const auto dir = test::TempDir("onebit_head");
  c.Write(dir);
  using M = Model<kDynamicDims, RefPolicy, family::OneBitLlm>;
  const auto cases = test::LoadReference(kOneBit);
  test::CheckAgainstReference(M::Load(dir), cases, kTolerance);
  std::filesystem::remove_all(dir);
}

TEST_CASE("1bitllm config.json: family, latent weights, defaults") {
  const nlohmann::json fixture =
      nlohmann::json::parse(std::ifstream(kOneBit / "config.json"));
  HfModelConfig c = ParseHfModelConfig(fixture.dump(), "config.json");
  CHECK(c.family == ModelFamily::kOneBitLlm);
  CHECK(c.hf.quantization_mode == io::HfQuantMode::kOnline);
  CHECK(c.hf.head_dim == 100);
  CHECK(c.hf.num_key_value_heads == 1);
  CHECK(c.hf.rms_norm_eps == 1e-5f);
  CHECK(c.hf.rope_theta == 10000.0);
  CHECK(c.hf.tie_word_embeddings);
  CHECK(c.hf.bos_token_id == 1);
  CHECK(c.hf.eos_token_id == 2);
  // BitnetConfig is LlamaConfig's copy: its defaults.
  nlohmann::json j = fixture;
  for (const char* key : {"rms_norm_eps", "rope_theta", "hidden_act",
                          "weight_bits", "input_bits"}) {
    j.erase(key);
  }
  c = ParseHfModelConfig(j.dump(), "config.json");
  CHECK(c.family == ModelFamily::kOneBitLlm);
  CHECK(c.hf.rms_norm_eps == 1e-6f);
  CHECK(c.hf.rope_theta == 10000.0);
  // A packed conversion of the same graph (quantization_config) is read as
  // such.
  j = fixture;
  j["quantization_config"] = {{"quant_method", "bitnet"}};
  c = ParseHfModelConfig(j.dump(), "config.json");
  CHECK(c.hf.quantization_mode == io::HfQuantMode::kOffline);
  CHECK(!c.hf.ScaleMultiplies());
  CHECK(HfTensorName({TensorId::kAttnSubNorm, 3}, ModelFamily::kOneBitLlm) ==
        "model.layers.3.self_attn.inner_attn_ln.weight");
  CHECK(HfTensorName({TensorId::kFfnSubNorm, 0}, ModelFamily::kOneBitLlm) ==
        "model.layers.0.mlp.ffn_layernorm.weight");
  CHECK(HasSubNorms(ModelFamily::kOneBitLlm));
  CHECK(FfnActivationOf(ModelFamily::kOneBitLlm) == nn::FfnActivation::kSilu);
}

TEST_CASE("WithFamily picks family::OneBitLlm for a 1bitLLM folder") {
  const auto name =
      WithCheckpoint(kOneBit, [&](auto& source, const std::string& file) {
        return WithFamily(source.config().family, [&]<class F>(F) {
          using M = Model<kDynamicDims, RefPolicy, F>;
          const M m = M::FromSource(source, file);
          (void)m;
          return std::string(F::kName);
        });
      });
  CHECK(name == family::OneBitLlm::kName);
}

// Loading c as M fails with a one-line error holding `needle`.
template <class M = Model<kDynamicDims, Policy<>, family::OneBitLlm>>
void ExpectOneLineError(const test::TinyCheckpoint& c,
                        const std::string& needle) {
  test::ExpectOneLineLoadError<M>(c, needle);
}

TEST_CASE("1bitllm: what ternary cannot run gives a one-line error") {
  const std::string l0 = "model.layers.0.";
  auto c = test::ReadFixture(kOneBit);
  c.config["hidden_act"] = "relu2";
  ExpectOneLineError(c,
                     "config.json: key 'hidden_act' is 'relu2'; "
                     "BitnetForCausalLM runs 'silu' only");

  c = test::ReadFixture(kOneBit);
  c.config["weight_bits"] = 2;
  ExpectOneLineError(c,
                     "config.json: key 'weight_bits' is 2; 1bitLLM's "
                     "BitLinear has weight_bits 1");

  c = test::ReadFixture(kOneBit);
  c.config["input_bits"] = 4;
  ExpectOneLineError(c, "config.json: key 'input_bits' is 4");

  c = test::ReadFixture(kOneBit);
  c.config["model_type"] = "bitnet";
  ExpectOneLineError(c,
                     "config.json: key 'model_type' is 'bitnet', but "
                     "architectures is [BitnetForCausalLM], whose model_type "
                     "is 'llama'");

  c = test::ReadFixture(kOneBit);
  c.config["architectures"] = {"BitnetForCausalLM", "LlamaForCausalLM"};
  ExpectOneLineError(c, "names several graphs");

  // The sub-norms under 2B4T's names are not 1bitLLM's graph.
  c = test::ReadFixture(kOneBit);
  for (auto& t : c.tensors) {
    if (t.name == l0 + "self_attn.inner_attn_ln.weight") {
      t.name = l0 + "self_attn.attn_sub_norm.weight";
    }
  }
  ExpectOneLineError(c,
                     "tensor 'model.layers.0.self_attn.attn_sub_norm.weight' "
                     "is not part of the 1bitllm-bitnet graph (a "
                     "BitNetForCausalLM sub-norm name)");

  c = test::ReadFixture(kOneBit);
  c.Remove(l0 + "mlp.ffn_layernorm.weight");
  ExpectOneLineError(c, "missing tensor '" + l0 + "mlp.ffn_layernorm.weight'");

  // Latent weights must be float (U8 would need quantization_config).
  c = test::ReadFixture(kOneBit);
  c.Get(l0 + "mlp.up_proj.weight") = {
      l0 + "mlp.up_proj.weight", "U8", {32, 100}, std::vector<uint8_t>(3200)};
  ExpectOneLineError(c, "tensor '" + l0 +
                            "mlp.up_proj.weight' has dtype U8, expected BF16, "
                            "F16 or F32");

  // Sub-norms need heads·head_dim == hidden.
  c = test::ReadFixture(kOneBit);
  c.config["head_dim"] = 50;
  ExpectOneLineError(c,
                     "num_attention_heads * head_dim = 50 differs from "
                     "hidden_size 100");

  c = test::ReadFixture(kOneBit);
  c.tensors.push_back(test::F32Tensor(l0 + "self_attn.q_proj.bias", {100},
                                      std::vector<float>(100, 0.0f)));
  ExpectOneLineError(c, "is not part of the 1bitllm-bitnet graph");

  // The other families' Model types say which family the file is.
  ExpectOneLineError<Model<kDynamicDims, Policy<>, family::LlamaBitNet>>(
      test::ReadFixture(kOneBit),
      "config.json: the checkpoint is a 1bitllm-bitnet (BitnetForCausalLM, "
      "model_type llama) model; this Model type runs llama-bitnet");
  ExpectOneLineError<Model<>>(
      test::ReadFixture(kOneBit),
      "config.json: the checkpoint is a 1bitllm-bitnet (BitnetForCausalLM, "
      "model_type llama) model; this Model type runs bitnet");
}

}  // namespace
}  // namespace ternary
