// ternary::Engine: text in, text out. It owns a loaded model, its
// tokenizer, a thread pool, the chat template and one sequence's KV cache,
// and streams generated text through a callback:
//
//   auto engine = ternary::Engine::Load("models/tiny-shakespeare");
//   engine->Generate("ROMEO:", {.max_tokens = 64},
//                    [](std::string_view text) { std::cout << text; return
//                    true; });
//
// This header is light (standard library and a few small ternary headers;
// no Highway, no kernels), so that a program using the Engine compiles in
// seconds. The definitions are in ternary/runtime/engine_impl.h, compiled
// once: link the `ternary::runtime` library (CMake, meson, pkg-config
// `ternary-runtime`), or include engine_impl.h in exactly one .cc file of
// your program (see the README).
#ifndef TERNARY_RUNTIME_ENGINE_H_
#define TERNARY_RUNTIME_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ternary/model/config.h"
#include "ternary/model/options.h"
#include "ternary/model/sampling.h"
#include "ternary/nn/head_precision.h"
#include "ternary/tokenizer/chat_template.h"

namespace ternary {

class ThreadPool;
struct ModelTokenizer;

// How Engine::Load builds the model.
struct EngineOptions {
  std::string packing = "i2s";  // weight layout the kernels run: i2s, tl1, tl2
  std::string act = "a8";       // activations: a8 (b1.58) or a4 (a4.8)
  nn::HeadPrecision head = nn::HeadPrecision::kAuto;  // embedding / LM head
  size_t threads = 0;  // 0: every hardware thread
  size_t context = 0;  // 0: the model's max_position_embeddings
  // Use a GGUF's I2_S weights and Q6_K / Q4_0 tables in place from the
  // mapped file instead of copies (LoadOptions: loads faster, decodes
  // slower).
  bool map_weights = false;
  // The block layout of a GGUF's I2_S tensors (LoadOptions): kArm for files
  // written by bitnet.cpp built for Arm; files do not record it.
  quant::I2SLayout i2s_layout = quant::I2SLayout::kX86;
  // "" : the format the file's chat template writes; when it has none or an
  // unknown one, 2B4T's for the BitNet family, else the format whose chat
  // tokens the vocabulary has (ChatML, Llama 3, Falcon 3), else plain text.
  // Otherwise a name from kChatTemplateNames.
  std::string chat_template = {};
  // Tokenizer split: "auto", "llama3", "falcon3", "bitnet-cpp-default".
  std::string pretokenizer = "auto";
  // false: the weights only (benchmarks, logits of given ids); a file whose
  // tokenizer is broken or missing still loads, and tokenizer() throws.
  bool load_tokenizer = true;
  // Called while the weights load with (values done, values in all).
  std::function<void(uint64_t done, uint64_t total)> on_progress = {};
};

// Why a generation ended.
enum class FinishReason {
  kLength,       // max_tokens generated
  kEndOfText,    // the model ended its text (EOS / end of turn)
  kStopString,   // a stop string appeared (it is not in the text)
  kContextFull,  // the next token would not fit in the context
  kCancelled,    // the callback returned false
};

// "length", "end_of_text", "stop_string", "context_full", "cancelled".
std::string_view FinishReasonName(FinishReason reason) noexcept;

struct GenerateOptions {
  // Tokens to generate at most; < 0: until end of text or a full context.
  int64_t max_tokens = 256;
  SamplingParams sampling =
      {};  // temperature 0 is greedy; seed makes it repeat
  std::vector<std::string> stop = {};  // stop strings, left out of the text
  bool ignore_eos = false;             // never sample the end-of-text tokens
  bool add_bos = true;  // prepend BOS when the tokenizer asks for one
  // Special-token text in the prompt ("<|eot_id|>") becomes that token.
  bool parse_special = true;
};

struct GenerateResult {
  std::string text = {};  // the generated text (stop string excluded)
  std::vector<int32_t> tokens = {};  // the generated tokens
  FinishReason finish = FinishReason::kLength;
  size_t prompt_tokens = 0;     // tokens of the prompt
  size_t cached_tokens = 0;     // of them, reused from the last call's cache
  size_t dropped_messages = 0;  // Chat: oldest messages left out to fit
  double prompt_seconds = 0.0;  // running the prompt's uncached tokens
  double generate_seconds = 0.0;
};

// Receives each piece of generated text as soon as it is whole UTF-8;
// returning false stops the generation (FinishReason::kCancelled).
using OnText = std::function<bool(std::string_view text)>;

// The parameters of a model of this config: every value its checkpoint
// holds (embedding, norms, sub-norms where the family has them,
// projections, an untied LM head).
inline uint64_t ParameterCount(const ModelConfig& c) noexcept {
  const uint64_t h = c.dims.hidden, f = c.dims.ffn, v = c.dims.vocab;
  const uint64_t qd = c.q_dim(), kv = c.kv_dim();
  const uint64_t sub = HasSubNorms(c.family) ? qd + f : 0;  // sub-norms
  const uint64_t layer = 2 * h + sub                        // norms
                         + (qd + 2 * kv) * h + h * qd       // attention
                         + 3 * f * h;                       // FFN
  return v * h * (c.tie_word_embeddings ? 1 : 2) + h +
         layer * static_cast<uint64_t>(c.dims.layers);
}

// Bytes the loaded weights occupy in memory.
struct WeightMemory {
  uint64_t ternary = 0;  // packed projections
  uint64_t tables = 0;   // embedding table and LM head
  uint64_t norms = 0;    // float32
  uint64_t total() const noexcept { return ternary + tables + norms; }
};

class Engine {
 public:
  // Loads a Hugging Face folder (config.json + safetensors) or a .gguf
  // file with its tokenizer. Throws ternary::Error subclasses (util/error.h)
  // with a one-line message naming the file.
  static std::unique_ptr<Engine> Load(const std::filesystem::path& model,
                                      const EngineOptions& options = {});
  // A model of these dimensions with seeded random ternary weights and no
  // tokenizer (for benchmarks): Forward works, Generate(text) does not.
  static std::unique_ptr<Engine> Random(const ModelConfig& config,
                                        const EngineOptions& options = {},
                                        uint64_t seed = 1234);
  virtual ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- Text in, text out -------------------------------------------------

  // Continues `prompt`. The KV cache keeps the tokens of the last call, so
  // a prompt that extends the previous one only runs its new tokens.
  GenerateResult Generate(std::string_view prompt,
                          const GenerateOptions& options = {},
                          const OnText& on_text = {});
  GenerateResult Generate(std::span<const int32_t> prompt,
                          const GenerateOptions& options = {},
                          const OnText& on_text = {});
  // The assistant's reply to a conversation, rendered with the chat
  // template. When the conversation does not fit in the context, the
  // oldest non-system messages are left out (result.dropped_messages).
  GenerateResult Chat(std::span<const ChatMessage> messages,
                      const GenerateOptions& options = {},
                      const OnText& on_text = {});

  // The prompt text Chat feeds for `messages` (special tokens as text).
  std::string ChatPrompt(std::span<const ChatMessage> messages) const;
  ChatTemplate chat_template() const noexcept { return chat_template_; }
  std::vector<int32_t> Tokenize(std::string_view text, bool add_bos = false,
                                bool parse_special = true) const;
  std::string Detokenize(std::span<const int32_t> ids) const;
  bool has_tokenizer() const noexcept { return tokenizer_ != nullptr; }
  // The tokenizer (ternary/model/load_tokenizer.h); throws if none.
  const ModelTokenizer& tokenizer() const;

  // --- The model and its one sequence --------------------------------------

  virtual const ModelConfig& config() const noexcept = 0;
  size_t vocab() const noexcept { return size_t(config().dims.vocab); }
  virtual std::string_view packing() const noexcept = 0;
  virtual std::string_view act() const noexcept = 0;
  // How the embedding table / LM head is stored: "bf16", "q8", ...
  virtual std::string_view head_precision() const noexcept = 0;
  virtual WeightMemory Memory() const = 0;
  // Bytes the sequences' states hold (KV caches, activations, scratch).
  virtual size_t StateBytes() const noexcept = 0;
  size_t threads() const noexcept;
  ThreadPool* pool() const noexcept { return pool_.get(); }
  // Positions a sequence may reach (EngineOptions::context).
  size_t context() const noexcept { return context_; }
  double load_seconds() const noexcept { return load_seconds_; }

  // Runs tokens at positions position()..., appending them to the KV cache;
  // logits rows (stride vocab()) as `which` says.
  void Forward(std::span<const int32_t> tokens, float* logits, Logits which);
  std::vector<float> Forward(std::span<const int32_t> tokens, Logits which);
  // Tokens in the KV cache, and which they are.
  size_t position() const noexcept { return position(0); }
  std::span<const int32_t> cached_tokens() const noexcept {
    return cached_tokens(0);
  }
  // A new, empty sequence with `reserve` positions allocated up front.
  void Reset(size_t reserve = 0) { Reset(0, reserve); }
  // Keeps the first n positions of the sequence.
  void Truncate(size_t n) { Truncate(0, n); }

  // --- Several sequences at once (batching) --------------------------------
  // Sequence 0 is the one Generate, Chat and Forward use; more are opened
  // and closed by the caller, each with its own KV cache. ForwardBatch runs
  // the new tokens of several sequences, at their own positions, through
  // the model together: each weight matrix is read once for all of them.

  using SequenceId = uint32_t;
  SequenceId OpenSequence(size_t reserve = 0);
  // Frees a sequence's KV cache; its id may be handed out again.
  void CloseSequence(SequenceId id);
  size_t open_sequences() const noexcept;

  struct BatchInput {
    SequenceId sequence = 0;
    std::span<const int32_t> tokens = {};
    bool logits = true;  // produce the logits of its last token
  };
  // Appends each input's tokens to its sequence (each sequence at most once
  // per call) and writes one row of vocab() logits per input with
  // logits = true, in input order. The results equal running each input
  // alone through Forward, up to float summation order.
  void ForwardBatch(std::span<const BatchInput> inputs, float* logits);

  size_t position(SequenceId id) const;
  std::span<const int32_t> cached_tokens(SequenceId id) const;
  void Reset(SequenceId id, size_t reserve);
  void Truncate(SequenceId id, size_t n);

 protected:
  Engine(size_t threads, size_t context);

  // One input of RunBatch: a sequence's new tokens and where its logits go
  // (nullptr: none).
  struct StepInput {
    SequenceId sequence;
    std::span<const int32_t> tokens;
    float* logits;
    Logits which;
  };
  // Runs the inputs through the model (sequences distinct and open).
  virtual void RunBatch(std::span<const StepInput> inputs) = 0;
  virtual void NewState(SequenceId id, size_t reserve) = 0;  // id may exist
  virtual void FreeState(SequenceId id) = 0;
  virtual void ResetState(SequenceId id, size_t reserve) = 0;
  virtual void TruncateState(SequenceId id, size_t n) = 0;

  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<ModelTokenizer> tokenizer_;
  ChatTemplate chat_template_ = ChatTemplate::kHuggingFace;
  size_t context_ = 0;
  double load_seconds_ = 0.0;

 private:
  std::vector<int32_t>& Tokens(SequenceId id);
  const std::vector<int32_t>& Tokens(SequenceId id) const;

  // The tokens in each sequence's KV cache; nullopt: a closed id.
  std::vector<std::optional<std::vector<int32_t>>> sequences_;
};

}  // namespace ternary

#endif  // TERNARY_RUNTIME_ENGINE_H_
