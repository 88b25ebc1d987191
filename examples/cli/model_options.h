// The options every model-running subcommand shares (-m, --packing, --act,
// -t, llama.cpp's flags, the sampling flags) and where the embedded default
// model is found.
#ifndef TERNARY_EXAMPLES_CLI_MODEL_OPTIONS_H_
#define TERNARY_EXAMPLES_CLI_MODEL_OPTIONS_H_

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/dispatch.h"
#include "cli/output.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_types.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/config.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/model/sampling.h"
#include "ternary/nn/embedding.h"
#include "ternary/quant/i2s_layout.h"
#include "ternary/util/error.h"

namespace ternary::cli {

// Help text for the shared options, appended to each subcommand's --help.
inline constexpr std::string_view kModelOptionsHelp =
    "  -m, --model PATH     a Hugging Face folder (config.json + safetensors)\n"
    "                       or a .gguf file\n"
    "  --packing FORMAT     weight layout the kernels run: i2s (default), "
    "tl1, tl2\n"
    "  --act a8|a4          activations: a8 (BitNet b1.58, default) or a4 "
    "(a4.8)\n"
    "  --head TYPE          embedding / LM head storage: auto (default: the "
    "file's own\n"
    "                       precision: bf16, f16 or f32 exactly, a GGUF's "
    "Q8_0 as q8),\n"
    "                       f32, bf16, f16, q8 (half of f16, slightly "
    "lossy),\n"
    "                       q6_k (ggml Q6_K, 0.41 of f16), q4_0 (ggml Q4_0, "
    "0.28 of f16)\n"
    "  -t, --threads N      threads (default: all cores)\n"
    "  --mmap               use a GGUF's I2_S weights and Q6_K / Q4_0 tables "
    "in place\n"
    "                       from the mapped file: loads faster, decodes "
    "slower than\n"
    "                       --no-mmap (the default: copies on 2 MiB pages)\n"
    "  --no-mmap            copy them into the model's own memory (default)\n"
    "  --i2s-layout x86|arm I2_S block layout of a GGUF (files do not record "
    "it): x86\n"
    "                       (default; 128-value blocks, every published "
    "file) or arm\n"
    "                       (64-value blocks: llama-quantize of bitnet.cpp "
    "built for Arm)\n"
    "  --log-disable        no informational lines on stderr (errors "
    "still)\n"
    "  -v, --verbose        more detail on stderr, where a subcommand has "
    "more\n"
    "  llama.cpp flags that mean nothing on a CPU engine are accepted with a "
    "note:\n"
    "  -ngl N, -fa [on|off|auto], -b N, -ub N, --mlock, --numa MODE\n";

inline constexpr std::string_view kSamplingHelp =
    "  -n, --n-predict N    tokens to generate (-1: until end of text or a "
    "full context)\n"
    "  --temp T             temperature (default 0.8; 0: greedy)\n"
    "  --top-k K            keep the K most likely tokens (default 40; 0: "
    "off)\n"
    "  --top-p P            nucleus: smallest set of probability P (default "
    "0.95; 1: off)\n"
    "  --min-p P            drop tokens below P x the top probability "
    "(default 0.05; 0: off)\n"
    "  --repeat-penalty R   penalise the last --repeat-last-n tokens "
    "(default 1: off)\n"
    "  --repeat-last-n N    history the penalty sees (default 64)\n"
    "  --seed S             random seed (default: random, printed at the "
    "end)\n"
    "  -c, --ctx-size N     context length (default: the model's "
    "max_position_embeddings)\n";

inline int64_t DefaultThreads() {
  return std::max<unsigned>(1, std::thread::hardware_concurrency());
}

// The most -t takes: 4 x the hardware threads, at least 64. More threads
// than cores only slow the kernels down, and thousands of them hit the
// system's thread limits.
inline int64_t MaxThreads() {
  return std::max<int64_t>(64, 4 * DefaultThreads());
}

// -t / --threads, in [1, MaxThreads()].
inline int64_t ParseThreads(Args& args) {
  const int64_t t =
      args.Int({"-t", "--threads"}, DefaultThreads(), 1, int64_t{1} << 30);
  if (t > MaxThreads()) {
    throw UsageError(
        "option -t must be in [1, " + std::to_string(MaxThreads()) + "], got " +
        std::to_string(t) + " (at most 4 x the " +
        std::to_string(DefaultThreads()) + " hardware threads, or 64)");
  }
  return t;
}

// The embedded tiny-shakespeare model: next to an installed binary
// (<prefix>/bin/ternary → <prefix>/share/ternary/models/...), at the
// configured install prefix, or in the source tree it was built from.
inline std::optional<std::filesystem::path> DefaultModelPath() {
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / "share" / "ternary" /
                         "models" / "tiny-shakespeare");
  }
#ifdef TERNARY_INSTALLED_MODEL
  candidates.emplace_back(TERNARY_INSTALLED_MODEL);
#endif
#ifdef TERNARY_DEFAULT_MODEL
  candidates.emplace_back(TERNARY_DEFAULT_MODEL);
#endif
  for (const auto& c : candidates) {
    if (std::filesystem::is_regular_file(c / "config.json", ec)) return c;
  }
  return std::nullopt;
}

// "x86", "arm" (--i2s-layout).
inline quant::I2SLayout ParseI2SLayout(const std::string& s) {
  if (const auto l = quant::ParseI2SLayout(s)) return *l;
  throw UsageError("--i2s-layout must be one of " +
                   std::string(quant::kI2SLayoutNames) + ", got '" + s + "'");
}

// "auto", "f32", "bf16", "f16", "q8", "q6_k", "q4_0" (--head).
inline nn::HeadPrecision ParseHeadPrecision(const std::string& s) {
  if (const auto p = nn::ParseHeadPrecision(s)) return *p;
  throw UsageError(
      "--head must be auto, f32, bf16, f16, q8, q6_k or q4_0, got '" + s + "'");
}

// What `--head auto` (the default) stores a model's tables as: the file's
// own precision where ternary keeps it as stored. A GGUF whose embedding
// table (and untied LM head) is Q8_0 keeps int8 rows (q8, about half of the
// f16 bytes) instead of expanding them to f32; anything else gets kAuto,
// the narrowest of bf16 / f16 / f32 that holds the values exactly. (The
// library's kAuto stays exact: its tests compare tables bit for bit.) A
// file that cannot be read here is reported by the load, not here.
inline nn::HeadPrecision AutoHeadPrecision(const std::string& path) {
  try {
    if (path.empty() ||
        DetectCheckpointFormat(path) != CheckpointFormat::kGguf) {
      return nn::HeadPrecision::kAuto;
    }
    const io::GgufFile file = io::GgufFile::Open(path);
    const io::GgufTensorInfo* embd = file.FindTensor("token_embd.weight");
    const io::GgufTensorInfo* head = file.FindTensor("output.weight");
    if (embd != nullptr && embd->type == io::GgmlType::kQ8_0 &&
        (head == nullptr || head->type == io::GgmlType::kQ8_0)) {
      return nn::HeadPrecision::kQ8;
    }
  } catch (const std::exception&) {
  }
  return nn::HeadPrecision::kAuto;
}

// llama.cpp's flags that do not apply to a CPU engine: accepted, with a
// one-line note on stderr (once per flag), and otherwise ignored.
inline void AcceptIgnoredLlamaFlags(Args& args) {
  static std::set<std::string> noted;
  auto note = [&](const std::string& flag, const std::optional<std::string>& v,
                  std::string_view why) {
    if (!v || !noted.insert(flag).second) return;
    Note(flag + (v->empty() ? "" : " " + *v) + " ignored: " + std::string(why));
  };
  note("-ngl", args.Value({"-ngl", "--n-gpu-layers", "--gpu-layers"}),
       "CPU engine, no GPU layers");
  note("-fa",
       args.FlagOrValue({"-fa", "--flash-attn"},
                        {"on", "off", "auto", "0", "1", "true", "false"}),
       "CPU engine");
  note("-b", args.Value({"-b", "--batch-size"}),
       "CPU engine, prompts run in batches of 512 tokens");
  note("-ub", args.Value({"-ub", "--ubatch-size"}),
       "CPU engine, prompts run in batches of 512 tokens");
  note("--mlock",
       args.Flag({"--mlock"}) ? std::optional<std::string>("") : std::nullopt,
       "CPU engine, weights are not locked in RAM");
  note("--numa", args.Value({"--numa"}),
       "CPU engine, threads are not placed by NUMA node");
}

// -m, --packing, --act, --head, -t, --mmap / --no-mmap, --i2s-layout,
// --log-disable, -v, and the llama.cpp flags that do not apply here
// (AcceptIgnoredLlamaFlags).
struct ModelOptions {
  std::string path;  // empty: none given and no default allowed
  std::string packing = "i2s";
  std::string act = "a8";
  // --head; `auto` is resolved by Parse (AutoHeadPrecision): a GGUF's Q8_0
  // tables stay q8, else kAuto (exact).
  nn::HeadPrecision head = nn::HeadPrecision::kAuto;
  bool head_given = false;  // --head other than auto
  int64_t threads = 1;
  // --mmap: LoadOptions::map_weights = true (a GGUF's I2_S projections and
  // Q6_K / Q4_0 tables used in place from the mapped file); --no-mmap, the
  // default, copies them.
  bool mmap = false;
  quant::I2SLayout i2s_layout = quant::I2SLayout::kX86;  // --i2s-layout
  // --log-disable: informational stderr lines off (also sets LogDisabled()).
  bool log_disable = false;
  bool verbose = false;  // -v, --verbose

  // `allow_default`: without -m, use the embedded model (generate, chat).
  // Otherwise -m is required: a UsageError names it.
  static ModelOptions Parse(Args& args, bool allow_default) {
    ModelOptions o;
    o.log_disable = args.Flag({"--log-disable"});
    if (o.log_disable) LogDisabled() = true;
    o.verbose = args.Flag({"-v", "--verbose"});
    const bool no_mmap = args.Flag({"--no-mmap"});
    o.mmap = args.Flag({"--mmap"});
    if (o.mmap && no_mmap)
      throw UsageError("give --mmap or --no-mmap, not both");
    o.i2s_layout = ParseI2SLayout(args.String({"--i2s-layout"}, "x86"));
    AcceptIgnoredLlamaFlags(args);
    const std::optional<std::string> m = args.Value({"-m", "--model"});
    o.packing = args.String({"--packing"}, "i2s");
    o.act = args.String({"--act"}, "a8");
    o.head = ParseHeadPrecision(args.String({"--head"}, "auto"));
    o.head_given = o.head != nn::HeadPrecision::kAuto;
    o.threads = ParseThreads(args);
    if (m) {
      if (m->empty()) throw UsageError("-m needs a model path");
      o.path = *m;
    } else if (allow_default) {
      const auto d = DefaultModelPath();
      if (!d) {
        throw UsageError(
            "no -m MODEL given and the embedded tiny-shakespeare model was "
            "not found");
      }
      o.path = d->string();
    }
    if (!o.head_given) o.head = AutoHeadPrecision(o.path);
    return o;
  }

  // Checks --packing and --act names without loading anything.
  void Validate() const {
    WithPolicy(packing, act, [](auto) { return 0; });
  }

  void Require() const {
    if (path.empty()) throw UsageError("missing -m MODEL");
  }
};

// A context (-c) longer than the model was trained for: llama.cpp runs it
// and warns ("n_ctx_per_seq > n_ctx_train -- possible training context
// overflow"); so does ternary (RoPE positions past the table are computed).
// One line on stderr, unless --log-disable.
inline void WarnBeyondTrainedContext(std::string_view option, uint64_t n,
                                     const ModelConfig& c) {
  const uint64_t trained = uint64_t(std::max(c.max_position_embeddings, 1));
  if (n <= trained) return;
  Note("warning: " + std::string(option) + " " + std::to_string(n) +
       " is beyond the model's trained context of " + std::to_string(trained) +
       " positions (max_position_embeddings); text past it may degrade");
}

// --pretokenizer auto|llama3|falcon3|bitnet-cpp-default.
inline TokenizerLoadOptions ParseTokenizerOptions(Args& args) {
  TokenizerLoadOptions o;
  o.pretokenizer =
      ParsePreTokenizerChoice(args.String({"--pretokenizer"}, "auto"));
  return o;
}

// The sampling flags (kSamplingHelp). The seed is random unless given.
inline SamplingParams ParseSampling(Args& args) {
  SamplingParams p;
  p.temperature =
      static_cast<float>(args.Double({"--temp"}, p.temperature, 0.0, 1e6));
  p.top_k = static_cast<int>(args.Int({"--top-k"}, p.top_k, 0, 1 << 30));
  p.top_p = static_cast<float>(args.Double({"--top-p"}, p.top_p, 0.0, 1.0));
  if (p.top_p == 0.0f) throw UsageError("--top-p must be > 0 (1: off)");
  p.min_p = static_cast<float>(args.Double({"--min-p"}, p.min_p, 0.0, 1.0));
  p.repeat_penalty = static_cast<float>(
      args.Double({"--repeat-penalty"}, p.repeat_penalty, 1e-3, 1e3));
  p.repeat_last_n =
      static_cast<int>(args.Int({"--repeat-last-n"}, 64, 0, 1 << 20));
  const std::optional<std::string> seed = args.Value({"--seed", "-s"});
  if (seed) {
    const char* end = seed->data() + seed->size();
    auto [ptr, ec] = std::from_chars(seed->data(), end, p.seed);
    if (seed->empty() || ec != std::errc() || ptr != end) {
      throw UsageError("option --seed: '" + *seed +
                       "' is not an integer in [0, 2^64)");
    }
  } else {
    std::random_device rd;
    p.seed = (uint64_t{rd()} << 32) ^ rd();
  }
  p.Validate();
  return p;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_MODEL_OPTIONS_H_
