// libFuzzer target: added-token matching (detail::AddedTokenMatcher, the
// Aho-Corasick automaton Encode scans text with) against the plain loop it
// replaced, on fuzzed token sets, texts and block sizes; then Encode with
// those tokens as a GGUF vocabulary would give them (FromVocab, control and
// user-defined), checking Decode(Encode(x)) == x and the ids.
//
// Input: byte 0 flags (bit 0 parse_special, bit 1 pre-tokenizer); byte 1
// the matcher's block size - 1 (the automaton scans text in blocks; small
// ones test the block seams); then tokens, each a byte L (L & 15: length
// 1..15, 0 ends the list; L & 16: control) and its bytes; the rest is the
// text. At most 64 tokens.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ternary/tokenizer/added_tokens.h"
#include "ternary/tokenizer/byte_level.h"
#include "ternary/tokenizer/tokenizer.h"

namespace {

struct Added {
  std::string text;
  int32_t id;
  bool special;
};

struct Match {
  size_t pos;
  int32_t id;
  size_t length;
  bool operator==(const Match&) const = default;
};

// The loop Encode used before: at each byte, the longest token in play
// starting there (lowest id among equal texts), then past it.
std::vector<Match> Reference(const std::vector<Added>& added,
                             std::string_view text, bool parse_special) {
  std::vector<Match> out;
  for (size_t i = 0; i < text.size();) {
    const Added* best = nullptr;
    for (const Added& a : added) {
      if (a.special && !parse_special) continue;
      if (!text.substr(i).starts_with(a.text)) continue;
      if (best == nullptr || a.text.size() > best->text.size() ||
          (a.text.size() == best->text.size() && a.id < best->id)) {
        best = &a;
      }
    }
    if (best == nullptr) {
      ++i;
      continue;
    }
    out.push_back({i, best->id, best->text.size()});
    i += best->text.size();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool parse_special = (data[0] & 1) != 0;
  const auto mode = data[0] & 2 ? ternary::PreTokenizer::kBitnetCppDefault
                                : ternary::PreTokenizer::kLlama3;
  const size_t block = size_t(data[1]) + 1;
  size_t pos = 2;
  std::vector<Added> added;
  while (pos < size && added.size() < 64) {
    const uint8_t l = data[pos++];
    const size_t len = l & 15;
    if (len == 0 || pos + len > size) break;
    added.push_back(
        {std::string(reinterpret_cast<const char*>(data) + pos, len),
         256 + int32_t(added.size()), (l & 16) != 0});
    pos += len;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + pos,
                              size - pos);

  // The matcher alone, with the fuzzed block size.
  std::vector<ternary::detail::AddedTokenMatcher::Token> tokens;
  for (const Added& a : added) tokens.push_back({a.text, a.id, a.special});
  ternary::detail::AddedTokenMatcher matcher;
  matcher.Build(tokens);
  std::vector<Match> found;
  matcher.ForEachMatch(
      text, parse_special,
      [&](size_t p, int32_t id, size_t length) {
        found.push_back({p, id, length});
      },
      block);
  if (found != Reference(added, text, parse_special)) __builtin_trap();

  // Through Encode: ids 0..255 the bytes, then the added tokens.
  std::vector<std::string> vocab;
  std::vector<int32_t> types;
  for (int b = 0; b < 256; ++b) {
    vocab.push_back(ternary::ByteLevelEncode(std::string(1, char(b))));
    types.push_back(1);
  }
  for (const Added& a : added) {
    vocab.push_back(a.text);
    types.push_back(a.special ? 3 : 4);
  }
  const ternary::Tokenizer tok = ternary::Tokenizer::FromVocab(
      std::move(vocab), {}, std::move(types), {}, mode, "fuzz");
  const std::vector<int32_t> ids =
      tok.Encode(text, {.parse_special = parse_special});
  if (tok.Decode(ids) != text) __builtin_trap();
  // The added ids, in order, are the matches'.
  std::vector<int32_t> added_ids;
  for (const int32_t id : ids) {
    if (id >= 256) added_ids.push_back(id);
  }
  if (added_ids.size() != found.size()) __builtin_trap();
  for (size_t i = 0; i < found.size(); ++i) {
    if (added_ids[i] != found[i].id) __builtin_trap();
  }
  return 0;
}
