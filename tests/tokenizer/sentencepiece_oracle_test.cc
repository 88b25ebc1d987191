// ternary's SentencePiece BPE against the SentencePiece library (Debian
// libsentencepiece-dev) on random text: the same ids for the 1bitLLM
// fixture's tokenizer.model, and for that model with remove_extra_whitespaces
// on. Built only where the library is found (tests/tokenizer/CMakeLists.txt).
#include <doctest/doctest.h>
#include <sentencepiece_processor.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ternary/tokenizer/tokenizer.h"

namespace ternary {
namespace {

const std::filesystem::path kModel =
    std::filesystem::path(TERNARY_TEST_DATA_DIR) / "families" / "1bitllm" /
    "tokenizer.model";

// Random text over pieces the model knows and ones it does not: letters,
// words of the training text, spaces and other whitespace, digits,
// punctuation, 2- to 4-byte UTF-8, and "▁" itself.
std::string RandomText(std::mt19937& rng) {
  static const std::vector<std::string> kAlphabet = {
      "a",   "e",  "t",      "h",   "s",      "o",      "n",      "R",
      "O",   "M",  "E",      " ",   " ",      " ",      "  ",     "\n",
      "\t",  "0",  "7",      "12",  ",",      ".",      "!",      "'",
      ":",   ";",  "-",      "the", " the",   "thou",   " what",  "light",
      "é",   "ü",  "\u00df", "你",  "\u4e16", "😀",      "\u2581", "<s>",
      "ing", "ed", "Q",      "z",   "\r\n",   "\u00a0", "\u3000", "x"};
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::uniform_int_distribution<int> len(0, 24);
  std::string s;
  for (int i = len(rng); i > 0; --i) s += kAlphabet[pick(rng)];
  return s;
}

TEST_CASE("sentencepiece oracle: random text, the library's ids") {
  sentencepiece::SentencePieceProcessor sp;
  REQUIRE(sp.Load(kModel.string()).ok());
  const Tokenizer tok = Tokenizer::FromSentencePiece(kModel);
  std::mt19937 rng(20261203);
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string text = RandomText(rng);
    std::vector<int> want;
    REQUIRE(sp.Encode(text, &want).ok());
    const std::vector<int32_t> got = tok.Encode(text, {.parse_special = false});
    INFO("text: " << text);
    REQUIRE(std::vector<int>(got.begin(), got.end()) == want);
    ++checked;
  }
  CHECK(checked == 20000);
}

}  // namespace
}  // namespace ternary
