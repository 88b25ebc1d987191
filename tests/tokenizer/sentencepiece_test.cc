// ternary's SentencePiece BPE (tokenizer/sentencepiece.h, load_sentencepiece.h)
// against the SentencePiece library's ids for the 1bitLLM fixture's
// tokenizer.model (tests/data/families/1bitllm/tokenizer_cases.json, written
// by tests/data/make/make_1bitllm_tokenizer.sh with python3-sentencepiece),
// the Hugging Face folder loader (added tokens, BOS/EOS), decoding, and the
// models it refuses.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ternary/model/load_tokenizer.h"
#include "ternary/tokenizer/tokenizer.h"
#include "ternary/util/error.h"
#include "tokenizer_fixtures.h"

namespace ternary {
namespace {

const std::filesystem::path kDir =
    std::filesystem::path(TERNARY_TEST_DATA_DIR) / "families" / "1bitllm";

// Read once and kept: a range-for over Cases().at("cases") on a temporary
// would iterate a destroyed object.
const nlohmann::json& Cases() {
  static const nlohmann::json cases =
      nlohmann::json::parse(std::ifstream(kDir / "tokenizer_cases.json"));
  return cases;
}

// As the folder loader builds it: <pad> special, </line> not.
Tokenizer Load() {
  return Tokenizer::FromSentencePiece(
      kDir / "tokenizer.model",
      {{"<pad>", 510, true}, {"</line>", 511, false}});
}

TEST_CASE("sentencepiece: ids equal the SentencePiece library's") {
  const Tokenizer tok = Load();
  CHECK(tok.is_sentencepiece());
  CHECK(tok.vocab_size() == 512);
  CHECK(tok.bos_id() == 1);
  CHECK(tok.eos_id() == 2);
  // The library treats "<s>" as text: so does Encode without parse_special.
  for (const auto& c : Cases().at("cases")) {
    const std::string text = c["text"];
    INFO("text: " << text);
    CHECK(tok.Encode(text, {.parse_special = false}) ==
          c["ids"].get<std::vector<int32_t>>());
  }
}

TEST_CASE("sentencepiece: added tokens split the text (LlamaTokenizer)") {
  const Tokenizer tok = Load();
  for (const auto& c : Cases().at("added_cases")) {
    const std::string text = c["text"];
    INFO("text: " << text);
    CHECK(tok.Encode(text) == c["ids"].get<std::vector<int32_t>>());
  }
  // </line> is not special: matched without parse_special; <pad> is.
  CHECK(tok.token_type(511) == TokenType::kUserDefined);
  CHECK(tok.token_type(510) == TokenType::kControl);
  CHECK(tok.Encode("</line>", {.parse_special = false}) ==
        std::vector<int32_t>{511});
  // Control tokens in text are parsed (LlamaTokenizer), the text after
  // them gets its own dummy prefix.
  std::vector<int32_t> want = {1};
  for (int32_t id : tok.Encode("x")) want.push_back(id);
  CHECK(tok.Encode("<s>x") == want);
  CHECK(tok.Encode("x", {.add_bos = true}).front() == 1);
}

TEST_CASE("sentencepiece: decoding gives the text back after the prefix") {
  const Tokenizer tok = Load();
  for (const auto& c : Cases().at("cases")) {
    const std::string text = c["text"];
    INFO("text: " << text);
    const std::vector<int32_t> ids = c["ids"];
    // The dummy prefix is a space before the text; byte pieces are their
    // bytes; ▁ decodes as a space, also where the text had one itself (the
    // library's DecodeIds does the same).
    const std::string_view kMeta = "\u2581";
    std::string want = text.empty() ? "" : " ";
    for (size_t i = 0; i < text.size();) {
      const bool meta = std::string_view(text).substr(i, 3) == kMeta;
      want += meta ? ' ' : text[i];
      i += meta ? 3 : 1;
    }
    CHECK(tok.Decode(ids) == want);
  }
  CHECK(tok.TokenText(13) == "\n");  // <0x0A>
  CHECK(tok.TokenText(430) == " ");  // ▁
  CHECK(tok.Decode(std::vector<int32_t>{1, 430, 2}, {.skip_special = true}) ==
        " ");
  CHECK(tok.TokenId("\n") == 13);
}

TEST_CASE("sentencepiece: the Hugging Face folder loader") {
  const ModelTokenizer mt = TokenizerFromHfFolder(kDir);
  CHECK(HfFolderHasSentencePiece(kDir));
  CHECK(mt.tokenizer.is_sentencepiece());
  CHECK(mt.add_bos);
  CHECK(mt.tokenizer.bos_id() == 1);
  CHECK(mt.tokenizer.eos_id() == 2);
  CHECK(mt.tokenizer.vocab_size() == 512);
  CHECK(mt.tokenizer.token_type(510) == TokenType::kControl);      // <pad>
  CHECK(mt.tokenizer.token_type(511) == TokenType::kUserDefined);  // </line>
  const auto cases = Cases();
  for (const auto& c : cases["added_cases"]) {
    CHECK(mt.tokenizer.Encode(c["text"].get<std::string>()) ==
          c["ids"].get<std::vector<int32_t>>());
  }
  // LoadTokenizer checks the ids against config.json's vocab_size.
  CHECK(LoadTokenizer(kDir).tokenizer.vocab_size() == 512);
  // Llama 3's tokenizer.model is a tiktoken file, not SentencePiece.
  CHECK(!HfFolderHasSentencePiece(test::Llama3Dir()));
}

TEST_CASE("sentencepiece: models it cannot run are refused by name") {
  const std::string bytes = test::ReadFile(kDir / "tokenizer.model");
  const SpmModelProto m = ParseSpmModelProto(bytes, "tokenizer.model");
  CHECK(m.model_type == 2);
  CHECK(m.byte_fallback);
  CHECK(!m.remove_extra_whitespaces);
  CHECK(m.normalizer_name == "identity");
  CHECK(m.pieces.size() == 510);
  CHECK(m.pieces[13].type == SpmPieceType::kByte);
  const auto refused = [](SpmModelProto model, const std::string& needle) {
    std::string message = "(no exception)";
    try {
      (void)Tokenizer::FromSentencePieceModel(model, {}, {}, "x.model");
    } catch (const FormatError& e) {
      message = e.what();
    }
    CAPTURE(message);
    CHECK(message.find(needle) != std::string::npos);
  };
  SpmModelProto u = m;
  u.model_type = 1;
  refused(u, "x.model: model_type 1 (UNIGRAM): only BPE");
  u = m;
  u.normalizer_name = "nmt_nfkc";
  refused(u, "x.model: normalizer 'nmt_nfkc'");
  // A user-defined piece is matched as text (as added tokens are).
  u = m;
  const std::string piece = u.pieces[300].piece;
  u.pieces[300].type = SpmPieceType::kUserDefined;
  const Tokenizer ud = Tokenizer::FromSentencePieceModel(u, {}, {}, "u");
  CHECK(ud.token_type(300) == TokenType::kUserDefined);
  CHECK(ud.Encode(piece, {.parse_special = false}) ==
        std::vector<int32_t>{300});
  u = m;
  u.pieces[20].type = SpmPieceType::kNormal;  // <0x11> no longer a byte
  refused(u, "byte_fallback is on but there is no piece <0x11>");
  CHECK_THROWS_AS(ParseSpmModelProto("not a model", "t"), FormatError);
  CHECK_THROWS_AS(ParseSpmModelProto(bytes.substr(0, 100), "t"), FormatError);
}

TEST_CASE("sentencepiece: remove_extra_whitespaces and no dummy prefix") {
  SpmModelProto m = ParseSpmModelProto(test::ReadFile(kDir / "tokenizer.model"),
                                       "tokenizer.model");
  m.remove_extra_whitespaces = true;
  const Tokenizer a = Tokenizer::FromSentencePieceModel(m, {}, {}, "a");
  CHECK(a.Encode("  so   so  ") == a.Encode("so so"));
  CHECK(a.Encode("   ").empty());
  m.remove_extra_whitespaces = false;
  m.add_dummy_prefix = false;
  const Tokenizer b = Tokenizer::FromSentencePieceModel(m, {}, {}, "b");
  CHECK(b.Decode(b.Encode("so it")) == "so it");
}

}  // namespace
}  // namespace ternary
