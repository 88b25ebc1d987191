// Tokenizer loading, Encode and Decode against independent references:
// tiktoken ids (cases.json), transformers ids (reference.json).
#include "ternary/tokenizer/tokenizer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "ternary/util/error.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace ternary {
namespace {

using Ids = std::vector<int32_t>;

void CheckLlama3Cases(const Tokenizer& tok) {
  const nlohmann::json cases = test::ReadJson(test::Llama3Dir() / "cases.json");
  CHECK(tok.vocab_size() == cases["n_vocab"].get<int32_t>());
  REQUIRE(cases["cases"].size() >= 12);
  for (const auto& c : cases["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const Ids expected = c["ids"].get<Ids>();
    INFO("text: " << text);
    const Ids ids = tok.Encode(text);  // no BOS, specials parsed
    CHECK(ids == expected);
    CHECK(tok.Decode(ids) == text);
  }
}

TEST_CASE("Llama 3 tiktoken file: every cases.json case") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  CHECK(tok.ignore_merges());
  CheckLlama3Cases(tok);
}

TEST_CASE("Llama 3 tokenizer.json: every cases.json case") {
  const Tokenizer& tok = test::Llama3Hf();
  CHECK(tok.num_merges() == 280147);
  CHECK(tok.ignore_merges());
  CheckLlama3Cases(tok);
}

TEST_CASE("Llama 3 specials, ids and names") {
  for (const Tokenizer* tok : {&test::Llama3Tiktoken(), &test::Llama3Hf()}) {
    CHECK(tok->vocab_size() == 128256);
    CHECK(tok->bos_id() == 128000);
    CHECK(tok->eos_id() == 128001);
    CHECK(tok->eot_id() == 128009);
    CHECK(tok->IsEndOfGeneration(128001));
    CHECK(tok->IsEndOfGeneration(128009));
    CHECK_FALSE(tok->IsEndOfGeneration(128000));
    CHECK_FALSE(tok->IsEndOfGeneration(-1));
    CHECK(tok->TokenText(128000) == "<|begin_of_text|>");
    CHECK(tok->TokenText(128006) == "<|start_header_id|>");
    CHECK(tok->TokenText(128008) == "<|reserved_special_token_4|>");
    CHECK(tok->TokenText(128255) == "<|reserved_special_token_250|>");
    CHECK(tok->TokenId("<|eot_id|>") == 128009);
    CHECK(tok->token_type(128009) == TokenType::kControl);
    CHECK(tok->IsSpecial(128009));
    // From cases.json: "Hello, world!" → [9906, 11, 1917, 0].
    CHECK(tok->TokenText(9906) == "Hello");
    CHECK(tok->TokenId(" world") == 1917);
    CHECK(tok->token_type(1917) == TokenType::kNormal);
    CHECK_FALSE(tok->TokenId("no such token in the vocabulary").has_value());
  }
}

TEST_CASE("special tokens parsed or not") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  const std::string text = "<|begin_of_text|>Hi<|eot_id|>";
  const Ids parsed = tok.Encode(text);
  REQUIRE(parsed.size() == 3);
  CHECK(parsed[0] == 128000);
  CHECK(parsed[2] == 128009);

  const Ids plain = tok.Encode(text, {.parse_special = false});
  CHECK(plain.size() > 6);
  for (const int32_t id : plain) CHECK_FALSE(tok.IsSpecial(id));
  CHECK(tok.Decode(plain) == text);
  // The plain spelling starts with the piece "<|", which is not a token.
  CHECK_FALSE(tok.TokenId("<|").has_value());
  CHECK(plain[0] == tok.TokenId("<"));
  CHECK(plain[1] == tok.TokenId("|"));

  CHECK(tok.Decode(parsed, {.skip_special = true}) == "Hi");
  CHECK(tok.Decode(parsed) == text);

  const Ids with_bos = tok.Encode("Hi", {.add_bos = true});
  REQUIRE(with_bos.size() == 2);
  CHECK(with_bos[0] == 128000);
  // A prefix of a special is ordinary text.
  CHECK(tok.Decode(tok.Encode("<|eot_id")) == "<|eot_id");
  CHECK(tok.Encode("<|eot_id").size() > 1);
}

TEST_CASE("tiny-shakespeare tokenizer.json: transformers reference ids") {
  const Tokenizer& tok = test::TinyHf();
  CHECK(tok.vocab_size() == 4096);
  CHECK(tok.bos_id() == 4091);
  CHECK(tok.eos_id() == 4092);
  CHECK(tok.eot_id() == 4095);
  CHECK_FALSE(tok.ignore_merges());
  const nlohmann::json ref = test::ReadJson(test::TinyDir() / "reference.json");
  REQUIRE(ref["cases"].size() == 4);
  for (const auto& c : ref["cases"]) {
    const std::string prompt = c["prompt"].get<std::string>();
    INFO("prompt: " << prompt);
    const Ids ids = tok.Encode(prompt, {.add_bos = true});
    CHECK(ids == c["ids"].get<Ids>());
    CHECK(tok.Decode(ids, {.skip_special = true}) == prompt);
  }
}

TEST_CASE("bitnet.cpp default pre-tokenizer reproduces bitnet.cpp ids") {
  TokenizerOptions options;
  options.pre_tokenizer = PreTokenizer::kBitnetCppDefault;
  options.ignore_merges = false;  // llama.cpp: only the llama3 pre-type
  const Tokenizer bitnet =
      Tokenizer::FromHfJson(test::TinyDir() / "tokenizer.json", options);
  CHECK(bitnet.Encode("ROMEO:\n") == Ids{1948, 25, 198});
  CHECK(test::TinyHf().Encode("ROMEO:\n") == Ids{1948, 328});
}

TEST_CASE("GGUF vocabulary (bitnet.cpp's converter) through FromVocab") {
  test::GgufVocab v =
      test::ReadGgufVocab(std::filesystem::path(TERNARY_TEST_DATA_DIR) /
                          "gguf" / "bitnet.cpp-i2_s.gguf");
  REQUIRE(v.tokens.size() == 4096);
  CHECK_FALSE(v.has_pre);  // so bitnet.cpp uses the default pre-tokenizer
  const SpecialIds ids{.bos = v.bos, .eos = v.eos};
  const Tokenizer bitnet =
      Tokenizer::FromVocab(v.tokens, v.merges, v.token_types, ids,
                           PreTokenizer::kBitnetCppDefault, "bitnet.gguf");
  CHECK(bitnet.bos_id() == 4091);
  CHECK(bitnet.eos_id() == 4092);
  CHECK(bitnet.eot_id() == 4095);
  CHECK_FALSE(bitnet.ignore_merges());
  CHECK(bitnet.Encode("ROMEO:\n") == Ids{1948, 25, 198});

  // The same vocabulary with the Llama 3 split gives transformers' ids.
  const Tokenizer llama3 = Tokenizer::FromVocab(
      std::move(v.tokens), std::move(v.merges), std::move(v.token_types), ids);
  const nlohmann::json ref = test::ReadJson(test::TinyDir() / "reference.json");
  for (const auto& c : ref["cases"]) {
    CHECK(llama3.Encode(c["prompt"].get<std::string>(), {.add_bos = true}) ==
          c["ids"].get<Ids>());
  }
}

TEST_CASE("heldout.txt: round trip, tiktoken == tokenizer.json, speed") {
  const std::string text = test::ReadFile(test::TinyDir() / "heldout.txt");
  REQUIRE(text.size() > 200000);
  const auto timed = [&](const Tokenizer& tok, const std::string& name) {
    const auto start = std::chrono::steady_clock::now();
    Ids ids = tok.Encode(text);
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    MESSAGE(name << ": " << text.size() << " bytes → " << ids.size()
                 << " tokens in " << ms << " ms");
    CHECK(tok.Decode(ids) == text);
    return ids;
  };
  const Ids tiny = timed(test::TinyHf(), "tiny-shakespeare");
  CHECK(tiny.size() < text.size() / 2);
  const Ids tiktoken = timed(test::Llama3Tiktoken(), "Llama 3 tiktoken");
  const Ids hf = timed(test::Llama3Hf(), "Llama 3 tokenizer.json");
  CHECK(tiktoken == hf);
  TokenizerOptions options;
  options.pre_tokenizer = PreTokenizer::kBitnetCppDefault;
  const Tokenizer bitnet =
      Tokenizer::FromHfJson(test::TinyDir() / "tokenizer.json", options);
  timed(bitnet, "tiny-shakespeare, bitnet.cpp default split");
}

TEST_CASE("one tokenizer encodes from several threads at once") {
  const Tokenizer& tok = test::Llama3Hf();
  const std::string text = test::ReadFile(test::TinyDir() / "heldout.txt");
  const Ids expected = tok.Encode(text);
  std::vector<Ids> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&tok, &text, &r] { r = tok.Encode(text); });
  }
  for (auto& t : threads) t.join();
  for (const Ids& r : results) CHECK(r == expected);
}

TEST_CASE("any bytes round-trip, invalid UTF-8 included") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::vector<std::string> texts = {all,
                                          "caf\xC3",
                                          "\xE6\x9D\xB1\xE6\x9D",
                                          "\xFF\xFE\xFD",
                                          "a\x80 b",
                                          std::string(5000, 'a'),
                                          "x" + std::string(3000, ' ') + "y"};
  for (const std::string& text : texts) {
    CHECK(tok.Decode(tok.Encode(text)) == text);
    CHECK(tok.Decode(tok.Encode(text, {.parse_special = false})) == text);
  }
}

TEST_CASE("Decode and TokenText reject ids outside the vocabulary") {
  const Tokenizer& tok = test::TinyHf();
  const Ids bad = {1, 4096};
  CHECK_THROWS_WITH_AS(tok.Decode(bad), doctest::Contains("4096"), UsageError);
  CHECK_THROWS_AS(tok.Decode(Ids{-1}), UsageError);
  CHECK_THROWS_AS(tok.TokenText(5000), UsageError);
}

TEST_CASE("Encode with add_bos needs a BOS") {
  const Tokenizer tok = Tokenizer::FromVocab(
      {"a", "b", "ab"}, {"a b"}, {}, SpecialIds{}, PreTokenizer::kLlama3);
  CHECK(tok.bos_id() == -1);
  CHECK(tok.Encode("abba") == Ids{2, 1, 0});
  CHECK_THROWS_AS(tok.Encode("ab", {.add_bos = true}), UsageError);
}

TEST_CASE("merge ranks: lowest rank first, leftmost on ties") {
  // Vocabulary spelled in the byte-level alphabet; only "a", "b", "c" and
  // merges. "abc" with merges [b c, a b]: "bc" merges first.
  const Tokenizer tok = Tokenizer::FromVocab(
      {"a", "b", "c", "ab", "bc", "abc", "aa"}, {"b c", "a b", "a bc", "a a"},
      {}, SpecialIds{}, PreTokenizer::kBitnetCppDefault);
  CHECK(tok.Encode("abc") == Ids{5});  // b+c, then a+bc
  CHECK(tok.Encode("ab") == Ids{3});
  CHECK(tok.Encode("aaa") == Ids{6, 0});  // leftmost pair first
  CHECK(tok.Encode("cab") == Ids{2, 3});
}

TEST_CASE("ignore_merges emits a whole piece found in the vocabulary") {
  // "abc" is a token but no merge path builds it.
  const std::vector<std::string> tokens = {"a", "b", "c", "ab", "abc"};
  const Tokenizer merging = Tokenizer::FromVocab(
      tokens, {"a b"}, {}, SpecialIds{}, PreTokenizer::kBitnetCppDefault);
  CHECK(merging.Encode("abc") == Ids{3, 2});
  const Tokenizer whole = Tokenizer::FromVocab(
      tokens, {"a b"}, {}, SpecialIds{}, PreTokenizer::kLlama3);
  CHECK(whole.Encode("abc") == Ids{4});
}

TEST_CASE("user-defined tokens match even when specials are not parsed") {
  const Tokenizer tok = Tokenizer::FromVocab({"a", "b", "<ctl>", "<usr>"}, {},
                                             {1, 1, 3, 4}, SpecialIds{});
  CHECK(tok.Encode("a<ctl>b<usr>") == Ids{0, 2, 1, 3});
  const Ids plain = tok.Encode("<usr>", {.parse_special = false});
  CHECK(plain == Ids{3});
  CHECK(tok.token_type(3) == TokenType::kUserDefined);
}

// --- Bad files: FormatError naming the file and the problem. ---

TEST_CASE("bad tokenizer.json files") {
  test::TempDir dir;
  CHECK_THROWS_WITH_AS(Tokenizer::FromHfJson(dir.Write("x", "") / "missing"),
                       doctest::Contains("missing"), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(std::filesystem::path("/nonexistent/tok.json")),
      doctest::Contains("/nonexistent/tok.json: cannot open"), FormatError);
  CHECK_THROWS_WITH_AS(Tokenizer::FromHfJson(dir.Write(
                           "bad.json", R"({"model": {"vocab": {"a": 0,)")),
                       doctest::Contains("bad.json: invalid JSON"),
                       FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write("arr.json", R"({"model": [1, 2]})")),
      doctest::Contains("arr.json: missing object 'model'"), FormatError);
  CHECK_THROWS_WITH_AS(Tokenizer::FromHfJson(dir.Write("top.json", "[]")),
                       doctest::Contains("top.json: not a JSON object"),
                       FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write("nomodel.json", "{}")),
      doctest::Contains("nomodel.json: missing object 'model'"), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(
          dir.Write("novocab.json", R"({"model": {"merges": []}})")),
      doctest::Contains("novocab.json: missing object 'model.vocab'"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "wp.json", R"({"model": {"type": "WordPiece", "vocab": {}}})")),
      doctest::Contains("only \"BPE\""), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "id.json", R"({"model": {"vocab": {"a": "x"}, "merges": []}})")),
      doctest::Contains("id.json: model.vocab['a'] is not an integer id"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(
          dir.Write("dup.json",
                    R"({"model": {"vocab": {"a": 0, "b": 0}, "merges": []}})")),
      doctest::Contains("id 0 is already 'a'"), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "neg.json", R"({"model": {"vocab": {"a": -3}, "merges": []}})")),
      doctest::Contains("id -3 out of range"), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "unk.json",
          R"({"model": {"vocab": {"a": 0, "ab": 1}, "merges": ["a b"]}})")),
      doctest::Contains("unk.json: merge 0 ('a b'): 'b' is not a token"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "res.json",
          R"({"model": {"vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}})")),
      doctest::Contains("res.json: merge 0 ('a b'): the merged 'ab' is not a "
                        "token"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "form.json",
          R"({"model": {"vocab": {"a": 0, "b": 1}, "merges": ["a  b"]}})")),
      doctest::Contains("is not \"left right\""), FormatError);
  CHECK_THROWS_WITH_AS(Tokenizer::FromHfJson(dir.Write(
                           "added.json",
                           R"({"model": {"vocab": {"a": 0}, "merges": []},
              "added_tokens": [{"id": 1}]})")),
                       doctest::Contains("added.json: added_tokens[0] needs"),
                       FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "pair.json",
          R"({"model": {"vocab": {"a": 0}, "merges": [["a", "a", "a"]]}})")),
      doctest::Contains("pair.json: merge 0 is neither"), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "pair2.json",
          R"({"model": {"vocab": {"a": 0}, "merges": ["a a", ["a", 1]]}})")),
      doctest::Contains("pair2.json: merge 1 is neither"), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(dir.Write(
          "im.json",
          R"({"model": {"vocab": {}, "merges": [], "ignore_merges": 1}})")),
      doctest::Contains("im.json: model.ignore_merges is not a boolean"),
      FormatError);
  // Order-independent, unknown keys skipped, "special" optional.
  const Tokenizer ok = Tokenizer::FromHfJson(dir.Write("order.json", R"({
      "added_tokens": [{"id": 3, "content": "<e>", "lstrip": false}],
      "decoder": {"type": "ByteLevel", "x": [[1], {"y": null}]},
      "model": {"merges": [["a", "b"]], "dropout": null, "ignore_merges": true,
                "vocab": {"a": 0, "b": 1, "ab": 2}}})"));
  CHECK(ok.Encode("ab<e>ba") == Ids{2, 3, 1, 0});
  CHECK(ok.token_type(3) == TokenType::kUserDefined);
  CHECK(ok.ignore_merges());
  // A special listed in both model.vocab and added_tokens becomes special.
  const Tokenizer both = Tokenizer::FromHfJson(dir.Write("both.json", R"({
      "model": {"vocab": {"a": 0, "<s>": 1}, "merges": []},
      "added_tokens": [{"id": 1, "content": "<s>", "special": true}]})"));
  CHECK(both.token_type(1) == TokenType::kControl);
  CHECK(both.Encode("<s>a") == Ids{1, 0});
  CHECK(both.Encode("a<s>", {.parse_special = false}) != Ids{0, 1});
  CHECK_THROWS_WITH_AS(Tokenizer::FromHfJson(dir.Write("t.json", "{}"),
                                             {.special_ids = {.bos = 99}}),
                       doctest::Contains("missing object"), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJson(
          dir.Write("ok.json",
                    R"({"model": {"vocab": {"a": 0}, "merges": []}})"),
          {.special_ids = {.bos = 99}}),
      doctest::Contains("BOS id 99 is outside the vocabulary"), UsageError);
}

TEST_CASE("bad tiktoken files") {
  test::TempDir dir;
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromTiktoken(dir.Write("ok", "YQ== 0\n") / "nope"),
      doctest::Contains("cannot open"), FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromTiktoken(dir.Write("b64.model", "YQ== 0\nY*== 1\n")),
      doctest::Contains("b64.model: line 2: invalid base64 'Y*=='"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromTiktoken(dir.Write("pad.model", "YQ= 0\n")),
      doctest::Contains("pad.model: line 1: invalid base64 'YQ='"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromTiktoken(dir.Write("rank.model", "YQ== 0\nYg== 0\n")),
      doctest::Contains("rank.model: line 2: id 0 is already 'a'"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromTiktoken(dir.Write("same.model", "YQ== 0\nYQ== 1\n")),
      doctest::Contains("same.model: line 2: token 'a' already has rank 0"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromTiktoken(dir.Write("num.model", "YQ== zero\n")),
      doctest::Contains("num.model: line 1: rank 'zero' is not an integer"),
      FormatError);
  CHECK_THROWS_WITH_AS(Tokenizer::FromTiktoken(dir.Write("sp.model", "YQ==\n")),
                       doctest::Contains("sp.model: line 1: expected"),
                       FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromTiktoken(dir.Write("big.model", "YQ== 99999999999\n")),
      doctest::Contains("out of range"), FormatError);
  CHECK_THROWS_WITH_AS(Tokenizer::FromTiktoken(dir.Write("empty.model", "")),
                       doctest::Contains("empty.model: no tokens"),
                       FormatError);

  // A small valid file: specials given, BPE by concatenated ranks.
  const Tokenizer tok = Tokenizer::FromTiktoken(
      dir.Write("small.model", "YQ== 0\r\nYg== 1\r\nYWI= 2\r\n\r\n"), {},
      {{"<s>", 3}, {"</s>", 4}});
  CHECK(tok.Encode("<s>abab</s>") == Ids{3, 2, 2, 4});
  CHECK(tok.vocab_size() == 5);
  CHECK_THROWS_AS(Tokenizer::FromTiktoken(dir.Write("c.model", "YQ== 0\n"), {},
                                          {{"<s>", 0}}),
                  UsageError);
}

TEST_CASE("bad GGUF vocabularies") {
  CHECK_THROWS_WITH_AS(Tokenizer::FromVocab({"a", "b"}, {}, {1}, {},
                                            PreTokenizer::kLlama3, "m.gguf"),
                       doctest::Contains("m.gguf: 1 token types for 2 tokens"),
                       FormatError);
  CHECK_THROWS_WITH_AS(Tokenizer::FromVocab({"a", "b"}, {}, {1, 9}, {},
                                            PreTokenizer::kLlama3, "m.gguf"),
                       doctest::Contains("m.gguf: token 1 has token type 9"),
                       FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromVocab({"a", "b"}, {"a c"}, {}, {}, PreTokenizer::kLlama3,
                           "m.gguf"),
      doctest::Contains("m.gguf: merge 0 ('a c'): 'c' is not a token"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromVocab({"a", "b"}, {}, {}, {.eos = 7},
                           PreTokenizer::kLlama3, "m.gguf"),
      doctest::Contains("m.gguf: EOS id 7 is outside the vocabulary"),
      FormatError);
}

}  // namespace
}  // namespace ternary
