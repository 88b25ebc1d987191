// Falcon3's pre-tokenizer (PreTokenizer::kFalcon3): the pieces of an
// independent implementation of transformers' Punctuation + ByteLevel +
// Digits rules (tests/data/make/make_falcon3_pretokenizer_cases.py), and its
// detection from a tokenizer.json's pre_tokenizer and a GGUF's
// tokenizer.ggml.pre.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ternary/model/load_tokenizer.h"
#include "ternary/tokenizer/byte_level.h"
#include "ternary/tokenizer/pretokenizer.h"
#include "ternary/tokenizer/tokenizer.h"

namespace ternary {
namespace {

TEST_CASE("falcon3 pre-tokenizer: the pieces of the independent rules") {
  const auto j = nlohmann::json::parse(
      std::ifstream(std::filesystem::path(TERNARY_TEST_DATA_DIR) / "families" /
                    "falcon3" / "pretokenizer_cases.json"));
  for (const auto& c : j["cases"]) {
    const std::string text = c["text"];
    INFO("text: " << text);
    std::vector<std::string> got;
    for (std::string_view p : PreTokenize(PreTokenizer::kFalcon3, text)) {
      got.emplace_back(p);
    }
    CHECK(got == c["pieces"].get<std::vector<std::string>>());
  }
}

// A byte-level tokenizer.json (the 256 byte symbols, no merges) with
// Falcon3's pre_tokenizer section.
std::string Falcon3StyleJson(bool individual_digits) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) {
    vocab[ByteLevelEncode(std::string(1, char(b)))] = b;
  }
  nlohmann::json j = {
      {"model",
       {{"type", "BPE"},
        {"vocab", vocab},
        {"merges", nlohmann::json::array()}}},
      {"added_tokens",
       {{{"id", 256}, {"content", "<|endoftext|>"}, {"special", true}}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Punctuation"}, {"behavior", "Contiguous"}},
          {{"type", "ByteLevel"},
           {"add_prefix_space", false},
           {"trim_offsets", true},
           {"use_regex", true}},
          {{"type", "Digits"}, {"individual_digits", individual_digits}}}}}}};
  return j.dump();
}

TEST_CASE("falcon3 pre-tokenizer: detected from tokenizer.json") {
  TokenizerOptions o;
  o.detect_pre_tokenizer = true;
  CHECK(Tokenizer::FromHfJsonText(Falcon3StyleJson(true), "f.json", o)
            .pre_tokenizer() == PreTokenizer::kFalcon3);
  // Falcon-7B's (digits in runs) is not Falcon3's; without detection the
  // option decides.
  CHECK(Tokenizer::FromHfJsonText(Falcon3StyleJson(false), "f.json", o)
            .pre_tokenizer() == PreTokenizer::kLlama3);
  CHECK(Tokenizer::FromHfJsonText(Falcon3StyleJson(true), "f.json")
            .pre_tokenizer() == PreTokenizer::kLlama3);
  const Tokenizer tok =
      Tokenizer::FromHfJsonText(Falcon3StyleJson(true), "f.json", o);
  // Each digit is its own piece, so its own token here.
  CHECK(tok.Encode("2024").size() == 4);
  CHECK(ResolveGgufPreTokenizer("falcon3", PreTokenizerChoice::kAuto, "g") ==
        PreTokenizer::kFalcon3);
  CHECK(ResolveGgufPreTokenizer("falcon_e", PreTokenizerChoice::kAuto, "g") ==
        PreTokenizer::kFalcon3);
}

}  // namespace
}  // namespace ternary
