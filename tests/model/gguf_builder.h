// Test helper: a small random bitnet-b1.58 GGUF built with GgufWriter, so
// loader tests can break one key or tensor at a time.
#ifndef TERNARY_TESTS_MODEL_GGUF_BUILDER_H_
#define TERNARY_TESTS_MODEL_GGUF_BUILDER_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ternary/io/gguf.h"
#include "ternary/io/gguf_writer.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/quant/ggml_blocks.h"

namespace ternary::test {

// IQ2_BN rows (ik_llama.cpp): f32 d, then K/64 blocks of 16 bytes, byte j =
// c[j] | c[j+16] << 2 | c[j+32] << 4 | c[j+48] << 6 (c = w + 1).
inline std::vector<uint8_t> EncodeIQ2_BN(const std::vector<int8_t>& t,
                                         size_t rows, size_t cols,
                                         const std::vector<float>& d) {
  const size_t row_bytes = 4 + cols / 64 * 16;
  std::vector<uint8_t> out(rows * row_bytes);
  for (size_t r = 0; r < rows; ++r) {
    uint8_t* y = &out[r * row_bytes];
    std::memcpy(y, &d[r], 4);
    for (size_t b = 0; b < cols / 64; ++b) {
      const int8_t* w = &t[r * cols + b * 64];
      for (size_t j = 0; j < 16; ++j) {
        y[4 + 16 * b + j] =
            static_cast<uint8_t>((w[j] + 1) | (w[j + 16] + 1) << 2 |
                                 (w[j + 32] + 1) << 4 | (w[j + 48] + 1) << 6);
      }
    }
  }
  return out;
}

// hidden 256, ffn 256, 4 heads on 2 KV heads of 64, 1 layer, vocab 16:
// every K is 256, so every ternary type fits.
struct TinyGguf {
  static constexpr int kHidden = 256, kFfn = 256, kHeads = 4, kKvHeads = 2,
                       kHeadDim = 64, kLayers = 1, kVocab = 16;

  struct Tensor {
    std::string name;
    std::vector<int64_t> ne;
    io::GgmlType type;
    std::vector<uint8_t> data;
  };

  std::string arch = "bitnet-b1.58";
  std::vector<std::string> drop_keys;
  std::vector<std::pair<std::string, std::string>> extra_strings;
  std::vector<Tensor> tensors;
  // The ternary values and α written for each projection.
  std::map<std::string, std::vector<int8_t>> ternary;
  std::map<std::string, float> alpha;

  Tensor& Get(const std::string& name) {
    for (auto& t : tensors) {
      if (t.name == name) return t;
    }
    throw std::runtime_error("no tensor " + name);
  }
  void Remove(const std::string& name) {
    std::erase_if(tensors, [&](const Tensor& t) { return t.name == name; });
  }
  void Add(std::string name, std::vector<int64_t> ne, io::GgmlType type,
           std::vector<uint8_t> data) {
    tensors.push_back({std::move(name), std::move(ne), type, std::move(data)});
  }

  io::GgufWriter Writer() const {
    io::GgufWriter w;
    const std::string p = arch + ".";
    auto keep = [&](const std::string& k) {
      return std::find(drop_keys.begin(), drop_keys.end(), k) ==
             drop_keys.end();
    };
    auto u32 = [&](const std::string& k, uint32_t v) {
      if (keep(k)) w.AddU32(k, v);
    };
    if (keep("general.architecture")) w.AddString("general.architecture", arch);
    u32(p + "vocab_size", kVocab);
    u32(p + "context_length", 128);
    u32(p + "embedding_length", kHidden);
    u32(p + "block_count", kLayers);
    u32(p + "feed_forward_length", kFfn);
    u32(p + "rope.dimension_count", kHeadDim);
    u32(p + "attention.head_count", kHeads);
    u32(p + "attention.head_count_kv", kKvHeads);
    if (keep(p + "attention.layer_norm_rms_epsilon")) {
      w.AddF32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
    }
    if (keep(p + "rope.freq_base")) w.AddF32(p + "rope.freq_base", 10000.0f);
    for (const auto& [k, v] : extra_strings) w.AddString(k, v);
    if (keep("tokenizer.ggml.model")) {
      w.AddString("tokenizer.ggml.model", "gpt2");
    }
    std::vector<std::string> tokens;
    for (int i = 0; i < kVocab - 2; ++i) {
      tokens.push_back(std::string(1, static_cast<char>('a' + i)));
    }
    tokens.push_back("ab");
    tokens.push_back("<|begin_of_text|>");
    std::vector<int32_t> types(kVocab, 1);
    types.back() = 3;
    w.AddStringArray("tokenizer.ggml.tokens", tokens);
    w.AddArray("tokenizer.ggml.token_type", types);
    w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{"a b"});
    u32("tokenizer.ggml.bos_token_id", kVocab - 1);
    for (const Tensor& t : tensors) {
      w.AddTensor(t.name, t.ne, t.type, t.data);
    }
    return w;
  }
  std::vector<uint8_t> Serialize() const { return Writer().Serialize(); }
  void Write(const std::filesystem::path& path) const {
    Writer().WriteFile(path);
  }

  // Ternary values in `type`: I2_S, TQ2_0, TQ1_0 or IQ2_BN (one α).
  static std::vector<uint8_t> EncodeTernary(io::GgmlType type,
                                            const std::vector<int8_t>& t,
                                            size_t rows, size_t cols,
                                            float alpha) {
    const std::vector<int64_t> ne = {int64_t(cols), int64_t(rows)};
    std::vector<uint8_t> bytes(io::GgmlTensorBytes(type, ne));
    switch (type) {
      case io::GgmlType::kI2_S:
        quant::EncodeI2S(t, alpha, bytes);
        break;
      case io::GgmlType::kTQ2_0:
        quant::EncodeTQ2_0(t, alpha, bytes);
        break;
      case io::GgmlType::kTQ1_0:
        quant::EncodeTQ1_0(t, alpha, bytes);
        break;
      case io::GgmlType::kIQ2_BN:
        bytes = EncodeIQ2_BN(t, rows, cols, std::vector<float>(rows, alpha));
        break;
      default:
        throw std::runtime_error("EncodeTernary: unsupported type");
    }
    return bytes;
  }

  static TinyGguf Make(io::GgmlType weight_type = io::GgmlType::kI2_S,
                       uint32_t seed = 3) {
    TinyGguf g;
    std::mt19937 rng{seed};
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> tern(-1, 1);
    auto f32 = [&](const std::string& name, std::vector<int64_t> ne, float mean,
                   float sd) {
      size_t n = 1;
      for (int64_t d : ne) n *= size_t(d);
      std::vector<float> x(n);
      for (float& v : x) v = mean + sd * normal(rng);
      std::vector<uint8_t> bytes(4 * n);
      quant::EncodeF32(x, bytes);
      g.Add(name, ne, io::GgmlType::kF32, std::move(bytes));
    };
    auto proj = [&](const std::string& name, size_t rows, size_t cols) {
      std::vector<int8_t> t(rows * cols);
      for (int8_t& v : t) v = static_cast<int8_t>(tern(rng));
      const float a = 0.03f + 0.001f * float(rows % 13);
      g.Add(name, {int64_t(cols), int64_t(rows)}, weight_type,
            EncodeTernary(weight_type, t, rows, cols, a));
      g.ternary[name] = std::move(t);
      g.alpha[name] = a;
    };
    f32("token_embd.weight", {kHidden, kVocab}, 0.0f, 1.0f);
    for (int l = 0; l < kLayers; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      f32(b + "attn_norm.weight", {kHidden}, 1.0f, 0.1f);
      proj(b + "attn_q.weight", kHeads * kHeadDim, kHidden);
      proj(b + "attn_k.weight", kKvHeads * kHeadDim, kHidden);
      proj(b + "attn_v.weight", kKvHeads * kHeadDim, kHidden);
      f32(b + "attn_sub_norm.weight", {kHidden}, 1.0f, 0.1f);
      proj(b + "attn_output.weight", kHidden, kHeads * kHeadDim);
      f32(b + "ffn_norm.weight", {kHidden}, 1.0f, 0.1f);
      proj(b + "ffn_gate.weight", kFfn, kHidden);
      proj(b + "ffn_up.weight", kFfn, kHidden);
      f32(b + "ffn_sub_norm.weight", {kFfn}, 1.0f, 0.1f);
      proj(b + "ffn_down.weight", kHidden, kFfn);
    }
    f32("output_norm.weight", {kHidden}, 1.0f, 0.1f);
    return g;
  }
};

// Asks a source for every tensor with the shapes Model::FromSource uses.
template <class S>
void ReadEveryTensor(const S& s) {
  const ModelConfig c = s.config();
  const size_t h = c.dims.hidden, f = c.dims.ffn, v = c.dims.vocab,
               qd = c.q_dim(), kv = c.kv_dim();
  (void)s.Floats({TensorId::kEmbed}, v, h);
  for (int l = 0; l < c.dims.layers; ++l) {
    (void)s.Floats({TensorId::kAttnNorm, l}, 1, h);
    (void)s.Ternary({TensorId::kQ, l}, qd, h);
    (void)s.Ternary({TensorId::kK, l}, kv, h);
    (void)s.Ternary({TensorId::kV, l}, kv, h);
    (void)s.Floats({TensorId::kAttnSubNorm, l}, 1, qd);
    (void)s.Ternary({TensorId::kO, l}, h, qd);
    (void)s.Floats({TensorId::kFfnNorm, l}, 1, h);
    (void)s.Ternary({TensorId::kGate, l}, f, h);
    (void)s.Ternary({TensorId::kUp, l}, f, h);
    (void)s.Floats({TensorId::kFfnSubNorm, l}, 1, f);
    (void)s.Ternary({TensorId::kDown, l}, h, f);
  }
  (void)s.Floats({TensorId::kOutputNorm}, 1, h);
  if (!c.tie_word_embeddings) (void)s.Floats({TensorId::kLmHead}, v, h);
}

}  // namespace ternary::test

#endif  // TERNARY_TESTS_MODEL_GGUF_BUILDER_H_
