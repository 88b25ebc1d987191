// The CLI's way to the library's ternary::Engine (ternary/runtime/engine.h):
// the command-line model options as EngineOptions, with a progress bar on a
// terminal while the weights load. The Engine's definitions come from the
// ternary::runtime library, so this program's own TU stays light.
#ifndef TERNARY_EXAMPLES_CLI_ENGINE_H_
#define TERNARY_EXAMPLES_CLI_ENGINE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/model_options.h"
#include "cli/progress.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/runtime/engine.h"

namespace ternary::cli {

using ternary::Engine;
using ternary::WeightMemory;

// What some subcommands add to the model options.
struct EngineExtras {
  size_t context = 0;              // -c (0: the model's)
  std::string chat_template = {};  // --chat-template ("": the file's)
  TokenizerLoadOptions tokenizer = {};
  // false: the weights only (bench, logits: they take token ids).
  bool load_tokenizer = true;
};

inline std::string_view PreTokenizerChoiceName(PreTokenizerChoice c) {
  switch (c) {
    case PreTokenizerChoice::kLlama3:
      return "llama3";
    case PreTokenizerChoice::kFalcon3:
      return "falcon3";
    case PreTokenizerChoice::kBitnetCppDefault:
      return "bitnet-cpp-default";
    case PreTokenizerChoice::kAuto:
      break;
  }
  return "auto";
}

// The EngineOptions of the command line.
inline EngineOptions ToEngineOptions(const ModelOptions& o,
                                     const EngineExtras& x = {}) {
  EngineOptions e;
  e.packing = o.packing;
  e.act = o.act;
  e.head = o.head;
  e.threads = static_cast<size_t>(o.threads);
  e.context = x.context;
  e.map_weights = o.mmap;
  e.i2s_layout = o.i2s_layout;
  e.chat_template = x.chat_template;
  e.pretokenizer = PreTokenizerChoiceName(x.tokenizer.pretokenizer);
  e.load_tokenizer = x.load_tokenizer;
  return e;
}

// Draws `bar` from the Engine's load progress.
inline void AttachProgress(EngineOptions& e, std::optional<ProgressBar>& bar,
                           std::string label) {
  e.on_progress = [&bar, label = std::move(label)](uint64_t done,
                                                   uint64_t total) {
    if (!bar) bar.emplace(label, total);
    bar->Update(done, total);
  };
}

// The model at o.path (HF folder or .gguf) with its tokenizer.
inline std::unique_ptr<Engine> LoadEngine(const ModelOptions& o,
                                          const EngineExtras& x = {}) {
  o.Require();
  EngineOptions e = ToEngineOptions(o, x);
  std::optional<ProgressBar> bar;
  AttachProgress(
      e, bar, "loading " + std::filesystem::path(o.path).filename().string());
  std::unique_ptr<Engine> engine = Engine::Load(o.path, e);
  if (bar) bar->Done();
  return engine;
}

// A model of the given dimensions with seeded random ternary weights
// (ternary/model/random_weights.h), for benchmarks without a download.
inline std::unique_ptr<Engine> RandomEngine(const ModelConfig& config,
                                            const ModelOptions& o,
                                            const std::string& name,
                                            uint64_t seed = 1234) {
  EngineOptions e = ToEngineOptions(o);
  std::optional<ProgressBar> bar;
  AttachProgress(e, bar, "building " + name);
  std::unique_ptr<Engine> engine = Engine::Random(config, e, seed);
  if (bar) bar->Done();
  return engine;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_ENGINE_H_
