// The tokenizer of a MODEL path: tokenizer.json (or a SentencePiece
// tokenizer.model) of a Hugging Face folder, or the tokenizer.ggml.*
// metadata of a .gguf file.
#ifndef TERNARY_MODEL_LOAD_TOKENIZER_H_
#define TERNARY_MODEL_LOAD_TOKENIZER_H_

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ternary/io/gguf.h"
#include "ternary/io/read_file.h"
#include "ternary/model/checkpoint.h"
#include "ternary/tokenizer/pretokenizer.h"
#include "ternary/tokenizer/tokenizer.h"
#include "ternary/util/error.h"

namespace ternary {

// Which pre-tokenizer (docs/model.md §6.2) to split text with; the CLI's
// --pretokenizer auto|llama3|falcon3|bitnet-cpp-default.
enum class PreTokenizerChoice {
  // What the file says: tokenizer.ggml.pre "llama-bpe" (and llama.cpp's
  // other Llama 3 names) → Llama 3, "default" → bitnet.cpp default. A GGUF
  // without tokenizer.ggml.pre (every file bitnet.cpp writes, Microsoft's
  // included) gets the Llama 3 split: the model was trained with it, and
  // transformers tokenizes so. bitnet.cpp itself falls back to llama.cpp's
  // default split there; choose kBitnetCppDefault to reproduce its ids.
  // Hugging Face folders: Llama 3.
  kAuto,
  kLlama3,            // the Llama 3 regex, whatever the file says
  kFalcon3,           // Falcon3's split (digits one by one), likewise
  kBitnetCppDefault,  // llama.cpp's default BPE split, whatever the file says
};

// "auto", "llama3", "falcon3", "bitnet-cpp-default"; anything else throws
// UsageError.
inline PreTokenizerChoice ParsePreTokenizerChoice(std::string_view s) {
  if (s == "auto") return PreTokenizerChoice::kAuto;
  if (s == "llama3") return PreTokenizerChoice::kLlama3;
  if (s == "falcon3") return PreTokenizerChoice::kFalcon3;
  if (s == "bitnet-cpp-default") return PreTokenizerChoice::kBitnetCppDefault;
  throw UsageError(
      "pre-tokenizer must be auto, llama3, falcon3 or bitnet-cpp-default, "
      "got '" +
      std::string(s) + "'");
}

struct TokenizerLoadOptions {
  PreTokenizerChoice pretokenizer = PreTokenizerChoice::kAuto;
};

// A model's tokenizer and how prompts are built with it.
struct ModelTokenizer {
  Tokenizer tokenizer;
  // Prepend BOS to a prompt (GGUF tokenizer.ggml.add_bos_token, HF
  // tokenizer_config.json add_bos_token; both default to true).
  bool add_bos = true;
  // The file's Jinja chat template (GGUF tokenizer.chat_template, HF
  // tokenizer_config.json chat_template); empty if none.
  std::string chat_template;
};

// The split for a GGUF whose tokenizer.ggml.pre is `pre` (nullopt: absent).
// Throws FormatError naming `file` for a value this library cannot split
// with under kAuto.
inline PreTokenizer ResolveGgufPreTokenizer(std::optional<std::string_view> pre,
                                            PreTokenizerChoice choice,
                                            const std::string& file) {
  switch (choice) {
    case PreTokenizerChoice::kLlama3:
      return PreTokenizer::kLlama3;
    case PreTokenizerChoice::kFalcon3:
      return PreTokenizer::kFalcon3;
    case PreTokenizerChoice::kBitnetCppDefault:
      return PreTokenizer::kBitnetCppDefault;
    case PreTokenizerChoice::kAuto:
      break;
  }
  if (!pre || *pre == "llama-bpe" || *pre == "llama3" || *pre == "llama-v3") {
    return PreTokenizer::kLlama3;
  }
  if (*pre == "default") return PreTokenizer::kBitnetCppDefault;
  // llama.cpp's names of Falcon3's and Falcon-E's (the same regexes).
  if (*pre == "falcon3" || *pre == "falcon_e") return PreTokenizer::kFalcon3;
  throw FormatError(file + ": tokenizer.ggml.pre '" + std::string(*pre) +
                    "' is not supported (known: llama-bpe, default, falcon3, "
                    "falcon_e); choose the pre-tokenizer explicitly (llama3, "
                    "falcon3 or bitnet-cpp-default)");
}

namespace detail {

// tokenizer.ggml.model "llama": a SentencePiece vocabulary (llama.cpp's
// SPM: tokens, scores, token_type, whose numbers are SentencePiece's piece
// types) run as the model file would (docs/model.md §7): BPE by score,
// byte fallback when the vocabulary has <0xXX> pieces, identity
// normalization with whitespace kept (llama.cpp's SPM tokenizer never
// removes it), the dummy prefix as tokenizer.ggml.add_space_prefix says
// (default true).
inline ModelTokenizer SentencePieceFromGguf(const io::GgufFile& file) {
  const std::string& name = file.name();
  const auto tokens = file.GetStringArray("tokenizer.ggml.tokens");
  SpmModelProto m;
  m.model_type = 2;
  m.normalizer_name = "identity";
  m.remove_extra_whitespaces = false;
  m.add_dummy_prefix =
      file.GetOptionalBool("tokenizer.ggml.add_space_prefix").value_or(true);
  std::vector<float> scores;
  if (file.Find("tokenizer.ggml.scores") != nullptr) {
    scores = file.GetF32Array("tokenizer.ggml.scores");
  }
  std::vector<int32_t> types;
  if (file.Find("tokenizer.ggml.token_type") != nullptr) {
    types = file.GetI32Array("tokenizer.ggml.token_type");
  }
  if (scores.size() != tokens.size() ||
      (!types.empty() && types.size() != tokens.size())) {
    throw FormatError(name +
                      ": tokenizer.ggml.scores / token_type must have "
                      "one entry per token (" +
                      std::to_string(tokens.size()) + ")");
  }
  m.pieces.resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    m.pieces[i].piece = std::string(tokens[i]);
    m.pieces[i].score = scores[i];
    m.pieces[i].type =
        types.empty() ? SpmPieceType::kNormal : SpmPieceType(types[i]);
    if (m.pieces[i].type == SpmPieceType::kByte) m.byte_fallback = true;
    if (m.pieces[i].type == SpmPieceType::kUnknown) m.unk_id = int32_t(i);
  }
  const auto id = [&](std::string_view key) -> int32_t {
    const std::optional<uint32_t> v = file.GetOptionalU32(key);
    if (!v) return -1;
    if (*v >= tokens.size()) {
      throw FormatError(name + ": metadata key '" + std::string(key) + "' is " +
                        std::to_string(*v) + ", outside the vocabulary");
    }
    return static_cast<int32_t>(*v);
  };
  m.bos_id = id("tokenizer.ggml.bos_token_id");
  m.eos_id = id("tokenizer.ggml.eos_token_id");
  ModelTokenizer out{
      .tokenizer = Tokenizer::FromSentencePieceModel(m, {}, {}, name),
      .add_bos =
          file.GetOptionalBool("tokenizer.ggml.add_bos_token").value_or(true),
      .chat_template = std::string(
          file.GetOptionalString("tokenizer.chat_template").value_or(""))};
  if (out.add_bos && out.tokenizer.bos_id() < 0) out.add_bos = false;
  return out;
}

}  // namespace detail

// From a GGUF's tokenizer.ggml.* keys (docs/formats.md §10.1). Throws
// FormatError naming the file and key: missing keys, tokenizer.ggml.model other
// than "gpt2" (byte-level BPE) or "llama" (SentencePiece), ids outside the
// vocabulary.
inline ModelTokenizer TokenizerFromGguf(
    const io::GgufFile& file, const TokenizerLoadOptions& options = {}) {
  const std::string& name = file.name();
  const std::string_view model = file.GetString("tokenizer.ggml.model");
  if (model == "llama") return detail::SentencePieceFromGguf(file);
  if (model != "gpt2") {
    throw FormatError(name + ": tokenizer.ggml.model is '" +
                      std::string(model) +
                      "'; supported: 'gpt2' (byte-level BPE, Llama 3), "
                      "'llama' (SentencePiece BPE)");
  }
  const auto tokens_view = file.GetStringArray("tokenizer.ggml.tokens");
  const auto merges_view = file.GetStringArray("tokenizer.ggml.merges");
  std::vector<std::string> tokens(tokens_view.begin(), tokens_view.end());
  std::vector<std::string> merges(merges_view.begin(), merges_view.end());
  std::vector<int32_t> types;
  if (file.Find("tokenizer.ggml.token_type") != nullptr) {
    types = file.GetI32Array("tokenizer.ggml.token_type");
  }
  const auto id = [&](std::string_view key) -> int32_t {
    const std::optional<uint32_t> v = file.GetOptionalU32(key);
    if (!v) return -1;
    if (*v > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
      throw FormatError(name + ": metadata key '" + std::string(key) + "' is " +
                        std::to_string(*v) + ", outside the vocabulary");
    }
    return static_cast<int32_t>(*v);
  };
  const SpecialIds ids{.bos = id("tokenizer.ggml.bos_token_id"),
                       .eos = id("tokenizer.ggml.eos_token_id"),
                       .eot = id("tokenizer.ggml.eot_token_id")};
  const PreTokenizer mode = ResolveGgufPreTokenizer(
      file.GetOptionalString("tokenizer.ggml.pre"), options.pretokenizer, name);
  ModelTokenizer out{
      .tokenizer = Tokenizer::FromVocab(std::move(tokens), std::move(merges),
                                        std::move(types), ids, mode, name),
      .add_bos =
          file.GetOptionalBool("tokenizer.ggml.add_bos_token").value_or(true),
      .chat_template = std::string(
          file.GetOptionalString("tokenizer.chat_template").value_or(""))};
  if (out.add_bos && out.tokenizer.bos_id() < 0) out.add_bos = false;
  return out;
}

namespace detail {

// A JSON file of a Hugging Face folder; nullopt when absent. Throws
// FormatError naming the file when it is not valid JSON.
inline std::optional<nlohmann::json> ReadOptionalJson(
    const std::filesystem::path& path) {
  const std::string what = "a " + path.filename().string();
  const std::optional<std::string> text =
      io::ReadFileIfExists(path, {io::kConfigJsonLimit.max_bytes, what});
  if (!text) return std::nullopt;
  io::CheckJsonDepth(*text, path.string());
  nlohmann::json j = nlohmann::json::parse(*text, nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) throw FormatError(path.string() + ": not valid JSON");
  if (!j.is_object()) throw FormatError(path.string() + ": not a JSON object");
  return j;
}

// config.json's bos_token_id / eos_token_id (an int, or a list: the first).
inline int32_t HfSpecialId(const std::optional<nlohmann::json>& config,
                           const char* key) {
  if (!config || !config->contains(key)) return -1;
  const nlohmann::json* v = &(*config)[key];
  if (v->is_array() && !v->empty()) v = &(*v)[0];
  if (!v->is_number_integer()) return -1;
  const int64_t id = v->get<int64_t>();
  return id >= 0 && id <= std::numeric_limits<int32_t>::max()
             ? static_cast<int32_t>(id)
             : -1;
}

// config.json's bos_token_id / eos_token_id (each id of a list) must be
// below vocab_size (`rows`): FormatError naming the file and key.
inline void CheckHfSpecialIds(const nlohmann::json& config, int64_t rows,
                              const std::string& file) {
  for (const char* key : {"bos_token_id", "eos_token_id"}) {
    const auto it = config.find(key);
    if (it == config.end()) continue;
    const nlohmann::json ids =
        it->is_array() ? *it : nlohmann::json::array({*it});
    for (const nlohmann::json& id : ids) {
      if (!id.is_number_unsigned()) continue;  // null, -1: none
      if (id.get<uint64_t>() < static_cast<uint64_t>(rows)) continue;
      throw FormatError(file + ": key '" + key + "' is " + id.dump() +
                        ", outside the vocabulary [0, " + std::to_string(rows) +
                        ") (vocab_size)");
    }
  }
}

}  // namespace detail

// Whether a Hugging Face folder's tokenizer is SentencePiece: a
// tokenizer.model that is a protobuf (its first byte is field 1, length-
// delimited: 0x0A), not a tiktoken ranks file (Llama 3 repos ship one under
// that name too). LLaMA-2-style repos (1bitLLM) ship tokenizer.model, some
// also a tokenizer.json converted from it that the byte-level reader
// cannot run: the SentencePiece file wins.
inline bool HfFolderHasSentencePiece(const std::filesystem::path& dir) {
  std::error_code ec;
  const std::filesystem::path model = dir / "tokenizer.model";
  if (!std::filesystem::is_regular_file(model, ec)) return false;
  return io::ReadFilePrefix(model, 1) == "\x0A";
}

namespace detail {

// What tokenizer_config.json says of a prompt: add_bos_token and
// add_eos_token (booleans) and the Jinja chat_template (a string), each
// unset when absent or of another type. The loader and convert read it
// alike.
struct HfTokenizerConfig {
  std::optional<bool> add_bos, add_eos;
  std::optional<std::string> chat_template;
};
inline HfTokenizerConfig ReadHfTokenizerConfig(
    const std::optional<nlohmann::json>& tok_config) {
  HfTokenizerConfig out;
  if (!tok_config) return out;
  for (auto& [key, flag] : {std::pair{"add_bos_token", &out.add_bos},
                            std::pair{"add_eos_token", &out.add_eos}}) {
    const auto v = tok_config->find(key);
    if (v != tok_config->end() && v->is_boolean()) *flag = v->get<bool>();
  }
  const auto tmpl = tok_config->find("chat_template");
  if (tmpl != tok_config->end() && tmpl->is_string()) {
    out.chat_template = tmpl->get<std::string>();
  }
  return out;
}

// A folder's tokenizer.model, parsed (size-limited read).
inline SpmModelProto ReadSpmModel(const std::filesystem::path& file) {
  constexpr io::FileLimit kLimit{64 * io::kMiB, "a SentencePiece model"};
  return ParseSpmModelProto(io::ReadFile(file, kLimit), file.string());
}

// The added tokens of a SentencePiece folder beyond the model's pieces:
// added_tokens.json {text: id} and tokenizer_config.json's
// added_tokens_decoder {id: {content, special}}. A token is special when
// added_tokens_decoder says so, or when special_tokens_map.json (or
// tokenizer_config.json) names it as bos/eos/unk/pad/… token.
inline std::vector<AddedToken> HfAddedTokens(
    const std::filesystem::path& dir,
    const std::optional<nlohmann::json>& tok_config, size_t pieces) {
  std::map<int64_t, AddedToken> by_id;
  std::set<std::string> special_texts;
  const auto collect_specials = [&](const nlohmann::json& j) {
    for (const auto& [key, v] : j.items()) {
      if (!key.ends_with("_token")) continue;
      if (v.is_string()) special_texts.insert(v.get<std::string>());
      if (v.is_object() && v.contains("content") && v["content"].is_string()) {
        special_texts.insert(v["content"].get<std::string>());
      }
    }
  };
  if (const auto map = ReadOptionalJson(dir / "special_tokens_map.json")) {
    collect_specials(*map);
  }
  if (tok_config) collect_specials(*tok_config);
  const auto add = [&](int64_t id, const std::string& text,
                       std::optional<bool> special, const std::string& file) {
    if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
      throw FormatError(file + ": added token '" + text + "' has id " +
                        std::to_string(id));
    }
    if (size_t(id) < pieces) return;  // one of the model's own pieces
    AddedToken& t = by_id[id];
    t.text = text;
    t.id = int32_t(id);
    t.special = special.value_or(special_texts.contains(text));
  };
  const std::filesystem::path added_json = dir / "added_tokens.json";
  if (const auto added = ReadOptionalJson(added_json)) {
    for (const auto& [text, id] : added->items()) {
      if (!id.is_number_integer()) {
        throw FormatError(added_json.string() + ": the id of '" + text +
                          "' is not an integer");
      }
      add(id.get<int64_t>(), text, std::nullopt, added_json.string());
    }
  }
  if (tok_config) {
    const auto dec = tok_config->find("added_tokens_decoder");
    if (dec != tok_config->end() && dec->is_object()) {
      const std::string file = (dir / "tokenizer_config.json").string();
      for (const auto& [key, v] : dec->items()) {
        int64_t id = -1;
        const auto [end, ec] =
            std::from_chars(key.data(), key.data() + key.size(), id);
        if (ec != std::errc() || end != key.data() + key.size() ||
            !v.is_object() || !v.contains("content") ||
            !v["content"].is_string()) {
          throw FormatError(file + ": added_tokens_decoder entry '" + key +
                            "' is not {id: {content, ...}}");
        }
        std::optional<bool> special;
        if (v.contains("special") && v["special"].is_boolean()) {
          special = v["special"].get<bool>();
        }
        add(id, v["content"].get<std::string>(), special, file);
      }
    }
  }
  std::vector<AddedToken> out;
  for (auto& [id, t] : by_id) out.push_back(std::move(t));
  return out;
}

}  // namespace detail

// From a Hugging Face folder: tokenizer.json, or a SentencePiece
// tokenizer.model (HfFolderHasSentencePiece) with its added tokens;
// tokenizer_config.json (add_bos_token, chat_template) and config.json
// (bos/eos ids; otherwise found by their Llama 3 names, or SentencePiece's
// own ids). kAuto: Falcon3's split where tokenizer.json's pre_tokenizer is
// Falcon3's, else Llama 3's.
inline ModelTokenizer TokenizerFromHfFolder(
    const std::filesystem::path& dir,
    const TokenizerLoadOptions& options = {}) {
  const auto tok_config =
      detail::ReadOptionalJson(dir / "tokenizer_config.json");
  const auto config = detail::ReadOptionalJson(dir / "config.json");
  TokenizerOptions topt;
  topt.pre_tokenizer =
      options.pretokenizer == PreTokenizerChoice::kBitnetCppDefault
          ? PreTokenizer::kBitnetCppDefault
      : options.pretokenizer == PreTokenizerChoice::kFalcon3
          ? PreTokenizer::kFalcon3
          : PreTokenizer::kLlama3;
  topt.detect_pre_tokenizer = options.pretokenizer == PreTokenizerChoice::kAuto;
  topt.special_ids.bos = detail::HfSpecialId(config, "bos_token_id");
  topt.special_ids.eos = detail::HfSpecialId(config, "eos_token_id");
  const bool spm = HfFolderHasSentencePiece(dir);
  const auto read = [&] {
    try {
      if (spm) {
        const std::filesystem::path file = dir / "tokenizer.model";
        const SpmModelProto model = detail::ReadSpmModel(file);
        return Tokenizer::FromSentencePieceModel(
            model, detail::HfAddedTokens(dir, tok_config, model.pieces.size()),
            topt.special_ids, file.string());
      }
      return Tokenizer::FromHfJson(dir / "tokenizer.json", topt);
    } catch (const UsageError& e) {
      // The special ids came from config.json, not from the caller: an id
      // outside tokenizer.json's vocabulary is a defect of the folder.
      throw FormatError(std::string(e.what()) + " (bos/eos_token_id of " +
                        (dir / "config.json").string() + ")");
    }
  };
  detail::HfTokenizerConfig tc = detail::ReadHfTokenizerConfig(tok_config);
  ModelTokenizer out{.tokenizer = read(),
                     .add_bos = tc.add_bos.value_or(true),
                     .chat_template = tc.chat_template.value_or("")};
  if (out.add_bos && out.tokenizer.bos_id() < 0) out.add_bos = false;
  return out;
}

// Checks that every id `tok` can produce has a row in the model's embedding
// table of `rows` rows: a tokenizer larger than the model otherwise fails
// mid-generation. A smaller tokenizer is normal (padded vocabularies).
// Throws FormatError "<tokenizer_file>: ... (<rows_from>)".
inline void CheckTokenizerFitsModel(const Tokenizer& tok, int64_t rows,
                                    const std::string& tokenizer_file,
                                    const std::string& rows_from) {
  int64_t top = int64_t{tok.vocab_size()} - 1;  // highest id in use
  while (top >= 0 &&
         tok.token_type(static_cast<int32_t>(top)) == TokenType::kUnused) {
    --top;
  }
  if (top < rows) return;
  throw FormatError(tokenizer_file + ": token id " + std::to_string(top) +
                    " is outside the model's vocabulary: the tokenizer has " +
                    std::to_string(top + 1) + " tokens, the embedding " +
                    std::to_string(rows) + " rows (" + rows_from + ")");
}

// The tokenizer of a MODEL path (a Hugging Face folder or a .gguf file, as
// Model::Load takes). Throws FormatError naming the file, also when the
// tokenizer can produce ids the model's embedding has no row for (HF:
// config.json vocab_size; GGUF: the rows of token_embd.weight). Special ids
// (BOS, EOS, EOT) are within the tokenizer's vocabulary (Tokenizer checks),
// hence within the model's too.
inline ModelTokenizer LoadTokenizer(const std::filesystem::path& model_path,
                                    const TokenizerLoadOptions& options = {}) {
  if (DetectCheckpointFormat(model_path) == CheckpointFormat::kGguf) {
    const io::GgufFile file = io::GgufFile::Open(model_path);
    ModelTokenizer tok = TokenizerFromGguf(file, options);
    if (const io::GgufTensorInfo* e = file.FindTensor("token_embd.weight")) {
      CheckTokenizerFitsModel(tok.tokenizer, e->ne[1], file.name(),
                              "token_embd.weight");
    }
    return tok;
  }
  // A folder with neither config.json nor tokenizer.json is no model folder
  // at all: say that, rather than name the first file found missing.
  std::error_code ec;
  if (!std::filesystem::exists(model_path / "config.json", ec) &&
      !std::filesystem::exists(model_path / "tokenizer.json", ec) &&
      !std::filesystem::exists(model_path / "tokenizer.model", ec)) {
    throw FormatError(model_path.string() +
                      ": no config.json (not a Hugging Face model folder)");
  }
  // The model checks that model.embed_tokens.weight has vocab_size rows.
  int64_t rows = -1;
  if (const auto config =
          detail::ReadOptionalJson(model_path / "config.json")) {
    const auto v = config->find("vocab_size");
    if (v != config->end() && v->is_number_unsigned()) {
      rows = static_cast<int64_t>(std::min<uint64_t>(
          v->get<uint64_t>(), std::numeric_limits<int64_t>::max()));
      detail::CheckHfSpecialIds(*config, rows,
                                (model_path / "config.json").string());
    }
  }
  ModelTokenizer tok = TokenizerFromHfFolder(model_path, options);
  if (rows >= 0) {
    CheckTokenizerFitsModel(
        tok.tokenizer, rows,
        (model_path / (tok.tokenizer.is_sentencepiece() ? "tokenizer.model"
                                                        : "tokenizer.json"))
            .string(),
        "config.json vocab_size");
  }
  return tok;
}

}  // namespace ternary

#endif  // TERNARY_MODEL_LOAD_TOKENIZER_H_
