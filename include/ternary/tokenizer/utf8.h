// UTF-8 validation and repair for the tokenizer (RFC 3629, as PCRE2 checks it).
#ifndef TERNARY_TOKENIZER_UTF8_H_
#define TERNARY_TOKENIZER_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ternary {

// What starts at one byte of a string.
struct Utf8Scan {
  int length;      // valid: bytes of the character; invalid: maximal subpart
  bool valid;      // a complete, well-formed character
  bool truncated;  // invalid only because the string ends inside it
};

// Scans the sequence at s[i] (i < s.size()). Overlongs, surrogates and code
// points above U+10FFFF are invalid, exactly the sequences PCRE2's UTF check
// rejects. An invalid sequence's length is its "maximal subpart" (Unicode
// §3.9), so each becomes one U+FFFD, as Python and browsers do.
inline Utf8Scan ScanUtf8(std::string_view s, size_t i) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t b0 = p[i];
  if (b0 < 0x80) return {1, true, false};
  int need;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return {1, false, false};
  }
  for (int k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return {k, false, true};
    const uint8_t b = p[i + k];
    if (b < lo || b > hi) return {k, false, false};
    lo = 0x80;
    hi = 0xBF;
  }
  return {need + 1, true, false};
}

// Code point of the valid sequence of len bytes at s[i] (from ScanUtf8).
inline char32_t Utf8CodePointAt(std::string_view s, size_t i,
                                int len) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + i;
  switch (len) {
    case 1:
      return p[0];
    case 2:
      return (char32_t(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    case 3:
      return (char32_t(p[0] & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) |
             (p[2] & 0x3F);
    default:
      return (char32_t(p[0] & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) |
             (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  }
}

// Length of the longest prefix of s that is valid UTF-8.
inline size_t ValidUtf8PrefixLength(std::string_view s) noexcept {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const Utf8Scan scan = ScanUtf8(s, i);
    if (!scan.valid) break;
    i += scan.length;
  }
  return i;
}

inline bool IsValidUtf8(std::string_view s) noexcept {
  return ValidUtf8PrefixLength(s) == s.size();
}

// Appends code point cp (<= U+10FFFF, not a surrogate) as UTF-8.
inline void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";  // U+FFFD

// Appends s to out with each invalid sequence replaced by U+FFFD.
inline void AppendSanitizedUtf8(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t run = ValidUtf8PrefixLength(s.substr(i));
    out.append(s.substr(i, run));
    i += run;
    if (i == s.size()) break;
    out.append(kUtf8Replacement);
    i += ScanUtf8(s, i).length;
  }
}

// s with each invalid sequence replaced by U+FFFD (lossy, always valid).
inline std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendSanitizedUtf8(out, s);
  return out;
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_UTF8_H_
