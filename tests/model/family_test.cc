// Model families (model/family.h) end to end: the Llama-architecture ternary
// checkpoint of tests/data/families/llama_bitnet (LlamaForCausalLM with
// bitnet quantization: SiLU FFN, no sub-norms, untied head, packed U8 with
// weight_scale = 1/mean|W|, heads·head_dim ≠ hidden) against the logits of
// an independent numpy forward pass (tests/data/make/make_llama_bitnet.py),
// for every packing and SIMD target; WithFamily; and the one-line errors of
// configs and files ternary cannot run.
#include "ternary/model/family.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors_writer.h"
#include "model/checkpoint_builder.h"
#include "model/family_reference.h"
#include "model/logit_compare.h"
#include "ternary/io/safetensors.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/model.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "ternary/util/error.h"
#include "test_util.h"

namespace ternary {
namespace {

const std::filesystem::path kLlama =
    std::filesystem::path(TERNARY_TEST_DATA_DIR) / "families" / "llama_bitnet";

// The fixture's sizes (make_llama_bitnet.py): heads·head_dim = 64 ≠ 32.
constexpr Dims kLlamaDims{.hidden = 32,
                          .ffn = 96,
                          .heads = 4,
                          .kv_heads = 2,
                          .head_dim = 16,
                          .layers = 2,
                          .vocab = 4096};

using test::LoadReference;
using test::RefCase;

// Tolerance, as a fraction of the reference row's range. The fixture's
// generator keeps only weights whose every activation code is robust to a
// 2e-6 relative error of its input, so ternary's float32 pass computes the
// reference's codes exactly; what is left is float32 against float64 in the
// float ops (RMSNorm, RoPE, softmax, SiLU, the BitLinear epilogue, the LM
// head): measured ≤ 1.3e-7 of the range on every target and packing. One
// code rounding the other way moves logits by ~5e-3 of the range (4.6e-3
// measured on the generator's seed 5, which has an exact tie), which 1e-5
// catches with a factor of ~80 to spare either way.
constexpr double kTolerance = 1e-5;

template <class M>
void CheckAgainstReference(const M& model, const std::vector<RefCase>& cases) {
  test::CheckAgainstReference(model, cases, kTolerance);
}

template <class Format>
void CheckFormat() {
  using M = Model<kDynamicDims, Policy<Format>, family::LlamaBitNet>;
  const auto cases = LoadReference(kLlama);
  const M model = M::Load(kLlama);
  CHECK(model.config().family == ModelFamily::kLlamaBitNet);
  CHECK(!model.config().tie_word_embeddings);
  CHECK(model.q_dim() == 64);
  CHECK(model.hidden() == 32);
  test::ForEachTarget([&](int64_t) { CheckAgainstReference(model, cases); });
}

TEST_CASE("llama-bitnet checkpoint I2S/A8 matches the numpy reference") {
  CheckFormat<quant::I2S>();
}
TEST_CASE("llama-bitnet checkpoint TL1/A8 matches the numpy reference") {
  CheckFormat<quant::TL1>();
}
TEST_CASE("llama-bitnet checkpoint TL2/A8 matches the numpy reference") {
  CheckFormat<quant::TL2>();
}

TEST_CASE("llama-bitnet: scalar reference ops and static dims agree") {
  const auto cases = LoadReference(kLlama);
  using Ref = Policy<quant::I2S, quant::A8, simd::Reference>;
  CheckAgainstReference(
      Model<kDynamicDims, Ref, family::LlamaBitNet>::Load(kLlama), cases);
  // Static dims with heads·head_dim ≠ hidden: allowed without sub-norms.
  CheckAgainstReference(
      Model<kLlamaDims, Ref, family::LlamaBitNet>::Load(kLlama), cases);
}

TEST_CASE("config.json parsing: families, Llama defaults, head_dim") {
  const nlohmann::json fixture =
      nlohmann::json::parse(std::ifstream(kLlama / "config.json"));
  HfModelConfig c = ParseHfModelConfig(fixture.dump(), "config.json");
  CHECK(c.family == ModelFamily::kLlamaBitNet);
  CHECK(c.hf.head_dim == 16);
  CHECK(c.hf.hidden_size == 32);
  CHECK(c.hf.rms_norm_eps == 1e-6f);
  CHECK(c.hf.rope_theta == 1000042.0);
  CHECK(!c.hf.ScaleMultiplies());  // bitlinear: weight_scale divides
  // LlamaConfig's defaults where keys are absent (BitNetConfig's differ).
  nlohmann::json j = fixture;
  for (const char* key : {"rms_norm_eps", "rope_theta", "head_dim",
                          "hidden_act", "tie_word_embeddings"}) {
    j.erase(key);
  }
  c = ParseHfModelConfig(j.dump(), "config.json");
  CHECK(c.hf.rms_norm_eps == 1e-6f);
  CHECK(c.hf.rope_theta == 10000.0);
  CHECK(c.hf.head_dim == 8);  // hidden / heads
  CHECK(!c.hf.tie_word_embeddings);
  // transformers 5.x nests the theta.
  j = fixture;
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 3.0e5}};
  CHECK(ParseHfModelConfig(j.dump(), "config.json").hf.rope_theta == 3.0e5);
  // 2B4T's folder keeps its family and BitNetConfig's defaults.
  const HfModelConfig tiny = LoadHfModelConfig(
      std::filesystem::path(TERNARY_MODELS_DIR) / "tiny-shakespeare");
  CHECK(tiny.family == ModelFamily::kBitNet);
  CHECK(tiny.hf.rms_norm_eps == 1e-5f);
  CHECK(tiny.hf.ScaleMultiplies());
}

TEST_CASE("WithFamily picks the policy a checkpoint's config names") {
  const auto load = [](const std::filesystem::path& path) {
    return WithCheckpoint(path, [&](auto& source, const std::string& name) {
      return WithFamily(source.config().family, [&]<class F>(F) {
        using M = Model<kDynamicDims,
                        Policy<quant::I2S, quant::A8, simd::Reference>, F>;
        const M m = M::FromSource(source, name);
        std::vector<int32_t> ids = {4091, 1948, 328};
        auto state = m.NewState();
        return std::make_pair(std::string(F::kName), m.Forward(ids, state));
      });
    });
  };
  const auto [llama_name, llama_logits] = load(kLlama);
  CHECK(llama_name == family::LlamaBitNet::kName);
  const auto cases = LoadReference(kLlama);
  for (size_t t = 0; t < 3; ++t) {
    CHECK(test::Gap(test::Row(llama_logits, 4096, t),
                    test::Row(cases[0].logits, 4096, t)) <= kTolerance);
  }
  const auto [bitnet_name, bitnet_logits] =
      load(std::filesystem::path(TERNARY_MODELS_DIR) / "tiny-shakespeare");
  CHECK(bitnet_name == family::BitNet::kName);
  CHECK(bitnet_logits.size() == 3 * 4096);
  CHECK(HasSubNorms(ModelFamily::kBitNet));
  CHECK(!HasSubNorms(ModelFamily::kLlamaBitNet));
  CHECK(FfnActivationOf(ModelFamily::kLlamaBitNet) == nn::FfnActivation::kSilu);
}

// The fixture as editable bytes.
test::TinyCheckpoint ReadFixture() { return test::ReadFixture(kLlama); }

// Loading c as M fails with a one-line error holding `needle`.
template <class M = Model<kDynamicDims, Policy<>, family::LlamaBitNet>>
void ExpectOneLineError(const test::TinyCheckpoint& c,
                        const std::string& needle) {
  test::ExpectOneLineLoadError<M>(c, needle);
}

TEST_CASE("llama-bitnet: what ternary cannot run gives a one-line error") {
  const std::string q = "model.layers.1.self_attn.q_proj.weight";
  auto c = ReadFixture();
  c.config["hidden_act"] = "gelu";
  ExpectOneLineError(c,
                     "config.json: key 'hidden_act' is 'gelu'; "
                     "LlamaForCausalLM runs 'silu' only");

  c = ReadFixture();
  c.Remove(q + "_scale");
  ExpectOneLineError(c, "model.safetensors: missing tensor '" + q + "_scale'");

  c = ReadFixture();
  c.config.erase("quantization_config");  // a plain (float) Llama
  ExpectOneLineError(c, "config.json: key 'quantization_config' is missing");

  c = ReadFixture();
  c.config["architectures"] = {"BitnetForCausalLM"};  // 1bitLLM
  ExpectOneLineError(c,
                     "config.json: the checkpoint is a 1bitllm-bitnet "
                     "(BitnetForCausalLM, model_type llama) model; this Model "
                     "type runs llama-bitnet");

  c = ReadFixture();
  c.config["architectures"] = {"MistralForCausalLM"};
  ExpectOneLineError(c,
                     "config.json: key 'architectures' is "
                     "[MistralForCausalLM]; supported:");

  c = ReadFixture();
  c.config["model_type"] = "bitnet";
  ExpectOneLineError(c,
                     "config.json: key 'model_type' is 'bitnet', but "
                     "architectures is [LlamaForCausalLM]");

  c = ReadFixture();
  c.config.erase("architectures");
  ExpectOneLineError(c, "config.json: key 'architectures' is missing");

  c = ReadFixture();
  c.config["attention_bias"] = true;
  ExpectOneLineError(c, "config.json: key 'attention_bias' is true");

  c = ReadFixture();
  c.config["quantization_config"]["use_rms_norm"] = true;
  ExpectOneLineError(
      c, "config.json: key 'quantization_config.use_rms_norm' is true");

  c = ReadFixture();
  c.config["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  ExpectOneLineError(c,
                     "config.json: key 'rope_scaling' has rope_type "
                     "'llama3'");

  // A sub-norm would be silently ignored: refused by name.
  c = ReadFixture();
  c.tensors.push_back(
      test::F32Tensor("model.layers.0.self_attn.attn_sub_norm.weight", {32},
                      std::vector<float>(32, 1.0f)));
  ExpectOneLineError(c,
                     "tensor 'model.layers.0.self_attn.attn_sub_norm.weight' "
                     "is not part of the llama-bitnet");

  c = ReadFixture();
  c.Remove("lm_head.weight");
  ExpectOneLineError(c, "missing tensor 'lm_head.weight'");

  // The other family's Model type says which family the file is.
  ExpectOneLineError<Model<>>(
      ReadFixture(),
      "config.json: the checkpoint is a llama-bitnet (LlamaForCausalLM, "
      "quant_method bitnet) model; this Model type runs bitnet");
  ExpectOneLineError(test::MakeTinyCheckpoint(),
                     "config.json: the checkpoint is a bitnet "
                     "(BitNetForCausalLM) model; this Model type runs "
                     "llama-bitnet");

  // A 2B4T config with SiLU is refused (1bitLLM's weights under
  // bitnet.cpp's relu² arch name are the mirror image of this).
  auto b = test::MakeTinyCheckpoint();
  b.config["hidden_act"] = "silu";
  ExpectOneLineError<Model<>>(b,
                              "config.json: key 'hidden_act' is 'silu'; "
                              "BitNetForCausalLM runs 'relu2' only");
}

}  // namespace
}  // namespace ternary
