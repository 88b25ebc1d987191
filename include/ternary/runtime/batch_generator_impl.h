// The definitions of ternary::BatchGenerator (runtime/batch_generator.h),
// compiled once into the ternary::runtime library (src/ternary_runtime.cc)
// next to the Engine's. They use only the Engine's public API.
//
// Each sequence runs runtime_detail::TextGeneration
// (runtime/text_generation.h), the loop Engine::Generate runs, so a batched
// request decodes exactly as Engine::Generate would.
#ifndef TERNARY_RUNTIME_BATCH_GENERATOR_IMPL_H_
#define TERNARY_RUNTIME_BATCH_GENERATOR_IMPL_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ternary/runtime/batch_generator.h"
#include "ternary/runtime/engine.h"
#include "ternary/runtime/text_generation.h"
#include "ternary/util/error.h"

namespace ternary {
namespace runtime_detail {

inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace runtime_detail

// A request in a sequence: its prompt runs in chunks, then one token per
// step.
struct BatchGenerator::Active {
  using Clock = std::chrono::steady_clock;

  Active(const Engine& engine, Id id_, std::vector<int32_t> prompt_,
         BatchRequest request_)
      : id(id_),
        request(std::move(request_)),
        prompt(std::move(prompt_)),
        gen(engine, prompt, request.options, request.on_text) {}

  Id id;
  BatchRequest request;  // owns the options and callbacks gen refers to
  std::vector<int32_t> prompt;
  runtime_detail::TextGeneration gen;
  size_t fed = 0;    // prompt tokens in the sequence's cache
  int32_t next = 0;  // the sampled token to run next, once decoding
  bool decoding = false;
  std::string error;
  Clock::time_point start = Clock::now();
  Clock::time_point first;  // the prompt's logits were ready
};

BatchGenerator::BatchGenerator(Engine& engine, const BatchOptions& options)
    : engine_(engine), options_(options) {
  if (options_.sequences == 0) {
    throw UsageError("BatchGenerator: sequences must be at least 1");
  }
  options_.prefill_chunk = std::max<size_t>(options_.prefill_chunk, 1);
  try {
    for (size_t i = 0; i < options_.sequences; ++i) {
      sequences_.push_back(engine_.OpenSequence(options_.reserve));
    }
  } catch (...) {
    for (Engine::SequenceId s : sequences_) engine_.CloseSequence(s);
    throw;
  }
  slots_.resize(sequences_.size());
  stats_.sequences = sequences_.size();
}

BatchGenerator::~BatchGenerator() {
  CancelEverything();
  for (Engine::SequenceId s : sequences_) {
    try {
      engine_.CloseSequence(s);
    } catch (...) {
    }
  }
}

std::optional<BatchGenerator::Id> BatchGenerator::Submit(BatchRequest request) {
  request.options.sampling.Validate();
  (void)engine_.tokenizer();  // decoding needs one; throws if none
  std::vector<int32_t> tokens;
  size_t dropped = 0;
  if (!request.tokens.empty()) {
    tokens = std::move(request.tokens);
    request.tokens.clear();
    for (int32_t id : tokens) {
      if (id < 0 || size_t(id) >= engine_.vocab()) {
        throw UsageError("token id " + std::to_string(id) +
                         " outside the vocabulary [0, " +
                         std::to_string(engine_.vocab()) + ")");
      }
    }
  } else if (!request.messages.empty()) {
    tokens = runtime_detail::FitChat(engine_, request.messages,
                                     request.options.add_bos, dropped);
    AppendChatStops(engine_.chat_template(), request.options.stop);
  } else {
    tokens = engine_.Tokenize(request.prompt, request.options.add_bos,
                              request.options.parse_special);
  }
  if (tokens.empty()) {
    throw UsageError("the prompt is empty (and there is no BOS)");
  }
  if (tokens.size() > engine_.context()) {
    throw UsageError("the prompt has " + std::to_string(tokens.size()) +
                     " tokens, more than the context of " +
                     std::to_string(engine_.context()));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop_ || queue_.size() >= options_.max_queued) {
    ++stats_.rejected;
    return std::nullopt;
  }
  const Id id = next_id_++;
  queue_.push_back(Queued{id, std::move(tokens), dropped, std::move(request)});
  ++stats_.submitted;
  wake_.notify_all();
  return id;
}

bool BatchGenerator::Cancel(Id id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool known =
      std::find(running_.begin(), running_.end(), id) != running_.end() ||
      std::any_of(queue_.begin(), queue_.end(),
                  [&](const Queued& q) { return q.id == id; });
  if (known) {
    cancel_.push_back(id);
    wake_.notify_all();
  }
  return known;
}

void BatchGenerator::Stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stop_ = true;
  wake_.notify_all();
}

bool BatchGenerator::stopped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stop_;
}

namespace runtime_detail {

// A request's end, for its on_done outside the lock.
struct Done {
  std::function<void(const BatchResult&)> on_done;
  BatchResult result;
};

inline void Notify(std::vector<Done>& done) {
  for (Done& d : done) {
    if (!d.on_done) continue;
    try {
      d.on_done(d.result);
    } catch (...) {
      // A callback's exception must not take the other requests down.
    }
  }
  done.clear();
}

inline Done Unstarted(std::vector<int32_t> tokens, size_t dropped,
                      BatchRequest& request) {
  Done d{std::move(request.on_done), {}};
  d.result.finish = FinishReason::kCancelled;
  d.result.prompt_tokens = tokens.size();
  d.result.dropped_messages = dropped;
  return d;
}

}  // namespace runtime_detail

bool BatchGenerator::Step() {
  using Clock = std::chrono::steady_clock;
  const auto step_start = Clock::now();
  std::vector<runtime_detail::Done> done;
  std::vector<Id> cancels;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancels.swap(cancel_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (std::find(cancels.begin(), cancels.end(), it->id) != cancels.end()) {
        done.push_back(runtime_detail::Unstarted(
            std::move(it->tokens), it->dropped_messages, it->request));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // A request's end: its result goes to `done`, its sequence is free.
  auto finish = [&](size_t slot) {
    Active& a = *slots_[slot];
    a.gen.Cancel();  // no-op when it ended by itself
    BatchResult r;
    static_cast<GenerateResult&>(r) = std::move(a.gen.result());
    r.error = std::move(a.error);
    const auto now = Clock::now();
    if (a.decoding) {
      r.prompt_seconds = runtime_detail::Seconds(a.first - a.start);
      r.generate_seconds = runtime_detail::Seconds(now - a.first);
    } else {
      r.prompt_seconds = runtime_detail::Seconds(now - a.start);
    }
    done.push_back({std::move(a.request.on_done), std::move(r)});
    const Id id = a.id;
    slots_[slot].reset();
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(std::find(running_.begin(), running_.end(), id));
  };

  for (size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s] && std::find(cancels.begin(), cancels.end(), slots_[s]->id) !=
                         cancels.end()) {
      finish(s);
    }
  }

  // Admissions, oldest first, each into the free sequence whose cache
  // shares the longest prefix with its prompt.
  for (;;) {
    std::vector<size_t> free;
    for (size_t s = 0; s < slots_.size(); ++s) {
      if (!slots_[s]) free.push_back(s);
    }
    if (free.empty()) break;
    Queued q;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) break;
      q = std::move(queue_.front());
      queue_.pop_front();
      running_.push_back(q.id);
    }
    size_t best = free.front(), best_keep = 0;
    for (size_t s : free) {
      const size_t keep = runtime_detail::ReusablePrefix(
          engine_.cached_tokens(sequences_[s]), q.tokens);
      if (keep > best_keep) {
        best = s;
        best_keep = keep;
      }
    }
    std::unique_ptr<Active> a;
    const size_t prompt_tokens = q.tokens.size();
    std::function<void(const BatchResult&)> on_done = q.request.on_done;
    try {
      engine_.Truncate(sequences_[best], best_keep);
      a = std::make_unique<Active>(engine_, q.id, std::move(q.tokens),
                                   std::move(q.request));
    } catch (const std::exception& e) {
      // Out of memory, say: this request fails, the others go on.
      runtime_detail::Done d{std::move(on_done), {}};
      d.result.finish = FinishReason::kCancelled;
      d.result.prompt_tokens = prompt_tokens;
      d.result.error = e.what();
      done.push_back(std::move(d));
      std::lock_guard<std::mutex> lock(mutex_);
      running_.erase(std::find(running_.begin(), running_.end(), q.id));
      continue;
    }
    a->fed = best_keep;
    a->gen.result().cached_tokens = best_keep;
    a->gen.result().dropped_messages = q.dropped_messages;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.prompt_tokens += a->prompt.size();
      stats_.cached_tokens += best_keep;
    }
    slots_[best] = std::move(a);
  }

  // One batch: each decoding sequence's last token, and chunks of the
  // prompts being prefilled (oldest first) within the step's budget.
  std::vector<Engine::BatchInput> inputs;
  std::vector<size_t> input_slot;
  size_t budget = options_.prefill_chunk;
  bool prefilled = false;
  size_t rows = 0;
  std::vector<size_t> order;
  for (size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s]) order.push_back(s);
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return slots_[a]->id < slots_[b]->id; });
  for (size_t s : order) {
    Active& a = *slots_[s];
    if (a.decoding) {
      inputs.push_back(
          {sequences_[s], std::span<const int32_t>(&a.next, 1), true});
    } else {
      const size_t left = a.prompt.size() - a.fed;
      if (budget == 0 && prefilled) continue;
      const size_t n = std::min(left, std::max<size_t>(budget, 1));
      budget -= std::min(budget, n);
      prefilled = true;
      inputs.push_back({sequences_[s],
                        std::span<const int32_t>(a.prompt).subspan(a.fed, n),
                        a.fed + n == a.prompt.size()});
    }
    input_slot.push_back(s);
    rows += inputs.back().logits ? 1 : 0;
  }

  uint64_t generated = 0;
  if (!inputs.empty()) {
    logits_.resize(rows * engine_.vocab());
    bool ran = true;
    try {
      engine_.ForwardBatch(inputs, logits_.data());
    } catch (const std::exception& e) {
      // The caches of this batch are in an unknown state: empty them.
      ran = false;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const size_t s = input_slot[i];
        slots_[s]->error = e.what();
        engine_.Reset(sequences_[s], 0);
        finish(s);
      }
    }
    size_t row = 0;
    for (size_t i = 0; ran && i < inputs.size(); ++i) {
      const size_t s = input_slot[i];
      Active& a = *slots_[s];
      if (!a.decoding) a.fed += inputs[i].tokens.size();
      if (!inputs[i].logits) continue;
      std::span<float> logits(logits_.data() + row * engine_.vocab(),
                              engine_.vocab());
      ++row;
      if (!a.decoding) {
        a.decoding = true;
        a.first = Clock::now();
      }
      std::optional<int32_t> next;
      const size_t before = a.gen.result().tokens.size();
      try {
        next = a.gen.Next(logits, engine_.position(sequences_[s]),
                          engine_.context());
      } catch (const std::exception& e) {
        a.error = e.what();
      }
      generated += a.gen.result().tokens.size() - before;
      if (next) {
        a.next = *next;
      } else {
        finish(s);
      }
    }
  }

  const double seconds = runtime_detail::Seconds(Clock::now() - step_start);
  bool more = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!inputs.empty()) {
      ++stats_.steps;
      stats_.batched_sequences += inputs.size();
    }
    stats_.generated_tokens += generated;
    for (const runtime_detail::Done& d : done) {
      ++stats_.finished[size_t(d.result.finish)];
      if (!d.result.error.empty()) ++stats_.failed;
    }
    if (!inputs.empty() || !done.empty()) {
      stats_.busy_seconds += seconds;
      const double now = runtime_detail::Seconds(Clock::now() - created_);
      recent_.emplace_back(now, generated);
      while (!recent_.empty() && recent_.front().first < now - 10.0) {
        recent_.pop_front();
      }
    }
    stats_.active = running_.size();
    more = !queue_.empty() || !running_.empty() || !cancel_.empty();
  }
  runtime_detail::Notify(done);
  return more;
}

void BatchGenerator::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stop_ || !queue_.empty() || !cancel_.empty() ||
               !running_.empty();
      });
      if (stop_) break;
    }
    Step();
  }
  CancelEverything();
}

void BatchGenerator::CancelEverything() {
  std::vector<runtime_detail::Done> done;
  std::deque<Queued> queued;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    queued.swap(queue_);
    cancel_.clear();
  }
  for (Queued& q : queued) {
    done.push_back(runtime_detail::Unstarted(std::move(q.tokens),
                                             q.dropped_messages, q.request));
  }
  for (size_t s = 0; s < slots_.size(); ++s) {
    if (!slots_[s]) continue;
    Active& a = *slots_[s];
    a.gen.Cancel();
    BatchResult r;
    static_cast<GenerateResult&>(r) = std::move(a.gen.result());
    done.push_back({std::move(a.request.on_done), std::move(r)});
    slots_[s].reset();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.clear();
    for (const runtime_detail::Done& d : done) {
      ++stats_.finished[size_t(d.result.finish)];
    }
    stats_.active = 0;
  }
  runtime_detail::Notify(done);
}

BatchStats BatchGenerator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  BatchStats s = stats_;
  s.queued = queue_.size();
  s.active = running_.size();
  const double now =
      runtime_detail::Seconds(std::chrono::steady_clock::now() - created_);
  uint64_t tokens = 0;
  for (const auto& [t, n] : recent_) {
    if (t >= now - 10.0) tokens += n;
  }
  const double window = std::min(10.0, now);
  s.tokens_per_second = window > 0 ? double(tokens) / window : 0.0;
  return s;
}

}  // namespace ternary

#endif  // TERNARY_RUNTIME_BATCH_GENERATOR_IMPL_H_
