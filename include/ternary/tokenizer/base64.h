// Standard base64 decoding (tiktoken ranks files spell tokens in it).
#ifndef TERNARY_TOKENIZER_BASE64_H_
#define TERNARY_TOKENIZER_BASE64_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ternary::detail {

inline int Base64Value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64, padded to a multiple of 4 or unpadded; nullopt otherwise.
inline std::optional<std::string> Base64Decode(std::string_view s) {
  const size_t padded_size = s.size();
  for (int pad = 0; pad < 2 && !s.empty() && s.back() == '='; ++pad) {
    s.remove_suffix(1);
  }
  if (s.size() % 4 == 1 || (padded_size != s.size() && padded_size % 4 != 0)) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(s.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : s) {
    const int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace ternary::detail

#endif  // TERNARY_TOKENIZER_BASE64_H_
