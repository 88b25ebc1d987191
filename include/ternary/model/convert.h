// Hugging Face BitNet folder → GGUF that bitnet.cpp and llama.cpp load
// (arch bitnet-b1.58, docs/formats.md §10.1/§10.2; for the Llama family arch
// llama, docs/model.md §5.3; for 1bitLLM arch bitnet, §5.1).
#ifndef TERNARY_MODEL_CONVERT_H_
#define TERNARY_MODEL_CONVERT_H_

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ternary/io/atomic_file.h"
#include "ternary/io/gguf_types.h"
#include "ternary/io/gguf_writer.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/tokenizer/hf_json.h"
#include "ternary/util/error.h"

namespace ternary {

// Ternary projections: I2_S (bitnet.cpp, one f32 α per tensor, K % 128 ==
// 0), TQ2_0 / TQ1_0 (llama.cpp, fp16 d = α in every block, K % 256 == 0).
enum class GgufWeightType { kI2_S, kTQ2_0, kTQ1_0 };
// token_embd (and output, when untied).
enum class GgufEmbeddingType { kF16, kQ8_0, kF32 };

// "i2_s", "tq2_0", "tq1_0" (case as written); UsageError otherwise.
inline GgufWeightType ParseGgufWeightType(std::string_view s) {
  if (s == "i2_s") return GgufWeightType::kI2_S;
  if (s == "tq2_0") return GgufWeightType::kTQ2_0;
  if (s == "tq1_0") return GgufWeightType::kTQ1_0;
  throw UsageError("weight type must be i2_s, tq2_0 or tq1_0, got '" +
                   std::string(s) + "'");
}
// "f16", "q8_0", "f32"; UsageError otherwise.
inline GgufEmbeddingType ParseGgufEmbeddingType(std::string_view s) {
  if (s == "f16") return GgufEmbeddingType::kF16;
  if (s == "q8_0") return GgufEmbeddingType::kQ8_0;
  if (s == "f32") return GgufEmbeddingType::kF32;
  throw UsageError("embedding type must be f16, q8_0 or f32, got '" +
                   std::string(s) + "'");
}

struct ConvertOptions {
  GgufWeightType weight_type = GgufWeightType::kI2_S;
  GgufEmbeddingType embedding_type = GgufEmbeddingType::kF16;
  std::string name;  // general.name; empty: the folder's name
  // If set, called after each tensor with (values converted so far, values
  // in all): a progress bar.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// The Jinja template 2B4T was trained with (docs/model.md §6.6 item 1), written
// when tokenizer_config.json has none: bitnet.cpp's files always carry one, and
// llama.cpp picks its "bitnet" handling from a template's text.
inline constexpr std::string_view kBitNetChatTemplate =
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = message['role'] | capitalize + ': ' + "
    "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";

namespace detail {

inline io::GgmlType GgmlTypeOf(GgufWeightType t) noexcept {
  switch (t) {
    case GgufWeightType::kTQ2_0:
      return io::GgmlType::kTQ2_0;
    case GgufWeightType::kTQ1_0:
      return io::GgmlType::kTQ1_0;
    case GgufWeightType::kI2_S:
      break;
  }
  return io::GgmlType::kI2_S;
}
inline io::GgmlType GgmlTypeOf(GgufEmbeddingType t) noexcept {
  switch (t) {
    case GgufEmbeddingType::kQ8_0:
      return io::GgmlType::kQ8_0;
    case GgufEmbeddingType::kF32:
      return io::GgmlType::kF32;
    case GgufEmbeddingType::kF16:
      break;
  }
  return io::GgmlType::kF16;
}
// llama_ftype ids (general.file_type), docs/formats.md §3.
inline uint32_t FileTypeOf(GgufWeightType t) noexcept {
  switch (t) {
    case GgufWeightType::kTQ1_0:
      return 36;
    case GgufWeightType::kTQ2_0:
      return 37;
    case GgufWeightType::kI2_S:
      break;
  }
  return 40;
}

// tokenizer.ggml.* from tokenizer.json (+ tokenizer_config.json), written
// the way llama.cpp's GPT-2 vocabulary path reads it: `vocab` entries (the
// embedding's rows); byte-level spellings for regular tokens, the literal
// text for added ones (token_type 3 control if special, else 4); ids no
// file names become "[PAD<id>]" of type 5 (unused).
inline void AddTokenizerMetadata(io::GgufWriter& w,
                                 const std::filesystem::path& dir,
                                 const ModelConfig& config) {
  const std::filesystem::path json_path = dir / "tokenizer.json";
  const std::string source = json_path.string();
  const HfTokenizerJson j =
      ParseHfTokenizerJson(ReadTokenizerFile(json_path), source);
  if (j.model_type && *j.model_type != "BPE") {
    throw FormatError(source + ": model.type is '" + *j.model_type +
                      "', only BPE can be written to GGUF");
  }
  const size_t vocab = static_cast<size_t>(config.dims.vocab);
  std::vector<std::string> tokens(vocab);
  std::vector<int32_t> types(vocab, 0);
  std::vector<float> scores(vocab, 0.0f);
  auto set = [&](int64_t id, const std::string& text, int32_t type) {
    if (id < 0 || static_cast<uint64_t>(id) >= vocab) {
      throw FormatError(
          source + ": token " + Quote(text) + " has id " + std::to_string(id) +
          ", outside the model's vocab_size " + std::to_string(vocab));
    }
    tokens[id] = text;
    types[id] = type;
    // What bitnet.cpp's converter writes; llama.cpp's BPE ignores scores.
    scores[id] = type == 3 ? -1000.0f : 0.0f;
  };
  for (const auto& e : j.vocab) set(e.id, e.text, 1);
  for (const auto& a : j.added_tokens) set(a.id, a.content, a.special ? 3 : 4);
  for (size_t i = 0; i < vocab; ++i) {
    if (types[i] == 0) {
      tokens[i] = "[PAD" + std::to_string(i) + "]";
      types[i] = 5;
    }
  }
  std::vector<std::string> merges;
  merges.reserve(j.merges.size());
  for (const auto& m : j.merges) {
    std::string s(j.MergeLeft(m));
    s += ' ';
    s += j.MergeRight(m);
    merges.push_back(std::move(s));
  }

  const HfTokenizerConfig tc =
      ReadHfTokenizerConfig(ReadOptionalJson(dir / "tokenizer_config.json"));
  const bool add_bos = tc.add_bos.value_or(true);
  // 2B4T's trained template where the file has none; other families'
  // files carry theirs (or none).
  const std::string chat_template = tc.chat_template.value_or(std::string(
      config.family == ModelFamily::kBitNet ? kBitNetChatTemplate : ""));
  // bos/eos: config.json, else the Llama 3 names.
  auto find_id = [&](int64_t configured, std::string_view name) -> int64_t {
    if (configured >= 0) return configured;
    for (const auto& a : j.added_tokens) {
      if (a.content == name) return a.id;
    }
    return -1;
  };
  const int64_t bos = find_id(config.bos_token_id, "<|begin_of_text|>");
  const int64_t eos = find_id(config.eos_token_id, "<|end_of_text|>");
  for (const auto& [key, id] :
       {std::pair{"bos_token_id", bos}, std::pair{"eos_token_id", eos}}) {
    if (id >= static_cast<int64_t>(vocab)) {
      throw FormatError((dir / "config.json").string() + ": " + key + " " +
                        std::to_string(id) + " is outside the vocabulary");
    }
  }

  w.AddString("tokenizer.ggml.model", "gpt2");
  // The split of the input's pre_tokenizer: Falcon3's (Punctuation,
  // ByteLevel, individual Digits), else Llama 3's (2B4T, Llama3-8B-1.58).
  const auto has = [&](std::string_view type) {
    return std::find(j.pre_tokenizer_types.begin(), j.pre_tokenizer_types.end(),
                     type) != j.pre_tokenizer_types.end();
  };
  const bool falcon3 = has("Punctuation") && has("ByteLevel") &&
                       has("Digits") && j.individual_digits;
  w.AddString("tokenizer.ggml.pre", falcon3 ? "falcon3" : "llama-bpe");
  w.AddStringArray("tokenizer.ggml.tokens", tokens);
  w.AddArray("tokenizer.ggml.scores", scores);
  w.AddArray("tokenizer.ggml.token_type", types);
  w.AddStringArray("tokenizer.ggml.merges", merges);
  if (bos >= 0) {
    w.AddU32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(bos));
  }
  if (eos >= 0) {
    w.AddU32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eos));
    // As in Microsoft's 2B4T file: padding = EOS.
    w.AddU32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(eos));
  }
  w.AddBool("tokenizer.ggml.add_bos_token", add_bos && bos >= 0);
  if (!chat_template.empty()) {
    w.AddString("tokenizer.chat_template", chat_template);
  }
}

// tokenizer.ggml.* from a SentencePiece folder (1bitLLM: tokenizer.model,
// added_tokens.json, tokenizer_config.json), the way llama.cpp's converter
// writes a LLaMA vocabulary (model "llama"): the pieces with their scores
// and types (NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE
// 6), the added tokens at their ids (CONTROL if special, else
// USER_DEFINED; score -1000), ids no file names "[PAD<id>]" (UNUSED).
inline void AddSentencePieceMetadata(io::GgufWriter& w,
                                     const std::filesystem::path& dir,
                                     const ModelConfig& config) {
  const std::filesystem::path file = dir / "tokenizer.model";
  const SpmModelProto model = ReadSpmModel(file);
  const auto tok_config = ReadOptionalJson(dir / "tokenizer_config.json");
  const HfTokenizerConfig tc = ReadHfTokenizerConfig(tok_config);
  const size_t vocab = static_cast<size_t>(config.dims.vocab);
  if (model.pieces.size() > vocab) {
    throw FormatError(
        file.string() + ": " + std::to_string(model.pieces.size()) +
        " pieces, more than the model's vocab_size " + std::to_string(vocab));
  }
  std::vector<std::string> tokens(vocab);
  std::vector<float> scores(vocab, -1000.0f);
  std::vector<int32_t> types(vocab, 5);
  for (size_t i = 0; i < vocab; ++i)
    tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (size_t i = 0; i < model.pieces.size(); ++i) {
    tokens[i] = model.pieces[i].piece;
    scores[i] = model.pieces[i].score;
    types[i] = static_cast<int32_t>(model.pieces[i].type);
  }
  for (const AddedToken& a :
       HfAddedTokens(dir, tok_config, model.pieces.size())) {
    if (size_t(a.id) >= vocab) {
      throw FormatError(dir.string() + ": added token " + Quote(a.text) +
                        " has id " + std::to_string(a.id) +
                        ", outside the model's vocab_size " +
                        std::to_string(vocab));
    }
    tokens[a.id] = a.text;
    types[a.id] = a.special ? 3 : 4;
  }
  auto id_or = [&](int64_t configured, int32_t own) -> int64_t {
    const int64_t id = configured >= 0 ? configured : own;
    if (id >= static_cast<int64_t>(vocab)) {
      throw FormatError((dir / "config.json").string() + ": token id " +
                        std::to_string(id) + " is outside the vocabulary");
    }
    return id;
  };
  const int64_t bos = id_or(config.bos_token_id, model.bos_id);
  const int64_t eos = id_or(config.eos_token_id, model.eos_id);
  w.AddString("tokenizer.ggml.model", "llama");
  w.AddString("tokenizer.ggml.pre", "default");
  w.AddStringArray("tokenizer.ggml.tokens", tokens);
  w.AddArray("tokenizer.ggml.scores", scores);
  w.AddArray("tokenizer.ggml.token_type", types);
  if (bos >= 0) {
    w.AddU32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(bos));
  }
  if (eos >= 0) {
    w.AddU32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eos));
  }
  if (model.unk_id >= 0 && size_t(model.unk_id) < vocab) {
    w.AddU32("tokenizer.ggml.unknown_token_id",
             static_cast<uint32_t>(model.unk_id));
  }
  w.AddBool("tokenizer.ggml.add_bos_token",
            tc.add_bos.value_or(true) && bos >= 0);
  w.AddBool("tokenizer.ggml.add_eos_token",
            tc.add_eos.value_or(false) && eos >= 0);
  if (!tc.chat_template.value_or("").empty()) {
    w.AddString("tokenizer.chat_template", *tc.chat_template);
  }
}

inline std::vector<uint8_t> EncodeFloats(io::GgmlType type,
                                         std::span<const float> x,
                                         std::span<const int64_t> ne) {
  std::vector<uint8_t> out(io::GgmlTensorBytes(type, ne));
  switch (type) {
    case io::GgmlType::kF16:
      quant::EncodeF16(x, out);
      break;
    case io::GgmlType::kQ8_0:
      quant::QuantizeRowQ8_0(x, out);
      break;
    default:
      quant::EncodeF32(x, out);
      break;
  }
  return out;
}

}  // namespace detail

// Builds the GGUF of a Hugging Face BitNet folder (packed or bf16 master)
// in memory: the caller writes it (WriteFile) or inspects it (Serialize).
// BitNetForCausalLM → arch bitnet-b1.58; LlamaForCausalLM with bitnet
// quantization → arch llama as bitnet.cpp writes it (no sub-norms, q/k
// rows permuted for interleaved RoPE, output when untied); 1bitLLM's
// BitnetForCausalLM → arch bitnet (sub-norms, tied, SentencePiece vocab).
// Projections keep the folder's ternary values and α (TQ: α rounded to
// fp16, as the format stores it); norms are F32. Throws FormatError for bad
// input files and UsageError when a shape does not fit the chosen types
// (I2_S: K % 128, TQ: K % 256, Q8_0: hidden % 32).
inline io::GgufWriter MakeGgufFromHf(const std::filesystem::path& hf_folder,
                                     const ConvertOptions& options = {}) {
  HfCheckpoint ckpt = HfCheckpoint::Open(hf_folder);
  const ModelConfig config = ckpt.config();
  // The Llama family as bitnet.cpp's converter writes it: arch llama, no
  // sub-norms, q/k rows permuted for interleaved RoPE (docs/model.md §5.3).
  const bool llama = config.family == ModelFamily::kLlamaBitNet;
  // 1bitLLM as llama.cpp and ik_llama read it: arch bitnet (SiLU, the
  // sub-norms as attn_sub_norm / ffn_sub_norm, the head tied to token_embd),
  // the absmean-ternarized latent weights with α inside each tensor, and a
  // SentencePiece vocabulary. Not bitnet.cpp's current converter's
  // bitnet-b1.58, whose graph is relu² (docs/model.md §5.1).
  const bool onebit = config.family == ModelFamily::kOneBitLlm;
  config.Validate("config.json");
  const Dims& d = config.dims;
  const size_t h = d.hidden, f = d.ffn, vocab = d.vocab;
  const size_t qd = config.q_dim(), kv = config.kv_dim();

  const io::GgmlType wtype = detail::GgmlTypeOf(options.weight_type);
  const io::GgmlType etype = detail::GgmlTypeOf(options.embedding_type);
  const std::string wname(io::GgmlTypeName(wtype));
  if (etype == io::GgmlType::kQ8_0 && h % 32 != 0) {
    throw UsageError("hidden_size " + std::to_string(h) +
                     " is not a multiple of 32: embeddings cannot be Q8_0");
  }

  io::GgufWriter w;
  const std::string arch = llama ? "llama" : onebit ? "bitnet" : "bitnet-b1.58";
  const std::string p = arch + ".";
  std::string name = options.name;
  if (name.empty()) {
    name = std::filesystem::absolute(hf_folder).lexically_normal().filename();
    if (name.empty()) {
      name = std::filesystem::absolute(hf_folder)
                 .lexically_normal()
                 .parent_path()
                 .filename();
    }
  }
  w.AddString("general.architecture", arch);
  w.AddString("general.name", name);
  w.AddU32(p + "vocab_size", static_cast<uint32_t>(d.vocab));
  w.AddU32(p + "context_length",
           static_cast<uint32_t>(config.max_position_embeddings));
  w.AddU32(p + "embedding_length", static_cast<uint32_t>(d.hidden));
  w.AddU32(p + "block_count", static_cast<uint32_t>(d.layers));
  w.AddU32(p + "feed_forward_length", static_cast<uint32_t>(d.ffn));
  w.AddU32(p + "rope.dimension_count", static_cast<uint32_t>(d.head_dim));
  w.AddU32(p + "attention.head_count", static_cast<uint32_t>(d.heads));
  w.AddU32(p + "attention.head_count_kv", static_cast<uint32_t>(d.kv_heads));
  if (d.head_dim != d.hidden / d.heads) {  // as llama.cpp's converter
    w.AddU32(p + "attention.key_length", static_cast<uint32_t>(d.head_dim));
    w.AddU32(p + "attention.value_length", static_cast<uint32_t>(d.head_dim));
  }
  w.AddF32(p + "attention.layer_norm_rms_epsilon", config.rms_norm_eps);
  w.AddF32(p + "rope.freq_base", static_cast<float>(config.rope_theta));
  w.AddU32("general.file_type", detail::FileTypeOf(options.weight_type));
  w.AddU32("general.quantization_version", 2);
  if (HfFolderHasSentencePiece(hf_folder)) {
    detail::AddSentencePieceMetadata(w, hf_folder, config);
  } else {
    detail::AddTokenizerMetadata(w, hf_folder, config);
  }

  const uint64_t total_values =
      uint64_t{vocab} * h * (config.tie_word_embeddings ? 1 : 2) + h +
      uint64_t(d.layers) * (2 * h + (llama ? 0 : qd + f) + (qd + 2 * kv) * h +
                            h * qd + 3 * f * h);
  uint64_t done_values = 0;
  auto tick = [&](size_t rows, size_t cols) {
    done_values += uint64_t{rows} * cols;
    if (options.progress) options.progress(done_values, total_values);
  };
  auto add_floats = [&](TensorId id, size_t rows, size_t cols,
                        io::GgmlType type) {
    const AlignedBuffer<float> x = ckpt.Floats(id, rows, cols);
    std::vector<int64_t> ne = {static_cast<int64_t>(cols)};
    if (rows != 1) ne.push_back(static_cast<int64_t>(rows));
    w.AddTensor(GgufTensorName(id), ne, type,
                detail::EncodeFloats(type, x.span(), ne));
    tick(rows, cols);
  };
  auto add_ternary = [&](TensorId id, size_t rows, size_t cols) {
    const std::string tname = GgufTensorName(id);
    const size_t block = wtype == io::GgmlType::kI2_S ? 128 : 256;
    if (cols % block != 0) {
      throw UsageError("tensor '" + tname + "' has " + std::to_string(cols) +
                       " columns, not a multiple of " + std::to_string(block) +
                       " as " + wname + " needs" +
                       (block == 256 ? " (use i2_s)" : ""));
    }
    TernaryMatrix t = ckpt.Ternary(id, rows, cols);
    if (llama && (id.kind == TensorId::kQ || id.kind == TensorId::kK)) {
      ReorderNormRopeRows(
          t.values,
          id.kind == TensorId::kQ ? size_t(d.heads) : size_t(d.kv_heads),
          size_t(d.head_dim), cols, NormRopeRows::kToFile);
    }
    const std::vector<int64_t> ne = {static_cast<int64_t>(cols),
                                     static_cast<int64_t>(rows)};
    std::vector<uint8_t> bytes(io::GgmlTensorBytes(wtype, ne));
    if (wtype == io::GgmlType::kI2_S) {
      quant::EncodeI2S(t.values, t.alpha, bytes);
    } else if (wtype == io::GgmlType::kTQ2_0) {
      quant::EncodeTQ2_0(t.values, t.alpha, bytes);
    } else {
      quant::EncodeTQ1_0(t.values, t.alpha, bytes);
    }
    w.AddTensor(tname, ne, wtype, std::move(bytes));
    tick(rows, cols);
  };

  add_floats({TensorId::kEmbed}, vocab, h, etype);
  for (int l = 0; l < d.layers; ++l) {
    for (TensorId::Kind k : kGgufLayerTensors) {
      const TensorId id{k, l};
      switch (k) {
        case TensorId::kAttnNorm:
        case TensorId::kFfnNorm:
          add_floats(id, 1, h, io::GgmlType::kF32);
          break;
        case TensorId::kAttnSubNorm:
          if (!llama) add_floats(id, 1, qd, io::GgmlType::kF32);
          break;
        case TensorId::kFfnSubNorm:
          if (!llama) add_floats(id, 1, f, io::GgmlType::kF32);
          break;
        case TensorId::kQ:
          add_ternary(id, qd, h);
          break;
        case TensorId::kK:
        case TensorId::kV:
          add_ternary(id, kv, h);
          break;
        case TensorId::kO:
          add_ternary(id, h, qd);
          break;
        case TensorId::kGate:
        case TensorId::kUp:
          add_ternary(id, f, h);
          break;
        case TensorId::kDown:
          add_ternary(id, h, f);
          break;
        default:
          break;
      }
    }
  }
  add_floats({TensorId::kOutputNorm}, 1, h, io::GgmlType::kF32);
  if (!config.tie_word_embeddings) {
    add_floats({TensorId::kLmHead}, vocab, h, etype);
  }
  return w;
}

// MakeGgufFromHf, written to `out` atomically (io/atomic_file.h: a fresh
// temporary next to it, renamed over `out` when complete, so a failed or
// concurrent conversion never leaves a partial file, and no other file is
// touched). Before converting anything, refuses (UsageError) an `out` that
// exists and is not a regular file, or that is (or links to) a file of
// the input folder, and throws Error when out's folder does not exist.
// Returns the bytes written.
inline uint64_t ConvertHfToGguf(const std::filesystem::path& hf_folder,
                                const std::filesystem::path& out,
                                const ConvertOptions& options = {}) {
  io::CheckNotInput(out, hf_folder);  // checks `out` (CheckOutputPath)
  const io::GgufWriter w = MakeGgufFromHf(hf_folder, options);
  // Checked again: the folder may have changed while converting.
  io::CheckNotInput(out, hf_folder);
  try {
    return w.WriteFile(out);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    const std::string what = e.what();
    // AtomicFile's messages already start with the file's name.
    if (what.rfind(out.string() + ":", 0) == 0) throw;
    throw Error(out.string() + ": cannot write the GGUF (" + what + ")");
  }
}

}  // namespace ternary

#endif  // TERNARY_MODEL_CONVERT_H_
