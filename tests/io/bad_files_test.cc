// Bad input files, every format the loaders read: GGUF, safetensors,
// config.json, tokenizer.json and Hugging Face folders. Each case checks the
// exception type and that the message names the file, the key or tensor,
// and what is wrong. What gguf_broken_test.cc, safetensors_test.cc,
// hf_config_test.cc and the model and tokenizer tests already cover is not
// repeated here: this file adds cuts at every section boundary of whole
// model files, sizes that overflow after parsing, non-UTF-8 text, empty
// files and incomplete folders.
#include <doctest/doctest.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "expect_error.h"
#include "io/safetensors_writer.h"
#include "model/checkpoint_builder.h"
#include "model/gguf_builder.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_writer.h"
#include "ternary/io/hf_config.h"
#include "ternary/io/safetensors.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/tokenizer/tokenizer.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

namespace fs = std::filesystem;
using test::TinyCheckpoint;
using test::TinyGguf;

using test::ExpectError;

std::string Message(const std::exception& e) { return e.what(); }

// A fresh temp folder, removed at the end of the scope.
struct TempFolder {
  explicit TempFolder(const std::string& name) : path(test::TempDir(name)) {}
  ~TempFolder() { fs::remove_all(path); }
  fs::path path;
};

// What Model::Load does with a GGUF, minus the kernels, then the tokenizer.
void LoadGguf(std::span<const uint8_t> bytes, const std::string& name) {
  const GgufCheckpoint g(io::GgufFile::Parse(bytes, name));
  g.config().Validate(name);
  test::ReadEveryTensor(g);
  (void)TokenizerFromGguf(g.file());
}

// What Model::Load does with a path (folder or .gguf), minus the kernels.
void LoadPath(const fs::path& path) {
  WithCheckpoint(path, [](const auto& source, const std::string& name) {
    source.config().Validate(name);
    test::ReadEveryTensor(source);
    return 0;
  });
}

// ---------------------------------------------------------------- GGUF ----

TEST_CASE("GGUF model file cut at every section boundary") {
  const std::vector<uint8_t> file = TinyGguf::Make().Serialize();
  const io::GgufFile whole = io::GgufFile::Parse(file, "whole.gguf");
  CHECK_NOTHROW(LoadGguf(file, "whole.gguf"));
  const size_t data = whole.data_offset();
  // Every byte of the header, metadata (string arrays included), tensor
  // infos and padding; then the first and last byte of every payload.
  std::vector<size_t> cuts;
  for (size_t len = 0; len <= data; ++len) cuts.push_back(len);
  for (const io::GgufTensorInfo& t : whole.tensors()) {
    cuts.push_back(data + t.offset + 1);
    cuts.push_back(data + t.offset + t.size - 1);
  }
  for (const size_t len : cuts) {
    CAPTURE(len);
    std::string message;
    try {
      LoadGguf(std::span<const uint8_t>(file.data(), len), "cut.gguf");
      FAIL("a cut file loaded");
    } catch (const FormatError& e) {
      message = e.what();
    }
    CAPTURE(message);
    CHECK(message.starts_with("cut.gguf: "));
    if (len == 0) {
      CHECK(message.find("empty file") != std::string::npos);
    } else if (len < data) {
      CHECK(message.find("truncated") != std::string::npos);
    } else {
      // The payload that the cut runs through, named.
      const io::GgufTensorInfo* cut = nullptr;
      for (const io::GgufTensorInfo& t : whole.tensors()) {
        if (data + t.offset + t.size > len) {
          cut = &t;
          break;
        }
      }
      REQUIRE(cut != nullptr);
      CHECK(message.find("tensor '" + std::string(cut->name) + "' (") !=
            std::string::npos);
      CHECK(message.find("extends past the end of the file") !=
            std::string::npos);
    }
  }
  // The boundaries name the section they cut.
  auto cut_at = [&](size_t len) {
    try {
      io::GgufFile::Parse(std::span<const uint8_t>(file.data(), len), "c.gguf");
    } catch (const FormatError& e) {
      return Message(e);
    }
    return std::string();
  };
  CHECK(cut_at(24).find("metadata entry #0") != std::string::npos);
  CHECK(cut_at(data - 1).find("truncated") != std::string::npos);
}

TEST_CASE("GGUF on disk: one byte short, empty, a folder named .gguf") {
  TempFolder dir("bad_gguf_disk");
  std::vector<uint8_t> file = TinyGguf::Make().Serialize();
  file.pop_back();
  test::WriteFile(dir.path / "short.gguf", file);
  ExpectError<FormatError>([&] { LoadPath(dir.path / "short.gguf"); },
                           {"short.gguf: tensor 'output_norm.weight'",
                            "extends past the end of the file"});
  test::WriteFile(dir.path / "empty.gguf", {});
  ExpectError<FormatError>([&] { LoadPath(dir.path / "empty.gguf"); },
                           {"empty.gguf: empty file (0 bytes)"});
  ExpectError<FormatError>(
      [&] { (void)LoadTokenizer(dir.path / "empty.gguf"); },
      {"empty.gguf: empty file"});
  // Not GGUF magic and not named .gguf: neither format.
  test::WriteFile(dir.path / "empty.bin", {});
  ExpectError<FormatError>([&] { LoadPath(dir.path / "empty.bin"); },
                           {"empty.bin: not a model"});
}

TEST_CASE("GGUF dimensions that overflow") {
  const std::string p = "bitnet-b1.58.";
  SUBCASE("a dimension above INT_MAX") {
    TinyGguf t = TinyGguf::Make();
    t.drop_keys = {p + "embedding_length"};
    io::GgufWriter w = t.Writer();
    w.AddU64(p + "embedding_length", uint64_t{1} << 32);
    const std::vector<uint8_t> bytes = w.Serialize();
    ExpectError<FormatError>(
        [&] { LoadGguf(bytes, "big.gguf"); },
        {"big.gguf: metadata key 'bitnet-b1.58.embedding_length' is "
         "4294967296, expected a positive dimension"});
  }
  SUBCASE("heads * head_dim above INT_MAX") {
    // 65536 heads of 65536: the product overflows a 32-bit int.
    TinyGguf t = TinyGguf::Make();
    t.drop_keys = {p + "attention.head_count", p + "rope.dimension_count"};
    io::GgufWriter w = t.Writer();
    w.AddU32(p + "attention.head_count", 65536);
    w.AddU32(p + "rope.dimension_count", 65536);
    const std::vector<uint8_t> bytes = w.Serialize();
    ExpectError<ShapeError>(
        [&] { LoadGguf(bytes, "heads.gguf"); },
        {"heads.gguf: num_attention_heads * head_dim = 4294967296 differs "
         "from hidden_size 256"});
  }
  SUBCASE("a huge vocabulary is refused before anything is allocated") {
    TinyGguf t = TinyGguf::Make();
    t.drop_keys = {p + "vocab_size"};
    io::GgufWriter w = t.Writer();
    w.AddU32(p + "vocab_size", 2147483647);
    const std::vector<uint8_t> bytes = w.Serialize();
    ExpectError<FormatError>([&] { LoadGguf(bytes, "vocab.gguf"); },
                             {"vocab.gguf: tensor 'token_embd.weight' has "
                              "dims {256, 16}, expected {256, 2147483647}"});
  }
}

TEST_CASE("GGUF keys of the wrong type") {
  const std::string p = "bitnet-b1.58.";
  TinyGguf t = TinyGguf::Make();
  t.drop_keys = {p + "feed_forward_length"};
  t.extra_strings = {{p + "feed_forward_length", "256"}};
  ExpectError<FormatError>(
      [&] { LoadGguf(t.Serialize(), "types.gguf"); },
      {"types.gguf: metadata key 'bitnet-b1.58.feed_forward_length' has type "
       "string, expected u64"});
  t = TinyGguf::Make();
  t.drop_keys = {"general.architecture"};
  {
    io::GgufWriter w = t.Writer();
    w.AddU32("general.architecture", 1);
    const std::vector<uint8_t> bytes = w.Serialize();
    ExpectError<FormatError>(
        [&] { LoadGguf(bytes, "types.gguf"); },
        {"types.gguf: metadata key 'general.architecture' has type u32, "
         "expected string"});
  }
  t = TinyGguf::Make();
  t.drop_keys = {p + "attention.layer_norm_rms_epsilon"};
  {
    io::GgufWriter w = t.Writer();
    w.AddArray(p + "attention.layer_norm_rms_epsilon",
               std::vector<float>{1e-5f});
    const std::vector<uint8_t> bytes = w.Serialize();
    ExpectError<FormatError>(
        [&] { LoadGguf(bytes, "types.gguf"); },
        {"types.gguf: metadata key "
         "'bitnet-b1.58.attention.layer_norm_rms_epsilon' has type "
         "array<f32>[1], expected f32"});
  }
  // Tokenizer keys.
  io::GgufWriter w;
  w.AddString("tokenizer.ggml.model", "gpt2");
  w.AddStringArray("tokenizer.ggml.tokens", std::vector<std::string>{"a"});
  w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{});
  w.AddArray("tokenizer.ggml.token_type", std::vector<float>{1.0f});
  const std::vector<uint8_t> bytes = w.Serialize();
  ExpectError<FormatError>(
      [&] { (void)TokenizerFromGguf(io::GgufFile::Parse(bytes, "tok.gguf")); },
      {"tok.gguf: metadata key 'tokenizer.ggml.token_type' has type "
       "array<f32>[1], expected array<i32>"});
}

TEST_CASE("GGUF strings that are not UTF-8") {
  SUBCASE("architecture") {
    TinyGguf t = TinyGguf::Make();
    t.arch = "bitnet-b1.58\xff";
    ExpectError<FormatError>(
        [&] { LoadGguf(t.Serialize(), "arch.gguf"); },
        {"arch.gguf: unsupported architecture 'bitnet-b1.58\xff'"});
  }
  SUBCASE("tensor name") {
    TinyGguf t = TinyGguf::Make();
    t.Add("blk.0.attn_q.\xc3(", {4}, io::GgmlType::kF32,
          std::vector<uint8_t>(16));
    ExpectError<FormatError>(
        [&] { LoadGguf(t.Serialize(), "name.gguf"); },
        {"name.gguf: unexpected tensor 'blk.0.attn_q.\xc3('",
         "not part of the bitnet-b1.58 graph"});
  }
  SUBCASE("keys nobody reads are ignored, whatever their bytes") {
    // As llama.cpp: metadata is looked up by name, never enumerated.
    TinyGguf t = TinyGguf::Make();
    t.extra_strings = {{"general.\xfe\xff", "\x80"}};
    CHECK_NOTHROW(LoadGguf(t.Serialize(), "key.gguf"));
  }
  SUBCASE("tokens are bytes") {
    // A token outside the byte-level alphabet is taken as its raw bytes,
    // as llama.cpp does; it decodes to them.
    io::GgufWriter w;
    w.AddString("tokenizer.ggml.model", "gpt2");
    w.AddStringArray("tokenizer.ggml.tokens",
                     std::vector<std::string>{"a", "\xff\xfe"});
    w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{});
    const std::vector<uint8_t> bytes = w.Serialize();
    const ModelTokenizer m =
        TokenizerFromGguf(io::GgufFile::Parse(bytes, "tok.gguf"));
    CHECK(m.tokenizer.Decode(std::vector<int32_t>{1, 0}) ==
          std::string("\xff\xfe") + "a");
    // A merge of such a token names the merge and the token.
    io::GgufWriter w2;
    w2.AddString("tokenizer.ggml.model", "gpt2");
    w2.AddStringArray("tokenizer.ggml.tokens", std::vector<std::string>{"a"});
    w2.AddStringArray("tokenizer.ggml.merges",
                      std::vector<std::string>{"a \xff"});
    const std::vector<uint8_t> bytes2 = w2.Serialize();
    ExpectError<FormatError>(
        [&] {
          (void)TokenizerFromGguf(io::GgufFile::Parse(bytes2, "merge.gguf"));
        },
        {"merge.gguf: merge 0 ('a \xff'): '\xff' is not a token"});
  }
}

// --------------------------------------------------------- safetensors ----

std::vector<test::TensorBytes> TwoTensors() {
  return {test::F32Tensor("a", {2}, {1.0f, 2.0f}),
          test::Bf16Tensor("b", {3}, {1.0f, 2.0f, 3.0f})};
}

TEST_CASE("safetensors cut at every byte") {
  const std::vector<uint8_t> file = test::SerializeTensors(TwoTensors());
  const io::SafetensorsFile whole =
      io::SafetensorsFile::Parse(file, "whole.safetensors");
  const size_t data = file.size() - 8 - 6;  // a: 8 bytes, b: 6
  REQUIRE(whole.Get("a").data.data() == file.data() + data);
  for (size_t len = 0; len < file.size(); ++len) {
    CAPTURE(len);
    std::string message;
    try {
      io::SafetensorsFile::Parse(std::span<const uint8_t>(file.data(), len),
                                 "cut.safetensors");
      FAIL("a cut file parsed");
    } catch (const FormatError& e) {
      message = e.what();
    }
    CAPTURE(message);
    CHECK(message.starts_with("cut.safetensors: truncated: "));
    if (len < 8) {
      CHECK(message.find("too short for the 8-byte header length") !=
            std::string::npos);
    } else if (len < data) {
      CHECK(message.find("header length") != std::string::npos);
    } else {
      // a ends at data byte 8, b at 14.
      const char* name = len < data + 8 ? "tensor 'a'" : "tensor 'b'";
      CHECK(message.find(name) != std::string::npos);
      CHECK(message.find("data ends at byte") != std::string::npos);
    }
  }
}

// Parses `header` over 16 zero data bytes; expects FormatError with parts.
void ExpectBadHeader(const std::string& header,
                     std::initializer_list<std::string_view> parts) {
  const test::TensorBytes pad{"", "U8", {}, std::vector<uint8_t>(16)};
  const std::vector<uint8_t> bytes = test::SerializeWithHeader(header, {pad});
  CAPTURE(header);
  ExpectError<FormatError>(
      [&] { io::SafetensorsFile::Parse(bytes, "h.safetensors"); }, parts);
}

TEST_CASE("safetensors sizes and offsets that overflow") {
  // numel fits, numel * 4 bytes does not.
  ExpectBadHeader(
      R"({"w": {"dtype": "F32", "shape": [4611686018427387904],
                "data_offsets": [0, 16]}})",
      {"h.safetensors: tensor 'w': shape overflows"});
  ExpectBadHeader(
      R"({"w": {"dtype": "U8", "shape": [16],
                "data_offsets": [0, 18446744073709551615]}})",
      {"h.safetensors: truncated: tensor 'w': data ends at byte "
       "18446744073709551615 of the data section, which has 16"});
  // Beyond uint64: JSON reads it as a float.
  ExpectBadHeader(
      R"({"w": {"dtype": "U8", "shape": [16], "data_offsets": [0, 1e30]}})",
      {"h.safetensors: tensor 'w': data_offsets must be two non-negative "
       "integers"});
  ExpectBadHeader(
      R"({"w": {"dtype": "U8", "shape": [2.5], "data_offsets": [0, 2]}})",
      {"h.safetensors: tensor 'w': shape has a non-integer or negative "
       "dimension"});
  // A header length of 2^64 - 1.
  std::vector<uint8_t> huge(16, 0xff);
  ExpectError<FormatError>(
      [&] { io::SafetensorsFile::Parse(huge, "len.safetensors"); },
      {"len.safetensors: header length 18446744073709551615 exceeds the 100 "
       "MB limit"});
}

TEST_CASE("safetensors: not UTF-8, empty, wrong dtypes and shapes") {
  ExpectBadHeader(
      "{\"w\xff\": {\"dtype\": \"U8\", \"shape\": [16], "
      "\"data_offsets\": [0, 16]}}",
      {"h.safetensors: header is not valid JSON", "UTF-8"});
  TempFolder dir("bad_st");
  test::WriteFile(dir.path / "model.safetensors", {});
  ExpectError<FormatError>(
      [&] { io::SafetensorsFile::Open(dir.path / "model.safetensors"); },
      {"model.safetensors: truncated: 0 bytes"});

  // weight_scale must be one float.
  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  TinyCheckpoint c = test::MakeTinyCheckpoint();
  c.Get(q + "_scale") = test::Bf16Tensor(q + "_scale", {2}, {1.0f, 1.0f});
  c.Write(dir.path / "scale2");
  ExpectError<FormatError>([&] { LoadPath(dir.path / "scale2"); },
                           {"model.safetensors: tensor '" + q +
                            "_scale' has shape [2], expected [1]"});
  c = test::MakeTinyCheckpoint();
  c.Get(q + "_scale") = test::TensorBytes{q + "_scale", "U8", {1}, {1}};
  c.Write(dir.path / "scale_u8");
  ExpectError<FormatError>([&] { LoadPath(dir.path / "scale_u8"); },
                           {"model.safetensors: tensor '" + q +
                            "_scale' has dtype U8, expected BF16, F16 or "
                            "F32"});
  // A norm of the right size in the wrong rank.
  c = test::MakeTinyCheckpoint();
  c.Get("model.norm.weight").shape = {1, 64};
  c.Write(dir.path / "rank");
  ExpectError<FormatError>(
      [&] { LoadPath(dir.path / "rank"); },
      {"model.safetensors: tensor 'model.norm.weight' has shape [1, 64], "
       "expected [64]"});
}

TEST_CASE("safetensors: broken shard indexes") {
  TempFolder dir("bad_index");
  test::WriteFile(dir.path / "model-1.safetensors",
                  test::SerializeTensors({test::F32Tensor("a", {1}, {1.0f})}));
  const fs::path index = dir.path / "model.safetensors.index.json";
  auto expect = [&](const std::string& text,
                    std::initializer_list<std::string_view> parts) {
    test::WriteText(index, text);
    CAPTURE(text);
    ExpectError<FormatError>([&] { io::SafetensorsCheckpoint::Open(dir.path); },
                             parts);
  };
  expect(R"({"weight_map": {"a": "model-1.safe)",
         {"model.safetensors.index.json: not valid JSON"});
  expect("", {"model.safetensors.index.json: not valid JSON"});
  expect(R"({"metadata": {}})",
         {"model.safetensors.index.json: missing key 'weight_map'"});
  expect(R"({"weight_map": {"a": 1}})",
         {"model.safetensors.index.json: weight_map entry 'a' is not a file "
          "name"});
  expect(R"({"weight_map": {"a": "model-2.safetensors"}})",
         {"model.safetensors.index.json: shard 'model-2.safetensors' does not "
          "exist"});
  expect(R"({"weight_map": {"a": "/etc/passwd"}})",
         {"weight_map entry 'a' names an invalid shard '/etc/passwd'"});
}

// --------------------------------------------------------- config.json ----

TEST_CASE("config.json cut at every byte") {
  const std::string text = test::MakeTinyCheckpoint().config.dump(2);
  CHECK_NOTHROW(io::HfConfig::Parse(text, "config.json"));
  for (size_t len = 0; len < text.size(); ++len) {
    CAPTURE(len);
    ExpectError<FormatError>(
        [&] { io::HfConfig::Parse(text.substr(0, len), "config.json"); },
        {"config.json: not valid JSON"});
  }
}

TEST_CASE("config.json: sizes that overflow, types, UTF-8, empty") {
  auto expect = [](const nlohmann::json& j,
                   std::initializer_list<std::string_view> parts) {
    const std::string text = j.dump();
    CAPTURE(text);
    ExpectError<FormatError>([&] { io::HfConfig::Parse(text, "config.json"); },
                             parts);
  };
  nlohmann::json j = test::MakeTinyCheckpoint().config;
  j["hidden_size"] = int64_t{1} << 40;
  expect(j, {"config.json: key 'hidden_size' is 1099511627776, more than the "
             "1073741824 supported"});
  j = test::MakeTinyCheckpoint().config;
  j["num_hidden_layers"] = std::numeric_limits<uint64_t>::max();
  expect(j, {"config.json: key 'num_hidden_layers' is 18446744073709551615, "
             "more than the 1073741824 supported"});
  j = test::MakeTinyCheckpoint().config;
  j["vocab_size"] = 0;
  expect(j, {"config.json: key 'vocab_size' must be positive, got 0"});
  j = test::MakeTinyCheckpoint().config;
  j["vocab_size"] = 48.5;
  expect(j, {"config.json: key 'vocab_size' must be an integer"});
  j = test::MakeTinyCheckpoint().config;
  j["rope_theta"] = "10000";
  expect(j, {"config.json: key 'rope_theta' must be a number"});
  j = test::MakeTinyCheckpoint().config;
  j["rms_norm_eps"] = -1e-5;
  expect(j, {"config.json: key 'rms_norm_eps' must be >= 0"});
  // head_dim defaults to hidden_size / num_attention_heads: 0 here.
  j = test::MakeTinyCheckpoint().config;
  j.erase("head_dim");
  j["hidden_size"] = 4;
  j["num_attention_heads"] = 8;
  j["num_key_value_heads"] = 8;
  expect(j, {"config.json: key 'head_dim' is missing, and hidden_size 4 / "
             "num_attention_heads 8 is 0"});

  ExpectError<FormatError>(
      [] {
        io::HfConfig::Parse("{\"model_type\": \"bitnet\xc0\xaf\"}",
                            "config.json");
      },
      {"config.json: not valid JSON", "UTF-8"});
  ExpectError<FormatError>([] { io::HfConfig::Parse("", "config.json"); },
                           {"config.json: not valid JSON"});
}

TEST_CASE("config.json whose dimensions overflow together") {
  // Each key is in range, heads * head_dim is 2^32.
  TempFolder dir("bad_cfg_overflow");
  TinyCheckpoint c = test::MakeTinyCheckpoint();
  c.config["num_attention_heads"] = 65536;
  c.config["num_key_value_heads"] = 2;
  c.config["head_dim"] = 65536;
  c.Write(dir.path);
  ExpectError<ShapeError>(
      [&] { LoadPath(dir.path); },
      {"config.json: num_attention_heads * head_dim = 4294967296 differs "
       "from hidden_size 64"});
}

// ------------------------------------------------------ tokenizer.json ----

constexpr std::string_view kTokenizerJson = R"({
  "version": "1.0",
  "added_tokens": [{"id": 3, "content": "<s>", "special": true}],
  "model": {"type": "BPE", "ignore_merges": false,
            "vocab": {"a": 0, "b": 1, "ab": 2},
            "merges": ["a b"]}
})";

TEST_CASE("tokenizer.json cut at every byte") {
  CHECK_NOTHROW(Tokenizer::FromHfJsonText(kTokenizerJson, "tokenizer.json"));
  for (size_t len = 0; len < kTokenizerJson.size(); ++len) {
    CAPTURE(len);
    ExpectError<FormatError>(
        [&] {
          (void)Tokenizer::FromHfJsonText(kTokenizerJson.substr(0, len),
                                          "tokenizer.json");
        },
        {"tokenizer.json: invalid JSON"});
  }
}

TEST_CASE("tokenizer.json: ids that overflow, UTF-8, empty, folders") {
  auto expect = [](std::string_view text,
                   std::initializer_list<std::string_view> parts) {
    CAPTURE(text);
    ExpectError<FormatError>(
        [&] { (void)Tokenizer::FromHfJsonText(text, "tokenizer.json"); },
        parts);
  };
  expect(R"({"model": {"vocab": {"a": 18446744073709551615}, "merges": []}})",
         {"tokenizer.json: model.vocab['a']: id ", "out of range [0, "});
  expect(R"({"model": {"vocab": {"a": 1e30}, "merges": []}})",
         {"tokenizer.json: model.vocab['a'] is not an integer id"});
  expect(R"({"model": {"vocab": {"a": 0}, "merges": []},
             "added_tokens": [{"id": 4294967296, "content": "<s>"}]})",
         {"tokenizer.json: added_tokens[0]: id 4294967296 out of range"});
  expect("{\"model\": {\"vocab\": {\"\xff\": 0}, \"merges\": []}}",
         {"tokenizer.json: invalid JSON", "UTF-8"});
  expect("", {"tokenizer.json: invalid JSON"});

  TempFolder dir("bad_tok");
  fs::create_directories(dir.path / "folder" / "tokenizer.json");
  ExpectError<FormatError>(
      [&] { (void)Tokenizer::FromHfJson(dir.path / "folder/tokenizer.json"); },
      {"tokenizer.json: not a regular file"});
  // A Hugging Face folder without tokenizer.json.
  test::MakeTinyCheckpoint().Write(dir.path / "no_tok");
  ExpectError<FormatError>(
      [&] { (void)LoadTokenizer(dir.path / "no_tok"); },
      {"no_tok/tokenizer.json: cannot open file (no such file)"});
  // tokenizer_config.json and config.json are read for options and ids.
  test::WriteText(dir.path / "no_tok" / "tokenizer.json",
                  std::string(kTokenizerJson));
  CHECK_NOTHROW(LoadTokenizer(dir.path / "no_tok"));
  test::WriteText(dir.path / "no_tok" / "tokenizer_config.json",
                  R"({"add_bos_token": tr)");
  ExpectError<FormatError>([&] { (void)LoadTokenizer(dir.path / "no_tok"); },
                           {"tokenizer_config.json: not valid JSON"});
  test::WriteText(dir.path / "no_tok" / "tokenizer_config.json", "[]");
  ExpectError<FormatError>([&] { (void)LoadTokenizer(dir.path / "no_tok"); },
                           {"tokenizer_config.json: not a JSON object"});
}

// ------------------------------------------------------------- folders ----

TEST_CASE("folders: no config.json, no weights, nothing") {
  TempFolder dir("bad_folders");
  const TinyCheckpoint c = test::MakeTinyCheckpoint();
  fs::create_directories(dir.path / "empty");
  ExpectError<FormatError>([&] { LoadPath(dir.path / "empty"); },
                           {"empty/config.json: cannot open"});
  c.Write(dir.path / "no_config");
  fs::remove(dir.path / "no_config" / "config.json");
  ExpectError<FormatError>([&] { LoadPath(dir.path / "no_config"); },
                           {"no_config/config.json: cannot open"});
  c.Write(dir.path / "no_weights");
  fs::remove(dir.path / "no_weights" / "model.safetensors");
  ExpectError<FormatError>(
      [&] { LoadPath(dir.path / "no_weights"); },
      {"no_weights: no model.safetensors or model.safetensors.index.json"});
  c.Write(dir.path / "empty_files");
  test::WriteText(dir.path / "empty_files" / "config.json", "");
  ExpectError<FormatError>([&] { LoadPath(dir.path / "empty_files"); },
                           {"config.json: not valid JSON"});
  c.Write(dir.path / "empty_weights");
  test::WriteFile(dir.path / "empty_weights" / "model.safetensors", {});
  ExpectError<FormatError>([&] { LoadPath(dir.path / "empty_weights"); },
                           {"model.safetensors: truncated: 0 bytes"});
  // model.safetensors that is a folder.
  c.Write(dir.path / "weights_folder");
  fs::remove(dir.path / "weights_folder" / "model.safetensors");
  fs::create_directories(dir.path / "weights_folder" / "model.safetensors");
  ExpectError<FormatError>([&] { LoadPath(dir.path / "weights_folder"); },
                           {"model.safetensors: not a regular file"});
  ExpectError<FormatError>([&] { LoadPath(dir.path / "nothing_here"); },
                           {"nothing_here: no such file or folder"});
}

}  // namespace
}  // namespace ternary
