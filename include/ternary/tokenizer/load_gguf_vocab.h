// Tokenizer::FromVocab: a GGUF file's tokenizer.ggml.* vocabulary.
#ifndef TERNARY_TOKENIZER_LOAD_GGUF_VOCAB_H_
#define TERNARY_TOKENIZER_LOAD_GGUF_VOCAB_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ternary/tokenizer/pretokenizer.h"
#include "ternary/tokenizer/tokenizer_core.h"
#include "ternary/util/error.h"

namespace ternary {

inline Tokenizer Tokenizer::FromVocab(std::vector<std::string> tokens,
                                      std::vector<std::string> merges,
                                      std::vector<int32_t> token_types,
                                      SpecialIds special_ids, PreTokenizer mode,
                                      std::string_view source) {
  const std::string src(source);
  if (!token_types.empty() && token_types.size() != tokens.size()) {
    throw FormatError(src + ": " + std::to_string(token_types.size()) +
                      " token types for " + std::to_string(tokens.size()) +
                      " tokens");
  }
  if (int64_t(tokens.size()) > detail::kMaxTokenId) {
    throw FormatError(src + ": " + std::to_string(tokens.size()) +
                      " tokens is more than supported");
  }
  Tokenizer tok;
  tok.pre_tokenizer_ = mode;
  tok.Resize(tokens.size());
  tok.bpe_.Reserve(tokens.size(), merges.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t type = token_types.empty() ? 1 : token_types[i];
    const auto where = [&] { return "token " + std::to_string(i); };
    switch (type) {
      case 1:  // normal
      case 2:  // unknown
      case 6:  // byte
        tok.SetNormal(int64_t(i), detail::VocabBytes(tokens[i]), src, where);
        break;
      case 3:  // control
      case 4:  // user-defined
        tok.SetAdded({std::move(tokens[i]), int32_t(i), type == 3}, src, where);
        break;
      case 5:  // unused
        break;
      default:
        throw FormatError(src + ": " + where() + " has token type " +
                          std::to_string(type) + " (expected 1..6)");
    }
  }
  std::string buffer[2];
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string& m = merges[i];
    const size_t space = m.find(' ');
    if (space == std::string::npos ||
        m.find(' ', space + 1) != std::string::npos) {
      throw FormatError(src + ": merge " + std::to_string(i) + " (" +
                        detail::Quote(m) + ") is not \"left right\"");
    }
    tok.AddMergeText(std::string_view(m).substr(0, space),
                     std::string_view(m).substr(space + 1), int32_t(i), src,
                     buffer);
  }
  tok.bpe_.set_ignore_merges(mode == PreTokenizer::kLlama3);
  tok.Finish(src, special_ids, /*ids_from_file=*/true);
  return tok;
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_LOAD_GGUF_VOCAB_H_
