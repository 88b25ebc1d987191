// Helpers shared by the libFuzzer targets in this folder.
#ifndef TERNARY_FUZZ_FUZZ_UTIL_H_
#define TERNARY_FUZZ_FUZZ_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ternary/tokenizer/stream_decoder.h"
#include "ternary/tokenizer/tokenizer.h"
#include "ternary/util/error.h"

namespace ternary::fuzz {

// Reads every byte, so ASan checks that a view the library hands out lies
// inside the input.
template <class T>
void ReadAll(std::span<const T> s) {
  volatile T sink{};
  for (const T& x : s) sink = x;
  (void)sink;
}

// Runs fn; a ternary::Error is the expected answer to bad input. Anything
// else (std::bad_alloc, std::out_of_range, ...) escapes and libFuzzer
// reports it as a crash.
template <class F>
void ExpectingErrors(F&& fn) {
  try {
    fn();
  } catch (const Error&) {
  }
}

// Text touching every pre-tokenizer branch: contractions, digit runs,
// newlines, specials, multi-byte and invalid UTF-8.
inline constexpr std::string_view kSampleText =
    "ROMEO:\nWhat's 12345 o'clock?  I'LL "
    "go\t\r\n\n<|begin_of_text|>caf\xc3\xa9 "
    "\xe4\xb8\xad\xf0\x9f\x99\x82 \xff\xc3<|end_of_text|>";

// Encodes and decodes with a tokenizer built from fuzzed data; checks
// nothing beyond the library's own contracts (no crash, ids in range).
inline void ExerciseTokenizer(const Tokenizer& tok) {
  for (const bool special : {true, false}) {
    const std::vector<int32_t> ids =
        tok.Encode(kSampleText, {.add_bos = false, .parse_special = special});
    for (const int32_t id : ids) {
      if (id < 0 || id >= tok.vocab_size()) __builtin_trap();
    }
    (void)tok.Decode(ids);
    StreamDecoder stream(tok);
    for (const int32_t id : ids) (void)stream.Feed(id);
    (void)stream.Flush();
  }
  // Every id decodes, and its text maps back to some id.
  const int32_t n = std::min<int32_t>(tok.vocab_size(), 1 << 16);
  for (int32_t id = 0; id < n; ++id) {
    if (tok.token_type(id) == TokenType::kUnused) continue;
    if (!tok.TokenId(tok.TokenText(id))) __builtin_trap();
  }
}

}  // namespace ternary::fuzz

#endif  // TERNARY_FUZZ_FUZZ_UTIL_H_
