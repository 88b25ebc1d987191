// A loaded model and one sequence's state behind a virtual interface: the
// subcommands are compiled once, and only EngineImpl is instantiated per
// packing × activation policy (each instantiation compiles the kernels for
// every SIMD target, so this keeps the CLI's build time flat).
#ifndef TERNARY_EXAMPLES_CLI_ENGINE_H_
#define TERNARY_EXAMPLES_CLI_ENGINE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cli/dispatch.h"
#include "cli/model_options.h"
#include "cli/progress.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/model.h"
#include "ternary/model/random_weights.h"
#include "ternary/util/error.h"
#include "ternary/util/thread_pool.h"

namespace ternary::cli {

// Bytes the loaded weights occupy in memory.
struct WeightMemory {
  uint64_t ternary = 0;  // packed projections
  uint64_t tables = 0;   // embedding table and LM head (head_precision)
  uint64_t norms = 0;    // float32
  uint64_t total() const { return ternary + tables + norms; }
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual const ModelConfig& config() const noexcept = 0;
  size_t vocab() const noexcept { return size_t(config().dims.vocab); }
  virtual std::string_view packing() const noexcept = 0;
  virtual std::string_view act() const noexcept = 0;
  size_t threads() const noexcept { return pool_->NumThreads(); }

  // Runs tokens at positions position()…, appending them to the KV cache;
  // logits rows (stride vocab()) as `which` says (Model::Forward).
  virtual void Forward(std::span<const int32_t> tokens, float* logits,
                       Logits which) = 0;
  std::vector<float> Forward(std::span<const int32_t> tokens, Logits which) {
    const size_t rows = which == Logits::kAll    ? tokens.size()
                        : which == Logits::kLast ? (tokens.empty() ? 0 : 1)
                                                 : 0;
    std::vector<float> out(rows * vocab());
    Forward(tokens, out.data(), which);
    return out;
  }

  // Tokens in the KV cache.
  virtual size_t position() const noexcept = 0;
  // A new, empty sequence with `reserve` positions allocated up front.
  virtual void Reset(size_t reserve = 0) = 0;

  virtual WeightMemory Memory() const = 0;
  // How the embedding table / LM head is stored: "bf16", "q8", ...
  virtual std::string_view head_precision() const noexcept = 0;

  double load_seconds() const noexcept { return load_seconds_; }

 protected:
  explicit Engine(size_t threads)
      : pool_(std::make_unique<ThreadPool>(threads)) {}
  ThreadPool* pool() const noexcept { return pool_.get(); }

  std::unique_ptr<ThreadPool> pool_;
  double load_seconds_ = 0.0;
};

template <class P>
class EngineImpl final : public Engine {
 public:
  using M = Model<kDynamicDims, P>;

  explicit EngineImpl(size_t threads) : Engine(threads) {}

  void Set(M model, double seconds) {
    model_ = std::move(model);
    state_ = model_.NewState();
    load_seconds_ = seconds;
  }

  const ModelConfig& config() const noexcept override {
    return model_.config();
  }
  std::string_view packing() const noexcept override {
    return P::Format::kName;
  }
  std::string_view act() const noexcept override {
    if constexpr (std::is_same_v<typename P::Act, quant::A4>) {
      return "a4";
    } else {
      return "a8";
    }
  }

  void Forward(std::span<const int32_t> tokens, float* logits,
               Logits which) override {
    model_.Forward(tokens, state_, logits, which, pool());
  }
  size_t position() const noexcept override { return state_.size(); }
  void Reset(size_t reserve) override {
    // Keep the buffers (and their mapped pages) when they are big enough.
    if (reserve <= state_.cache().capacity()) {
      state_.Reset();
    } else {
      state_ = model_.NewState(reserve);
    }
  }

  WeightMemory Memory() const override {
    WeightMemory m;
    const ModelConfig& c = model_.config();
    m.tables = model_.embedding().bytes() +
               (c.tie_word_embeddings ? 0 : model_.head().bytes());
    m.ternary = model_.WeightBytes() - m.tables;
    m.norms = (uint64_t(c.dims.layers) *
                   (2 * c.dims.hidden + c.q_dim() + c.dims.ffn) +
               c.dims.hidden) *
              sizeof(float);
    return m;
  }
  std::string_view head_precision() const noexcept override {
    return nn::HeadPrecisionName(model_.head().precision());
  }

 private:
  M model_;
  typename M::State state_;
};

// The model at o.path (HF folder or .gguf), packed as o.packing/o.act, with
// o.threads threads; a progress bar on a terminal while it loads.
inline std::unique_ptr<Engine> LoadEngine(const ModelOptions& o) {
  o.Require();
  return WithPolicy(o.packing, o.act, [&]<class P>(P) {
    auto engine = std::make_unique<EngineImpl<P>>(size_t(o.threads));
    const auto start = std::chrono::steady_clock::now();
    const std::filesystem::path path(o.path);
    auto model =
        WithCheckpoint(path, [&](auto& source, const std::string& name) {
          ProgressBar bar("loading " + path.filename().string(),
                          SourceValues(source.config()));
          ProgressSource progress(source, bar);
          return Model<kDynamicDims, P>::FromSource(
              progress, name, LoadOptions{.head = o.head});
        });
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    engine->Set(std::move(model), s);
    return std::unique_ptr<Engine>(std::move(engine));
  });
}

// A model of the given dimensions with seeded random ternary weights
// (ternary/model/random_weights.h), for benchmarks without a download.
inline std::unique_ptr<Engine> RandomEngine(const ModelConfig& config,
                                            const ModelOptions& o,
                                            const std::string& name,
                                            uint64_t seed = 1234) {
  return WithPolicy(o.packing, o.act, [&]<class P>(P) {
    auto engine = std::make_unique<EngineImpl<P>>(size_t(o.threads));
    const auto start = std::chrono::steady_clock::now();
    RandomWeights weights(config, seed);
    ProgressBar bar("building " + name, SourceValues(config));
    ProgressSource progress(weights, bar);
    auto model = Model<kDynamicDims, P>::FromSource(
        progress, name, LoadOptions{.head = o.head});
    bar.Done();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    engine->Set(std::move(model), s);
    return std::unique_ptr<Engine>(std::move(engine));
  });
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_ENGINE_H_
