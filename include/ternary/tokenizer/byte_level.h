// GPT-2 byte-level alphabet: each byte as a printable code point
// (docs/model.md §6.3).
#ifndef TERNARY_TOKENIZER_BYTE_LEVEL_H_
#define TERNARY_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ternary/tokenizer/utf8.h"

namespace ternary {

// Bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF stand for themselves; the other
// 68 (0x00-0x20, 0x7F-0xA0, 0xAD) take U+0100..U+0143 in increasing order,
// so ' ' is 'Ġ' (U+0120) and '\n' is 'Ċ' (U+010A).
inline constexpr char32_t ByteLevelChar(uint8_t b) noexcept {
  if (b <= 0x20) return 0x100 + b;
  if (b >= 0x7F && b <= 0xA0) return 0x100 + 33 + (b - 0x7F);
  if (b == 0xAD) return 0x143;
  return b;
}

// Inverse of ByteLevelChar; -1 for code points outside the alphabet.
inline constexpr int ByteLevelByte(char32_t c) noexcept {
  if (c < 0x100) {
    const bool printable =
        (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE;
    return printable ? static_cast<int>(c) : -1;
  }
  if (c > 0x143) return -1;
  const int k = static_cast<int>(c - 0x100);
  if (k <= 32) return k;
  if (k <= 66) return 0x7F + (k - 33);
  return 0xAD;
}

// Bytes → their byte-level spelling (UTF-8), as vocabularies write tokens.
inline std::string ByteLevelEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) AppendUtf8(out, ByteLevelChar(uint8_t(ch)));
  return out;
}

// Byte-level spelling → bytes, into out (cleared first, capacity reused);
// false when text is not valid UTF-8 or has a code point outside the
// alphabet (out is then unspecified).
inline bool ByteLevelDecodeInto(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    const auto* p = reinterpret_cast<const uint8_t*>(text.data()) + i;
    char32_t c;
    if (p[0] < 0x80) {
      c = p[0];
      i += 1;
    } else {
      const Utf8Scan scan = ScanUtf8(text, i);
      if (!scan.valid || scan.length > 2) return false;  // > U+07FF
      c = (char32_t(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
      i += 2;
    }
    const int b = ByteLevelByte(c);
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
  }
  return true;
}

// Byte-level spelling → bytes; nullopt when text is not valid UTF-8 or has a
// code point outside the alphabet.
inline std::optional<std::string> ByteLevelDecode(std::string_view text) {
  std::string out;
  if (!ByteLevelDecodeInto(text, out)) return std::nullopt;
  return out;
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_BYTE_LEVEL_H_
