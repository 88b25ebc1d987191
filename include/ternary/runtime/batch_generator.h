// ternary::BatchGenerator: continuous batching over one Engine. Up to
// `sequences` requests generate at once, each in its own KV cache
// (Engine::OpenSequence); every step runs the new tokens of all of them
// through one Engine::ForwardBatch, and a request that arrives while others
// decode has its prompt prefilled (in chunks) and joins the batch without
// waiting for them to finish. More requests than sequences wait in a
// bounded queue.
//
//   auto engine = ternary::Engine::Load("models/tiny-shakespeare");
//   ternary::BatchGenerator batch(*engine, {.sequences = 4});
//   std::thread worker([&] { batch.Run(); });
//   batch.Submit({.prompt = "ROMEO:",
//                 .on_text = [](std::string_view t) { ...; return true; },
//                 .on_done = [](const ternary::BatchResult& r) { ... }});
//   ...
//   batch.Stop();
//   worker.join();
//
// Each request's tokens and text are what Engine::Generate (or Chat) gives
// for it alone with the same options (up to float summation order, which
// batching may change): the same sampler, seeded per request, the same
// stop strings, end tokens, max_tokens and context limit.
//
// Like engine.h, this header is light; the definitions are in
// ternary/runtime/batch_generator_impl.h, compiled into the
// ternary::runtime library.
#ifndef TERNARY_RUNTIME_BATCH_GENERATOR_H_
#define TERNARY_RUNTIME_BATCH_GENERATOR_H_

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ternary/runtime/engine.h"
#include "ternary/tokenizer/chat_template.h"

namespace ternary {

// What a request's on_done receives: Engine::Generate's result, and an
// error message when the request failed inside a step (its finish is then
// kCancelled; nothing else in the batch is affected).
struct BatchResult : GenerateResult {
  std::string error = {};
};

struct BatchRequest {
  // The prompt, the first of these that is given: token ids (BOS not
  // added), chat messages (rendered with the Engine's chat template and
  // trimmed to fit as Engine::Chat does), or text (tokenized as
  // Engine::Generate does, with options.add_bos and options.parse_special).
  std::vector<int32_t> tokens = {};
  std::vector<ChatMessage> messages = {};
  std::string prompt = {};
  GenerateOptions options = {};
  // Both run on the thread that steps the generator (Run or Step), so they
  // must be quick; they may call Submit, Cancel and stats, never Step.
  // on_text returning false cancels the request (FinishReason::kCancelled).
  OnText on_text = {};
  // Called exactly once for every accepted request: finished, cancelled,
  // failed, or still queued or running when the generator stops.
  std::function<void(const BatchResult&)> on_done = {};
};

struct BatchOptions {
  size_t sequences = 4;    // requests generating at once (KV caches)
  size_t max_queued = 64;  // requests waiting for a sequence; more: refused
  // Prompt tokens prefilled per step, all new prompts together (at least
  // one chunk of one prompt runs each step): a long prompt holds the
  // others' next token back by one chunk at most.
  size_t prefill_chunk = 256;
  // Engine::OpenSequence's reserve for each sequence (0: grow as needed).
  size_t reserve = 0;
};

// Counters since the generator was made, and its state now.
struct BatchStats {
  uint64_t submitted = 0;  // requests accepted
  uint64_t rejected = 0;   // refused: queue full or stopped
  // Requests done, by FinishReason (index: the enum's value).
  std::array<uint64_t, 5> finished = {};
  uint64_t failed = 0;             // of them, with an error
  uint64_t prompt_tokens = 0;      // prompt tokens of admitted requests
  uint64_t cached_tokens = 0;      // of them, reused from a sequence's cache
  uint64_t generated_tokens = 0;   // tokens sampled
  uint64_t steps = 0;              // ForwardBatch calls
  uint64_t batched_sequences = 0;  // sequences over all steps
  size_t queued = 0;               // requests waiting now
  size_t active = 0;               // requests prefilling or decoding now
  size_t sequences = 0;            // BatchOptions::sequences
  double busy_seconds = 0.0;       // time spent in steps
  // Generated tokens per second over the last ten seconds of wall time.
  double tokens_per_second = 0.0;
};

class BatchGenerator {
 public:
  using Id = uint64_t;

  // Opens options.sequences sequences of `engine` (never sequence 0, so
  // Engine::Generate keeps its own). While the generator steps, nothing
  // else may run the engine.
  explicit BatchGenerator(Engine& engine, const BatchOptions& options = {});
  // Calls on_done (kCancelled) for requests still there; closes the
  // sequences. Stop and join a thread in Run first.
  ~BatchGenerator();
  BatchGenerator(const BatchGenerator&) = delete;
  BatchGenerator& operator=(const BatchGenerator&) = delete;

  // Queues a request (any thread). Its id (from 1, never reused), or
  // nullopt when max_queued requests already wait or the generator was
  // stopped. Throws UsageError for a request that can never run: an empty
  // prompt, one longer than the context, token ids outside the
  // vocabulary, sampling parameters out of range.
  std::optional<Id> Submit(BatchRequest request);

  // Cancels a queued or running request (any thread): it ends at the next
  // step with kCancelled, and its sequence takes the next request. False
  // when the id is not queued or running.
  bool Cancel(Id id);

  // One step on the calling thread: cancellations, admissions, one
  // ForwardBatch over every active sequence, sampling, callbacks. True
  // while requests remain (queued or active).
  bool Step();

  // Steps until Stop (blocks while idle), then cancels what is left (each
  // on_done runs) and returns. Call from one thread.
  void Run();
  // Makes Run return after its current step (any thread); later Submits
  // are refused.
  void Stop();
  bool stopped() const;

  BatchStats stats() const;
  const BatchOptions& options() const noexcept { return options_; }
  Engine& engine() const noexcept { return engine_; }

 private:
  struct Active;  // a request in a sequence (batch_generator_impl.h)
  struct Queued {
    Id id = 0;
    std::vector<int32_t> tokens = {};
    size_t dropped_messages = 0;
    BatchRequest request = {};
  };

  void CancelEverything();

  Engine& engine_;
  BatchOptions options_;
  std::vector<Engine::SequenceId> sequences_;
  // One per sequence: the request in it (nullptr: free). Only the stepping
  // thread touches these.
  std::vector<std::unique_ptr<Active>> slots_;
  std::vector<float> logits_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<Queued> queue_;
  std::vector<Id> cancel_;   // ids to cancel at the next step
  std::vector<Id> running_;  // ids in slots_
  Id next_id_ = 1;
  bool stop_ = false;
  BatchStats stats_;
  // (end of step, tokens generated in it) over the last ten seconds, in
  // seconds since created_.
  std::deque<std::pair<double, uint64_t>> recent_;
  std::chrono::steady_clock::time_point created_ =
      std::chrono::steady_clock::now();
};

}  // namespace ternary

#endif  // TERNARY_RUNTIME_BATCH_GENERATOR_H_
