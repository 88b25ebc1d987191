// Tokenizer::FromHfJson / FromHfJsonText: a Hugging Face tokenizer.json.
#ifndef TERNARY_TOKENIZER_LOAD_HF_JSON_H_
#define TERNARY_TOKENIZER_LOAD_HF_JSON_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "ternary/io/read_file.h"
#include "ternary/tokenizer/hf_json.h"
#include "ternary/tokenizer/tokenizer_core.h"

namespace ternary {

namespace detail {

// A tokenizer.json's text: a regular file of at most 256 MiB with JSON at
// most 256 levels deep (io/read_file.h).
inline std::string ReadTokenizerFile(const std::filesystem::path& path) {
  std::string text = io::ReadFile(path, io::kTokenizerJsonLimit);
  io::CheckJsonDepth(text, path.string());
  return text;
}

}  // namespace detail

inline Tokenizer Tokenizer::FromHfJson(
    const std::filesystem::path& tokenizer_json,
    const TokenizerOptions& options) {
  return FromHfJsonText(detail::ReadTokenizerFile(tokenizer_json),
                        tokenizer_json.string(), options);
}

inline Tokenizer Tokenizer::FromHfJsonText(std::string_view json_text,
                                           std::string_view source,
                                           const TokenizerOptions& options) {
  const std::string src(source);
  io::CheckJsonDepth(json_text, src);
  const detail::HfTokenizerJson file =
      detail::ParseHfTokenizerJson(json_text, src);
  Tokenizer tok;
  tok.pre_tokenizer_ = options.pre_tokenizer;
  if (options.detect_pre_tokenizer) {
    const auto has = [&](std::string_view type) {
      return std::find(file.pre_tokenizer_types.begin(),
                       file.pre_tokenizer_types.end(),
                       type) != file.pre_tokenizer_types.end();
    };
    if (has("Punctuation") && has("ByteLevel") && has("Digits") &&
        file.individual_digits) {
      tok.pre_tokenizer_ = PreTokenizer::kFalcon3;
    }
  }
  tok.LimitIds(file.vocab.size() + file.added_tokens.size());
  tok.Resize(file.vocab.size());
  tok.bpe_.Reserve(file.vocab.size(), file.merges.size());
  for (const auto& entry : file.vocab) {
    // A byte string spelled twice (possible only outside the alphabet) keeps
    // its first id for encoding; both ids decode.
    tok.SetNormal(entry.id, detail::VocabBytes(entry.text), src, [&] {
      return "model.vocab[" + detail::Quote(entry.text) + "]";
    });
  }
  std::string buffer[2];
  for (size_t i = 0; i < file.merges.size(); ++i) {
    tok.AddMergeText(file.MergeLeft(file.merges[i]),
                     file.MergeRight(file.merges[i]), int32_t(i), src, buffer);
  }
  for (size_t i = 0; i < file.added_tokens.size(); ++i) {
    const auto& a = file.added_tokens[i];
    const auto where = [&] {
      return "added_tokens[" + std::to_string(i) + "]";
    };
    if (a.id < 0 || a.id >= detail::kMaxTokenId) {
      tok.CheckNewId(a.id, src, where);  // throws: out of range
    }
    tok.SetAdded({a.content, int32_t(a.id), a.special}, src, where);
  }
  tok.AddLlama3SpecialsIfBare(src);
  tok.bpe_.set_ignore_merges(
      options.ignore_merges.value_or(file.ignore_merges.value_or(false)));
  tok.Finish(src, options.special_ids, /*ids_from_file=*/false);
  return tok;
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_LOAD_HF_JSON_H_
