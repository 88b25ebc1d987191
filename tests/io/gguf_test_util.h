// Helpers shared by the GGUF tests: test data paths, a minimal private
// safetensors reader (bf16 masters), the reference ternarisation, and a byte
// builder for hand-made (mostly broken) GGUF files.
#ifndef TERNARY_TESTS_IO_GGUF_TEST_UTIL_H_
#define TERNARY_TESTS_IO_GGUF_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ternary/util/half.h"

namespace ternary::gguf_test {

inline std::filesystem::path DataDir() { return TERNARY_TEST_DATA_DIR; }

inline std::vector<uint8_t> ReadBytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Just enough safetensors to read the bf16 master weights of the fixtures.
class Bf16Checkpoint {
 public:
  explicit Bf16Checkpoint(const std::filesystem::path& p)
      : bytes_(ReadBytes(p)) {
    uint64_t n = 0;
    std::memcpy(&n, bytes_.data(), 8);
    header_ = nlohmann::json::parse(bytes_.begin() + 8, bytes_.begin() + 8 + n);
    data_ = 8 + n;
  }
  // Values of a BF16 tensor as float (exact) and its shape.
  std::vector<float> Get(const std::string& name,
                         std::vector<int64_t>* shape = nullptr) const {
    const auto& t = header_.at(name);
    if (t.at("dtype") != "BF16")
      throw std::runtime_error(name + " is not BF16");
    const uint64_t b = t.at("data_offsets")[0], e = t.at("data_offsets")[1];
    if (shape) *shape = t.at("shape").get<std::vector<int64_t>>();
    std::vector<float> out((e - b) / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      const uint8_t* p = &bytes_[data_ + b + 2 * i];
      out[i] = Bf16ToFloat(static_cast<uint16_t>(p[0] | p[1] << 8));
    }
    return out;
  }

 private:
  std::vector<uint8_t> bytes_;
  nlohmann::json header_;
  size_t data_ = 0;
};

// GGUF tensor name of a BitLinear weight → Hugging Face name
// (docs/formats.md §10.3).
inline std::string HfName(std::string_view gguf) {
  const size_t dot = gguf.find('.', 4);
  const std::string layer(gguf.substr(4, dot - 4));
  const std::string_view what = gguf.substr(dot + 1);
  const std::string p = "model.layers." + layer + ".";
  if (what == "attn_q.weight") return p + "self_attn.q_proj.weight";
  if (what == "attn_k.weight") return p + "self_attn.k_proj.weight";
  if (what == "attn_v.weight") return p + "self_attn.v_proj.weight";
  if (what == "attn_output.weight") return p + "self_attn.o_proj.weight";
  if (what == "ffn_gate.weight") return p + "mlp.gate_proj.weight";
  if (what == "ffn_up.weight") return p + "mlp.up_proj.weight";
  if (what == "ffn_down.weight") return p + "mlp.down_proj.weight";
  if (what == "attn_norm.weight") return p + "input_layernorm.weight";
  if (what == "ffn_norm.weight") return p + "post_attention_layernorm.weight";
  if (what == "attn_sub_norm.weight")
    return p + "self_attn.attn_sub_norm.weight";
  if (what == "ffn_sub_norm.weight") return p + "mlp.ffn_sub_norm.weight";
  throw std::runtime_error("no HF name for " + std::string(gguf));
}

// docs/numerics.md §2.1 absmean ternarisation. The mean is accumulated in
// double; PyTorch's float32 reduction may differ in the last ulp of s, which
// can only flip elements lying (almost) exactly on |W·s| = 0.5: `borderline`
// marks them.
struct Ternarized {
  std::vector<int8_t> t;
  std::vector<bool> borderline;
  float alpha = 0;  // 1/s
};
inline Ternarized Ternarize(const std::vector<float>& w) {
  double sum = 0;
  for (float v : w) sum += std::fabs(v);
  const float gamma = static_cast<float>(sum / static_cast<double>(w.size()));
  const float s = 1.0f / std::max(gamma, 1e-5f);
  Ternarized r;
  r.t.resize(w.size());
  r.borderline.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const float x = w[i] * s;
    r.t[i] = static_cast<int8_t>(std::clamp(std::nearbyint(x), -1.0f, 1.0f));
    r.borderline[i] = std::fabs(std::fabs(x) - 0.5f) <= 1e-5f;
  }
  r.alpha = 1.0f / s;
  return r;
}

// Little-endian byte builder for hand-made GGUF files.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes& Raw(std::string_view s) {
    for (char c : s)
      b.push_back(static_cast<uint8_t>(c));  // insert() trips GCC 12's
    return *this;                            // -Wstringop-overflow
  }
  template <class T>
  Bytes& Put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));  // tests run on little-endian hosts
    for (uint8_t x : tmp) b.push_back(x);
    return *this;
  }
  Bytes& U32(uint32_t v) { return Put(v); }
  Bytes& U64(uint64_t v) { return Put(v); }
  Bytes& Str(std::string_view s) { return U64(s.size()).Raw(s); }
  Bytes& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return Raw("GGUF").U32(version).U64(n_tensors).U64(n_kv);
  }
  // A tensor info with 1..4 dims.
  Bytes& Info(std::string_view name, std::vector<uint64_t> ne, uint32_t type,
              uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) U64(d);
    return U32(type).U64(offset);
  }
  Bytes& PadTo(size_t align) {
    b.resize((b.size() + align - 1) / align * align, 0);
    return *this;
  }
  Bytes& Zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
};

}  // namespace ternary::gguf_test

#endif  // TERNARY_TESTS_IO_GGUF_TEST_UTIL_H_
