// The definitions of ternary::Engine (runtime/engine.h). They instantiate
// the model for every packing × activation policy and every SIMD target, so
// they are compiled once per program: include this header in exactly one
// .cc file (the `ternary::runtime` library is that file, prebuilt), and
// only runtime/engine.h everywhere else.
#ifndef TERNARY_RUNTIME_ENGINE_IMPL_H_
#define TERNARY_RUNTIME_ENGINE_IMPL_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ternary/model/checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/model/model.h"
#include "ternary/model/random_weights.h"
#include "ternary/model/weights.h"
#include "ternary/runtime/engine.h"
#include "ternary/runtime/policy_names.h"
#include "ternary/runtime/text_generation.h"
#include "ternary/util/error.h"
#include "ternary/util/thread_pool.h"

namespace ternary {
namespace runtime_detail {

// The model-loading part of the Engine's options.
inline LoadOptions ToLoadOptions(const EngineOptions& o) {
  return LoadOptions{
      .head = o.head, .map_weights = o.map_weights, .i2s_layout = o.i2s_layout};
}

// Forwards a WeightSource and reports each tensor's values as read. The
// zero-copy path of a mapped GGUF (PackedI2S, Retain) is forwarded too.
template <WeightSource S>
class ProgressSource {
 public:
  using Callback = std::function<void(uint64_t, uint64_t)>;
  ProgressSource(S& source, const Callback& callback)
      : source_(source),
        callback_(callback),
        total_(ParameterCount(source.config())) {}

  ModelConfig config() const { return source_.config(); }

  TernaryMatrix Ternary(TensorId id, size_t rows, size_t cols) const {
    TernaryMatrix m = source_.Ternary(id, rows, cols);
    Add(uint64_t{rows} * cols);
    return m;
  }
  AlignedBuffer<float> Floats(TensorId id, size_t rows, size_t cols) const {
    AlignedBuffer<float> out = source_.Floats(id, rows, cols);
    Add(uint64_t{rows} * cols);
    return out;
  }
  auto PackedI2S(TensorId id, size_t rows, size_t cols) const requires
      requires(S& s) {
    s.PackedI2S(id, rows, cols);
  }
  { return Lent(source_.PackedI2S(id, rows, cols), rows, cols); }
  auto HeadTable(TensorId id, size_t rows, size_t cols) const requires
      requires(S& s) {
    s.HeadTable(id, rows, cols);
  }
  { return Lent(source_.HeadTable(id, rows, cols), rows, cols); }
  auto Retain() const requires requires(S& s) { s.Retain(); }
  { return source_.Retain(); }
  void Release(TensorId id) const requires requires(S& s) { s.Release(id); }
  { source_.Release(id); }

 private:
  // A tensor the source lends in place (an optional): counted if lent.
  template <class T>
  T Lent(T tensor, size_t rows, size_t cols) const {
    if (tensor) Add(uint64_t{rows} * cols);
    return tensor;
  }
  void Add(uint64_t n) const {
    done_ += n;
    if (callback_) callback_(std::min(done_, total_), total_);
  }

  S& source_;
  const Callback& callback_;
  uint64_t total_;
  mutable uint64_t done_ = 0;
};

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

inline size_t ThreadsOrAll(size_t threads) {
  return threads != 0
             ? threads
             : std::max<size_t>(1, std::thread::hardware_concurrency());
}

// The chat format of a model whose file has no template ternary knows:
// the BitNet family's (2B4T) trained format; for the other families the
// format whose special tokens the vocabulary has (a Llama 3 Instruct,
// Falcon 3 or ChatML vocabulary), else plain text (1bitLLM's base models,
// whose SentencePiece vocabulary has no chat tokens).
inline ChatTemplate FallbackChatTemplate(ModelFamily family,
                                         const Tokenizer& tok) {
  if (family == ModelFamily::kBitNet) return ChatTemplate::kHuggingFace;
  auto has = [&](std::string_view t) { return tok.TokenId(t).has_value(); };
  if (has("<|im_start|>") && has("<|im_end|>")) return ChatTemplate::kChatML;
  if (has("<|start_header_id|>") && has("<|eot_id|>")) {
    return ChatTemplate::kLlama3;
  }
  if (has("<|assistant|>") && has("<|user|>")) return ChatTemplate::kFalcon3;
  return ChatTemplate::kPlain;
}

}  // namespace runtime_detail

// The Engine of one policy and model family: a Model with runtime
// dimensions and the States of its sequences.
template <ModelPolicy P, FamilyPolicy F = family::BitNet>
class EngineImpl final : public Engine {
 public:
  using M = Model<kDynamicDims, P, F>;

  EngineImpl(size_t threads, M model)
      : Engine(threads, 0), model_(std::move(model)) {
    states_.push_back(std::make_unique<typename M::State>(model_.NewState()));
    context_ = static_cast<size_t>(
        std::max(model_.config().max_position_embeddings, 1));
  }

  const M& model() const noexcept { return model_; }

  const ModelConfig& config() const noexcept override {
    return model_.config();
  }
  std::string_view packing() const noexcept override {
    return P::Format::kName;
  }
  std::string_view act() const noexcept override {
    return std::is_same_v<typename P::Act, quant::A4> ? "a4" : "a8";
  }
  std::string_view head_precision() const noexcept override {
    return nn::HeadPrecisionName(model_.head().precision());
  }
  WeightMemory Memory() const override {
    WeightMemory m;
    const ModelConfig& c = model_.config();
    m.tables = model_.embedding().bytes() +
               (c.tie_word_embeddings ? 0 : model_.head().bytes());
    m.ternary = model_.WeightBytes() - m.tables;
    m.norms =
        (uint64_t(c.dims.layers) *
             (2 * c.dims.hidden + (F::kSubNorms ? c.q_dim() + c.dims.ffn : 0)) +
         c.dims.hidden) *
        sizeof(float);
    return m;
  }
  size_t StateBytes() const noexcept override {
    size_t bytes = 0;
    for (const auto& state : states_) bytes += state ? state->bytes() : 0;
    return bytes;
  }

 private:
  typename M::State& State(SequenceId id) { return *states_[id]; }

  void RunBatch(std::span<const StepInput> inputs) override {
    // One pass for all sequences (Model::ForwardBatch); sequence 0's State
    // lends the activation buffers.
    std::vector<typename M::BatchItem> items;
    items.reserve(inputs.size());
    for (const StepInput& in : inputs) {
      items.push_back({in.tokens, &State(in.sequence), in.logits,
                       in.logits ? in.which : Logits::kNone});
    }
    model_.ForwardBatch(items, State(0), pool());
  }
  void NewState(SequenceId id, size_t reserve) override {
    if (states_.size() <= id) states_.resize(id + 1);
    states_[id] = std::make_unique<typename M::State>(model_.NewState(reserve));
  }
  void FreeState(SequenceId id) override { states_[id].reset(); }
  void ResetState(SequenceId id, size_t reserve) override {
    // Keep the buffers (and their mapped pages) when they are big enough.
    typename M::State& state = State(id);
    if (reserve <= state.cache().capacity()) {
      state.Reset();
    } else {
      state = model_.NewState(reserve);
    }
  }
  void TruncateState(SequenceId id, size_t n) override {
    State(id).Truncate(n);
  }

  M model_;
  std::vector<std::unique_ptr<typename M::State>> states_;
};

// ---------------------------------------------------------------------------
// Out-of-line definitions (one TU per program; see the top of this file).

std::string_view FinishReasonName(FinishReason reason) noexcept {
  switch (reason) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEndOfText:
      return "end_of_text";
    case FinishReason::kStopString:
      return "stop_string";
    case FinishReason::kContextFull:
      return "context_full";
    case FinishReason::kCancelled:
      return "cancelled";
  }
  return "?";
}

Engine::Engine(size_t threads, size_t context)
    : pool_(
          std::make_unique<ThreadPool>(runtime_detail::ThreadsOrAll(threads))),
      context_(context),
      sequences_(1, std::vector<int32_t>{}) {}  // sequence 0 is always open

Engine::~Engine() = default;

size_t Engine::threads() const noexcept { return pool_->NumThreads(); }

std::unique_ptr<Engine> Engine::Load(const std::filesystem::path& path,
                                     const EngineOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  // The tokenizer first: a broken tokenizer fails before minutes of
  // weight loading.
  std::optional<ModelTokenizer> tok;
  if (options.load_tokenizer) {
    tok = LoadTokenizer(
        path, TokenizerLoadOptions{.pretokenizer = ParsePreTokenizerChoice(
                                       options.pretokenizer)});
  }
  std::optional<ChatTemplate> chat;
  if (!options.chat_template.empty()) {
    chat = ParseChatTemplateName(options.chat_template);
    if (!chat) {
      throw UsageError("chat template '" + options.chat_template +
                       "' is not one of: " + std::string(kChatTemplateNames));
    }
  }
  // The family is read from the file: each packing × activation × family
  // is its own Model type.
  std::unique_ptr<Engine> engine = WithPolicy(
      options.packing, options.act, [&]<class P>(P) -> std::unique_ptr<Engine> {
        const LoadOptions load = runtime_detail::ToLoadOptions(options);
        return WithCheckpoint(
            path, load, [&](auto& source, const std::string& name) {
              runtime_detail::ProgressSource progress(source,
                                                      options.on_progress);
              return WithFamily(source.config().family,
                                [&]<class F>(F) -> std::unique_ptr<Engine> {
                                  auto model =
                                      Model<kDynamicDims, P, F>::FromSource(
                                          progress, name, load);
                                  return std::make_unique<EngineImpl<P, F>>(
                                      options.threads, std::move(model));
                                });
            });
      });
  if (tok) {
    engine->chat_template_ =
        chat ? *chat
             : DetectChatTemplate(tok->chat_template)
                   .value_or(runtime_detail::FallbackChatTemplate(
                       engine->config().family, tok->tokenizer));
    engine->tokenizer_ = std::make_unique<ModelTokenizer>(std::move(*tok));
  }
  if (options.context != 0) engine->context_ = options.context;
  engine->load_seconds_ = runtime_detail::SecondsSince(start);
  return engine;
}

std::unique_ptr<Engine> Engine::Random(const ModelConfig& config,
                                       const EngineOptions& options,
                                       uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Engine> engine = WithPolicy(
      options.packing, options.act, [&]<class P>(P) -> std::unique_ptr<Engine> {
        RandomWeights weights(config, seed);
        runtime_detail::ProgressSource progress(weights, options.on_progress);
        return WithFamily(
            config.family, [&]<class F>(F) -> std::unique_ptr<Engine> {
              auto model = Model<kDynamicDims, P, F>::FromSource(
                  progress, "random", runtime_detail::ToLoadOptions(options));
              return std::make_unique<EngineImpl<P, F>>(options.threads,
                                                        std::move(model));
            });
      });
  if (options.context != 0) engine->context_ = options.context;
  engine->load_seconds_ = runtime_detail::SecondsSince(start);
  return engine;
}

const ModelTokenizer& Engine::tokenizer() const {
  if (!tokenizer_) {
    throw UsageError(
        "this engine has no tokenizer (Engine::Random, or loaded with "
        "load_tokenizer = false)");
  }
  return *tokenizer_;
}

std::vector<int32_t> Engine::Tokenize(std::string_view text, bool add_bos,
                                      bool parse_special) const {
  const ModelTokenizer& tok = tokenizer();
  return tok.tokenizer.Encode(text,
                              EncodeOptions{.add_bos = add_bos && tok.add_bos,
                                            .parse_special = parse_special});
}

std::string Engine::Detokenize(std::span<const int32_t> ids) const {
  return tokenizer().tokenizer.Decode(ids, DecodeOptions{.skip_special = true});
}

std::string Engine::ChatPrompt(std::span<const ChatMessage> messages) const {
  return ApplyChatTemplate(messages, /*add_generation_prompt=*/true,
                           chat_template_);
}

std::vector<int32_t>& Engine::Tokens(SequenceId id) {
  if (id >= sequences_.size() || !sequences_[id]) {
    throw UsageError("sequence " + std::to_string(id) + " is not open");
  }
  return *sequences_[id];
}

const std::vector<int32_t>& Engine::Tokens(SequenceId id) const {
  return const_cast<Engine*>(this)->Tokens(id);
}

void Engine::Forward(std::span<const int32_t> tokens, float* logits,
                     Logits which) {
  std::vector<int32_t>& cached = Tokens(0);
  const StepInput in{0, tokens, logits, which};
  RunBatch(std::span<const StepInput>(&in, 1));
  cached.insert(cached.end(), tokens.begin(), tokens.end());
}

std::vector<float> Engine::Forward(std::span<const int32_t> tokens,
                                   Logits which) {
  const size_t rows = which == Logits::kAll    ? tokens.size()
                      : which == Logits::kLast ? (tokens.empty() ? 0 : 1)
                                               : 0;
  std::vector<float> out(rows * vocab());
  Forward(tokens, out.data(), which);
  return out;
}

Engine::SequenceId Engine::OpenSequence(size_t reserve) {
  SequenceId id = 1;
  while (id < sequences_.size() && sequences_[id]) ++id;
  NewState(id, reserve);
  if (id == sequences_.size()) sequences_.emplace_back();
  sequences_[id].emplace();
  return id;
}

void Engine::CloseSequence(SequenceId id) {
  if (id == 0) throw UsageError("sequence 0 cannot be closed");
  Tokens(id);  // throws for an id that is not open
  FreeState(id);
  sequences_[id].reset();
}

size_t Engine::open_sequences() const noexcept {
  return size_t(std::count_if(sequences_.begin(), sequences_.end(),
                              [](const auto& s) { return s.has_value(); }));
}

void Engine::ForwardBatch(std::span<const BatchInput> inputs, float* logits) {
  std::vector<StepInput> steps;
  steps.reserve(inputs.size());
  size_t row = 0;
  for (const BatchInput& in : inputs) {
    const std::vector<int32_t>& cached = Tokens(in.sequence);
    if (in.tokens.empty()) {
      throw UsageError("ForwardBatch: no tokens for sequence " +
                       std::to_string(in.sequence));
    }
    for (const StepInput& s : steps) {
      if (s.sequence == in.sequence) {
        throw UsageError("ForwardBatch: sequence " +
                         std::to_string(in.sequence) + " appears twice");
      }
    }
    if (cached.size() + in.tokens.size() > context_) {
      throw UsageError("ForwardBatch: sequence " + std::to_string(in.sequence) +
                       " would pass the context of " +
                       std::to_string(context_));
    }
    const bool out = in.logits;
    steps.push_back({in.sequence, in.tokens,
                     out ? logits + row * vocab() : nullptr, Logits::kLast});
    row += out ? 1 : 0;
  }
  RunBatch(steps);
  for (const BatchInput& in : inputs) {
    std::vector<int32_t>& cached = Tokens(in.sequence);
    cached.insert(cached.end(), in.tokens.begin(), in.tokens.end());
  }
}

size_t Engine::position(SequenceId id) const { return Tokens(id).size(); }

std::span<const int32_t> Engine::cached_tokens(SequenceId id) const {
  return Tokens(id);
}

void Engine::Reset(SequenceId id, size_t reserve) {
  Tokens(id).clear();
  ResetState(id, reserve);
}

void Engine::Truncate(SequenceId id, size_t n) {
  std::vector<int32_t>& cached = Tokens(id);
  if (n >= cached.size()) return;
  TruncateState(id, n);
  cached.resize(n);
}

GenerateResult Engine::Generate(std::string_view prompt,
                                const GenerateOptions& options,
                                const OnText& on_text) {
  const std::vector<int32_t> ids =
      Tokenize(prompt, options.add_bos, options.parse_special);
  return Generate(std::span<const int32_t>(ids), options, on_text);
}

GenerateResult Engine::Generate(std::span<const int32_t> prompt,
                                const GenerateOptions& options,
                                const OnText& on_text) {
  tokenizer();  // throws for an engine without one
  if (prompt.empty()) {
    throw UsageError("the prompt is empty (and there is no BOS)");
  }
  if (prompt.size() > context_) {
    throw UsageError("the prompt has " + std::to_string(prompt.size()) +
                     " tokens, more than the context of " +
                     std::to_string(context_));
  }
  const size_t keep = runtime_detail::ReusablePrefix(Tokens(0), prompt);
  Truncate(keep);
  runtime_detail::TextGeneration gen(*this, prompt, options, on_text);
  gen.result().cached_tokens = keep;

  auto start = std::chrono::steady_clock::now();
  std::vector<float> logits = Forward(prompt.subspan(keep), Logits::kLast);
  gen.result().prompt_seconds = runtime_detail::SecondsSince(start);
  start = std::chrono::steady_clock::now();
  while (const std::optional<int32_t> id =
             gen.Next(logits, position(), context_)) {
    Forward(std::span<const int32_t>(&*id, 1), logits.data(), Logits::kLast);
  }
  GenerateResult r = std::move(gen.result());
  r.generate_seconds = runtime_detail::SecondsSince(start);
  return r;
}

GenerateResult Engine::Chat(std::span<const ChatMessage> messages,
                            const GenerateOptions& options,
                            const OnText& on_text) {
  size_t dropped = 0;
  const std::vector<int32_t> ids =
      runtime_detail::FitChat(*this, messages, options.add_bos, dropped);
  GenerateOptions with_stops = options;
  AppendChatStops(chat_template_, with_stops.stop);
  GenerateResult r =
      Generate(std::span<const int32_t>(ids), with_stops, on_text);
  r.dropped_messages = dropped;
  return r;
}

}  // namespace ternary

#endif  // TERNARY_RUNTIME_ENGINE_IMPL_H_
