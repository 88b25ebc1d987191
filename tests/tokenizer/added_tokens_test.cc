// Added-token matching (leftmost, then longest; linear in the text) and
// Encode on huge inputs: long whitespace runs, long words (issue #16).
#include "ternary/tokenizer/added_tokens.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ternary/tokenizer/byte_level.h"
#include "ternary/tokenizer/pretokenizer.h"
#include "ternary/tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace ternary {
namespace {

using Ids = std::vector<int32_t>;

Ids Repeat(int32_t id, size_t n) { return Ids(n, id); }

Ids Concat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const Ids& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// The matcher Encode used before the automaton, as the reference: at each
// byte, the added tokens starting there, longest first and lowest id first
// among equal lengths, control tokens skipped unless parse_special; the
// first that matches wins and the scan resumes after it. Ordinary text
// between matches is encoded alone (no added token starts inside it).
class ReferenceMatcher {
 public:
  explicit ReferenceMatcher(const Tokenizer& tok) : tok_(tok) {
    for (int32_t id = 0; id < tok.vocab_size(); ++id) {
      const TokenType t = tok.token_type(id);
      if (t == TokenType::kControl || t == TokenType::kUserDefined) {
        added_.push_back(id);
      }
    }
    std::stable_sort(added_.begin(), added_.end(), [&](int32_t a, int32_t b) {
      return tok.TokenText(a).size() > tok.TokenText(b).size();
    });
  }

  Ids Encode(std::string_view text, bool parse_special) const {
    const EncodeOptions options{.parse_special = parse_special};
    Ids out;
    const auto plain = [&](std::string_view s) {
      if (s.empty()) return;
      const Ids ids = tok_.Encode(s, options);
      out.insert(out.end(), ids.begin(), ids.end());
    };
    size_t start = 0;
    for (size_t i = 0; i < text.size();) {
      int32_t match = -1;
      for (const int32_t id : added_) {
        if (!parse_special && tok_.IsSpecial(id)) continue;
        if (text.substr(i).starts_with(tok_.TokenText(id))) {
          match = id;
          break;
        }
      }
      if (match < 0) {
        ++i;
        continue;
      }
      plain(text.substr(start, i - start));
      out.push_back(match);
      i += tok_.TokenText(match).size();
      start = i;
    }
    plain(text.substr(start));
    return out;
  }

 private:
  const Tokenizer& tok_;
  std::vector<int32_t> added_;
};

// Ids 0..255: the 256 bytes (byte-level spelling), then the given added
// tokens (type 3 control, 4 user-defined) from id 256.
Tokenizer ByteTokenizer(const std::vector<std::pair<std::string, int>>& added) {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(ByteLevelEncode(std::string(1, char(b))));
    types.push_back(1);
  }
  for (const auto& [text, type] : added) {
    tokens.push_back(text);
    types.push_back(type);
  }
  return Tokenizer::FromVocab(std::move(tokens), {}, std::move(types), {});
}

constexpr int kControl = 3, kUser = 4;

TEST_CASE("added tokens: leftmost, then longest; lowest id per text") {
  const Tokenizer tok = ByteTokenizer({
      {"<a>", kUser},            // 256
      {"<a>b", kUser},           // 257
      {"a>b<", kUser},           // 258
      {"ab", kControl},          // 259
      {"bc", kUser},             // 260
      {"abc", kControl},         // 261
      {"<b>", kControl},         // 262
      {"<b>", kUser},            // 263: same text, higher id
      {"<c>", kUser},            // 264
      {"<c>", kControl},         // 265
      {"\xA9", kUser},           // 266: a continuation byte
      {"<|eot", kUser},          // 267
      {"<|eot_id|>", kControl},  // 268
  });
  const auto enc = [&](std::string_view s, bool special = true) {
    return tok.Encode(s, {.parse_special = special});
  };
  const int32_t a = 'a', b = 'b', c = 'c', gt = '>', x = 'x';
  // Longest at the same position.
  CHECK(enc("<a>bc") == Ids{257, c});
  CHECK(enc("<a>b<a>") == Ids{257, 256});
  CHECK(enc("abc") == Ids{261});
  CHECK(enc("ab") == Ids{259});
  // Leftmost wins over a longer token starting later, even one that
  // overlaps it: "a>b<" at 1 hides "<a>" at 4.
  CHECK(enc("ca>b<a>") == Ids{c, 258, a, gt});
  // Specials off: control tokens are plain text; "bc" is found at 1.
  CHECK(enc("abc", false) == Ids{a, 260});
  CHECK(enc("ab", false) == Ids{a, b});
  // Same text: the lowest id among the tokens in play.
  CHECK(enc("<b>") == Ids{262});
  CHECK(enc("<b>", false) == Ids{263});
  CHECK(enc("<c>") == Ids{264});
  CHECK(enc("<c>", false) == Ids{264});
  // A longer control token is skipped without specials; the shorter
  // user-defined token at the same position then matches.
  CHECK(enc("x<|eot_id|>") == Ids{x, 268});
  CHECK(enc("x<|eot_id|>", false) ==
        Concat({{x, 267}, tok.Encode("_id|>", {.parse_special = false})}));
  // Matching is by bytes, also inside a UTF-8 character ("é" = C3 A9).
  CHECK(enc("caf\xC3\xA9!") == Ids{c, a, 'f', 0xC3, 266, '!'});
  CHECK(tok.Decode(enc("caf\xC3\xA9!")) == "caf\xC3\xA9!");
  CHECK(enc("").empty());
  CHECK(enc("<a") == Ids{'<', a});
}

TEST_CASE("added tokens: random tokens and texts agree with the reference") {
  std::mt19937 rng(16);
  const std::string alphabet = "ab<>| \n\xC3\xA9";
  const auto random_string = [&](size_t max_len) {
    std::string s(1 + rng() % max_len, ' ');
    for (char& ch : s) ch = alphabet[rng() % alphabet.size()];
    return s;
  };
  int checked = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<std::pair<std::string, int>> added;
    const int n = 1 + int(rng() % 12);
    for (int i = 0; i < n; ++i) {
      // Some repeats and some prefixes of earlier tokens.
      std::string text = random_string(6);
      if (!added.empty() && rng() % 4 == 0) {
        const std::string& other = added[rng() % added.size()].first;
        text = other.substr(0, 1 + rng() % other.size());
      }
      added.push_back({text, rng() % 2 ? kControl : kUser});
    }
    const Tokenizer tok = ByteTokenizer(added);
    const ReferenceMatcher ref(tok);
    for (int t = 0; t < 20; ++t) {
      const std::string text = random_string(120);
      for (const bool special : {true, false}) {
        INFO("round " << round << " text '" << text << "'");
        const Ids ids = tok.Encode(text, {.parse_special = special});
        CHECK(ids == ref.Encode(text, special));
        CHECK(tok.Decode(ids) == text);
        ++checked;
      }
    }
  }
  CHECK(checked == 12000);
}

TEST_CASE(
    "Llama 3 specials: pieces of special names agree with the reference") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  const ReferenceMatcher ref(tok);
  const std::vector<std::string> fragments = {"<|",
                                              "|>",
                                              "<|eot_id|>",
                                              "<|eot_id",
                                              "eot_id|>",
                                              "<|begin_of_text|>",
                                              "<|end_of_text|>",
                                              "<|reserved_special_token_1",
                                              "0|>",
                                              "5|>",
                                              "<",
                                              "|",
                                              "Hello",
                                              " world",
                                              "\n",
                                              "  ",
                                              "<|start_header_id|>",
                                              "<<||>>",
                                              "<|reserved_special_token_250|>",
                                              "\xC3\xA9",
                                              "_",
                                              "1"};
  std::mt19937 rng(3);
  for (int t = 0; t < 300; ++t) {
    std::string text;
    const int n = 1 + int(rng() % 10);
    for (int i = 0; i < n; ++i) text += fragments[rng() % fragments.size()];
    INFO("text '" << text << "'");
    for (const bool special : {true, false}) {
      CHECK(tok.Encode(text, {.parse_special = special}) ==
            ref.Encode(text, special));
    }
  }
  CHECK(tok.Encode("<|eot_id|><|eot_id|>") == Ids{128009, 128009});
  CHECK(tok.Encode("<|reserved_special_token_25|>") == Ids{128030});
}

// The matcher scans text in blocks (64 KB, at least the longest token);
// block size 1..max: the same matches as one pass.
TEST_CASE("added-token matcher: block seams do not change the matches") {
  std::mt19937 rng(7);
  struct Match {
    size_t pos;
    int32_t id;
    size_t length;
    bool operator==(const Match&) const = default;
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> texts;
    std::vector<detail::AddedTokenMatcher::Token> tokens;
    const int n = 1 + int(rng() % 8);
    texts.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
      std::string t(1 + rng() % 9, 'a');
      for (char& ch : t) ch = "aab<"[rng() % 4];
      texts.push_back(t);
    }
    for (int i = 0; i < n; ++i) {
      tokens.push_back({texts[size_t(i)], 100 + i, rng() % 2 == 0});
    }
    detail::AddedTokenMatcher matcher;
    matcher.Build(tokens);
    std::string text(rng() % 3000, 'a');
    for (char& ch : text) ch = "aab<x"[rng() % 5];
    for (const bool special : {true, false}) {
      std::vector<Match> whole;
      matcher.ForEachMatch(text, special, [&](size_t p, int32_t id, size_t l) {
        whole.push_back({p, id, l});
      });
      for (const size_t block : {size_t{1}, size_t{2}, size_t{3}, size_t{10},
                                 size_t{64}, size_t{1000}}) {
        std::vector<Match> blocked;
        matcher.ForEachMatch(
            text, special,
            [&](size_t p, int32_t id, size_t l) {
              blocked.push_back({p, id, l});
            },
            block);
        CHECK(blocked == whole);
      }
      // And the loop it replaced.
      std::vector<Match> ref;
      for (size_t i = 0; i < text.size();) {
        int best = -1;
        for (int k = 0; k < n; ++k) {
          if (tokens[size_t(k)].special && !special) continue;
          if (!std::string_view(text).substr(i).starts_with(texts[size_t(k)])) {
            continue;
          }
          if (best < 0 ||
              texts[size_t(k)].size() > texts[size_t(best)].size()) {
            best = k;  // equal lengths: the first, lowest id
          }
        }
        if (best < 0) {
          ++i;
          continue;
        }
        ref.push_back({i, tokens[size_t(best)].id, texts[size_t(best)].size()});
        i += texts[size_t(best)].size();
      }
      CHECK(whole == ref);
    }
  }
}

// 20,000 long user-defined tokens, all starting "<" + 50 × "x": the old
// matcher compared every one of them at every "<" (16 s for 100 KB).
TEST_CASE("20,000 added tokens × 1 MB of text") {
  const std::string stem = "<" + std::string(50, 'x');
  std::vector<std::string> tokens = {"<", "x", "!", ">"};       // ids 0..3
  for (char d = '0'; d <= '9'; ++d) tokens.emplace_back(1, d);  // 4..13
  constexpr int32_t kFirst = 14, kCount = 20000;
  for (int32_t k = 0; k < kCount; ++k) {
    tokens.push_back(stem + std::to_string(k) + ">");
  }
  std::vector<int32_t> types(tokens.size(), 4);
  std::fill(types.begin(), types.begin() + kFirst, 1);
  const Tokenizer tok =
      Tokenizer::FromVocab(std::move(tokens), {}, std::move(types), {});

  // Near misses ("<xx…x!", "<xx…x12", no ">") between real tokens. No
  // merges: ordinary text is one id per byte.
  std::mt19937 rng(20000);
  std::string text;
  Ids expected;
  const auto plain = [&](std::string_view s) {
    text += s;
    for (const char ch : s) {
      expected.push_back(ch == '<'   ? 0
                         : ch == 'x' ? 1
                         : ch == '!' ? 2
                         : ch == '>' ? 3
                                     : 4 + (ch - '0'));
    }
  };
  while (text.size() < (1u << 20)) {
    const int32_t k = int32_t(rng() % kCount);
    if (rng() % 2) {
      plain(stem + "!");
    } else {
      plain(stem + std::to_string(k));  // a token without its ">"
      plain("!");
    }
    text += tok.TokenText(kFirst + k);
    expected.push_back(kFirst + k);
  }
  const auto start = std::chrono::steady_clock::now();
  const Ids ids = tok.Encode(text);
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  MESSAGE("20,000 added tokens, " << text.size() << " bytes → " << ids.size()
                                  << " ids in " << ms << " ms");
  CHECK(ids == expected);
  CHECK(tok.Decode(ids) == text);
}

// Failure links: tokens x^k y for k = 1..2000 in a run of 10^5 x's; the
// leftmost match is the longest token, ending at the y.
TEST_CASE("added tokens that are suffixes of each other, in a long run") {
  std::vector<std::string> tokens = {"x", "y"};
  std::vector<int32_t> types = {1, 1};
  for (int k = 1; k <= 2000; ++k) {
    tokens.push_back(std::string(size_t(k), 'x') + "y");
    types.push_back(k % 3 == 0 ? 3 : 4);
  }
  const Tokenizer tok =
      Tokenizer::FromVocab(std::move(tokens), {}, std::move(types), {});
  const std::string text = std::string(100000, 'x') + "y";
  // x^2000 y is id 2001, a user-defined token (2000 % 3 != 0).
  CHECK(tok.Encode(text) == Concat({Repeat(0, 98000), {2001}}));
  CHECK(tok.Encode(text, {.parse_special = false}) ==
        Concat({Repeat(0, 98000), {2001}}));
  // x^1998 y (id 1999) is a control token: without specials the leftmost
  // token in play is x^1997 y, one byte later.
  CHECK(tok.Encode(std::string(1998, 'x') + "y") == Ids{1999});
  CHECK(tok.Encode(std::string(1998, 'x') + "y", {.parse_special = false}) ==
        Ids{0, 1998});
}

// Token counts below come from an independent BPE (Python, tiktoken's
// rule: merge the adjacent pair whose concatenation has the lowest rank,
// leftmost first) over tests/data/llama3/tokenizer.model.
constexpr int32_t kSpaces128 = 58040;   // 128 spaces
constexpr int32_t kNewlines32 = 80183;  // 32 newlines
constexpr int32_t kA8 = 70540;          // "aaaaaaaa"
constexpr int32_t kDigits777 = 15831, kDigit7 = 22;
constexpr int32_t kZhong = 16325;  // 中

TEST_CASE("10^7 spaces: one piece, 78,125 tokens") {
  const std::string spaces(10'000'000, ' ');
  const auto start = std::chrono::steady_clock::now();
  const Ids ids = test::Llama3Tiktoken().Encode(spaces);
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  MESSAGE("10^7 spaces → " << ids.size() << " ids in " << ms << " ms");
  CHECK(ids == Repeat(kSpaces128, 78125));

  // "x", 10^7 - 1 spaces (the last goes with "y"), " y".
  const std::string framed = "x" + std::string(10'000'000, ' ') + "y";
  const std::vector<std::string_view> pieces =
      PreTokenize(PreTokenizer::kLlama3, framed);
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[1].size() == 9'999'999);
  CHECK(pieces[2] == " y");
  // 9,999,999 = 78,124 × 128 + 127; 127 spaces are 5351 15628.
  CHECK(test::Llama3Tiktoken().Encode(framed) ==
        Concat({{87}, Repeat(kSpaces128, 78124), {5351, 15628, 379}}));
  CHECK(PreTokenize(PreTokenizer::kBitnetCppDefault, spaces).size() == 1);
}

TEST_CASE("long whitespace runs split as the Llama 3 regex says") {
  const auto pieces = [](const std::string& s) {
    std::vector<std::string> out;
    for (const auto p : PreTokenize(PreTokenizer::kLlama3, s)) {
      out.emplace_back(p);
    }
    return out;
  };
  const size_t n = 3'000'000;
  const std::string sp(n, ' '), nl(n, '\n');
  // \s*[\r\n]+ takes the run up to its last newline; \s+(?!\S) the spaces
  // after it but one; that one goes with the letter.
  CHECK(pieces(sp + "\r\n" + sp + "x") ==
        std::vector<std::string>{sp + "\r\n", std::string(n - 1, ' '), " x"});
  CHECK(pieces(nl + "x") == std::vector<std::string>{nl, "x"});
  CHECK(pieces("!" + nl + sp + "!") ==
        std::vector<std::string>{"!" + nl, std::string(n - 1, ' '), " !"});
  CHECK(pieces(std::string(n, '\t') + "7") ==
        std::vector<std::string>{std::string(n - 1, '\t'), "\t", "7"});
  const std::string mixed = sp + "\n" + std::string(n, '\t') + "\r";
  CHECK(pieces(mixed) == std::vector<std::string>{mixed});
  CHECK(test::Llama3Tiktoken().Encode(std::string(1'000'000, '\n')) ==
        Repeat(kNewlines32, 31250));
}

TEST_CASE("long words: letters, digits, CJK") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  const auto start = std::chrono::steady_clock::now();
  CHECK(tok.Encode(std::string(1'000'000, 'a')) == Repeat(kA8, 125000));
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  MESSAGE("10^6 letters in " << ms << " ms");
  CHECK(tok.Encode(std::string(1'000'000, '7')) ==
        Concat({Repeat(kDigits777, 333333), {kDigit7}}));
  std::string zh;
  for (int i = 0; i < 100000; ++i) zh += "\xE4\xB8\xAD";  // 中
  CHECK(tok.Encode(zh) == Repeat(kZhong, 100000));
}

}  // namespace
}  // namespace ternary
