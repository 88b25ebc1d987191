// Splits text into the pieces BPE works on (docs/model.md §6.2), with PCRE2.
#ifndef TERNARY_TOKENIZER_PRETOKENIZER_H_
#define TERNARY_TOKENIZER_PRETOKENIZER_H_

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ternary/tokenizer/utf8.h"
#include "ternary/util/error.h"

namespace ternary {

enum class PreTokenizer {
  // The Llama 3 / tiktoken regex, verbatim: what transformers and the model's
  // training used. The default.
  kLlama3,
  // llama.cpp's default BPE pre-tokenizer: four regexes applied in sequence.
  // bitnet.cpp uses it for Microsoft's GGUF, which has no tokenizer.ggml.pre;
  // only for reproducing bitnet.cpp's ids ("ROMEO:\n" → "ROMEO", ":", "\n").
  kBitnetCppDefault,
  // tiiuae Falcon3 (and Falcon-E): tokenizer.json's pre_tokenizer
  // Sequence[Punctuation (contiguous), ByteLevel (GPT-2 regex), Digits
  // (individual)]; llama.cpp's "falcon3" / "falcon_e" (docs/model.md §6.2).
  kFalcon3,
};

namespace detail {

inline constexpr const char* kLlama3Pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// llama.cpp llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_DEFAULT. llama.cpp runs the
// second with a hand-written GPT-2 splitter and the others with std::regex on
// one byte per code point; with isolated splitting (below) PCRE2 gives the
// same pieces. The second lacks GPT-2's final "|\s+": the only text it leaves
// unmatched is a lone whitespace character, which becomes its own piece
// either way.
inline constexpr std::array<const char*, 4> kBitnetCppDefaultPatterns = {
    R"re([\p{P}\$\+<=>\^~\|]+)re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
    R"re(\p{N}+)re",
    R"re([0-9][0-9][0-9])re",
};

// Falcon3: transformers' Punctuation pre-tokenizer (Unicode P* and ASCII
// punctuation, whose $+<=>^`|~ are symbols in Unicode), runs kept together;
// ByteLevel's GPT-2 regex; Digits with individual_digits (each numeric
// character its own piece). Applied in sequence with isolated splitting.
inline constexpr std::array<const char*, 3> kFalcon3Patterns = {
    R"re([\p{P}\$\+<=>\^`\|~]+)re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re",
    R"re(\p{N})re",
};

inline std::string Pcre2ErrorMessage(int code) {
  PCRE2_UCHAR buffer[256];
  const int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
  return n < 0 ? "PCRE2 error " + std::to_string(code)
               : std::string(reinterpret_cast<const char*>(buffer));
}

// PCRE2's match limit (its default, 10^7) caps the backtracking steps of one
// pcre2_match call. The Llama 3 pattern steps back over a whitespace run once
// per character (`\s*[\r\n]+` fails on a run without a newline after taking
// all of it; `\s+(?!\S)` gives back one), so 10^7 spaces hit the default and
// valid text could not be tokenized. None of the patterns here backtracks
// more than that (their other repeats are possessive: what follows cannot
// match what they take; PCRE2 10.42 needs n + 5 steps for n spaces with JIT,
// n + 17 without), so the limit is set per call from the bytes left after the
// offset, with room to spare: the regex sees the same subject and gives the
// same pieces, and the limit still stops a runaway. Clamped to 32 bits, it
// covers runs of up to 4·10^9 bytes.
inline uint32_t MatchLimitFor(size_t remaining) noexcept {
  constexpr uint64_t kBase = 10'000'000;  // PCRE2's default
  constexpr uint64_t kPerByte = 8;
  const uint64_t limit = kBase + kPerByte * uint64_t(remaining);
  return limit > UINT32_MAX ? UINT32_MAX : uint32_t(limit);
}

// Per-call PCRE2 scratch (one ovector pair: the patterns capture nothing)
// and the match context that carries the match limit.
class MatchData {
 public:
  MatchData()
      : data_(pcre2_match_data_create(1, nullptr)),
        context_(pcre2_match_context_create(nullptr)) {
    if (data_ == nullptr || context_ == nullptr) {
      pcre2_match_data_free(data_);
      pcre2_match_context_free(context_);
      throw std::bad_alloc();
    }
  }
  ~MatchData() {
    pcre2_match_data_free(data_);
    pcre2_match_context_free(context_);
  }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* get() const noexcept { return data_; }
  // The context with its match limit set for `remaining` subject bytes.
  pcre2_match_context* context(size_t remaining) const noexcept {
    pcre2_set_match_limit(context_, MatchLimitFor(remaining));
    return context_;
  }

 private:
  pcre2_match_data* data_;
  pcre2_match_context* context_;
};

// A compiled pattern (UTF + UCP, JIT where available). Immutable after
// construction, so one instance serves every thread.
class Regex {
 public:
  explicit Regex(const char* pattern) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern),
                          PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &error,
                          &offset, nullptr);
    if (code_ == nullptr) {
      throw Error("pre-tokenizer: cannot compile '" + std::string(pattern) +
                  "' at offset " + std::to_string(offset) + ": " +
                  Pcre2ErrorMessage(error));
    }
    // Without JIT (not built in, or no executable memory) pcre2_match
    // interprets the pattern: slower, same result.
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
  }
  ~Regex() { pcre2_code_free(code_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Finds the first match in s at or after `offset`. s must be valid UTF-8
  // (it is passed with PCRE2_NO_UTF_CHECK) and offset on a character start.
  bool Find(std::string_view s, size_t offset, MatchData& md, size_t& begin,
            size_t& end) const {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
    pcre2_match_context* context = md.context(s.size() - offset);
    int rc = pcre2_match(code_, subject, s.size(), offset, PCRE2_NO_UTF_CHECK,
                         md.get(), context);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // The interpreter keeps its backtracking frames on the heap.
      rc = pcre2_match(code_, subject, s.size(), offset,
                       PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md.get(), context);
    }
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) throw Error("pre-tokenizer: " + Pcre2ErrorMessage(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md.get());
    begin = ovector[0];
    end = ovector[1];
    return true;
  }

 private:
  pcre2_code* code_ = nullptr;
};

inline const Regex& Llama3Regex() {
  static const Regex regex(kLlama3Pattern);  // thread-safe one-time init
  return regex;
}

inline const std::array<Regex, 4>& BitnetCppDefaultRegexes() {
  static const std::array<Regex, 4> regexes = {
      Regex(kBitnetCppDefaultPatterns[0]), Regex(kBitnetCppDefaultPatterns[1]),
      Regex(kBitnetCppDefaultPatterns[2]), Regex(kBitnetCppDefaultPatterns[3])};
  return regexes;
}

inline const std::array<Regex, 3>& Falcon3Regexes() {
  static const std::array<Regex, 3> regexes = {Regex(kFalcon3Patterns[0]),
                                               Regex(kFalcon3Patterns[1]),
                                               Regex(kFalcon3Patterns[2])};
  return regexes;
}

// HF "Isolated" split: every match is a piece and so is every gap between
// matches. The regex sees only s, so lookarounds stop at its ends, as in
// llama.cpp's per-piece std::regex passes. Callbacks may reuse md.
template <class F>
void SplitIsolated(const Regex& regex, std::string_view s, MatchData& md,
                   F&& on_piece) {
  size_t piece_start = 0, offset = 0, begin = 0, end = 0;
  while (offset < s.size() && regex.Find(s, offset, md, begin, end)) {
    if (end == begin) {  // no pattern here matches empty; guard anyway
      if (begin >= s.size()) break;
      offset = begin + ScanUtf8(s, begin).length;
      continue;
    }
    if (begin > piece_start) {
      on_piece(s.substr(piece_start, begin - piece_start));
    }
    on_piece(s.substr(begin, end - begin));
    piece_start = offset = end;
  }
  if (piece_start < s.size()) on_piece(s.substr(piece_start));
}

template <class F>
void PreTokenizeValid(PreTokenizer mode, std::string_view s, MatchData& md,
                      F&& on_piece) {
  if (mode == PreTokenizer::kLlama3) {
    SplitIsolated(Llama3Regex(), s, md, on_piece);
    return;
  }
  if (mode == PreTokenizer::kFalcon3) {
    const auto& r = Falcon3Regexes();
    SplitIsolated(r[0], s, md, [&](std::string_view p0) {
      SplitIsolated(r[1], p0, md, [&](std::string_view p1) {
        SplitIsolated(r[2], p1, md, on_piece);
      });
    });
    return;
  }
  const auto& r = BitnetCppDefaultRegexes();
  SplitIsolated(r[0], s, md, [&](std::string_view p0) {
    SplitIsolated(r[1], p0, md, [&](std::string_view p1) {
      SplitIsolated(r[2], p1, md, [&](std::string_view p2) {
        SplitIsolated(r[3], p2, md, on_piece);
      });
    });
  });
}

// PreTokenize (below) with the caller's PCRE2 scratch, for callers that
// pre-tokenize many segments.
template <class F>
void PreTokenizeWith(PreTokenizer mode, std::string_view text, MatchData& md,
                     F&& on_piece) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t valid = ValidUtf8PrefixLength(text.substr(i));
    if (valid > 0) {
      PreTokenizeValid(mode, text.substr(i, valid), md, on_piece);
      i += valid;
    }
    size_t j = i;
    while (j < text.size()) {
      const Utf8Scan scan = ScanUtf8(text, j);
      if (scan.valid) break;
      j += scan.length;
    }
    if (j > i) on_piece(text.substr(i, j - i));
    i = j;
  }
}

}  // namespace detail

// Calls on_piece(std::string_view) for each piece of text, in order; the
// pieces concatenate to text and point into it.
//
// Invalid UTF-8: PCRE2 with PCRE2_NO_UTF_CHECK is undefined on it, and
// checking on every match call would be quadratic. So the text is validated
// once here: each maximal run of invalid bytes becomes one piece of its own
// (byte-level BPE encodes any bytes) and the regex runs on the valid runs
// between them. Decode(Encode(x)) == x for any bytes x. (Python-based
// tokenizers never see invalid UTF-8; llama.cpp replaces it with U+FFFD.)
template <class F>
void PreTokenize(PreTokenizer mode, std::string_view text, F&& on_piece) {
  detail::MatchData md;
  detail::PreTokenizeWith(mode, text, md, on_piece);
}

inline std::vector<std::string_view> PreTokenize(PreTokenizer mode,
                                                 std::string_view text) {
  std::vector<std::string_view> pieces;
  PreTokenize(mode, text, [&](std::string_view p) { pieces.push_back(p); });
  return pieces;
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_PRETOKENIZER_H_
