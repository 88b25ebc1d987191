// The Tokenizer class (Llama 3 byte-level BPE), its options, Encode and
// Decode. Its loaders are defined in load_hf_json.h, load_tiktoken.h and
// load_gguf_vocab.h: include ternary/tokenizer/tokenizer.h for all of it.
#ifndef TERNARY_TOKENIZER_TOKENIZER_CORE_H_
#define TERNARY_TOKENIZER_TOKENIZER_CORE_H_

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ternary/tokenizer/added_tokens.h"
#include "ternary/tokenizer/bpe.h"
#include "ternary/tokenizer/byte_level.h"
#include "ternary/tokenizer/pretokenizer.h"
#include "ternary/tokenizer/sentencepiece.h"
#include "ternary/util/error.h"

namespace ternary {

// Ids of the tokens generation cares about. -1 means "find it by its Llama 3
// name" (<|begin_of_text|>, <|end_of_text|>, <|eot_id|>); it stays -1 when
// the vocabulary has no such token.
struct SpecialIds {
  int32_t bos = -1;
  int32_t eos = -1;
  int32_t eot = -1;
};

// A token matched as literal text before pre-tokenization: HF added_tokens,
// GGUF control/user-defined tokens, tiktoken's specials.
struct AddedToken {
  std::string text;
  int32_t id = -1;
  bool special = true;  // false: "user-defined", matched even without
                        // EncodeOptions::parse_special (HF, llama.cpp)
};

enum class TokenType : uint8_t {
  kUnused,       // no token has this id
  kNormal,       // regular BPE token
  kControl,      // special: BOS, EOS, <|eot_id|>, reserved ...
  kUserDefined,  // added but not special
};

struct TokenizerOptions {
  PreTokenizer pre_tokenizer = PreTokenizer::kLlama3;
  // FromHfJson: take the split from the file's pre_tokenizer where it is
  // one ternary knows other than Llama 3's (Falcon3's: Punctuation,
  // ByteLevel and Digits with individual_digits), else pre_tokenizer.
  bool detect_pre_tokenizer = false;
  SpecialIds special_ids = {};
  // Emit a piece whole when it is a token. Unset: model.ignore_merges of a
  // tokenizer.json (true for Llama 3), true for tiktoken.
  std::optional<bool> ignore_merges = std::nullopt;
};

struct EncodeOptions {
  bool add_bos = false;
  // Match control-token text such as "<|eot_id|>" (leftmost, then longest).
  // Off, it is ordinary text; user-defined tokens are matched either way.
  bool parse_special = true;
};

struct DecodeOptions {
  bool skip_special = false;  // drop control tokens instead of their text
};

// The 256 Llama 3 special tokens, ids 128000..128255, with Llama 3.0 names
// (tiktoken files do not list them; docs/model.md §6.1).
inline std::vector<AddedToken> Llama3SpecialTokens() {
  static constexpr std::string_view kFirstTen[10] = {
      "<|begin_of_text|>",
      "<|end_of_text|>",
      "<|reserved_special_token_0|>",
      "<|reserved_special_token_1|>",
      "<|reserved_special_token_2|>",
      "<|reserved_special_token_3|>",
      "<|start_header_id|>",
      "<|end_header_id|>",
      "<|reserved_special_token_4|>",  // Llama 3.1: <|eom_id|>
      "<|eot_id|>",
  };
  std::vector<AddedToken> tokens;
  tokens.reserve(256);
  for (int32_t i = 0; i < 256; ++i) {
    std::string name =
        i < 10 ? std::string(kFirstTen[i])
               : "<|reserved_special_token_" + std::to_string(i - 5) + "|>";
    tokens.push_back({std::move(name), 128000 + i, true});
  }
  return tokens;
}

namespace detail {

struct StringHash {
  using is_transparent = void;  // find(string_view) without a std::string
  size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// Ids beyond this are a corrupt file, not a vocabulary (Llama 3 has 128,256).
inline constexpr int64_t kMaxTokenId = int64_t{1} << 24;
// Vocabularies are dense: a file's ids may pass the number of tokens it
// lists by at most this many. Each id costs a slot, so without the bound a
// 15-byte ranks file naming id 2^24 - 1 allocated half a gigabyte.
inline constexpr int64_t kMaxIdGap = int64_t{1} << 16;

// A vocabulary string's bytes: byte-level spelling decoded; a string outside
// the alphabet (added tokens stored in the vocab) stands for its own bytes.
inline void VocabBytesInto(std::string_view text, std::string& out) {
  if (!ByteLevelDecodeInto(text, out)) out.assign(text);
}

inline std::string VocabBytes(std::string_view text) {
  std::string out;
  VocabBytesInto(text, out);
  return out;
}

// For messages: the first 60 bytes of a token, escaped.
inline std::string Quote(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 60; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 60) out += "...";
  return out + "'";
}

}  // namespace detail

// Byte-level BPE tokenizer, or SentencePiece BPE (FromSentencePiece).
// Immutable after loading, so one instance may encode and decode from many
// threads at once.
class Tokenizer {
 public:
  // Hugging Face tokenizer.json: model.vocab, model.merges ("a b" strings or
  // ["a", "b"] pairs), model.ignore_merges, added_tokens. The pre_tokenizer
  // section is not interpreted: options.pre_tokenizer chooses the split.
  // A vocabulary of exactly 128,000 tokens without added_tokens gets the
  // Llama 3 specials. Throws FormatError naming the file and the problem.
  static Tokenizer FromHfJson(const std::filesystem::path& tokenizer_json,
                              const TokenizerOptions& options = {});

  // As FromHfJson, from the file's text; source names it in messages.
  static Tokenizer FromHfJsonText(std::string_view json_text,
                                  std::string_view source,
                                  const TokenizerOptions& options = {});

  // tiktoken ranks file: lines "base64(bytes) rank", rank = id. Merges are
  // implied: a pair merges with the rank of its concatenation, as tiktoken
  // does. specials are added as control tokens; when empty and the file has
  // exactly ranks 0..127999, the Llama 3 specials are added.
  static Tokenizer FromTiktoken(const std::filesystem::path& ranks_file,
                                const TokenizerOptions& options = {},
                                std::vector<AddedToken> specials = {});

  // GGUF tokenizer.ggml.{tokens, merges, token_type} (token_type may be
  // empty: all normal). Types: 1 normal, 2 unknown, 6 byte (all treated as
  // normal), 3 control, 4 user-defined, 5 unused. ignore_merges follows
  // llama.cpp: on for kLlama3 only. source names the file in messages.
  static Tokenizer FromVocab(std::vector<std::string> tokens,
                             std::vector<std::string> merges,
                             std::vector<int32_t> token_types,
                             SpecialIds special_ids,
                             PreTokenizer mode = PreTokenizer::kLlama3,
                             std::string_view source = "GGUF vocabulary");

  // A SentencePiece BPE model (LLaMA-2's and 1bitLLM's tokenizer.model;
  // docs/model.md §7): its pieces keep their ids, NORMAL pieces encode
  // with sentencepiece's BPE (sentencepiece.h), BYTE pieces <0xXX> stand
  // for their byte (byte_fallback), CONTROL and UNKNOWN pieces are control
  // tokens. `added` are further tokens matched as text before encoding
  // (transformers' added_tokens.json: 1bitLLM's <pad>, </line>), each text
  // segment between them encoded on its own, with its own dummy prefix (as
  // transformers' LlamaTokenizer with legacy=True and llama.cpp do).
  // USER_DEFINED pieces are matched as text like `added`; UNUSED pieces are
  // never produced. Special ids: -1 takes the model's bos_id / eos_id.
  // Throws FormatError naming the file for other models (UNIGRAM, a
  // normalization rule other than identity).
  static Tokenizer FromSentencePiece(const std::filesystem::path& model_file,
                                     std::vector<AddedToken> added = {},
                                     SpecialIds special_ids = {});
  // As FromSentencePiece, from a parsed model (source names it in messages).
  static Tokenizer FromSentencePieceModel(const SpmModelProto& model,
                                          std::vector<AddedToken> added,
                                          SpecialIds special_ids,
                                          std::string_view source);
  bool is_sentencepiece() const noexcept { return spm_ != nullptr; }

  // Text (any bytes; see PreTokenize for invalid UTF-8) → token ids.
  std::vector<int32_t> Encode(std::string_view text,
                              const EncodeOptions& options = {}) const;

  // Concatenated bytes of the tokens: exactly the encoded text for ids from
  // Encode, so the result may be invalid UTF-8 when ids are cut mid-character
  // (StreamDecoder and SanitizeUtf8 repair that). Throws UsageError for ids
  // outside [0, vocab_size()).
  std::string Decode(std::span<const int32_t> ids,
                     const DecodeOptions& options = {}) const;

  // The bytes a token stands for (" world", not "Ġworld"; a special's text).
  const std::string& TokenText(int32_t id) const {
    CheckId(id, "TokenText");
    return token_bytes_[id];
  }

  // Inverse of TokenText: added tokens first, then regular tokens.
  std::optional<int32_t> TokenId(std::string_view text) const {
    const auto it = added_by_text_.find(text);
    if (it != added_by_text_.end()) return it->second;
    return bpe_.Find(text);
  }

  TokenType token_type(int32_t id) const {
    CheckId(id, "token_type");
    return types_[id];
  }
  bool IsSpecial(int32_t id) const noexcept {
    return id >= 0 && id < vocab_size() && types_[id] == TokenType::kControl;
  }

  // Highest id + 1 (128,256 for Llama 3), including specials.
  int32_t vocab_size() const noexcept {
    return static_cast<int32_t>(token_bytes_.size());
  }
  int32_t bos_id() const noexcept { return bos_; }
  int32_t eos_id() const noexcept { return eos_; }
  int32_t eot_id() const noexcept { return eot_; }  // -1 if none
  // Generation stops on EOS and on <|eot_id|> (docs/model.md §6.5).
  bool IsEndOfGeneration(int32_t id) const noexcept {
    return id >= 0 && (id == eos_ || id == eot_);
  }

  PreTokenizer pre_tokenizer() const noexcept { return pre_tokenizer_; }
  bool ignore_merges() const noexcept { return bpe_.ignore_merges(); }
  size_t num_merges() const noexcept { return bpe_.num_merges(); }

 private:
  Tokenizer() = default;

  void CheckId(int32_t id, const char* what) const {
    if (id < 0 || id >= vocab_size()) {
      throw UsageError(std::string(what) + ": token id " + std::to_string(id) +
                       " is outside the vocabulary [0, " +
                       std::to_string(vocab_size()) + ")");
    }
  }

  void Resize(size_t n) {
    if (n > token_bytes_.size()) {
      token_bytes_.resize(n);
      types_.resize(n, TokenType::kUnused);
    }
  }

  // Registers a regular token; false when its bytes already have an id.
  // Throws when the id is taken or out of range.
  // where() names the entry for messages (built only on error).
  template <class Where>
  bool SetNormal(int64_t id, std::string bytes, std::string_view source,
                 const Where& where) {
    CheckNewId(id, source, where);
    Resize(size_t(id) + 1);
    types_[id] = TokenType::kNormal;
    token_bytes_[id] = std::move(bytes);
    return bpe_.AddToken(token_bytes_[id], int32_t(id));
  }

  // Bounds the ids of a file that lists `tokens` tokens (kMaxIdGap).
  void LimitIds(size_t tokens) {
    max_id_ = std::min<int64_t>(detail::kMaxTokenId,
                                int64_t(tokens) + detail::kMaxIdGap);
  }

  template <class Where>
  void CheckNewId(int64_t id, std::string_view source,
                  const Where& where) const {
    if (id < 0 || id >= max_id_) {
      throw FormatError(std::string(source) + ": " + where() + ": id " +
                        std::to_string(id) + " out of range [0, " +
                        std::to_string(max_id_) + ")" +
                        (max_id_ < detail::kMaxTokenId
                             ? " (ids are dense: at most " +
                                   std::to_string(detail::kMaxIdGap) +
                                   " past the number of tokens the file lists)"
                             : std::string()));
    }
    if (id < vocab_size() && types_[id] != TokenType::kUnused) {
      throw FormatError(std::string(source) + ": " + where() + ": id " +
                        std::to_string(id) + " is already " +
                        detail::Quote(token_bytes_[id]));
    }
  }

  // An added token; replaces a regular token of the same id (HF files list
  // some specials in both model.vocab and added_tokens).
  template <class Where>
  void SetAdded(const AddedToken& token, std::string_view source,
                const Where& where) {
    if (token.id >= 0 && token.id < vocab_size() &&
        types_[token.id] == TokenType::kNormal) {
      types_[token.id] = TokenType::kUnused;
    }
    CheckNewId(token.id, source, where);
    if (token.text.empty()) {
      throw FormatError(std::string(source) + ": " + where() +
                        ": empty token text");
    }
    Resize(size_t(token.id) + 1);
    types_[token.id] =
        token.special ? TokenType::kControl : TokenType::kUserDefined;
    token_bytes_[token.id] = token.text;
  }

  // Merge "left right" of the vocabulary's spelling → bpe_ (rank = index).
  // buffer is scratch, reused across calls: 280k merges, no allocations.
  void AddMergeText(std::string_view left, std::string_view right, int32_t rank,
                    std::string_view source, std::string (&buffer)[2]) {
    const auto where = [&] {
      return std::string(source) + ": merge " + std::to_string(rank) + " (" +
             detail::Quote(std::string(left) + " " + std::string(right)) +
             "): ";
    };
    detail::VocabBytesInto(left, buffer[0]);
    const std::optional<int32_t> l = bpe_.Find(buffer[0]);
    if (!l) {
      throw FormatError(where() + detail::Quote(left) + " is not a token");
    }
    detail::VocabBytesInto(right, buffer[1]);
    const std::optional<int32_t> r = bpe_.Find(buffer[1]);
    if (!r) {
      throw FormatError(where() + detail::Quote(right) + " is not a token");
    }
    buffer[0] += buffer[1];
    const std::optional<int32_t> result = bpe_.Find(buffer[0]);
    if (!result) {
      throw FormatError(where() + "the merged " +
                        detail::Quote(std::string(left) + std::string(right)) +
                        " is not a token");
    }
    bpe_.AddMerge(*l, *r, *result, rank);  // a repeated pair keeps its first
  }

  // Shared end of every loader: specials index, special ids, options.
  void Finish(std::string_view source, SpecialIds ids, bool ids_from_file) {
    added_by_text_.clear();
    std::vector<detail::AddedTokenMatcher::Token> added;
    for (int32_t id = 0; id < vocab_size(); ++id) {
      if (types_[id] != TokenType::kControl &&
          types_[id] != TokenType::kUserDefined) {
        continue;
      }
      const std::string& text = token_bytes_[id];
      added.push_back({text, id, types_[id] == TokenType::kControl});
      added_by_text_.emplace(text, id);
    }
    // Leftmost, then longest, so "<|eot_id|>" wins over a token "<|eot" (HF
    // and llama.cpp match the longest added token at the leftmost position).
    added_.Build(std::move(added));
    const auto resolve = [&](int32_t id, std::string_view name,
                             const char* what) -> int32_t {
      if (id < 0) {
        const auto it = added_by_text_.find(name);
        return it == added_by_text_.end() ? -1 : it->second;
      }
      if (id >= vocab_size()) {
        const std::string message = std::string(source) + ": " + what + " id " +
                                    std::to_string(id) +
                                    " is outside the vocabulary [0, " +
                                    std::to_string(vocab_size()) + ")";
        if (ids_from_file) throw FormatError(message);
        throw UsageError(message);
      }
      return id;
    };
    bos_ = resolve(ids.bos, "<|begin_of_text|>", "BOS");
    eos_ = resolve(ids.eos, "<|end_of_text|>", "EOS");
    eot_ = resolve(ids.eot, "<|eot_id|>", "EOT");
  }

  bool HasAddedTokens() const {
    for (const TokenType t : types_) {
      if (t == TokenType::kControl || t == TokenType::kUserDefined) return true;
    }
    return false;
  }

  void AddLlama3SpecialsIfBare(std::string_view source) {
    if (vocab_size() != 128000 || HasAddedTokens()) return;
    for (const AddedToken& t : Llama3SpecialTokens()) {
      SetAdded(t, source, [] { return std::string("Llama 3 specials"); });
    }
  }

  template <class F>
  void ForEachSegment(std::string_view text, bool parse_special,
                      F&& on_segment) const;

  std::vector<std::string> token_bytes_;  // id → bytes (specials: text)
  std::vector<TokenType> types_;
  BpeModel bpe_;
  // Added tokens: the matcher Encode scans text with (its views point into
  // token_bytes_, which no longer changes), and by text.
  detail::AddedTokenMatcher added_;
  // Few entries (256 for Llama 3), looked up by TokenId and name.
  std::unordered_map<std::string, int32_t, detail::StringHash, std::equal_to<>>
      added_by_text_;
  PreTokenizer pre_tokenizer_ = PreTokenizer::kLlama3;
  int32_t bos_ = -1, eos_ = -1, eot_ = -1;
  int64_t max_id_ = detail::kMaxTokenId;  // CheckNewId's bound
  // SentencePiece BPE in place of pre-tokenization and byte-level BPE.
  std::shared_ptr<const SpmBpe> spm_;
};

// ---------------------------------------------------------------------------

// Calls on_segment(text, -1) for ordinary text and (empty, id) for each added
// token found in it: leftmost, then longest (lowest id among equal texts).
// O(text.size()) whatever the number of added tokens.
template <class F>
void Tokenizer::ForEachSegment(std::string_view text, bool parse_special,
                               F&& on_segment) const {
  size_t start = 0;
  added_.ForEachMatch(text, parse_special,
                      [&](size_t pos, int32_t id, size_t length) {
                        if (pos > start) {
                          on_segment(text.substr(start, pos - start), -1);
                        }
                        on_segment(std::string_view(), id);
                        start = pos + length;
                      });
  if (start < text.size()) on_segment(text.substr(start), -1);
}

inline std::vector<int32_t> Tokenizer::Encode(
    std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (options.add_bos) {
    if (bos_ < 0) {
      throw UsageError("Encode: add_bos is set but the vocabulary has no BOS");
    }
    ids.push_back(bos_);
  }
  BpeScratch scratch;
  detail::MatchData md;  // one for every segment
  ForEachSegment(text, options.parse_special,
                 [&](std::string_view segment, int32_t added_id) {
                   if (added_id >= 0) {
                     ids.push_back(added_id);
                     return;
                   }
                   if (spm_) {
                     spm_->Encode(segment, ids);
                     return;
                   }
                   detail::PreTokenizeWith(pre_tokenizer_, segment, md,
                                           [&](std::string_view piece) {
                                             bpe_.EncodePiece(piece, scratch,
                                                              ids);
                                           });
                 });
  return ids;
}

inline std::string Tokenizer::Decode(std::span<const int32_t> ids,
                                     const DecodeOptions& options) const {
  std::string text;
  for (const int32_t id : ids) {
    CheckId(id, "Decode");
    if (options.skip_special && types_[id] == TokenType::kControl) continue;
    text += token_bytes_[id];
  }
  return text;
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_TOKENIZER_CORE_H_
