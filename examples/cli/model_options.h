// The options every model-running subcommand shares (-m, --packing, --act,
// -t, the sampling flags) and where the embedded default model is found.
#ifndef TERNARY_EXAMPLES_CLI_MODEL_OPTIONS_H_
#define TERNARY_EXAMPLES_CLI_MODEL_OPTIONS_H_

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/dispatch.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/model/sampling.h"
#include "ternary/nn/embedding.h"
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
    "  --head TYPE          embedding / LM head storage: auto (exact: bf16, "
    "f16 or f32;\n"
    "                       default), f32, bf16, f16, q8 (half of f16, "
    "slightly lossy)\n"
    "  -t, --threads N      threads (default: all cores)\n";

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

// "auto", "f32", "bf16", "f16", "q8" (--head).
inline nn::HeadPrecision ParseHeadPrecision(const std::string& s) {
  for (const auto p : {nn::HeadPrecision::kAuto, nn::HeadPrecision::kF32,
                       nn::HeadPrecision::kBF16, nn::HeadPrecision::kF16,
                       nn::HeadPrecision::kQ8}) {
    if (s == nn::HeadPrecisionName(p)) return p;
  }
  throw UsageError("--head must be auto, f32, bf16, f16 or q8, got '" + s +
                   "'");
}

// -m, --packing, --act, --head, -t.
struct ModelOptions {
  std::string path;  // empty: none given and no default allowed
  std::string packing = "i2s";
  std::string act = "a8";
  nn::HeadPrecision head = nn::HeadPrecision::kAuto;
  int64_t threads = 1;

  // `allow_default`: without -m, use the embedded model (generate, chat).
  // Otherwise -m is required: a UsageError names it.
  static ModelOptions Parse(Args& args, bool allow_default) {
    ModelOptions o;
    const std::optional<std::string> m = args.Value({"-m", "--model"});
    o.packing = args.String({"--packing"}, "i2s");
    o.act = args.String({"--act"}, "a8");
    o.head = ParseHeadPrecision(args.String({"--head"}, "auto"));
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

// --pretokenizer auto|llama3|bitnet-cpp-default.
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
