// config.json of a Hugging Face BitNetForCausalLM checkpoint (transformers 4.x
// and 5.x).
#ifndef TERNARY_IO_HF_CONFIG_H_
#define TERNARY_IO_HF_CONFIG_H_

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "ternary/io/model_limits.h"
#include "ternary/io/read_file.h"
#include "ternary/util/error.h"

namespace ternary::io {

// How the projection weights are stored
// (quantization_config.quantization_mode).
enum class HfQuantMode : uint8_t {
  kOffline,  // U8 packed ternary + weight_scale (transformers' default)
  kOnline,   // bf16 master weights, absmean-ternarized at load
};

// The fields of config.json the model needs, with transformers' defaults
// (BitNetConfig) for keys a file may omit.
struct HfConfig {
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;  // default: num_attention_heads
  int head_dim = 0;             // default: hidden_size / num_attention_heads
  int vocab_size = 0;
  int max_position_embeddings = 2048;
  float rms_norm_eps = 1e-5f;
  double rope_theta = 500000.0;
  bool tie_word_embeddings = false;  // BitNetConfig's default
  int64_t bos_token_id = -1;         // -1: absent
  int64_t eos_token_id = -1;         // first id when the file gives a list
  HfQuantMode quantization_mode = HfQuantMode::kOffline;
  // "bitlinear" (default; weight_scale divides) or "autobitlinear"
  // (multiplies).
  std::string linear_class = "bitlinear";

  // True when weight_scale is the multiply-convention α
  // (docs/formats.md §11.3).
  bool ScaleMultiplies() const noexcept {
    return linear_class == "autobitlinear";
  }

  // Parses config.json text. `file` names the file in error messages.
  // Throws FormatError for invalid JSON, missing or mistyped keys and
  // architectures other than BitNetForCausalLM with hidden_act relu2.
  static HfConfig Parse(std::string_view text,
                        const std::string& file = "config.json");

  // Reads and parses `path` (a config.json, or a folder holding one).
  static HfConfig Load(const std::filesystem::path& path) {
    std::filesystem::path p = path;
    if (std::filesystem::is_directory(p) && p.filename() != "config.json") {
      p /= "config.json";
    }
    return Parse(ReadFile(p, kConfigJsonLimit), p.filename().string());
  }
};

namespace detail {

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& j, const std::string& file)
      : j_(j), file_(file) {}

  [[noreturn]] void Fail(const std::string& key,
                         const std::string& what) const {
    throw FormatError(file_ + ": key '" + key + "' " + what);
  }

  const nlohmann::json* Find(const nlohmann::json& obj,
                             const std::string& key) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  // Positive int; required unless `fallback` > 0.
  int PositiveInt(const std::string& key, int fallback = 0) const {
    const nlohmann::json* v = Find(j_, key);
    if (v == nullptr) {
      if (fallback > 0) return fallback;
      Fail(key, "is missing");
    }
    if (!v->is_number_integer()) Fail(key, "must be an integer");
    constexpr uint64_t kMax = uint64_t{1} << 30;
    if (!v->is_number_unsigned() || v->get<uint64_t>() == 0) {
      Fail(key, "must be positive, got " + v->dump());
    }
    if (v->get<uint64_t>() > kMax) {
      Fail(key, "is " + v->dump() + ", more than the " + std::to_string(kMax) +
                    " supported");
    }
    return static_cast<int>(v->get<uint64_t>());
  }

  double Number(const nlohmann::json& obj, const std::string& key,
                double fallback) const {
    const nlohmann::json* v = Find(obj, key);
    if (v == nullptr) return fallback;
    if (!v->is_number()) Fail(key, "must be a number");
    return v->get<double>();
  }

  // A number that is finite as a float32 (what the model computes with and
  // GGUF stores): 1e39 is refused here rather than becoming inf. (Numbers
  // beyond double, such as 1e400, the JSON parser already refuses.)
  double FiniteNumber(const nlohmann::json& obj, const std::string& key,
                      double fallback) const {
    const double x = Number(obj, key, fallback);
    if (!std::isfinite(x) || !std::isfinite(static_cast<float>(x))) {
      const std::string text = std::isfinite(x) ? Find(obj, key)->dump()
                               : x > 0          ? "inf"
                                                : "-inf";
      Fail(key, "is " + text + ", not a finite number (float32 range)");
    }
    return x;
  }

  std::string String(const nlohmann::json& obj, const std::string& key,
                     const std::string& fallback) const {
    const nlohmann::json* v = Find(obj, key);
    if (v == nullptr) return fallback;
    if (!v->is_string()) Fail(key, "must be a string");
    return v->get<std::string>();
  }

  // A token id in [0, vocab_size) (-1: absent or null). A list must hold
  // such ids; the first is returned.
  int64_t TokenId(const std::string& key, int vocab_size) const {
    const nlohmann::json* v = Find(j_, key);
    if (v == nullptr) return -1;
    if (v->is_array() && v->empty()) return -1;
    const nlohmann::json single = nlohmann::json::array({*v});
    const nlohmann::json& ids = v->is_array() ? *v : single;
    for (const nlohmann::json& id : ids) {
      if (!id.is_number_integer()) Fail(key, "must be a token id");
      if (id.is_number_unsigned() &&
          id.get<uint64_t>() < static_cast<uint64_t>(vocab_size)) {
        continue;
      }
      if (!v->is_array() && id.get<int64_t>() == -1) return -1;  // "none"
      Fail(key, "is " + id.dump() + ", outside the vocabulary [0, " +
                    std::to_string(vocab_size) + ") (vocab_size)");
    }
    return ids[0].get<int64_t>();
  }

 private:
  const nlohmann::json& j_;
  const std::string& file_;
};

// The JSON object of config.json text: FormatError for invalid JSON,
// nesting too deep or another JSON value.
inline nlohmann::json ParseConfigObject(std::string_view text,
                                        const std::string& file) {
  CheckJsonDepth(text, file);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(file + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw FormatError(file + ": not a JSON object");
  return j;
}

// Architecture: BitNetForCausalLM / model_type "bitnet" with relu2 only.
inline void CheckArchitecture(const ConfigReader& r, const nlohmann::json& j) {
  const std::string model_type = r.String(j, "model_type", "");
  if (model_type != "bitnet") {
    r.Fail("model_type",
           "is '" + model_type +
               "'; only 'bitnet' (BitNetForCausalLM) is supported");
  }
  if (const nlohmann::json* a = r.Find(j, "architectures")) {
    bool ok = false;
    std::string names;
    if (a->is_array()) {
      for (const auto& x : *a) {
        if (!x.is_string()) continue;
        names += (names.empty() ? "" : ", ") + x.get<std::string>();
        ok = ok || x.get<std::string>() == "BitNetForCausalLM";
      }
    }
    if (!ok) {
      r.Fail("architectures",
             "is [" + names + "]; only BitNetForCausalLM is supported");
    }
  }
  const std::string act = r.String(j, "hidden_act", "relu2");
  if (act != "relu2") {
    r.Fail("hidden_act", "is '" + act + "'; only 'relu2' is supported");
  }
}

// The sizes: hidden_size ... max_position_embeddings.
inline void ReadDimensions(const ConfigReader& r, const nlohmann::json& j,
                           HfConfig& c) {
  c.hidden_size = r.PositiveInt("hidden_size");
  c.intermediate_size = r.PositiveInt("intermediate_size");
  c.num_hidden_layers = r.PositiveInt("num_hidden_layers");
  c.num_attention_heads = r.PositiveInt("num_attention_heads");
  c.num_key_value_heads =
      r.PositiveInt("num_key_value_heads", c.num_attention_heads);
  const int derived_head_dim = c.hidden_size / c.num_attention_heads;
  if (derived_head_dim == 0 && r.Find(j, "head_dim") == nullptr) {
    r.Fail("head_dim", "is missing, and hidden_size " +
                           std::to_string(c.hidden_size) +
                           " / num_attention_heads " +
                           std::to_string(c.num_attention_heads) + " is 0");
  }
  c.head_dim = r.PositiveInt("head_dim", derived_head_dim);
  c.vocab_size = r.PositiveInt("vocab_size");
  c.max_position_embeddings = r.PositiveInt("max_position_embeddings", 2048);
  if (c.max_position_embeddings > kMaxPositionEmbeddings) {
    r.Fail("max_position_embeddings",
           "is " + std::to_string(c.max_position_embeddings) +
               ", more than the " + std::to_string(kMaxPositionEmbeddings) +
               " supported");
  }
}

// rms_norm_eps, tie_word_embeddings and the BOS / EOS ids (after
// vocab_size, which bounds them).
inline void ReadNormAndTokens(const ConfigReader& r, const nlohmann::json& j,
                              HfConfig& c) {
  const double eps = r.FiniteNumber(j, "rms_norm_eps", 1e-5);
  if (!(eps >= 0.0 && eps < kMaxRmsNormEps)) {
    r.Fail("rms_norm_eps",
           "must be >= 0 and < 1, got " + r.Find(j, "rms_norm_eps")->dump());
  }
  c.rms_norm_eps = static_cast<float>(eps);
  if (const nlohmann::json* t = r.Find(j, "tie_word_embeddings")) {
    if (!t->is_boolean())
      r.Fail("tie_word_embeddings", "must be true or false");
    c.tie_word_embeddings = t->get<bool>();
  }
  c.bos_token_id = r.TokenId("bos_token_id", c.vocab_size);
  c.eos_token_id = r.TokenId("eos_token_id", c.vocab_size);
}

// rope_scaling / rope_parameters: only unscaled ("default") RoPE exists in
// BitNet checkpoints.
inline void CheckRopeType(const ConfigReader& r, const nlohmann::json& obj,
                          const std::string& key) {
  if (!obj.is_object()) r.Fail(key, "must be an object");
  std::string type = r.String(obj, "rope_type", "");
  if (type.empty()) type = r.String(obj, "type", "default");
  if (type != "default") {
    r.Fail(key, "has rope_type '" + type + "'; only 'default' is supported");
  }
}

// RoPE: 4.x writes rope_theta (+ optional rope_scaling) at the top level;
// 5.x nests it in rope_parameters.
inline void ReadRope(const ConfigReader& r, const nlohmann::json& j,
                     HfConfig& c) {
  c.rope_theta = r.FiniteNumber(j, "rope_theta", 500000.0);
  std::string theta_key = "rope_theta";
  if (const nlohmann::json* rp = r.Find(j, "rope_parameters")) {
    CheckRopeType(r, *rp, "rope_parameters");
    if (r.Find(*rp, "rope_theta") != nullptr) {
      theta_key = "rope_parameters.rope_theta";
      const double theta = r.Number(*rp, "rope_theta", c.rope_theta);
      if (!std::isfinite(static_cast<float>(theta))) {
        r.Fail(theta_key, "is " + std::to_string(theta) +
                              ", not a finite number (float32 range)");
      }
      c.rope_theta = theta;
    }
  }
  if (const nlohmann::json* rs = r.Find(j, "rope_scaling")) {
    CheckRopeType(r, *rs, "rope_scaling");
  }
  if (!(c.rope_theta > 0.0)) {
    r.Fail(theta_key, "must be positive, got " + std::to_string(c.rope_theta));
  }
}

// Quantization: quant_method bitnet; mode offline (default) or online.
inline void ReadQuantization(const ConfigReader& r, const nlohmann::json& j,
                             HfConfig& c) {
  const nlohmann::json* q = r.Find(j, "quantization_config");
  if (q == nullptr) {
    r.Fail("quantization_config",
           "is missing; expected a BitNet checkpoint (quant_method 'bitnet')");
  }
  if (!q->is_object()) r.Fail("quantization_config", "must be an object");
  const std::string method = r.String(*q, "quant_method", "");
  if (method != "bitnet") {
    r.Fail("quantization_config.quant_method",
           "is '" + method + "'; only 'bitnet' is supported");
  }
  const std::string mode = r.String(*q, "quantization_mode", "offline");
  if (mode == "offline") {
    c.quantization_mode = HfQuantMode::kOffline;
  } else if (mode == "online") {
    c.quantization_mode = HfQuantMode::kOnline;
  } else {
    r.Fail("quantization_config.quantization_mode",
           "is '" + mode + "'; expected 'offline' or 'online'");
  }
  c.linear_class = r.String(*q, "linear_class", "bitlinear");
  if (c.linear_class != "bitlinear" && c.linear_class != "autobitlinear") {
    r.Fail(
        "quantization_config.linear_class",
        "is '" + c.linear_class + "'; expected 'bitlinear' or 'autobitlinear'");
  }
}

}  // namespace detail

inline HfConfig HfConfig::Parse(std::string_view text,
                                const std::string& file) {
  const nlohmann::json j = detail::ParseConfigObject(text, file);
  const detail::ConfigReader r(j, file);
  detail::CheckArchitecture(r, j);
  HfConfig c;
  detail::ReadDimensions(r, j, c);
  detail::ReadNormAndTokens(r, j, c);
  detail::ReadRope(r, j, c);
  detail::ReadQuantization(r, j, c);
  return c;
}

}  // namespace ternary::io

#endif  // TERNARY_IO_HF_CONFIG_H_
