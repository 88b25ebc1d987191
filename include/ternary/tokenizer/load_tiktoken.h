// Tokenizer::FromTiktoken: a tiktoken ranks file (Llama 3's tokenizer.model).
#ifndef TERNARY_TOKENIZER_LOAD_TIKTOKEN_H_
#define TERNARY_TOKENIZER_LOAD_TIKTOKEN_H_

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ternary/io/read_file.h"
#include "ternary/tokenizer/base64.h"
#include "ternary/tokenizer/tokenizer_core.h"
#include "ternary/util/error.h"

namespace ternary {

inline Tokenizer Tokenizer::FromTiktoken(
    const std::filesystem::path& ranks_file, const TokenizerOptions& options,
    std::vector<AddedToken> specials) {
  const std::string src = ranks_file.string();
  const std::string text = io::ReadFile(ranks_file, io::kTiktokenRanksLimit);
  Tokenizer tok;
  tok.pre_tokenizer_ = options.pre_tokenizer;
  const size_t lines = size_t(std::count(text.begin(), text.end(), '\n')) + 1;
  tok.LimitIds(lines + specials.size());
  tok.bpe_.Reserve(lines, 2 * lines);  // Llama 3: 2.2 merges per token
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const auto where = [&] { return "line " + std::to_string(line_no); };
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      throw FormatError(src + ": " + where() + ": expected \"base64 rank\"");
    }
    const std::string_view b64 = line.substr(0, space);
    const std::string_view rank_text = line.substr(space + 1);
    int64_t rank = -1;
    const auto [end, ec] = std::from_chars(
        rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || end != rank_text.data() + rank_text.size() ||
        rank_text.empty()) {
      throw FormatError(src + ": " + where() + ": rank " +
                        detail::Quote(rank_text) + " is not an integer");
    }
    std::optional<std::string> bytes = detail::Base64Decode(b64);
    if (!bytes) {
      throw FormatError(src + ": " + where() + ": invalid base64 " +
                        detail::Quote(b64));
    }
    if (bytes->empty()) {
      throw FormatError(src + ": " + where() + ": empty token");
    }
    const std::string kept = *bytes;
    if (!tok.SetNormal(rank, std::move(*bytes), src, where)) {
      throw FormatError(src + ": " + where() + ": token " +
                        detail::Quote(kept) + " already has rank " +
                        std::to_string(*tok.bpe_.Find(kept)));
    }
  }
  if (tok.vocab_size() == 0) throw FormatError(src + ": no tokens");
  // tiktoken merges two parts when their concatenation has a rank, lowest
  // first; the same as the merge list of every split of every token.
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    const std::string_view b = tok.token_bytes_[id];
    for (size_t k = 1; k < b.size(); ++k) {
      const auto l = tok.bpe_.Find(b.substr(0, k));
      if (!l) continue;
      const auto r = tok.bpe_.Find(b.substr(k));
      if (r) tok.bpe_.AddMerge(*l, *r, id, id);
    }
  }
  if (specials.empty()) {
    tok.AddLlama3SpecialsIfBare(src);
  } else {
    for (const AddedToken& t : specials) {
      if (t.id >= 0 && t.id < tok.vocab_size() &&
          tok.types_[t.id] != TokenType::kUnused) {
        throw UsageError("FromTiktoken: special " + detail::Quote(t.text) +
                         " has id " + std::to_string(t.id) + ", which " + src +
                         " already uses");
      }
      tok.SetAdded(t, src, [] { return std::string("specials"); });
    }
  }
  tok.bpe_.set_ignore_merges(options.ignore_merges.value_or(true));
  tok.Finish(src, options.special_ids, /*ids_from_file=*/false);
  return tok;
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_LOAD_TIKTOKEN_H_
