// Hugging Face folders as a weight source: config.json + model.safetensors
// (or shards), packed (offline) or bf16/fp16/f32 master (online), of the
// families in model/family.h: BitNetForCausalLM, LlamaForCausalLM with
// bitnet quantization, and 1bitLLM's BitnetForCausalLM (latent weights).
#ifndef TERNARY_MODEL_HF_CHECKPOINT_H_
#define TERNARY_MODEL_HF_CHECKPOINT_H_

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ternary/io/hf_config.h"
#include "ternary/io/read_file.h"
#include "ternary/io/safetensors.h"
#include "ternary/model/config.h"
#include "ternary/model/family.h"
#include "ternary/model/weights.h"
#include "ternary/quant/ternarize.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"

namespace ternary {

// transformers' packed layout (docs/formats.md §11.3): an [out, in] ternary
// matrix is stored as U8 [out/4, in], four planes along the OUTPUT
// dimension. With R = out/4, bits 2p+1..2p of byte P[r][i] hold code
// c = w + 1 of row p·R + r:
//
//   byte P[r][i]:  bits 7..6        5..4        3..2      1..0
//                  W[3R+r][i]   W[2R+r][i]   W[R+r][i]   W[r][i]
//
// e.g. rows [+1, 0, −1, +1, 0, −1, −1, +1] (out = 8, in = 1) → 0x12, 0x89.
// Returns false if any code is 3 (not a ternary value); such entries are
// written as 0.
inline bool UnpackHfTernary(const uint8_t* packed, size_t packed_rows,
                            size_t cols, int8_t* out) noexcept {
  bool ok = true;
  for (size_t p = 0; p < 4; ++p) {
    for (size_t r = 0; r < packed_rows; ++r) {
      const uint8_t* src = packed + r * cols;
      int8_t* dst = out + (p * packed_rows + r) * cols;
      for (size_t i = 0; i < cols; ++i) {
        const int c = (src[i] >> (2 * p)) & 3;
        ok &= c != 3;
        dst[i] = static_cast<int8_t>(c == 3 ? 0 : c - 1);
      }
    }
  }
  return ok;
}

// Inverse of UnpackHfTernary; rows must be a multiple of 4.
inline void PackHfTernary(const int8_t* t, size_t rows, size_t cols,
                          uint8_t* out) noexcept {
  const size_t packed_rows = rows / 4;
  for (size_t r = 0; r < packed_rows; ++r) {
    for (size_t i = 0; i < cols; ++i) {
      unsigned byte = 0;
      for (size_t p = 0; p < 4; ++p) {
        byte |= static_cast<unsigned>(t[(p * packed_rows + r) * cols + i] + 1)
                << (2 * p);
      }
      out[r * cols + i] = static_cast<uint8_t>(byte);
    }
  }
}

// config.json read for a family (docs/model.md §4, §5.2): the sizes and
// hyperparameters (io::HfConfig) and the graph they belong to.
struct HfModelConfig {
  io::HfConfig hf;
  ModelFamily family = ModelFamily::kBitNet;
};

namespace detail {

// The architectures name of a family's config.json.
constexpr std::string_view HfArchitecture(ModelFamily f) noexcept {
  switch (f) {
    case ModelFamily::kLlamaBitNet:
      return "LlamaForCausalLM";
    case ModelFamily::kOneBitLlm:
      return "BitnetForCausalLM";
    case ModelFamily::kBitNet:
      break;
  }
  return "BitNetForCausalLM";
}

// The family config.json names: architectures decides (1bitLLM's
// BitnetForCausalLM is model_type "llama" like LlamaForCausalLM, and
// differs from microsoft's BitNetForCausalLM by one letter's case),
// model_type must agree; a file without architectures must be model_type
// "bitnet". FormatError "<file>: key '<key>' ..." for anything else.
inline ModelFamily DetectHfFamily(const io::detail::ConfigReader& r,
                                  const nlohmann::json& j) {
  const std::string model_type = r.String(j, "model_type", "");
  if (model_type != "bitnet" && model_type != "llama") {
    r.Fail("model_type",
           "is '" + model_type +
               "'; supported: 'bitnet' (BitNetForCausalLM), 'llama' "
               "(LlamaForCausalLM with quant_method 'bitnet', or 1bitLLM's "
               "BitnetForCausalLM)");
  }
  const nlohmann::json* a = r.Find(j, "architectures");
  if (a == nullptr) {
    if (model_type == "llama") {
      r.Fail("architectures",
             "is missing; a model_type 'llama' config must name "
             "LlamaForCausalLM or BitnetForCausalLM (1bitLLM)");
    }
    return ModelFamily::kBitNet;
  }
  std::string names;
  bool bitnet = false, llama = false, one_bit_llm = false;
  if (a->is_array()) {
    for (const auto& x : *a) {
      if (!x.is_string()) continue;
      const std::string name = x.get<std::string>();
      names += (names.empty() ? "" : ", ") + name;
      bitnet = bitnet || name == "BitNetForCausalLM";
      llama = llama || name == "LlamaForCausalLM";
      one_bit_llm = one_bit_llm || name == "BitnetForCausalLM";
    }
  }
  if (bitnet + llama + one_bit_llm > 1) {
    r.Fail("architectures", "is [" + names + "]: names several graphs");
  }
  if (bitnet || llama || one_bit_llm) {
    const std::string want = bitnet ? "bitnet" : "llama";
    if (model_type != want) {
      r.Fail("model_type", "is '" + model_type + "', but architectures is [" +
                               names + "], whose model_type is '" + want + "'");
    }
    return bitnet  ? ModelFamily::kBitNet
           : llama ? ModelFamily::kLlamaBitNet
                   : ModelFamily::kOneBitLlm;
  }
  r.Fail("architectures",
         "is [" + names +
             "]; supported: BitNetForCausalLM, LlamaForCausalLM (with "
             "quant_method 'bitnet'), BitnetForCausalLM (1bitLLM)");
}

// 1bitLLM's BitLinear settings (its configuration_bitnet.py): weight_bits 1
// (absmean ternary) and input_bits 8 (per-token absmax int8); anything else
// is another model.
inline void CheckOneBitLlmBits(const io::detail::ConfigReader& r,
                               const nlohmann::json& j) {
  for (const auto& [key, want] :
       {std::pair<const char*, int>{"weight_bits", 1}, {"input_bits", 8}}) {
    const nlohmann::json* v = r.Find(j, key);
    if (v == nullptr) continue;
    if (!v->is_number_integer() || v->get<int64_t>() != want) {
      r.Fail(key, "is " + v->dump() + "; 1bitLLM's BitLinear has " + key + " " +
                      std::to_string(want));
    }
  }
}

// A boolean key that must be false when present (a feature ternary lacks).
inline void RequireFalse(const io::detail::ConfigReader& r,
                         const nlohmann::json& obj, const std::string& key,
                         const std::string& path, const std::string& why) {
  const nlohmann::json* v = r.Find(obj, key);
  if (v == nullptr) return;
  if (!v->is_boolean()) r.Fail(path, "must be true or false");
  if (v->get<bool>()) r.Fail(path, "is true; " + why);
}

}  // namespace detail

// Parses config.json text. `file` names the file in messages: one line,
// "<file>: key '<key>' ...", for invalid JSON, missing or mistyped keys and
// anything ternary cannot run.
inline HfModelConfig ParseHfModelConfig(std::string_view text,
                                        const std::string& file) {
  const nlohmann::json j = io::detail::ParseConfigObject(text, file);
  const io::detail::ConfigReader r(j, file);
  HfModelConfig c;
  c.family = detail::DetectHfFamily(r, j);
  const std::string_view arch = detail::HfArchitecture(c.family);
  const std::string_view want_act =
      nn::FfnActivationName(FfnActivationOf(c.family));
  const std::string act = r.String(j, "hidden_act", std::string(want_act));
  if (act != want_act) {
    r.Fail("hidden_act", "is '" + act + "'; " + std::string(arch) + " runs '" +
                             std::string(want_act) + "' only");
  }
  detail::RequireFalse(r, j, "attention_bias", "attention_bias",
                       "BitLinear projections have no bias");
  detail::RequireFalse(r, j, "mlp_bias", "mlp_bias",
                       "BitLinear projections have no bias");
  io::detail::ReadDimensions(r, j, c.hf);
  io::detail::ReadNormAndTokens(r, j, c.hf);
  io::detail::ReadRope(r, j, c.hf);
  if (c.family == ModelFamily::kOneBitLlm) {
    // Latent fp16/f32 weights quantized by BitLinear on every forward
    // (1bitLLM's utils_quant.py), which is what online mode does at load.
    detail::CheckOneBitLlmBits(r, j);
    if (r.Find(j, "quantization_config") == nullptr) {
      c.hf.quantization_mode = io::HfQuantMode::kOnline;
    } else {
      io::detail::ReadQuantization(r, j, c.hf);
    }
  } else {
    io::detail::ReadQuantization(r, j, c.hf);
  }
  if (const nlohmann::json* q = r.Find(j, "quantization_config")) {
    detail::RequireFalse(r, *q, "use_rms_norm",
                         "quantization_config.use_rms_norm",
                         "BitLinear's own input RMSNorm is not supported");
  }
  if (c.family != ModelFamily::kBitNet) {
    // LlamaConfig's defaults where BitNetConfig's differ (1bitLLM's
    // BitnetConfig is a copy of LlamaConfig).
    if (r.Find(j, "rms_norm_eps") == nullptr) c.hf.rms_norm_eps = 1e-6f;
    const nlohmann::json* rp = r.Find(j, "rope_parameters");
    if (r.Find(j, "rope_theta") == nullptr &&
        (rp == nullptr || r.Find(*rp, "rope_theta") == nullptr)) {
      c.hf.rope_theta = 10000.0;
    }
  }
  return c;
}

// Reads and parses `path` (a config.json, or a folder holding one).
inline HfModelConfig LoadHfModelConfig(const std::filesystem::path& path) {
  std::filesystem::path p = path;
  if (std::filesystem::is_directory(p) && p.filename() != "config.json") {
    p /= "config.json";
  }
  return ParseHfModelConfig(io::ReadFile(p, io::kConfigJsonLimit),
                            p.filename().string());
}

// The transformers name of a tensor in a family's checkpoints, e.g.
// "model.layers.3.mlp.down_proj.weight". Only the sub-norms differ:
// 1bitLLM's modeling_bitnet.py names them self_attn.inner_attn_ln and
// mlp.ffn_layernorm.
inline std::string HfTensorName(TensorId id,
                                ModelFamily family = ModelFamily::kBitNet) {
  const bool one_bit_llm = family == ModelFamily::kOneBitLlm;
  const std::string layer = "model.layers." + std::to_string(id.layer) + ".";
  switch (id.kind) {
    case TensorId::kEmbed:
      return "model.embed_tokens.weight";
    case TensorId::kOutputNorm:
      return "model.norm.weight";
    case TensorId::kLmHead:
      return "lm_head.weight";
    case TensorId::kAttnNorm:
      return layer + "input_layernorm.weight";
    case TensorId::kAttnSubNorm:
      return layer + (one_bit_llm ? "self_attn.inner_attn_ln.weight"
                                  : "self_attn.attn_sub_norm.weight");
    case TensorId::kFfnNorm:
      return layer + "post_attention_layernorm.weight";
    case TensorId::kFfnSubNorm:
      return layer + (one_bit_llm ? "mlp.ffn_layernorm.weight"
                                  : "mlp.ffn_sub_norm.weight");
    case TensorId::kQ:
      return layer + "self_attn.q_proj.weight";
    case TensorId::kK:
      return layer + "self_attn.k_proj.weight";
    case TensorId::kV:
      return layer + "self_attn.v_proj.weight";
    case TensorId::kO:
      return layer + "self_attn.o_proj.weight";
    case TensorId::kGate:
      return layer + "mlp.gate_proj.weight";
    case TensorId::kUp:
      return layer + "mlp.up_proj.weight";
    case TensorId::kDown:
      return layer + "mlp.down_proj.weight";
  }
  return "?";
}

// A checkpoint folder. The safetensors files stay memory-mapped while the
// object lives; each tensor is converted when the model asks for it, so a
// load holds at most one unpacked matrix at a time.
class HfCheckpoint {
 public:
  // Throws FormatError naming the file and key/tensor for a missing or
  // unsupported config.json or unreadable weights.
  static HfCheckpoint Open(const std::filesystem::path& dir) {
    if (!std::filesystem::is_directory(dir)) {
      throw FormatError(dir.string() + ": not a checkpoint folder");
    }
    HfCheckpoint c;
    const HfModelConfig config = LoadHfModelConfig(dir / "config.json");
    c.hf_ = config.hf;
    c.family_ = config.family;
    c.st_ = io::SafetensorsCheckpoint::Open(dir);
    c.CheckTensorNames();
    return c;
  }

  const io::HfConfig& hf_config() const noexcept { return hf_; }
  ModelFamily family() const noexcept { return family_; }
  const io::SafetensorsCheckpoint& files() const noexcept { return st_; }

  ModelConfig config() const {
    ModelConfig c;
    c.family = family_;
    c.dims = Dims{.hidden = hf_.hidden_size,
                  .ffn = hf_.intermediate_size,
                  .heads = hf_.num_attention_heads,
                  .kv_heads = hf_.num_key_value_heads,
                  .head_dim = hf_.head_dim,
                  .layers = hf_.num_hidden_layers,
                  .vocab = hf_.vocab_size};
    c.rms_norm_eps = hf_.rms_norm_eps;
    c.rope_theta = hf_.rope_theta;
    c.max_position_embeddings = hf_.max_position_embeddings;
    c.tie_word_embeddings = hf_.tie_word_embeddings;
    c.bos_token_id = hf_.bos_token_id;
    c.eos_token_id = hf_.eos_token_id;
    return c;
  }

  TernaryMatrix Ternary(TensorId id, size_t rows, size_t cols) const {
    const std::string name = HfTensorName(id, family_);
    const auto ref = st_.Get(name);
    const io::SafetensorsTensor& t = *ref.tensor;
    const std::string& file = *ref.file;
    TernaryMatrix m;
    m.values.resize(rows * cols);
    if (hf_.quantization_mode == io::HfQuantMode::kOnline) {
      ExpectFloat(t, file, rows, cols);
      std::vector<float> w(rows * cols);
      io::ReadFloats(t, file, w);
      CheckFinite(file, name, w, cols);
      m.alpha = quant::AbsMeanTernarize(w, m.values);
      if (!std::isfinite(m.alpha)) {  // finite weights whose mean overflows
        throw FormatError(file + ": tensor '" + name + "' has absmean scale " +
                          std::to_string(m.alpha) + ", expected a finite one");
      }
      return m;
    }
    if (rows % 4 != 0) {
      throw FormatError(file + ": tensor '" + name +
                        "': " + std::to_string(rows) +
                        " output rows cannot be packed 4 per byte");
    }
    if (t.dtype != io::SafetensorsDtype::kU8) {
      throw FormatError(file + ": tensor '" + name + "' has dtype " +
                        t.dtype_name +
                        ", expected U8 (packed ternary, quantization_mode "
                        "offline)");
    }
    ExpectShape(t, file, {rows / 4, cols});
    if (!UnpackHfTernary(t.data.data(), rows / 4, cols, m.values.data())) {
      throw FormatError(file + ": tensor '" + name +
                        "' holds the invalid 2-bit code 3");
    }
    m.alpha = ReadAlpha(name);
    return m;
  }

  AlignedBuffer<float> Floats(TensorId id, size_t rows, size_t cols) const {
    const std::string name = HfTensorName(id, family_);
    const auto ref = st_.Get(name);
    ExpectFloat(*ref.tensor, *ref.file, rows, cols);
    AlignedBuffer<float> out(rows * cols);
    io::ReadFloats(*ref.tensor, *ref.file, out.span());
    CheckFinite(*ref.file, name, out.span(), cols);
    return out;
  }

  // FormatError "<file>: tensor '<name>' holds a non-finite value (nan) at
  // row r, column c" if any value of `v` (rows of `cols`) is NaN or ±inf.
  static void CheckFinite(const std::string& file, const std::string& name,
                          std::span<const float> v, size_t cols) {
    const size_t i = FirstNonFinite(v);
    if (i == v.size()) return;
    const std::string where = v.size() == cols
                                  ? "element " + std::to_string(i)
                                  : "row " + std::to_string(i / cols) +
                                        ", column " + std::to_string(i % cols);
    throw FormatError(file + ": tensor '" + name +
                      "' holds a non-finite value (" + NonFiniteName(v[i]) +
                      ") at " + where);
  }

 private:
  // Vectors (rows == 1) are stored 1-D; matrices 2-D.
  static void ExpectFloat(const io::SafetensorsTensor& t,
                          const std::string& file, size_t rows, size_t cols) {
    if (t.dtype != io::SafetensorsDtype::kBF16 &&
        t.dtype != io::SafetensorsDtype::kF16 &&
        t.dtype != io::SafetensorsDtype::kF32) {
      throw FormatError(file + ": tensor '" + t.name + "' has dtype " +
                        t.dtype_name + ", expected BF16, F16 or F32");
    }
    if (rows == 1) {
      ExpectShape(t, file, {cols});
    } else {
      ExpectShape(t, file, {rows, cols});
    }
  }

  static void ExpectShape(const io::SafetensorsTensor& t,
                          const std::string& file, std::vector<uint64_t> want) {
    if (t.shape != want) {
      io::SafetensorsTensor w;
      w.shape = want;
      throw FormatError(file + ": tensor '" + t.name + "' has shape " +
                        t.ShapeString() + ", expected " + w.ShapeString());
    }
  }

  // weight_scale: one BF16/F16/F32 value; α = ws (autobitlinear) or 1/ws.
  float ReadAlpha(const std::string& weight_name) const {
    const std::string name = weight_name + "_scale";  // "...weight_scale"
    const auto ref = st_.Get(name);
    const io::SafetensorsTensor& t = *ref.tensor;
    if (t.numel() != 1 || t.shape.size() > 1) {
      throw FormatError(*ref.file + ": tensor '" + name + "' has shape " +
                        t.ShapeString() + ", expected [1]");
    }
    float ws = 0.0f;
    io::ReadFloats(t, *ref.file, std::span<float>(&ws, 1));
    if (!(std::isfinite(ws) && ws > 0.0f)) {
      throw FormatError(*ref.file + ": tensor '" + name + "' is " +
                        std::to_string(ws) + ", expected a positive scale");
    }
    const float alpha = hf_.ScaleMultiplies() ? ws : 1.0f / ws;
    if (!std::isfinite(alpha)) {  // a subnormal ws divides to inf
      throw FormatError(*ref.file + ": tensor '" + name + "' is " +
                        std::to_string(ws) + ", whose inverse " +
                        std::to_string(alpha) +
                        " is not a finite weight scale");
    }
    return alpha;
  }

  // Every tensor must be one the graph reads, as the GGUF reader demands: an
  // ignored bias or scale would silently compute another model.
  // lm_head.weight is allowed (and ignored) in tied checkpoints, as
  // transformers ties it to the embedding on load.
  void CheckTensorNames() const {
    const bool offline = hf_.quantization_mode == io::HfQuantMode::kOffline;
    for (const io::SafetensorsFile& f : st_.files()) {
      for (const io::SafetensorsTensor& t : f.tensors()) {
        if (IsGraphTensor(t.name, offline)) continue;
        // A packed (U8) projection's scale under quantization_mode online:
        // the projection is then refused with its dtype, the real problem.
        if (!offline && t.name.ends_with("_scale")) {
          const std::string w = t.name.substr(0, t.name.size() - 6);
          const auto ref = st_.Find(w);
          if (ref && ref->tensor->dtype == io::SafetensorsDtype::kU8 &&
              IsGraphTensor(w, offline)) {
            continue;
          }
        }
        std::string why = family_ == ModelFamily::kBitNet
                              ? "is not part of the BitNet graph"
                          : family_ == ModelFamily::kLlamaBitNet
                              ? "is not part of the llama-bitnet graph"
                              : "is not part of the 1bitllm-bitnet graph";
        if (t.name.ends_with("weight_scale")) {
          why +=
              " (weight_scale belongs to packed projections, "
              "quantization_mode offline)";
        } else if (t.name.ends_with(".bias")) {
          why += " (BitNet has no biases)";
        } else if (const std::string other = OtherFamilySubNorm(t.name);
                   !other.empty()) {
          why += " (" + other + ")";
        }
        throw FormatError(f.name() + ": tensor '" + t.name + "' " + why);
      }
    }
  }

  // What a sub-norm name of another family's checkpoints is, for the
  // message ("" if `name` is none).
  static std::string OtherFamilySubNorm(std::string_view name) {
    if (!name.starts_with("model.layers.")) return "";
    for (const std::string_view n :
         {".self_attn.attn_sub_norm.weight", ".mlp.ffn_sub_norm.weight"}) {
      if (name.ends_with(n)) return "a BitNetForCausalLM sub-norm name";
    }
    for (const std::string_view n :
         {".self_attn.inner_attn_ln.weight", ".mlp.ffn_layernorm.weight"}) {
      if (name.ends_with(n)) {
        return "a sub-norm name of 1bitLLM's BitnetForCausalLM";
      }
    }
    return "";
  }

  // A global tensor, or "model.layers.<l>.<tensor>" with l below
  // num_hidden_layers (parsed, not listed: the count comes from the file).
  // 1bitLLM's checkpoints hold RoPE's inv_freq buffer with each layer (as
  // transformers 4.3x saved it): a function of rope_theta and head_dim,
  // which RoPE is computed from, so it is skipped there (and refused in
  // the other families, whose files never hold it).
  bool IsGraphTensor(std::string_view name, bool offline) const {
    for (const auto k :
         {TensorId::kEmbed, TensorId::kOutputNorm, TensorId::kLmHead}) {
      if (HfTensorName({k}) == name) return true;
    }
    constexpr std::string_view kPrefix = "model.layers.";
    if (!name.starts_with(kPrefix)) return false;
    int l = -1;
    const char* begin = name.data() + kPrefix.size();
    const auto [end, ec] = std::from_chars(begin, name.data() + name.size(), l);
    if (ec != std::errc() || l < 0 || l >= hf_.num_hidden_layers) {
      return false;
    }
    if (family_ == ModelFamily::kOneBitLlm &&
        std::string_view(end, name.data() + name.size() - end) ==
            ".self_attn.rotary_emb.inv_freq") {
      return true;
    }
    for (int k = TensorId::kAttnNorm; k <= TensorId::kDown; ++k) {
      const TensorId id{static_cast<TensorId::Kind>(k), l};
      if (!HasSubNorms(family_) && (id.kind == TensorId::kAttnSubNorm ||
                                    id.kind == TensorId::kFfnSubNorm)) {
        continue;
      }
      const std::string graph = HfTensorName(id, family_);
      if (graph == name) return true;
      if (offline && id.IsTernary() && graph + "_scale" == name) return true;
    }
    return false;
  }

  io::HfConfig hf_;
  ModelFamily family_ = ModelFamily::kBitNet;
  io::SafetensorsCheckpoint st_;
};

}  // namespace ternary

#endif  // TERNARY_MODEL_HF_CHECKPOINT_H_
