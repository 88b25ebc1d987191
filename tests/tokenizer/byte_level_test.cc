// GPT-2 byte-level alphabet and UTF-8 helpers.
#include "ternary/tokenizer/byte_level.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "ternary/tokenizer/utf8.h"

namespace ternary {
namespace {

TEST_CASE("byte-level alphabet: docs/model.md §6.3 examples and layout") {
  CHECK(ByteLevelChar(' ') == U'\u0120');   // Ġ
  CHECK(ByteLevelChar('\n') == U'\u010A');  // Ċ
  CHECK(ByteLevelChar('\t') == U'\u0109');  // ĉ
  CHECK(ByteLevelChar(0x00) == U'\u0100');
  CHECK(ByteLevelChar(0x7F) == U'\u0121');  // after the 33 of 0x00-0x20
  CHECK(ByteLevelChar(0xA0) == U'\u0142');
  CHECK(ByteLevelChar(0xAD) == U'\u0143');  // the last of the 68
  CHECK(ByteLevelChar('A') == U'A');
  CHECK(ByteLevelChar(0xE9) == U'\u00E9');  // é stands for itself

  std::set<char32_t> seen;
  char32_t next_shifted = 0x100;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = ByteLevelChar(uint8_t(b));
    INFO("byte " << b);
    CHECK(seen.insert(c).second);
    CHECK(ByteLevelByte(c) == b);
    if (c >= 0x100) CHECK(c == next_shifted++);  // increasing byte order
  }
  CHECK(next_shifted == 0x144);  // exactly 68 shifted bytes
  CHECK(ByteLevelByte(0x144) == -1);
  CHECK(ByteLevelByte(' ') == -1);
  CHECK(ByteLevelByte(0xAD) == -1);
}

TEST_CASE("byte-level encode/decode round trip of every byte") {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string spelled = ByteLevelEncode(all);
  CHECK(IsValidUtf8(spelled));
  CHECK(ByteLevelDecode(spelled) == all);
  CHECK(ByteLevelEncode(" world\n") == "\u0120world\u010A");
  CHECK(ByteLevelDecode("\u0120world") == " world");
  CHECK_FALSE(ByteLevelDecode("\u0144").has_value());  // outside the alphabet
  CHECK_FALSE(ByteLevelDecode("\xC4").has_value());    // invalid UTF-8
  CHECK_FALSE(ByteLevelDecode("€").has_value());
}

TEST_CASE("UTF-8 scanning follows RFC 3629") {
  CHECK(IsValidUtf8("héllo 東京 🙂"));
  CHECK_FALSE(IsValidUtf8("\xC0\x80"));          // overlong NUL
  CHECK_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));
  CHECK_FALSE(IsValidUtf8("\x80"));

  const Utf8Scan truncated = ScanUtf8("\xE6\x9D", 0);
  CHECK_FALSE(truncated.valid);
  CHECK(truncated.truncated);
  CHECK(truncated.length == 2);
  const Utf8Scan broken = ScanUtf8("\xE6\x9Dx", 0);
  CHECK_FALSE(broken.truncated);
  CHECK(broken.length == 2);
}

TEST_CASE("SanitizeUtf8 replaces maximal subparts, as Python does") {
  // Python: bytes.decode("utf-8", "replace") gives these.
  CHECK(SanitizeUtf8("a\xE6\x9D"
                     "b") == "a\uFFFDb");
  CHECK(SanitizeUtf8("\xF0\x80\x80") == "\uFFFD\uFFFD\uFFFD");
  CHECK(SanitizeUtf8("\xED\xA0\x80") == "\uFFFD\uFFFD\uFFFD");
  CHECK(SanitizeUtf8("ok\xFF") == "ok\uFFFD");
  CHECK(SanitizeUtf8("東京") == "東京");
}

}  // namespace
}  // namespace ternary
