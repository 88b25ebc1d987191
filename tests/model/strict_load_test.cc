// Loaders refuse values and tensors the graph cannot run (issue #16): a
// config.json value out of range, NaN/inf weights or scales, tensors the
// graph does not have, overlapping safetensors offsets, and tokenizers that
// can produce ids the model's embedding has no row for. Each is a
// FormatError naming the file and the key or tensor.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "expect_error.h"
#include "io/safetensors_writer.h"
#include "model/checkpoint_builder.h"
#include "model/gguf_builder.h"
#include "ternary/io/gguf.h"
#include "ternary/io/hf_config.h"
#include "ternary/io/safetensors.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/config.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"

namespace ternary {
namespace {

namespace fs = std::filesystem;
using test::TinyCheckpoint;
using test::TinyGguf;

const fs::path kModels = TERNARY_MODELS_DIR;

// Runs f, expecting a one-line FormatError whose message contains every
// part.
void ExpectFormatError(const std::function<void()>& f,
                       std::initializer_list<std::string_view> parts) {
  const std::string message = test::ExpectError<FormatError>(f, parts);
  INFO("message: " << message);
  CHECK(message.find('\n') == std::string::npos);
}

// Opens an HF folder and reads every tensor, as Model::Load does.
void LoadHf(const fs::path& dir) {
  const HfCheckpoint c = HfCheckpoint::Open(dir);
  c.config().Validate("config.json");
  test::ReadEveryTensor(c);
}

void LoadGguf(const TinyGguf& g) {
  const std::vector<uint8_t> bytes = g.Serialize();
  const GgufCheckpoint c(io::GgufFile::Parse(bytes, "tiny.gguf"));
  c.config().Validate("tiny.gguf");
  test::ReadEveryTensor(c);
}

struct TempFolder {
  fs::path path;
  explicit TempFolder(const std::string& name) : path(test::TempDir(name)) {}
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// config.json with one key changed; expects Parse to refuse it.
void ExpectBadConfig(const std::function<void(nlohmann::json&)>& edit,
                     std::initializer_list<std::string_view> parts) {
  nlohmann::json j = test::MakeTinyCheckpoint().config;
  edit(j);
  const std::string text = j.dump();
  CAPTURE(text);
  ExpectFormatError([&] { (void)io::HfConfig::Parse(text, "config.json"); },
                    parts);
}

// Sets element i of a BF16 tensor.
void SetBf16(test::TensorBytes& t, size_t i, float v) {
  const uint16_t h = FloatToBf16(v);
  t.data[2 * i] = static_cast<uint8_t>(h & 0xff);
  t.data[2 * i + 1] = static_cast<uint8_t>(h >> 8);
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// ------------------------------------------------------------ config.json --

TEST_CASE("strict load: config.json values out of range") {
  // 1e39 is finite as a double but inf as the float the model uses.
  ExpectBadConfig([](auto& j) { j["rms_norm_eps"] = 1e39; },
                  {"config.json: key 'rms_norm_eps' is 1e+39, not a finite "
                   "number (float32 range)"});
  ExpectBadConfig([](auto& j) { j["rms_norm_eps"] = 2.0; },
                  {"config.json: key 'rms_norm_eps' must be >= 0 and < 1, "
                   "got 2.0"});
  ExpectBadConfig([](auto& j) { j["rms_norm_eps"] = -1e-5; },
                  {"config.json: key 'rms_norm_eps' must be >= 0"});
  ExpectBadConfig([](auto& j) { j["rope_theta"] = 1e39; },
                  {"config.json: key 'rope_theta' is 1e+39, not a finite "
                   "number"});
  ExpectBadConfig([](auto& j) { j["rope_theta"] = -10000.0; },
                  {"config.json: key 'rope_theta' must be positive"});
  ExpectBadConfig([](auto& j) { j["rope_theta"] = 0; },
                  {"config.json: key 'rope_theta' must be positive"});
  ExpectBadConfig(
      [](auto& j) {
        j.erase("rope_theta");
        j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e39}};
      },
      {"config.json: key 'rope_parameters.rope_theta' is", "not a finite"});
  ExpectBadConfig([](auto& j) { j["num_attention_heads"] = -4; },
                  {"config.json: key 'num_attention_heads' must be positive, "
                   "got -4"});
  ExpectBadConfig([](auto& j) { j["num_key_value_heads"] = 0; },
                  {"config.json: key 'num_key_value_heads' must be positive"});
  ExpectBadConfig(
      [](auto& j) { j["max_position_embeddings"] = 1 << 25; },
      {"config.json: key 'max_position_embeddings' is 33554432, more than "
       "the 16777216 supported"});
  ExpectBadConfig([](auto& j) { j["eos_token_id"] = 48; },
                  {"config.json: key 'eos_token_id' is 48, outside the "
                   "vocabulary [0, 48) (vocab_size)"});
  ExpectBadConfig(
      [](auto& j) {
        j["eos_token_id"] = {3, 4, 999};
      },
      {"config.json: key 'eos_token_id' is 999, outside the "
       "vocabulary"});
  ExpectBadConfig([](auto& j) { j["bos_token_id"] = -7; },
                  {"config.json: key 'bos_token_id' is -7, outside the "
                   "vocabulary"});

  // JSON has no NaN or Infinity (Python's json writes them): not JSON.
  std::string text = test::MakeTinyCheckpoint().config.dump();
  const std::string eps = "\"rms_norm_eps\":1e-05";
  REQUIRE(text.find(eps) != std::string::npos);
  for (const char* bad : {"NaN", "Infinity", "1e400"}) {
    std::string t = text;
    t.replace(t.find(eps), eps.size(), std::string("\"rms_norm_eps\":") + bad);
    CAPTURE(t);
    ExpectFormatError([&] { (void)io::HfConfig::Parse(t, "config.json"); },
                      {"config.json: "});
  }

  // In range: still accepted (eos as a list, -1 = none, eps 0).
  nlohmann::json j = test::MakeTinyCheckpoint().config;
  j["eos_token_id"] = {46, 47};
  j["bos_token_id"] = -1;
  j["rms_norm_eps"] = 0.0;
  const io::HfConfig c = io::HfConfig::Parse(j.dump(), "config.json");
  CHECK(c.eos_token_id == 46);
  CHECK(c.bos_token_id == -1);
}

TEST_CASE("strict load: ModelConfig::Validate refuses what the readers do") {
  ModelConfig c;
  c.dims = {.hidden = 64,
            .ffn = 128,
            .heads = 4,
            .kv_heads = 2,
            .head_dim = 16,
            .layers = 1,
            .vocab = 8};
  CHECK_NOTHROW(c.Validate("x"));
  c.rms_norm_eps = kInf;
  CHECK_THROWS_WITH_AS(
      c.Validate("x"),
      doctest::Contains("x: rms_norm_eps must be >= 0 and < 1"), ShapeError);
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = std::nan("");
  CHECK_THROWS_WITH_AS(c.Validate("x"),
                       doctest::Contains("x: rope_theta must be positive"),
                       ShapeError);
  c.rope_theta = 1e4;
  c.max_position_embeddings = (1 << 24) + 1;
  CHECK_THROWS_AS(c.Validate("x"), ShapeError);
}

// ---------------------------------------------------- non-finite weights --

TEST_CASE("strict load: NaN and inf in HF tensors") {
  TempFolder dir("strict_nonfinite");
  const std::string norm = "model.layers.1.input_layernorm.weight";
  {
    TinyCheckpoint c = test::MakeTinyCheckpoint();
    SetBf16(c.Get(norm), 3, kNaN);
    c.Write(dir.path / "norm");
    ExpectFormatError([&] { LoadHf(dir.path / "norm"); },
                      {"model.safetensors: tensor '" + norm +
                       "' holds a non-finite value (nan) at element 3"});
  }
  {
    // Every value of the output norm inf.
    TinyCheckpoint c = test::MakeTinyCheckpoint();
    for (size_t i = 0; i < 64; ++i)
      SetBf16(c.Get("model.norm.weight"), i, kInf);
    c.Write(dir.path / "out_norm");
    ExpectFormatError([&] { LoadHf(dir.path / "out_norm"); },
                      {"model.safetensors: tensor 'model.norm.weight' holds a "
                       "non-finite value (inf) at element 0"});
  }
  {
    TinyCheckpoint c = test::MakeTinyCheckpoint();
    SetBf16(c.Get("model.embed_tokens.weight"), 5 * 64 + 7, -kInf);
    c.Write(dir.path / "embed");
    ExpectFormatError([&] { LoadHf(dir.path / "embed"); },
                      {"model.safetensors: tensor 'model.embed_tokens.weight' "
                       "holds a non-finite value (-inf) at row 5, column 7"});
  }
  {
    TinyCheckpoint c = test::MakeTinyCheckpoint(false, /*tied=*/false);
    SetBf16(c.Get("lm_head.weight"), 47 * 64 + 63, kNaN);
    c.Write(dir.path / "head");
    ExpectFormatError([&] { LoadHf(dir.path / "head"); },
                      {"model.safetensors: tensor 'lm_head.weight' holds a "
                       "non-finite value (nan) at row 47, column 63"});
  }
  {
    // bf16 master weights: checked before absmean ternarization.
    const std::string up = "model.layers.0.mlp.up_proj.weight";
    TinyCheckpoint c = test::MakeTinyCheckpoint(/*online=*/true);
    SetBf16(c.Get(up), 2 * 64 + 5, kInf);
    c.Write(dir.path / "master");
    ExpectFormatError([&] { LoadHf(dir.path / "master"); },
                      {"model.safetensors: tensor '" + up +
                       "' holds a non-finite value (inf) at row 2, column 5"});
    // Finite values whose mean overflows.
    c = test::MakeTinyCheckpoint(/*online=*/true);
    for (size_t i = 0; i < 128 * 64; ++i) SetBf16(c.Get(up), i, 3e38f);
    c.Write(dir.path / "master_huge");
    ExpectFormatError(
        [&] { LoadHf(dir.path / "master_huge"); },
        {"model.safetensors: tensor '" + up + "' has absmean scale inf"});
  }
}

TEST_CASE("strict load: weight_scale 0, inf, NaN, or with an inf inverse") {
  TempFolder dir("strict_scale");
  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  struct Case {
    float ws;
    const char* linear_class;
    std::string want;
  };
  const Case cases[] = {
      {0.0f, "autobitlinear", "' is 0.000000, expected a positive scale"},
      {kInf, "autobitlinear", "' is inf, expected a positive scale"},
      {kNaN, "bitlinear", "' is nan, expected a positive scale"},
      {-0.5f, "bitlinear", "' is -0.500000, expected a positive scale"},
      // bitlinear divides: 1 / 1e-40 is inf in float.
      {1e-40f, "bitlinear", "whose inverse inf is not a finite weight scale"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.ws);
    TinyCheckpoint c = test::MakeTinyCheckpoint(false, true, 7, k.linear_class);
    c.Get(q + "_scale") = test::Bf16Tensor(q + "_scale", {1}, {k.ws});
    c.Write(dir.path / "m");
    ExpectFormatError([&] { LoadHf(dir.path / "m"); },
                      {"model.safetensors: tensor '" + q + "_scale", k.want});
  }
}

TEST_CASE("strict load: NaN and inf in GGUF tensors and block scales") {
  {
    TinyGguf g = TinyGguf::Make();
    auto& t = g.Get("blk.0.attn_norm.weight");
    const float nan = kNaN;
    std::memcpy(t.data.data() + 4 * 3, &nan, 4);
    ExpectFormatError([&] { LoadGguf(g); },
                      {"tiny.gguf: tensor 'blk.0.attn_norm.weight' (F32) holds "
                       "a non-finite value (nan) at element 3"});
  }
  {
    // A Q8_0 embedding whose block 9 (row 1, columns 32..63) has d = inf.
    TinyGguf g = TinyGguf::Make();
    const auto& f = g.Get("token_embd.weight");
    std::vector<float> x(f.data.size() / 4);
    std::memcpy(x.data(), f.data.data(), f.data.size());
    const std::vector<int64_t> ne = {TinyGguf::kHidden, TinyGguf::kVocab};
    std::vector<uint8_t> q(io::GgmlTensorBytes(io::GgmlType::kQ8_0, ne));
    quant::QuantizeRowQ8_0(x, q);
    const size_t block = TinyGguf::kHidden / 32 + 1;
    const uint16_t inf16 = 0x7c00;
    std::memcpy(&q[block * 34], &inf16, 2);
    g.Remove("token_embd.weight");
    g.Add("token_embd.weight", ne, io::GgmlType::kQ8_0, q);
    ExpectFormatError(
        [&] { LoadGguf(g); },
        {"tiny.gguf: tensor 'token_embd.weight' (Q8_0) holds a non-finite "
         "value (",
         ") at row 1, column 32 (a non-finite block scale)"});
  }
  {
    // All-inf output norm.
    TinyGguf g = TinyGguf::Make();
    auto& t = g.Get("output_norm.weight");
    for (size_t i = 0; i < t.data.size() / 4; ++i) {
      std::memcpy(t.data.data() + 4 * i, &kInf, 4);
    }
    ExpectFormatError([&] { LoadGguf(g); },
                      {"tiny.gguf: tensor 'output_norm.weight' (F32) holds a "
                       "non-finite value (inf) at element 0"});
  }
}

TEST_CASE("strict load: GGUF metadata out of range") {
  const std::string p = "bitnet-b1.58.";
  auto with_f32 = [&](const std::string& key, float v) {
    TinyGguf g = TinyGguf::Make();
    g.drop_keys = {key};
    io::GgufWriter w = g.Writer();
    w.AddF32(key, v);
    return w.Serialize();
  };
  auto open = [](const std::vector<uint8_t>& bytes) {
    (void)GgufCheckpoint(io::GgufFile::Parse(bytes, "tiny.gguf"));
  };
  const std::string eps = p + "attention.layer_norm_rms_epsilon";
  for (float v : {kInf, kNaN, 2.0f, -1.0f}) {
    CAPTURE(v);
    const auto bytes = with_f32(eps, v);
    ExpectFormatError(
        [&] { open(bytes); },
        {"tiny.gguf: metadata key '" + eps + "' is", "expected >= 0 and < 1"});
  }
  const std::string theta = p + "rope.freq_base";
  for (float v : {kInf, kNaN, 0.0f}) {
    const auto bytes = with_f32(theta, v);
    ExpectFormatError([&] { open(bytes); },
                      {"tiny.gguf: metadata key '" + theta + "' is"});
  }
  {
    TinyGguf g = TinyGguf::Make();
    g.drop_keys = {"tokenizer.ggml.bos_token_id"};
    io::GgufWriter w = g.Writer();
    w.AddU32("tokenizer.ggml.bos_token_id", TinyGguf::kVocab);
    const auto bytes = w.Serialize();
    ExpectFormatError([&] { open(bytes); },
                      {"tiny.gguf: metadata key 'tokenizer.ggml.bos_token_id' "
                       "is 16, outside the vocabulary [0, 16)"});
  }
  {
    TinyGguf g = TinyGguf::Make();
    g.drop_keys = {p + "context_length"};
    io::GgufWriter w = g.Writer();
    w.AddU32(p + "context_length", (1u << 24) + 1);
    const auto bytes = w.Serialize();
    ExpectFormatError([&] { open(bytes); },
                      {"tiny.gguf: metadata key '" + p +
                       "context_length' is 16777217, more than the 16777216 "
                       "supported"});
  }
}

// ------------------------------------------------------ unexpected tensors --

TEST_CASE("strict load: HF tensors the graph does not have") {
  TempFolder dir("strict_extra");
  struct Case {
    bool online;
    std::string name;
    std::string why;
  };
  const Case cases[] = {
      {false, "model.layers.0.self_attn.q_proj.bias",
       "is not part of the BitNet graph (BitNet has no biases)"},
      {false, "model.layers.2.input_layernorm.weight",  // 2 layers: 0, 1
       "is not part of the BitNet graph"},
      {false, "model.layers.-1.input_layernorm.weight",
       "is not part of the BitNet graph"},
      {false, "model.layers.0.self_attn.rotary_emb.inv_freq",
       "is not part of the BitNet graph"},
      {false, "model.embed_tokens.weight_scale",
       "is not part of the BitNet graph (weight_scale belongs to packed "
       "projections"},
      {true, "model.layers.0.self_attn.q_proj.weight_scale",
       "is not part of the BitNet graph (weight_scale belongs to packed "
       "projections, quantization_mode offline)"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    TinyCheckpoint c = test::MakeTinyCheckpoint(k.online);
    c.tensors.push_back(test::Bf16Tensor(k.name, {4}, {1, 2, 3, 4}));
    c.Write(dir.path / "m");
    ExpectFormatError([&] { (void)HfCheckpoint::Open(dir.path / "m"); },
                      {"model.safetensors: tensor '" + k.name + "' " + k.why});
  }
  // lm_head.weight in a tied checkpoint: transformers ties it, so do we.
  TinyCheckpoint c = test::MakeTinyCheckpoint(false, /*tied=*/true);
  c.tensors.push_back(test::Bf16Tensor("lm_head.weight", {48, 64},
                                       std::vector<float>(48 * 64, 0.5f)));
  c.Write(dir.path / "tied");
  CHECK_NOTHROW(LoadHf(dir.path / "tied"));
  // The test checkpoints themselves load.
  test::MakeTinyCheckpoint(true).Write(dir.path / "online");
  CHECK_NOTHROW(LoadHf(dir.path / "online"));
  test::MakeTinyCheckpoint(false, false).Write(dir.path / "untied");
  CHECK_NOTHROW(LoadHf(dir.path / "untied"));
}

// ------------------------------------------------- safetensors offsets --

std::vector<uint8_t> WithHeader(const std::string& header, size_t data_bytes) {
  const test::TensorBytes pad{"", "U8", {}, std::vector<uint8_t>(data_bytes)};
  return test::SerializeWithHeader(header, {pad});
}

TEST_CASE("strict load: safetensors offsets must tile the data section") {
  auto expect = [](const std::string& header, size_t data_bytes,
                   std::string_view want) {
    const std::vector<uint8_t> bytes = WithHeader(header, data_bytes);
    CAPTURE(header);
    ExpectFormatError(
        [&] { (void)io::SafetensorsFile::Parse(bytes, "o.safetensors"); },
        {want});
  };
  // b aliases a's bytes.
  expect(R"({"a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},
             "b": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}})",
         8,
         "o.safetensors: tensor 'b' (data_offsets [4, 8]) overlaps tensor 'a' "
         "(data_offsets [0, 8])");
  expect(R"({"a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},
             "b": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}})",
         8,
         "o.safetensors: tensor 'b' (data_offsets [0, 8]) overlaps tensor 'a' "
         "(data_offsets [0, 8])");
  // An alias also leaves a gap where its own bytes were: the overlap is named.
  expect(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
             "b": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]},
             "c": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}})",
         12,
         "o.safetensors: tensor 'c' (data_offsets [4, 8]) overlaps tensor "
         "'b' (data_offsets [4, 8])");
  // An empty tensor inside another one (the reference refuses it too).
  expect(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
             "e": {"dtype": "U8", "shape": [0], "data_offsets": [2, 2]}})",
         4,
         "o.safetensors: tensor 'e' (data_offsets [2, 2]) overlaps tensor "
         "'a' (data_offsets [0, 4])");
  // A gap between tensors, at the start, and bytes after the last one.
  expect(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
             "b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]}})",
         12,
         "o.safetensors: tensor 'b' (data_offsets [8, 12]) leaves a gap of 4 "
         "bytes after tensor 'a' (data_offsets [0, 4])");
  expect(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}})", 8,
         "o.safetensors: tensor 'a' (data_offsets [4, 8]) leaves a gap of 4 "
         "bytes after the header");
  expect(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})", 6,
         "o.safetensors: 2 bytes after the last tensor's data");
  expect("{}", 3, "o.safetensors: 3 bytes after the last tensor's data");
  // Contiguous, in any header order, with empty tensors: fine.
  const std::vector<uint8_t> ok = WithHeader(
      R"({"b": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]},
          "e": {"dtype": "U8", "shape": [0], "data_offsets": [8, 8]},
          "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})",
      8);
  CHECK(io::SafetensorsFile::Parse(ok, "ok.safetensors").tensors().size() == 3);
}

// ----------------------------------------------------- tokenizer vs model --

TEST_CASE("strict load: the tokenizer must fit the model's embedding") {
  TempFolder dir("strict_vocab");
  const fs::path tiny = kModels / "tiny-shakespeare";
  // The real tokenizer (4096 tokens) next to a config of 48 rows.
  auto folder = [&](const std::string& name,
                    const std::function<void(nlohmann::json&)>& edit) {
    TinyCheckpoint c = test::MakeTinyCheckpoint();
    edit(c.config);
    c.Write(dir.path / name);
    fs::copy_file(tiny / "tokenizer.json", dir.path / name / "tokenizer.json");
    return dir.path / name;
  };
  const fs::path small = folder("small", [](auto&) {});
  ExpectFormatError(
      [&] { (void)LoadTokenizer(small); },
      {(small / "tokenizer.json").string() +
       ": token id 4095 is outside the model's vocabulary: the tokenizer has "
       "4096 tokens, the embedding 48 rows (config.json vocab_size)"});
  // Padded embeddings (more rows than tokens) are normal.
  const fs::path padded =
      folder("padded", [](auto& j) { j["vocab_size"] = 4160; });
  CHECK(LoadTokenizer(padded).tokenizer.vocab_size() == 4096);
  // Special ids from config.json beyond the rows, or beyond the tokenizer.
  const fs::path eos = folder("eos", [](auto& j) {
    j["vocab_size"] = 4160;
    j["eos_token_id"] = 4200;
  });
  ExpectFormatError([&] { (void)LoadTokenizer(eos); },
                    {(eos / "config.json").string() +
                     ": key 'eos_token_id' is 4200, outside the vocabulary "
                     "[0, 4160) (vocab_size)"});
  const fs::path eos2 = folder("eos2", [](auto& j) {
    j["vocab_size"] = 4160;
    j["eos_token_id"] = 4100;
  });
  ExpectFormatError([&] { (void)LoadTokenizer(eos2); },
                    {"EOS id 4100 is outside the vocabulary [0, 4096)",
                     (eos2 / "config.json").string()});

  // GGUF: tokenizer.ggml.tokens longer than token_embd.weight.
  {
    TinyGguf g = TinyGguf::Make();
    auto& e = g.Get("token_embd.weight");
    e.ne = {TinyGguf::kHidden, TinyGguf::kVocab - 1};
    e.data.resize(e.data.size() - 4 * TinyGguf::kHidden);
    g.Write(dir.path / "t.gguf");
    ExpectFormatError([&] { (void)LoadTokenizer(dir.path / "t.gguf"); },
                      {"t.gguf: token id 15 is outside the model's "
                       "vocabulary: the tokenizer has 16 tokens, the "
                       "embedding 15 rows (token_embd.weight)"});
  }
  // The shipped model fits.
  CHECK(LoadTokenizer(tiny).tokenizer.vocab_size() == 4096);
}

// --------------------------------------------------------- scan speed --

TEST_CASE("strict load: the non-finite scan runs at memory speed") {
  // 64 MB of floats; the 2B4T bf16 embedding is 328M floats (1.3 GB f32).
  std::vector<float> v(size_t{16} << 20, 0.5f);
  const auto start = std::chrono::steady_clock::now();
  size_t found = 0;
  for (int r = 0; r < 4; ++r) found += FirstNonFinite(v);
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  CHECK(found == 4 * v.size());
  const double gb_per_s = 4.0 * double(v.size() * 4) / s / 1e9;
  MESSAGE("FirstNonFinite: " << gb_per_s << " GB/s, so 2B4T's 1.3 GB f32 "
                             << "embedding table in " << 1.3 / gb_per_s
                             << " s");
  v[12345] = -kInf;
  CHECK(FirstNonFinite(v) == 12345);
  v[77] = kNaN;
  CHECK(FirstNonFinite(v) == 77);
  CHECK(FirstNonFinite(std::span<const float>()) == 0);
}

}  // namespace
}  // namespace ternary
