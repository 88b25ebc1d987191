// Pre-tokenization: the Llama 3 regex and llama.cpp's default sequence.
#include "ternary/tokenizer/pretokenizer.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_fixtures.h"

namespace ternary {
namespace {

using Pieces = std::vector<std::string>;

Pieces Split(PreTokenizer mode, std::string_view text) {
  Pieces out;
  for (const std::string_view p : PreTokenize(mode, text)) out.emplace_back(p);
  return out;
}

// Expected pieces come from Python's `regex` module running the same
// patterns (findall for Llama 3; isolated splits in sequence for the
// llama.cpp default), an engine independent of PCRE2.
TEST_CASE("Llama 3 pre-tokenizer pieces") {
  constexpr auto k = PreTokenizer::kLlama3;
  CHECK(Split(k, "Hello, world!") == Pieces{"Hello", ",", " world", "!"});
  CHECK(Split(k, "I'M can't WON'T") ==
        Pieces{"I", "'M", " can", "'t", " WON", "'T"});
  CHECK(Split(k, "numbers 1234567 and 3.14") ==
        Pieces{"numbers", " ", "123", "456", "7", " and", " ", "3", ".", "14"});
  CHECK(Split(k, "a\n\n  b") == Pieces{"a", "\n\n", " ", " b"});
  CHECK(Split(k, "  leading spaces and trailing   ") ==
        Pieces{" ", " leading", " spaces", " and", " trailing", "   "});
  CHECK(Split(k, "tabs\tand\nnewlines\r\n\n\nend") ==
        Pieces{"tabs", "\tand", "\n", "newlines", "\r\n\n\n", "end"});
  CHECK(Split(k, "ROMEO:\n") == Pieces{"ROMEO", ":\n"});
  CHECK(Split(k, "東京タワー, 한국어!!") ==
        Pieces{"東京タワー", ",", " 한국어", "!!"});
  CHECK(Split(k, "x  \n  y") == Pieces{"x", "  \n", " ", " y"});
  CHECK(Split(k, "").empty());
}

TEST_CASE("bitnet.cpp default pre-tokenizer pieces") {
  constexpr auto k = PreTokenizer::kBitnetCppDefault;
  CHECK(Split(k, "ROMEO:\n") == Pieces{"ROMEO", ":", "\n"});
  CHECK(Split(k, "Hello, world!") == Pieces{"Hello", ",", " world", "!"});
  CHECK(Split(k, "I'M can't they'll") ==
        Pieces{"I", "'", "M", " can", "'", "t", " they", "'", "ll"});
  CHECK(Split(k, "numbers 1234567 and 3.14") ==
        Pieces{"numbers", " ", "123", "456", "7", " and", " ", "3", ".", "14"});
  CHECK(Split(k, " 123") == Pieces{" ", "123"});
  CHECK(Split(k, "x  \n  y") == Pieces{"x", "  \n ", " y"});
  CHECK(Split(k, "a+b=c € 5$") ==
        Pieces{"a", "+", "b", "=", "c", " €", " ", "5", "$"});
}

std::string Join(const std::vector<std::string_view>& pieces) {
  std::string s;
  for (const auto p : pieces) s += p;
  return s;
}

TEST_CASE("pieces cover the text exactly") {
  const std::string text = test::ReadFile(test::TinyDir() / "heldout.txt");
  for (const auto mode :
       {PreTokenizer::kLlama3, PreTokenizer::kBitnetCppDefault}) {
    const auto pieces = PreTokenize(mode, text);
    CHECK(Join(pieces) == text);
    for (const auto p : pieces) CHECK_FALSE(p.empty());
  }
}

TEST_CASE("invalid UTF-8 is cut out as its own piece, never crashes") {
  const std::string text =
      "ab\xFF\xFE cd\xE6\x9D"
      "ef \xED\xA0\x80!\xC3";
  for (const auto mode :
       {PreTokenizer::kLlama3, PreTokenizer::kBitnetCppDefault}) {
    const auto pieces = PreTokenize(mode, text);
    CHECK(Join(pieces) == text);
    CHECK(pieces[0] == "ab");
    CHECK(pieces[1] == "\xFF\xFE");
  }
  CHECK(Split(PreTokenizer::kLlama3, text) ==
        Pieces{"ab", "\xFF\xFE", " cd", "\xE6\x9D", "ef", " ", "\xED\xA0\x80",
               "!", "\xC3"});
}

TEST_CASE("long runs: no JIT stack overflow") {
  // Backtracking patterns such as \s*[\r\n]+ and \s+(?!\S) over 1 MB runs
  // (quadratic matching would show up as a test that takes minutes).
  const size_t n = size_t{1} << 20;
  const std::vector<std::string> texts = {
      std::string(n, ' '),
      std::string(n, 'a'),
      std::string(n, '7'),
      std::string(n, '!'),
      std::string(n / 2, ' ') + std::string(n / 2, '\n'),
      [&] {
        std::string s;
        while (s.size() < n) s += " \n";
        return s;
      }()};
  for (const auto mode :
       {PreTokenizer::kLlama3, PreTokenizer::kBitnetCppDefault}) {
    for (const std::string& text : texts) {
      CHECK(Join(PreTokenize(mode, text)) == text);
    }
  }
}

}  // namespace
}  // namespace ternary
