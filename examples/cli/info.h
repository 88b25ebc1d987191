// `ternary info`: what a model file is (format, architecture, dimensions,
// tensor types) and what it costs once loaded.
#ifndef TERNARY_EXAMPLES_CLI_INFO_H_
#define TERNARY_EXAMPLES_CLI_INFO_H_

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "cli/args.h"
#include "cli/engine.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_types.h"
#include "ternary/io/hf_config.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/simd/cpu.h"
#include "ternary/simd/targets.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kInfoUsage =
    "[-m MODEL] [--packing i2s|tl1|tl2] [--act a8|a4] [--head auto|q8|..] "
    "[-t THREADS]";

inline const std::string& InfoHelp() {
  static const std::string help =
      "Describes this machine: the CPU, its SIMD features and the SIMD "
      "target the\nkernels run on (see --simd). With -m, also a model: file "
      "format (Hugging Face\npacked or bf16 safetensors, GGUF and its file "
      "type), architecture, dimensions,\ntensor types and parameter count; "
      "then loads it (as --packing/--act say) and\nreports the memory it "
      "takes.\n\n" +
      std::string(kModelOptionsHelp);
  return help;
}

// "cpu: ...", "cpu features: ...", "simd: ..." lines: what the machine is and
// which target the kernels run on (also recorded by `bench --json`).
inline std::string SystemInfo() {
  const simd::CpuInfo cpu = simd::DetectCpu();
  std::string out = "cpu: " + (cpu.brand.empty() ? cpu.vendor : cpu.brand);
  if (cpu.family != 0) {
    out += " (" + cpu.vendor + " family " + std::to_string(cpu.family) +
           " model " + std::to_string(cpu.model) +
           (cpu.microarchitecture.empty() ? "" : ", " + cpu.microarchitecture) +
           ")";
  }
  out += "\n";
  if (!cpu.features.empty()) {
    out += "cpu features: " + cpu.FeatureLine() + "\n";
  }
  out += "simd: " + simd::TargetName(simd::ActiveTarget()) +
         " (this CPU runs " + simd::detail::NameList(simd::RunnableTargets()) +
         "; the build has " + simd::detail::NameList(simd::CompiledTargets()) +
         "; --simd or " + simd::kSimdEnv + " caps it)\n";
  return out;
}

namespace detail {

// The name of a GGUF's general.file_type (a llama_ftype id, not a ggml type
// id; docs/formats.md §3): llama.cpp's, bitnet.cpp's TL1/TL2/I2_S (38-40,
// which upstream llama.cpp numbers differently) and ik_llama.cpp's
// IQ1_BN/IQ2_BN (136/137). "" for ids this table lacks.
inline std::string_view FileTypeName(uint32_t file_type) {
  switch (file_type) {
    case 0:
      return "all F32";
    case 1:
      return "mostly F16";
    case 2:
      return "mostly Q4_0";
    case 7:
      return "mostly Q8_0";
    case 18:
      return "mostly Q6_K";
    case 32:
      return "mostly BF16";
    case 36:
      return "TQ1_0";
    case 37:
      return "TQ2_0";
    case 38:
      return "TL1";
    case 39:
      return "TL2";
    case 40:
      return "I2_S";
    case 136:
      return "IQ1_BN";
    case 137:
      return "IQ2_BN";
    default:
      return "";
  }
}

// "U8 ×56, BF16 ×35": tensor types and how many tensors have each.
inline std::string TypeCounts(const std::map<std::string, int>& counts) {
  std::string s;
  for (const auto& [type, n] : counts) {
    if (!s.empty()) s += ", ";
    s += type + " x" + std::to_string(n);
  }
  return s;
}

// The file-format lines of `info` (format, architecture, tensor types,
// file size).
inline std::string DescribeFile(const std::filesystem::path& path) {
  std::string out;
  std::error_code ec;
  if (DetectCheckpointFormat(path) == CheckpointFormat::kGguf) {
    const io::GgufFile file = io::GgufFile::Open(path);
    std::map<std::string, int> ternary, other;
    for (const io::GgufTensorInfo& t : file.tensors()) {
      const std::string_view n = t.name;
      const bool is_ternary = (n.find(".attn_") != std::string_view::npos ||
                               n.find(".ffn_") != std::string_view::npos) &&
                              !n.ends_with("norm.weight");
      (is_ternary ? ternary : other)[std::string(io::GgmlTypeName(t.type))]++;
    }
    const auto file_type = file.GetOptionalU32("general.file_type");
    const auto name = file.GetOptionalString("general.name");
    out += "format: GGUF v" + std::to_string(file.version());
    if (file_type) {
      out += ", general.file_type " + std::to_string(*file_type);
      const std::string_view type_name = FileTypeName(*file_type);
      if (!type_name.empty()) out += " (" + std::string(type_name) + ")";
    }
    out += "\n";
    if (name) out += "name: " + std::string(*name) + "\n";
    out += "architecture: " + std::string(file.architecture()) + "\n";
    out += "tensor types: projections " + TypeCounts(ternary) + "; other " +
           TypeCounts(other) + "\n";
    out += "file size: " + FormatBytes(std::filesystem::file_size(path, ec)) +
           "\n";
    return out;
  }
  const HfModelConfig model_config = LoadHfModelConfig(path / "config.json");
  const io::HfConfig& config = model_config.hf;
  const HfCheckpoint checkpoint = HfCheckpoint::Open(path);
  std::map<std::string, int> types;
  uint64_t bytes = 0;
  for (const io::SafetensorsFile& f : checkpoint.files().files()) {
    for (const io::SafetensorsTensor& t : f.tensors()) types[t.dtype_name]++;
    bytes += std::filesystem::file_size(path / f.name(), ec);
  }
  const bool packed = config.quantization_mode == io::HfQuantMode::kOffline;
  out += std::string("format: Hugging Face folder, ") +
         (packed ? "packed ternary (U8, 4 per byte + weight_scale; "
                   "quantization_mode offline"
                 : "master weights quantized at load (quantization_mode "
                   "online") +
         ", linear_class " + config.linear_class + ")\n";
  switch (model_config.family) {
    case ModelFamily::kBitNet:
      out +=
          "architecture: BitNetForCausalLM (model_type bitnet, relu2, "
          "sub-norms)\n";
      break;
    case ModelFamily::kLlamaBitNet:
      out +=
          "architecture: LlamaForCausalLM with bitnet quantization "
          "(model_type llama, SiLU, no sub-norms)\n";
      break;
    case ModelFamily::kOneBitLlm:
      out +=
          "architecture: 1bitLLM BitnetForCausalLM (model_type llama, SiLU, "
          "sub-norms inner_attn_ln / ffn_layernorm)\n";
      break;
  }
  out += "tensor types: " + TypeCounts(types) + " (" +
         std::to_string(checkpoint.files().files().size()) +
         " safetensors file" +
         (checkpoint.files().files().size() == 1 ? "" : "s") + ")\n";
  out += "file size: " + FormatBytes(bytes) + "\n";
  return out;
}

}  // namespace detail

inline int RunInfo(Args& args) {
  const ModelOptions model = ModelOptions::Parse(args, /*allow_default=*/false);
  args.Finish();
  model.Validate();
  std::string out = SystemInfo();
  if (model.path.empty()) return WriteStdout(out, /*flush=*/true) ? 0 : 1;
  const std::filesystem::path path(model.path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) &&
      !std::filesystem::exists(path / "config.json", ec)) {
    throw FormatError(model.path +
                      ": no config.json (not a Hugging Face model folder)");
  }
  out += "model: " + model.path + "\n";
  out += detail::DescribeFile(path);

  std::unique_ptr<Engine> engine = LoadEngine(model);
  const ModelConfig& c = engine->config();
  const Dims& d = c.dims;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "dimensions: hidden %d, ffn %d, layers %d, heads %d, kv heads "
                "%d, head_dim %d, vocab %d\n",
                d.hidden, d.ffn, d.layers, d.heads, d.kv_heads, d.head_dim,
                d.vocab);
  out += buf;
  std::snprintf(buf, sizeof buf,
                "context: %d, rope_theta %g, rms_norm_eps %g, tied embeddings "
                "%s\n",
                c.max_position_embeddings, c.rope_theta,
                static_cast<double>(c.rms_norm_eps),
                c.tie_word_embeddings ? "yes" : "no");
  out += buf;
  const uint64_t h = d.hidden, f = d.ffn;
  const uint64_t ternary =
      uint64_t(d.layers) *
      ((c.q_dim() + 2 * c.kv_dim()) * h + h * c.q_dim() + 3 * f * h);
  const uint64_t params = ParameterCount(c);
  out += "parameters: " + FormatCount(params) + " (" + FormatCount(ternary) +
         " ternary, " + FormatCount(params - ternary) + " float)\n";
  const WeightMemory mem = engine->Memory();
  const std::string head(engine->head_precision());
  std::snprintf(
      buf, sizeof buf,
      "loaded: %s in memory as %.*s/%.*s (%s packed ternary, %s embedding%s "
      "as %s, %s norms), %.2f s with %zu threads\n",
      FormatBytes(mem.total()).c_str(),
      static_cast<int>(engine->packing().size()), engine->packing().data(),
      static_cast<int>(engine->act().size()), engine->act().data(),
      FormatBytes(mem.ternary).c_str(), FormatBytes(mem.tables).c_str(),
      c.tie_word_embeddings ? " (tied LM head)" : " + LM head", head.c_str(),
      FormatBytes(mem.norms).c_str(), engine->load_seconds(),
      engine->threads());
  out += buf;
  const uint64_t kv_per_token = uint64_t{2} * d.layers * c.kv_dim() * 4;
  out += "KV cache: " + FormatBytes(kv_per_token) + " per token, " +
         FormatBytes(kv_per_token * uint64_t(c.max_position_embeddings)) +
         " for the full context (float32)\n";

  const ModelTokenizer tok = LoadTokenizer(path);
  const Tokenizer& t = tok.tokenizer;
  std::snprintf(buf, sizeof buf,
                "tokenizer: vocab %d, bos %d, eos %d, eot %d, add_bos %s, "
                "chat template in file: %s\n",
                t.vocab_size(), t.bos_id(), t.eos_id(), t.eot_id(),
                tok.add_bos ? "yes" : "no",
                tok.chat_template.empty() ? "no" : "yes");
  out += buf;
  return WriteStdout(out, /*flush=*/true) ? 0 : 1;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_INFO_H_
