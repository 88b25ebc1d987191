// Incremental detokenization that emits only complete UTF-8 characters.
#ifndef TERNARY_TOKENIZER_STREAM_DECODER_H_
#define TERNARY_TOKENIZER_STREAM_DECODER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "ternary/tokenizer/tokenizer.h"
#include "ternary/tokenizer/utf8.h"

namespace ternary {

// Feeds generated ids one at a time and returns the text they complete. A
// character split across tokens (Llama 3 spells many emoji and CJK
// characters with two or three byte tokens) is held back until its last byte
// arrives; bytes that can never become valid UTF-8 come out as U+FFFD, so
// everything returned is valid UTF-8. Holds a pointer to the tokenizer,
// which must outlive it.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer,
                         DecodeOptions options = {}) noexcept
      : tokenizer_(&tokenizer), options_(options) {}

  // Text completed by id (often empty). Throws UsageError for a bad id.
  std::string Feed(int32_t id) {
    if (options_.skip_special && tokenizer_->IsSpecial(id)) return {};
    pending_ += tokenizer_->TokenText(id);
    std::string out;
    size_t i = 0;
    while (i < pending_.size()) {
      const Utf8Scan scan = ScanUtf8(pending_, i);
      if (scan.truncated) break;  // may complete with the next token
      if (scan.valid) {
        out.append(pending_, i, scan.length);
      } else {
        out += kUtf8Replacement;
      }
      i += scan.length;
    }
    pending_.erase(0, i);
    return out;
  }

  // Whatever is held back (an unfinished character becomes U+FFFD); the
  // decoder is then empty, ready for a new stream.
  std::string Flush() {
    std::string out = SanitizeUtf8(pending_);
    pending_.clear();
    return out;
  }

  // Bytes held back waiting for the rest of a character (0..3).
  size_t pending_bytes() const noexcept { return pending_.size(); }

  void Reset() noexcept { pending_.clear(); }

 private:
  const Tokenizer* tokenizer_;
  DecodeOptions options_;
  std::string pending_;
};

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_STREAM_DECODER_H_
