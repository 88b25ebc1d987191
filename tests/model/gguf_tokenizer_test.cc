// LoadTokenizer: GGUF tokenizer.ggml.* metadata and Hugging Face folders,
// and the pre-tokenizer choice for GGUFs without tokenizer.ggml.pre.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/gguf_builder.h"
#include "ternary/io/gguf.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

const std::filesystem::path kData = TERNARY_TEST_DATA_DIR;
const std::filesystem::path kModels = TERNARY_MODELS_DIR;
const std::filesystem::path kTinyGguf = kData / "gguf/bitnet.cpp-i2_s.gguf";

struct Prompt {
  std::string text;
  std::vector<int32_t> ids;  // with BOS
};

std::vector<Prompt> ReferencePrompts() {
  std::ifstream in(kModels / "tiny-shakespeare/reference.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  std::vector<Prompt> out;
  for (const auto& c : j.at("cases")) {
    out.push_back({c.at("prompt").get<std::string>(),
                   c.at("ids").get<std::vector<int32_t>>()});
  }
  return out;
}

std::vector<int32_t> Encode(const ModelTokenizer& t, const std::string& s) {
  return t.tokenizer.Encode(s, {.add_bos = t.add_bos, .parse_special = true});
}

TEST_CASE(
    "GGUF tokenizer = tokenizer.json (Llama 3 split when pre is absent)") {
  const io::GgufFile file = io::GgufFile::Open(kTinyGguf);
  REQUIRE(file.Find("tokenizer.ggml.pre") == nullptr);
  const ModelTokenizer g = LoadTokenizer(kTinyGguf);
  const ModelTokenizer hf = LoadTokenizer(kModels / "tiny-shakespeare");
  CHECK(g.tokenizer.pre_tokenizer() == PreTokenizer::kLlama3);
  CHECK(hf.tokenizer.pre_tokenizer() == PreTokenizer::kLlama3);
  CHECK(g.tokenizer.vocab_size() == 4096);
  CHECK(g.tokenizer.bos_id() == 4091);
  CHECK(g.tokenizer.eos_id() == 4092);
  CHECK(g.tokenizer.eot_id() == 4095);  // found by name
  CHECK(g.tokenizer.IsSpecial(4093));
  CHECK(g.add_bos);
  CHECK(hf.add_bos);
  CHECK(g.chat_template.find("BITNETAssistant") != std::string::npos);
  CHECK(hf.chat_template.empty());
  for (const Prompt& p : ReferencePrompts()) {
    CAPTURE(p.text);
    CHECK(Encode(g, p.text) == p.ids);
    CHECK(Encode(hf, p.text) == p.ids);
  }
  // The whole held-out text, and every token's bytes.
  std::ifstream in(kModels / "tiny-shakespeare/heldout.txt", std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in),
                         std::istreambuf_iterator<char>()};
  REQUIRE(text.size() > 100000);
  const std::vector<int32_t> ids = Encode(g, text);
  CHECK(ids == Encode(hf, text));
  CHECK(g.tokenizer.Decode(ids, {.skip_special = true}) == text);
  for (int32_t id = 0; id < 4096; ++id) {
    CHECK(g.tokenizer.TokenText(id) == hf.tokenizer.TokenText(id));
  }
}

TEST_CASE("pre-tokenizer choice: bitnet.cpp's default split on request") {
  const ModelTokenizer d = LoadTokenizer(
      kTinyGguf, {.pretokenizer = PreTokenizerChoice::kBitnetCppDefault});
  CHECK(d.tokenizer.pre_tokenizer() == PreTokenizer::kBitnetCppDefault);
  const std::vector<int32_t> want = {1948, 25, 198};  // bitnet.cpp's ids
  CHECK(d.tokenizer.Encode("ROMEO:\n") == want);
  const ModelTokenizer l = LoadTokenizer(kTinyGguf);
  CHECK(l.tokenizer.Encode("ROMEO:\n") == std::vector<int32_t>{1948, 328});
  // HF folders take the choice too.
  const ModelTokenizer hd =
      LoadTokenizer(kModels / "tiny-shakespeare",
                    {.pretokenizer = PreTokenizerChoice::kBitnetCppDefault});
  CHECK(hd.tokenizer.Encode("ROMEO:\n") == want);

  CHECK(ParsePreTokenizerChoice("auto") == PreTokenizerChoice::kAuto);
  CHECK(ParsePreTokenizerChoice("llama3") == PreTokenizerChoice::kLlama3);
  CHECK(ParsePreTokenizerChoice("falcon3") == PreTokenizerChoice::kFalcon3);
  CHECK(ParsePreTokenizerChoice("bitnet-cpp-default") ==
        PreTokenizerChoice::kBitnetCppDefault);
  CHECK_THROWS_WITH_AS(ParsePreTokenizerChoice("gpt2"),
                       "pre-tokenizer must be auto, llama3, falcon3 or "
                       "bitnet-cpp-default, got 'gpt2'",
                       UsageError);

  // tokenizer.ggml.pre, when present, decides under kAuto.
  const auto resolve = [](std::optional<std::string_view> pre,
                          PreTokenizerChoice c = PreTokenizerChoice::kAuto) {
    return ResolveGgufPreTokenizer(pre, c, "x.gguf");
  };
  CHECK(resolve(std::nullopt) == PreTokenizer::kLlama3);
  CHECK(resolve("llama-bpe") == PreTokenizer::kLlama3);
  CHECK(resolve("default") == PreTokenizer::kBitnetCppDefault);
  CHECK(resolve("default", PreTokenizerChoice::kLlama3) ==
        PreTokenizer::kLlama3);
  CHECK(resolve("qwen2", PreTokenizerChoice::kBitnetCppDefault) ==
        PreTokenizer::kBitnetCppDefault);
  CHECK(resolve("falcon_e") == PreTokenizer::kFalcon3);
  CHECK(resolve("llama-bpe", PreTokenizerChoice::kFalcon3) ==
        PreTokenizer::kFalcon3);
  CHECK_THROWS_WITH_AS(resolve("qwen2"),
                       doctest::Contains("x.gguf: tokenizer.ggml.pre 'qwen2' "
                                         "is not supported"),
                       FormatError);
}

TEST_CASE("GGUF tokenizer: small built files and bad metadata") {
  test::TinyGguf t = test::TinyGguf::Make();
  {
    const std::vector<uint8_t> bytes = t.Serialize();
    const ModelTokenizer m =
        TokenizerFromGguf(io::GgufFile::Parse(bytes, "tiny.gguf"));
    CHECK(m.tokenizer.vocab_size() == 16);
    CHECK(m.tokenizer.bos_id() == 15);
    CHECK(m.add_bos);
    CHECK(m.chat_template.empty());
    // "a b" merges: Llama 3 mode emits whole-token pieces directly.
    CHECK(m.tokenizer.Encode("abc") == std::vector<int32_t>{14, 2});
    CHECK(Encode(m, "c") == std::vector<int32_t>{15, 2});
  }
  t.extra_strings = {{"tokenizer.ggml.pre", "default"}};
  {
    const std::vector<uint8_t> bytes = t.Serialize();
    const ModelTokenizer m =
        TokenizerFromGguf(io::GgufFile::Parse(bytes, "tiny.gguf"));
    CHECK(m.tokenizer.pre_tokenizer() == PreTokenizer::kBitnetCppDefault);
  }
  t.extra_strings = {{"tokenizer.ggml.pre", "deepseek-llm"}};
  {
    const std::vector<uint8_t> bytes = t.Serialize();
    CHECK_THROWS_WITH_AS(
        TokenizerFromGguf(io::GgufFile::Parse(bytes, "tiny.gguf")),
        doctest::Contains("tiny.gguf: tokenizer.ggml.pre 'deepseek-llm'"),
        FormatError);
  }
  t.extra_strings = {};
  t.drop_keys = {"tokenizer.ggml.model"};
  // A SentencePiece vocabulary ("llama") needs scores.
  t.extra_strings = {{"tokenizer.ggml.model", "llama"}};
  {
    const std::vector<uint8_t> bytes = t.Serialize();
    CHECK_THROWS_WITH_AS(
        TokenizerFromGguf(io::GgufFile::Parse(bytes, "tiny.gguf")),
        doctest::Contains("tiny.gguf: tokenizer.ggml.scores / token_type must "
                          "have one entry per token"),
        FormatError);
  }
  t.extra_strings = {};
  {
    const std::vector<uint8_t> bytes = t.Serialize();
    CHECK_THROWS_WITH_AS(
        TokenizerFromGguf(io::GgufFile::Parse(bytes, "tiny.gguf")),
        "tiny.gguf: missing metadata key 'tokenizer.ggml.model'", FormatError);
  }
  t.drop_keys = {};
  {
    // A BOS id outside the vocabulary.
    io::GgufWriter w;
    w.AddString("tokenizer.ggml.model", "gpt2");
    w.AddStringArray("tokenizer.ggml.tokens", std::vector<std::string>{"a"});
    w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{});
    w.AddU32("tokenizer.ggml.bos_token_id", 7);
    const std::vector<uint8_t> bytes = w.Serialize();
    CHECK_THROWS_WITH_AS(
        TokenizerFromGguf(io::GgufFile::Parse(bytes, "bos.gguf")),
        doctest::Contains("bos.gguf: BOS id 7 is outside the vocabulary"),
        FormatError);
  }
}

}  // namespace
}  // namespace ternary
