// Writes the seed corpora of the fuzz targets from the repository's test
// data: real GGUF and safetensors files shrunk to a few KB (same keys and
// tensor names, one or two blocks per tensor), config.json variants, trimmed
// tokenizers, and text. Nothing binary is committed; scripts/fuzz.sh runs
// this before fuzzing. The byte-level writers are the tests' fixture helpers
// (tests/io, tests/model).
//
// Usage: make_fuzz_seeds SOURCE_DIR OUT_DIR   (writes OUT_DIR/<target>/*)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "io/gguf_test_util.h"
#include "io/safetensors_writer.h"
#include "model/gguf_builder.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_types.h"
#include "ternary/io/gguf_writer.h"
#include "ternary/io/safetensors.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using ternary::io::GgmlType;
using ternary::io::GgufFile;
using ternary::io::GgufType;
using ternary::io::GgufValue;
using ternary::io::GgufWriter;
using ternary::test::TinyGguf;
using Bytes = std::vector<uint8_t>;
using nlohmann::json;

fs::path g_out;

void Write(const std::string& target, const std::string& name,
           std::string_view bytes) {
  const fs::path dir = g_out / target;
  fs::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + (dir / name).string());
}
void Write(const std::string& target, const std::string& name,
           const Bytes& bytes) {
  Write(target, name,
        std::string_view(reinterpret_cast<const char*>(bytes.data()),
                         bytes.size()));
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------
// Vocabularies

struct Vocab {
  std::vector<std::string> tokens;  // byte-level spelling; specials as text
  std::vector<int32_t> types;       // GGUF token types: 1 normal, 3 control
  std::vector<std::string> merges;  // "left right"
  int32_t bos = -1, eos = -1;
};

Vocab VocabFromHfJson(const json& j) {
  Vocab v;
  for (const auto& [text, id] : j["model"]["vocab"].items()) {
    const size_t i = id.get<size_t>();
    if (i >= v.tokens.size()) {
      v.tokens.resize(i + 1);
      v.types.resize(i + 1, 1);
    }
    v.tokens[i] = text;
  }
  for (const auto& a : j["added_tokens"]) {
    const size_t i = a["id"].get<size_t>();
    if (i >= v.tokens.size()) {
      v.tokens.resize(i + 1);
      v.types.resize(i + 1, 1);
    }
    v.tokens[i] = a["content"].get<std::string>();
    v.types[i] = 3;
    if (v.tokens[i] == "<|begin_of_text|>") v.bos = static_cast<int32_t>(i);
    if (v.tokens[i] == "<|end_of_text|>") v.eos = static_cast<int32_t>(i);
  }
  for (const auto& m : j["model"]["merges"]) {
    v.merges.push_back(m.is_string() ? m.get<std::string>()
                                     : m[0].get<std::string>() + " " +
                                           m[1].get<std::string>());
  }
  return v;
}

// The first `keep` normal tokens, then every control token (renumbered),
// and the merges whose parts and result are all kept.
Vocab Trim(const Vocab& v, size_t keep) {
  Vocab out;
  std::vector<int32_t> new_id(v.tokens.size(), -1);
  std::unordered_set<std::string> normal;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!(v.types[i] == 3 || (v.types[i] == 1 && i < keep))) continue;
    new_id[i] = static_cast<int32_t>(out.tokens.size());
    out.tokens.push_back(v.tokens[i]);
    out.types.push_back(v.types[i]);
    if (v.types[i] == 1) normal.insert(v.tokens[i]);
  }
  for (const std::string& m : v.merges) {
    const size_t space = m.find(' ');
    const std::string l = m.substr(0, space), r = m.substr(space + 1);
    if (normal.count(l) && normal.count(r) && normal.count(l + r)) {
      out.merges.push_back(m);
    }
  }
  out.bos = v.bos >= 0 ? new_id[v.bos] : -1;
  out.eos = v.eos >= 0 ? new_id[v.eos] : -1;
  return out;
}

std::string TokenizerJson(const Vocab& v, bool pair_merges, bool ignore_merges,
                          const json& extra) {
  json j = extra;
  json vocab = json::object();
  json added = json::array();
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.types[i] == 1) {
      vocab[v.tokens[i]] = i;
    } else {
      added.push_back({{"id", i},
                       {"content", v.tokens[i]},
                       {"special", v.types[i] == 3},
                       {"normalized", false}});
    }
  }
  json merges = json::array();
  for (const std::string& m : v.merges) {
    const size_t space = m.find(' ');
    if (pair_merges) {
      merges.push_back({m.substr(0, space), m.substr(space + 1)});
    } else {
      merges.push_back(m);
    }
  }
  j["added_tokens"] = added;
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"ignore_merges", ignore_merges},
                {"vocab", vocab},
                {"merges", merges}};
  return j.dump(pair_merges ? -1 : 1);
}

std::string Base64(std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < s.size(); i += 3) {
    uint32_t acc = 0;
    const size_t n = std::min<size_t>(3, s.size() - i);
    for (size_t k = 0; k < 3; ++k) {
      acc = acc << 8 | (k < n ? static_cast<uint8_t>(s[i + k]) : 0);
    }
    for (size_t k = 0; k < 4; ++k) {
      out += k <= n ? kAlphabet[(acc >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

std::string Tiktoken(const Vocab& v) {
  std::string out;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.types[i] != 1) continue;
    out += Base64(ternary::detail::VocabBytes(v.tokens[i])) + " " +
           std::to_string(i) + "\n";
  }
  return out;
}

void AddTokenizerKeys(GgufWriter& w, const Vocab& v) {
  w.AddString("tokenizer.ggml.model", "gpt2");
  w.AddStringArray("tokenizer.ggml.tokens", v.tokens);
  std::vector<float> scores(v.tokens.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -float(i);
  w.AddArray("tokenizer.ggml.scores", scores);
  w.AddArray("tokenizer.ggml.token_type", v.types);
  w.AddStringArray("tokenizer.ggml.merges", v.merges);
  if (v.bos >= 0) w.AddU32("tokenizer.ggml.bos_token_id", uint32_t(v.bos));
  if (v.eos >= 0) w.AddU32("tokenizer.ggml.eos_token_id", uint32_t(v.eos));
}

// ---------------------------------------------------------------------------
// GGUF

template <class T>
std::vector<T> LoadArray(std::span<const uint8_t> raw, size_t n) {
  std::vector<T> v(n);
  if (n != 0) std::memcpy(v.data(), raw.data(), n * sizeof(T));
  return v;
}

// Copies a metadata value, arrays cut to `max` elements.
void CopyValue(GgufWriter& w, std::string_view key, const GgufValue& v,
               size_t max) {
  const auto raw = v.raw();
  if (!v.is_array()) {
    switch (v.type()) {
      case GgufType::kString:
        return w.AddString(key, *v.ToString());
      case GgufType::kBool:
        return w.AddBool(key, raw[0] != 0);
      case GgufType::kU8:
        return w.AddU8(key, LoadArray<uint8_t>(raw, 1)[0]);
      case GgufType::kI8:
        return w.AddI8(key, LoadArray<int8_t>(raw, 1)[0]);
      case GgufType::kU16:
        return w.AddU16(key, LoadArray<uint16_t>(raw, 1)[0]);
      case GgufType::kI16:
        return w.AddI16(key, LoadArray<int16_t>(raw, 1)[0]);
      case GgufType::kU32:
        return w.AddU32(key, LoadArray<uint32_t>(raw, 1)[0]);
      case GgufType::kI32:
        return w.AddI32(key, LoadArray<int32_t>(raw, 1)[0]);
      case GgufType::kU64:
        return w.AddU64(key, LoadArray<uint64_t>(raw, 1)[0]);
      case GgufType::kI64:
        return w.AddI64(key, LoadArray<int64_t>(raw, 1)[0]);
      case GgufType::kF32:
        return w.AddF32(key, LoadArray<float>(raw, 1)[0]);
      case GgufType::kF64:
        return w.AddF64(key, LoadArray<double>(raw, 1)[0]);
      case GgufType::kArray:
        return;
    }
  }
  const size_t n = std::min<uint64_t>(v.count(), max);
  switch (v.element_type()) {
    case GgufType::kString: {
      const auto s = *v.ToStrings();
      return w.AddStringArray(
          key, std::vector<std::string_view>(s.begin(), s.begin() + n));
    }
    case GgufType::kBool: {
      std::vector<bool> b;
      for (size_t i = 0; i < n; ++i) b.push_back(raw[i] != 0);
      return w.AddArray(key, b);
    }
    case GgufType::kU8:
      return w.AddArray(key, LoadArray<uint8_t>(raw, n));
    case GgufType::kI8:
      return w.AddArray(key, LoadArray<int8_t>(raw, n));
    case GgufType::kU16:
      return w.AddArray(key, LoadArray<uint16_t>(raw, n));
    case GgufType::kI16:
      return w.AddArray(key, LoadArray<int16_t>(raw, n));
    case GgufType::kU32:
      return w.AddArray(key, LoadArray<uint32_t>(raw, n));
    case GgufType::kI32:
      return w.AddArray(key, LoadArray<int32_t>(raw, n));
    case GgufType::kU64:
      return w.AddArray(key, LoadArray<uint64_t>(raw, n));
    case GgufType::kI64:
      return w.AddArray(key, LoadArray<int64_t>(raw, n));
    case GgufType::kF32:
      return w.AddArray(key, LoadArray<float>(raw, n));
    case GgufType::kF64:
      return w.AddArray(key, LoadArray<double>(raw, n));
    case GgufType::kArray:
      return;
  }
}

// Row length of a shrunk tensor: one block (a few values for floats).
int64_t ShrunkRow(GgmlType t, int64_t ne0) {
  switch (t) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
      return std::min<int64_t>(ne0, 16);
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
      return 32;
    case GgmlType::kI2_S:
      return 128;
    case GgmlType::kIQ1_BN:
    case GgmlType::kIQ2_BN:
      return 64;
    default:
      return 256;  // Q6_K, TQ1_0, TQ2_0
  }
}

// A real GGUF with its tokenizer trimmed to `vocab` (if given), other arrays
// to 16 elements and each tensor to at most 2 rows of one block, its payload
// the prefix of the real one (I2_S: codes prefix + the real scale).
Bytes ShrinkGguf(const GgufFile& g, const Vocab* vocab, bool tensors) {
  GgufWriter w(g.alignment());
  for (const auto& kv : g.metadata()) {
    if (kv.key == "general.alignment") continue;
    if (kv.key.starts_with("tokenizer.ggml.") &&
        kv.key != "tokenizer.ggml.pre" &&
        kv.key != "tokenizer.ggml.add_bos_token") {
      continue;
    }
    CopyValue(w, kv.key, kv.value, 16);
  }
  if (vocab != nullptr) AddTokenizerKeys(w, *vocab);
  for (const auto& t :
       tensors ? g.tensors() : std::span<const ternary::io::GgufTensorInfo>()) {
    std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    ne[0] = ShrunkRow(t.type, ne[0]);
    for (size_t d = 1; d < ne.size(); ++d) ne[d] = std::min<int64_t>(ne[d], 2);
    Bytes b(ternary::io::GgmlTensorBytes(t.type, ne));
    const auto real = g.TensorData(t);
    std::copy_n(real.begin(), std::min(b.size(), real.size()), b.begin());
    if (t.type == GgmlType::kI2_S) {
      int64_t n = 1;
      for (int64_t d : ne) n *= d;
      std::copy_n(real.begin() + t.elements() / 4, 4, b.begin() + n / 4);
    }
    w.AddTensor(t.name, ne, t.type, std::move(b));
  }
  return w.Serialize();
}

Bytes Floats(size_t n, float scale) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = scale * float(int(i % 7) - 3);
  Bytes b(4 * n);
  ternary::quant::EncodeF32(x, b);
  return b;
}

std::vector<int8_t> Trits(size_t n) {
  std::vector<int8_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = static_cast<int8_t>(int(i * 7 % 3) - 1);
  return t;
}

// A one-layer bitnet-b1.58 file with a tensor of every supported type under
// the graph's names, so the checkpoint target reaches every decoder.
Bytes EveryTypeCheckpoint() {
  using ternary::quant::EncodeF16;
  GgufWriter w;
  w.AddString("general.architecture", "bitnet-b1.58");
  const std::string p = "bitnet-b1.58.";
  w.AddU32(p + "vocab_size", 2);
  w.AddU32(p + "context_length", 64);
  w.AddU32(p + "embedding_length", 128);
  w.AddU32(p + "block_count", 1);
  w.AddU32(p + "feed_forward_length", 256);
  w.AddU32(p + "attention.head_count", 2);
  w.AddU32(p + "attention.head_count_kv", 1);
  w.AddU32(p + "rope.dimension_count", 64);
  w.AddF32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
  w.AddF32(p + "rope.freq_base", 10000.0f);
  w.AddString(p + "rope.scaling.type", "linear");
  w.AddF32(p + "rope.scaling.factor", 1.0f);
  const auto add = [&](const std::string& name, std::vector<int64_t> ne,
                       GgmlType type,
                       Bytes b) { w.AddTensor(name, ne, type, std::move(b)); };
  const auto sized = [](GgmlType type, std::vector<int64_t> ne) {
    return Bytes(ternary::io::GgmlTensorBytes(type, ne));
  };
  add("token_embd.weight", {256, 2}, GgmlType::kQ6_K,
      sized(GgmlType::kQ6_K, {256, 2}));
  {
    Bytes b = sized(GgmlType::kQ8_0, {32, 2});
    ternary::quant::QuantizeRowQ8_0(std::vector<float>(64, 0.5f), b);
    add("output.weight", {32, 2}, GgmlType::kQ8_0, std::move(b));
  }
  add("output_norm.weight", {16}, GgmlType::kF32, Floats(16, 1.0f));
  const std::string b0 = "blk.0.";
  add(b0 + "attn_norm.weight", {32}, GgmlType::kQ4_0,
      sized(GgmlType::kQ4_0, {32}));
  {
    Bytes b(32);
    EncodeF16(std::vector<float>(16, 1.0f), b);
    add(b0 + "attn_sub_norm.weight", {16}, GgmlType::kF16, std::move(b));
  }
  add(b0 + "ffn_norm.weight", {16}, GgmlType::kBF16, Bytes(32, 0x3f));
  add(b0 + "ffn_sub_norm.weight", {16}, GgmlType::kF32, Floats(16, 1.0f));
  add(b0 + "attn_q.weight", {128, 2}, GgmlType::kI2_S,
      TinyGguf::EncodeTernary(GgmlType::kI2_S, Trits(256), 2, 128, 0.5f));
  add(b0 + "attn_k.weight", {256, 1}, GgmlType::kTQ2_0,
      TinyGguf::EncodeTernary(GgmlType::kTQ2_0, Trits(256), 1, 256, 0.25f));
  add(b0 + "attn_v.weight", {256, 1}, GgmlType::kTQ1_0,
      TinyGguf::EncodeTernary(GgmlType::kTQ1_0, Trits(256), 1, 256, 0.25f));
  // IQ2_BN rows of zeros: f32 d, then 2-bit codes 0x55.
  add(b0 + "attn_output.weight", {64, 2}, GgmlType::kIQ2_BN,
      TinyGguf::EncodeTernary(GgmlType::kIQ2_BN, std::vector<int8_t>(128), 2,
                              64, 0.5f));
  {
    Bytes b = sized(GgmlType::kIQ1_BN, {64, 2});
    std::fill(b.begin(), b.end(), 0x3c);
    add(b0 + "ffn_gate.weight", {64, 2}, GgmlType::kIQ1_BN, std::move(b));
  }
  add(b0 + "ffn_up.weight", {16, 2}, GgmlType::kF32, Floats(32, 0.5f));
  {
    std::vector<float> x(32);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * float(int(i % 3) - 1);
    Bytes b(64);
    EncodeF16(x, b);
    add(b0 + "ffn_down.weight", {16, 2}, GgmlType::kF16, std::move(b));
  }
  return w.Serialize();
}

// Every metadata value type, scalar and array, with a 64-byte alignment.
Bytes EveryValueType() {
  GgufWriter w(64);
  w.AddU8("u8", 1);
  w.AddI8("i8", -1);
  w.AddU16("u16", 2);
  w.AddI16("i16", -2);
  w.AddU32("u32", 3);
  w.AddI32("i32", -3);
  w.AddU64("u64", 4);
  w.AddI64("i64", -4);
  w.AddF32("f32", 0.5f);
  w.AddF64("f64", 0.25);
  w.AddBool("bool", true);
  w.AddString("string", "text");
  w.AddArray("array.u8", std::vector<uint8_t>{1, 2});
  w.AddArray("array.i16", std::vector<int16_t>{-1, 2});
  w.AddArray("array.u32", std::vector<uint32_t>{1, 2});
  w.AddArray("array.i32", std::vector<int32_t>{-1, 2});
  w.AddArray("array.u64", std::vector<uint64_t>{1, 2});
  w.AddArray("array.i64", std::vector<int64_t>{-1, 2});
  w.AddArray("array.f32", std::vector<float>{1, 2});
  w.AddArray("array.f64", std::vector<double>{1, 2});
  w.AddArray("array.bool", std::vector<bool>{true, false});
  w.AddStringArray("array.string", std::vector<std::string>{"a", "bc"});
  w.AddTensor("t", {4}, GgmlType::kF32, Floats(4, 1.0f));
  return w.Serialize();
}

// bitnet.cpp's TL1/TL2 tensors, each with its '<name>_scale' F32 tensor
// inside the 32-byte tail of the payload (a layout GgufWriter does not
// produce, so built byte by byte).
Bytes TlScaleTails() {
  const auto id = [](auto type) { return static_cast<uint32_t>(type); };
  ternary::gguf_test::Bytes b;
  b.Header(4, 1).Str("general.architecture").U32(id(GgufType::kString));
  b.Str("bitnet-b1.58");
  b.Info("tl1", {128, 1}, id(GgmlType::kTL1), 0)      // 0..64
      .Info("tl2", {256, 1}, id(GgmlType::kTL2), 64)  // 64..160
      .Info("tl1_scale", {1}, id(GgmlType::kF32), 32)
      .Info("tl2_scale", {1}, id(GgmlType::kF32), 128)
      .PadTo(32);
  b.b.resize(b.b.size() + 160, 0x55);
  return b.b;
}

void GgufSeeds(const fs::path& src, const Vocab& small_vocab) {
  const char* files[] = {
      "tests/data/random-256/bitnet.cpp-i2_s.gguf",
      "tests/data/random-256/llama.cpp-tq1_0.gguf",
      "tests/data/random-256/llama.cpp-tq2_0.gguf",
      "tests/data/gguf/bitnet.cpp-i2_s.gguf",
      "tests/data/gguf/bitnet.cpp-i2_s-f16embd.gguf",
      "tests/data/gguf/ik_llama-iq1_bn.gguf",
      "tests/data/gguf/ik_llama-iq2_bn.gguf",
  };
  for (const char* f : files) {
    const GgufFile g = GgufFile::Open(src / f);
    const std::string stem = fs::path(f).parent_path().filename().string() +
                             "-" + fs::path(f).stem().string();
    const Bytes whole = ShrinkGguf(g, &small_vocab, true);
    for (const char* target : {"gguf_fuzz", "gguf_checkpoint_fuzz"}) {
      Write(target, stem + ".gguf", whole);
      Write(target, stem + "-no-vocab.gguf", ShrinkGguf(g, nullptr, true));
    }
    Write("gguf_tokenizer_fuzz", stem + ".gguf",
          ShrinkGguf(g, &small_vocab, false));
  }
  for (const char* target : {"gguf_fuzz", "gguf_checkpoint_fuzz"}) {
    Write(target, "every-type-checkpoint.gguf", EveryTypeCheckpoint());
  }
  Write("gguf_fuzz", "every-value-type.gguf", EveryValueType());
  Write("gguf_fuzz", "tl-scale-tails.gguf", TlScaleTails());
  Write("gguf_fuzz", "empty.gguf", GgufWriter().Serialize());
  Bytes v2 = GgufWriter().Serialize();
  v2[4] = 2;
  Write("gguf_fuzz", "empty-v2.gguf", v2);

  // Tokenizer-only files: tokenizer.ggml.pre absent / llama-bpe / default,
  // without token_type, without BOS.
  for (const char* pre : {"", "llama-bpe", "default"}) {
    GgufWriter w;
    if (*pre != '\0') w.AddString("tokenizer.ggml.pre", pre);
    AddTokenizerKeys(w, small_vocab);
    w.AddString("tokenizer.chat_template", "{{ messages }}");
    Write("gguf_tokenizer_fuzz", std::string("vocab-pre-") + pre + ".gguf",
          w.Serialize());
  }
  {
    GgufWriter w;
    w.AddString("tokenizer.ggml.model", "gpt2");
    w.AddStringArray("tokenizer.ggml.tokens", small_vocab.tokens);
    w.AddStringArray("tokenizer.ggml.merges", small_vocab.merges);
    w.AddBool("tokenizer.ggml.add_bos_token", false);
    Write("gguf_tokenizer_fuzz", "vocab-no-types.gguf", w.Serialize());
  }
}

// ---------------------------------------------------------------------------
// safetensors

// A safetensors file: `header` padded with spaces to a multiple of 8 bytes
// (as safetensors writes it), then the tensors' data.
Bytes Safetensors(const json& header,
                  const std::vector<ternary::test::TensorBytes>& tensors) {
  std::string h = header.dump();
  h.resize((h.size() + 7) / 8 * 8, ' ');
  return ternary::test::SerializeWithHeader(h, tensors);
}

// The real file's embeddings, final norm and layer 0, each dim cut to 2
// (data: the real prefix), with its __metadata__.
Bytes ShrinkSafetensors(const fs::path& path) {
  const auto f = ternary::io::SafetensorsFile::Open(path);
  std::vector<ternary::test::TensorBytes> tensors;
  for (const auto& t : f.tensors()) {
    if (t.name.find("layers.") != std::string::npos &&
        t.name.find("layers.0.") == std::string::npos) {
      continue;
    }
    std::vector<uint64_t> shape = t.shape;
    uint64_t n = 1;
    for (uint64_t& d : shape) n *= (d = std::min<uint64_t>(d, 2));
    const size_t bytes = n * (t.data.size() / std::max<uint64_t>(t.numel(), 1));
    tensors.push_back({t.name, t.dtype_name, shape,
                       Bytes(t.data.begin(), t.data.begin() + bytes)});
  }
  json header = ternary::test::HeaderJson(tensors);
  header.erase("__metadata__");
  if (!f.metadata().empty()) header["__metadata__"] = f.metadata();
  return Safetensors(header, tensors);
}

void SafetensorsSeeds(const fs::path& src) {
  Write("safetensors_fuzz", "tiny-shakespeare.safetensors",
        ShrinkSafetensors(src / "models/tiny-shakespeare/model.safetensors"));
  Write(
      "safetensors_fuzz", "random-256-bf16.safetensors",
      ShrinkSafetensors(src / "tests/data/random-256-bf16/model.safetensors"));
  // One tensor of every dtype, a scalar and an empty tensor.
  std::vector<ternary::test::TensorBytes> tensors;
  const std::pair<const char*, size_t> dtypes[] = {
      {"BF16", 2}, {"F16", 2}, {"F32", 4},  {"U8", 1},      {"I8", 1},
      {"F64", 8},  {"I16", 2}, {"U16", 2},  {"I32", 4},     {"U32", 4},
      {"I64", 8},  {"U64", 8}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  for (const auto& [name, size] : dtypes) {
    tensors.push_back(
        {std::string("t.") + name, name, {2, 2}, Bytes(4 * size, 0x3c)});
  }
  tensors.push_back({"scalar", "F32", {}, Bytes(4, 0x3f)});
  tensors.push_back({"empty", "BF16", {0, 4}, {}});
  Write("safetensors_fuzz", "every-dtype.safetensors",
        Safetensors(ternary::test::HeaderJson(tensors), tensors));
  Write("safetensors_fuzz", "empty.safetensors",
        Safetensors(json::object(), {}));
}

// ---------------------------------------------------------------------------
// config.json

void ConfigSeeds(const fs::path& src) {
  const std::string base_text =
      ReadText(src / "models/tiny-shakespeare/config.json");
  Write("hf_config_fuzz", "tiny-shakespeare.json", base_text);
  Write("hf_config_fuzz", "random-256-bf16.json",
        ReadText(src / "tests/data/random-256-bf16/config.json"));
  const json base = json::parse(base_text);
  {  // transformers 5: rope_parameters
    json j = base;
    j.erase("rope_theta");
    j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 10000.0}};
    Write("hf_config_fuzz", "rope-parameters.json", j.dump(2));
  }
  {  // transformers 4: rope_scaling, eos list, master weights
    json j = base;
    j["rope_scaling"] = {{"type", "default"}};
    j["eos_token_id"] = {4092, 4093};
    j["bos_token_id"] = nullptr;
    j["quantization_config"]["quantization_mode"] = "online";
    j["quantization_config"]["linear_class"] = "bitlinear";
    Write("hf_config_fuzz", "online-eos-list.json", j.dump());
  }
  {  // only the required keys
    json j = {{"model_type", "bitnet"},
              {"hidden_size", 64},
              {"intermediate_size", 128},
              {"num_hidden_layers", 1},
              {"num_attention_heads", 4},
              {"vocab_size", 48},
              {"tie_word_embeddings", false},
              {"quantization_config", {{"quant_method", "bitnet"}}}};
    Write("hf_config_fuzz", "minimal.json", j.dump());
  }
}

// ---------------------------------------------------------------------------
// Tokenizers and text

void TokenizerSeeds(const fs::path& src, const Vocab& full) {
  const json real =
      json::parse(ReadText(src / "models/tiny-shakespeare/tokenizer.json"));
  const Vocab v = Trim(full, 300);
  json extra = json::object();
  for (const char* k : {"version", "normalizer", "pre_tokenizer",
                        "post_processor", "decoder"}) {
    extra[k] = real[k];
  }
  Write("tokenizer_json_fuzz", "tiny-300-pairs.json",
        TokenizerJson(v, true, false, extra));
  Write("tokenizer_json_fuzz", "tiny-300-strings.json",
        TokenizerJson(v, false, true, json::object()));
  Write("tokenizer_json_fuzz", "tiny-64.json",
        TokenizerJson(Trim(full, 64), true, false, json::object()));

  Write("tiktoken_fuzz", "tiny-300.tiktoken", Tiktoken(v));
  const std::string llama3 =
      ReadText(src / "tests/data/llama3/tokenizer.model");
  size_t end = 0;
  for (int line = 0; line < 300 && end != std::string::npos; ++line) {
    end = llama3.find('\n', end + 1);
  }
  Write("tiktoken_fuzz", "llama3-300.tiktoken", llama3.substr(0, end + 1));

  // tokenizer_encode_fuzz: options byte, then text.
  const std::string text =
      ReadText(src / "models/tiny-shakespeare/heldout.txt");
  const size_t kChunks = 24, kLen = 400;
  for (size_t i = 0; i < kChunks; ++i) {
    const size_t at = i * (text.size() - kLen) / kChunks;
    Write("tokenizer_encode_fuzz", "heldout-" + std::to_string(i),
          std::string(1, char(i % 8)) + text.substr(at, kLen));
  }
  const std::string_view special[] = {
      "<|begin_of_text|>ROMEO:\nHello<|end_of_text|><|eot_id|>",
      "I'LL don't we've 1234567 3.14159\r\n\r\n  \t x",
      "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x99\x82\xf0\x9f\x91\x8d",
      "bad \xff\xfe \xc3 \xe4\xb8 \xed\xa0\x80 \xf4\x90\x80\x80 end",
      "      \n\n\n   !!!???...;;;",
  };
  for (size_t i = 0; i < std::size(special); ++i) {
    for (const char flags : {'\x00', '\x03', '\x06'}) {
      Write("tokenizer_encode_fuzz",
            "special-" + std::to_string(i) + "-" + std::to_string(int(flags)),
            std::string(1, flags) + std::string(special[i]));
    }
  }
}

// tokenizer_added_tokens_fuzz: flags, block size - 1, tokens (length byte,
// bit 4 control; then the bytes; 0 ends), text.
void AddedTokenSeeds(const fs::path& src) {
  const auto input = [](char flags, char block,
                        const std::vector<std::pair<std::string, bool>>& tokens,
                        std::string_view text) {
    std::string s = {flags, block};
    for (const auto& [t, control] : tokens) {
      s += char(t.size() | (control ? 16 : 0));
      s += t;
    }
    s += '\0';
    s += text;
    return s;
  };
  const std::vector<std::pair<std::string, bool>> llama = {
      {"<|eot_id|>", true}, {"<|eot", false}, {"<|begin_of_t", true},
      {"_id|>", false},     {"<|", false},    {"|>", true}};
  const std::vector<std::pair<std::string, bool>> overlap = {
      {"<a>", false},  {"<a>b", false},  {"a>b<", false}, {"ab", true},
      {"bc", false},   {"abc", true},    {"<b>", true},   {"<b>", false},
      {"\xa9", false}, {"xxxxy", false}, {"xxy", true},   {"y", false}};
  const std::string text =
      ReadText(src / "models/tiny-shakespeare/heldout.txt").substr(0, 600);
  for (const char flags : {'\x00', '\x01', '\x03'}) {
    for (const char block : {'\x00', '\x06', '\xff'}) {
      const std::string tag =
          std::to_string(int(flags)) + "-" + std::to_string(uint8_t(block));
      Write("tokenizer_added_tokens_fuzz", "llama-" + tag,
            input(flags, block, llama,
                  "<|begin_of_text|>ROMEO:<|eot_id|><|eot<|<||>|>_id|>x"));
      Write("tokenizer_added_tokens_fuzz", "overlap-" + tag,
            input(flags, block, overlap,
                  "<a>bc ca>b<a> abc <b> caf\xc3\xa9 xxxxxxxxy xxy"));
      Write("tokenizer_added_tokens_fuzz", "text-" + tag,
            input(flags, block, {{"ROMEO", false}, {"the", true}, {" ", false}},
                  text));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SOURCE_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  const fs::path src = argv[1];
  g_out = argv[2];
  try {
    const Vocab full = VocabFromHfJson(
        json::parse(ReadText(src / "models/tiny-shakespeare/tokenizer.json")));
    GgufSeeds(src, Trim(full, 272));
    SafetensorsSeeds(src);
    ConfigSeeds(src);
    TokenizerSeeds(src, full);
    AddedTokenSeeds(src);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
