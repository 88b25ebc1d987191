// config.json parsing: transformers 4.x and 5.x forms, defaults, rejections.
#include "ternary/io/hf_config.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "io/safetensors_writer.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

using io::HfConfig;
using io::HfQuantMode;

// microsoft/bitnet-b1.58-2B-4T's config.json (transformers 4.x layout).
nlohmann::json Config2B4T() {
  return nlohmann::json::parse(R"({
    "architectures": ["BitNetForCausalLM"], "model_type": "bitnet",
    "hidden_act": "relu2", "hidden_size": 2560, "intermediate_size": 6912,
    "num_hidden_layers": 30, "num_attention_heads": 20, "num_key_value_heads": 5,
    "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "vocab_size": 128256, "bos_token_id": 128000, "eos_token_id": 128001,
    "tie_word_embeddings": true, "torch_dtype": "bfloat16",
    "quantization_config": {"quant_method": "bitnet", "linear_class": "bitlinear",
                            "quantization_mode": "offline"}})");
}

HfConfig Parse(const nlohmann::json& j) { return HfConfig::Parse(j.dump()); }

TEST_CASE("hf_config: transformers 4.x (rope_theta at the top level)") {
  const HfConfig c = Parse(Config2B4T());
  CHECK(c.hidden_size == 2560);
  CHECK(c.intermediate_size == 6912);
  CHECK(c.num_hidden_layers == 30);
  CHECK(c.num_attention_heads == 20);
  CHECK(c.num_key_value_heads == 5);
  CHECK(c.head_dim == 128);  // hidden / heads when absent
  CHECK(c.vocab_size == 128256);
  CHECK(c.max_position_embeddings == 4096);
  CHECK(c.rms_norm_eps == 1e-5f);
  CHECK(c.rope_theta == 500000.0);
  CHECK(c.tie_word_embeddings);
  CHECK(c.bos_token_id == 128000);
  CHECK(c.eos_token_id == 128001);
  CHECK(c.quantization_mode == HfQuantMode::kOffline);
  CHECK(!c.ScaleMultiplies());
}

TEST_CASE("hf_config: transformers 5.x (rope_parameters) and defaults") {
  nlohmann::json j = Config2B4T();
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_theta", 10000.0}, {"rope_type", "default"}};
  j["head_dim"] = 64;
  j["eos_token_id"] = {128001, 128009};
  j.erase("tie_word_embeddings");
  j.erase("num_key_value_heads");
  j["quantization_config"] = {{"quant_method", "bitnet"},
                              {"linear_class", "autobitlinear"},
                              {"quantization_mode", "online"}};
  const HfConfig c = Parse(j);
  CHECK(c.rope_theta == 10000.0);
  CHECK(c.head_dim == 64);
  CHECK(c.eos_token_id == 128001);
  CHECK(!c.tie_word_embeddings);  // BitNetConfig's default
  CHECK(c.num_key_value_heads == 20);
  CHECK(c.quantization_mode == HfQuantMode::kOnline);
  CHECK(c.ScaleMultiplies());
  // No rope_theta anywhere: BitNetConfig's default.
  j["rope_parameters"].erase("rope_theta");
  CHECK(Parse(j).rope_theta == 500000.0);
  // quantization_mode defaults to offline, linear_class to bitlinear.
  j["quantization_config"] = {{"quant_method", "bitnet"}};
  CHECK(Parse(j).quantization_mode == HfQuantMode::kOffline);
  CHECK(Parse(j).linear_class == "bitlinear");
}

TEST_CASE("hf_config: the repository's checkpoints") {
  const std::filesystem::path models = TERNARY_MODELS_DIR;
  const HfConfig packed = HfConfig::Load(models / "tiny-shakespeare");
  CHECK(packed.hidden_size == 384);
  CHECK(packed.head_dim == 64);
  CHECK(packed.quantization_mode == HfQuantMode::kOffline);
  CHECK(packed.ScaleMultiplies());
  const HfConfig master =
      HfConfig::Load(std::filesystem::path(TERNARY_TEST_DATA_DIR) /
                     "tiny-shakespeare-bf16" / "config.json");
  CHECK(master.quantization_mode == HfQuantMode::kOnline);
}

void ExpectReject(const nlohmann::json& j, const std::string& needle) {
  CAPTURE(needle);
  CHECK_THROWS_WITH_AS(HfConfig::Parse(j.dump(), "config.json"),
                       doctest::Contains(needle.c_str()), FormatError);
}

TEST_CASE("hf_config: rejects unsupported or malformed configs") {
  CHECK_THROWS_WITH_AS(HfConfig::Parse("{oops", "config.json"),
                       doctest::Contains("config.json: not valid JSON"),
                       FormatError);
  nlohmann::json j = Config2B4T();
  j["model_type"] = "llama";
  ExpectReject(j, "config.json: key 'model_type' is 'llama'");
  j = Config2B4T();
  j["architectures"] = {"BitnetForCausalLM"};
  ExpectReject(j, "key 'architectures' is [BitnetForCausalLM]");
  j = Config2B4T();
  j["hidden_act"] = "silu";
  ExpectReject(j, "key 'hidden_act' is 'silu'");
  j = Config2B4T();
  j.erase("hidden_size");
  ExpectReject(j, "key 'hidden_size' is missing");
  j = Config2B4T();
  j["num_hidden_layers"] = "30";
  ExpectReject(j, "key 'num_hidden_layers' must be an integer");
  j = Config2B4T();
  j["vocab_size"] = -1;
  ExpectReject(j, "key 'vocab_size' must be positive");
  j = Config2B4T();
  j.erase("quantization_config");
  ExpectReject(j, "key 'quantization_config' is missing");
  j = Config2B4T();
  j["quantization_config"]["quant_method"] = "gptq";
  ExpectReject(j, "quant_method' is 'gptq'");
  j = Config2B4T();
  j["quantization_config"]["quantization_mode"] = "qat";
  ExpectReject(j, "quantization_mode' is 'qat'");
  j = Config2B4T();
  j["quantization_config"]["linear_class"] = "foo";
  ExpectReject(j, "linear_class' is 'foo'");
  j = Config2B4T();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  ExpectReject(j, "key 'rope_scaling' has rope_type 'llama3'");
  j = Config2B4T();
  j["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 1e4}};
  ExpectReject(j, "key 'rope_parameters' has rope_type 'yarn'");
  j = Config2B4T();
  j["tie_word_embeddings"] = 1;
  ExpectReject(j, "tie_word_embeddings");
}

TEST_CASE("hf_config: a missing config.json names the file") {
  const auto dir = test::TempDir("cfg_missing");
  CHECK_THROWS_WITH_AS(HfConfig::Load(dir), doctest::Contains("config.json"),
                       FormatError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ternary
