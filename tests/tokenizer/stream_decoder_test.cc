// StreamDecoder: text comes out only when its UTF-8 characters are complete.
#include "ternary/tokenizer/stream_decoder.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ternary/tokenizer/utf8.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace ternary {
namespace {

// Valid UTF-8 up to an unfinished last character.
bool EndsInsideCharacter(const std::string& bytes) {
  const size_t valid = ValidUtf8PrefixLength(bytes);
  return valid < bytes.size() && ScanUtf8(bytes, valid).truncated &&
         valid + ScanUtf8(bytes, valid).length == bytes.size();
}

TEST_CASE("a character split across tokens appears once complete") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  // Llama 3 spells these emoji with byte tokens that cut characters.
  const std::string text =
      "emoji 🙂🚀👩‍👩‍👧 and 東京タワー";
  const std::vector<int32_t> ids = tok.Encode(text);
  StreamDecoder stream(tok);
  std::string streamed, bytes_so_far;
  int held = 0;
  for (const int32_t id : ids) {
    bytes_so_far += tok.TokenText(id);
    const std::string out = stream.Feed(id);
    CHECK(IsValidUtf8(out));
    streamed += out;
    // Everything complete so far is out; only an unfinished tail is held.
    const size_t complete = ValidUtf8PrefixLength(bytes_so_far);
    CHECK(streamed == bytes_so_far.substr(0, complete));
    CHECK(stream.pending_bytes() == bytes_so_far.size() - complete);
    if (stream.pending_bytes() > 0) ++held;
  }
  CHECK(held > 0);  // the test text does cut characters
  CHECK(stream.Flush().empty());
  CHECK(streamed == text);
}

TEST_CASE("a token that is part of a character is held, then completed") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  // Find a token that is a lone piece of a character: "🙂" is F0 9F 99 82.
  const std::vector<int32_t> ids = tok.Encode("🙂");
  REQUIRE(ids.size() >= 2);
  CHECK(EndsInsideCharacter(tok.TokenText(ids[0])));
  StreamDecoder stream(tok);
  for (size_t i = 0; i + 1 < ids.size(); ++i)
    CHECK(stream.Feed(ids[i]).empty());
  CHECK(stream.Feed(ids.back()) == "🙂");

  // An unfinished character at the end flushes as U+FFFD.
  CHECK(stream.Feed(ids[0]).empty());
  CHECK(stream.Flush() == "\uFFFD");
  CHECK(stream.pending_bytes() == 0);

  // Bytes that cannot become valid come out at once as U+FFFD.
  CHECK(stream.Feed(ids[0]).empty());
  CHECK(stream.Feed(*tok.TokenId("A")) == "\uFFFDA");
}

TEST_CASE("specials stream as text unless skipped") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  StreamDecoder with(tok);
  CHECK(with.Feed(128009) == "<|eot_id|>");
  StreamDecoder without(tok, {.skip_special = true});
  CHECK(without.Feed(128009).empty());
  CHECK(without.Feed(9906) == "Hello");
  CHECK_THROWS_AS(without.Feed(128256), UsageError);
}

}  // namespace
}  // namespace ternary
