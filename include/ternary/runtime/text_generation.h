// The text-generation loop shared by Engine::Generate / Engine::Chat and
// BatchGenerator: which tokens end a text, how much of a cached sequence a
// new prompt keeps, fitting a chat into the context, and the per-token step
// (sampler, UTF-8 stream decoder, stop strings, max_tokens, the context
// limit). One copy, so a batched request decodes exactly as a lone one.
// Internal to the runtime library's definitions (engine_impl.h,
// batch_generator_impl.h).
#ifndef TERNARY_RUNTIME_TEXT_GENERATION_H_
#define TERNARY_RUNTIME_TEXT_GENERATION_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ternary/model/load_tokenizer.h"
#include "ternary/model/sampling.h"
#include "ternary/runtime/engine.h"
#include "ternary/runtime/stop_strings.h"
#include "ternary/tokenizer/stream_decoder.h"

namespace ternary::runtime_detail {

// The tokens that end a text: the tokenizer's EOS and end of turn, and the
// config's eos_token_id (those inside the vocabulary).
inline std::vector<int32_t> EndTokens(const Engine& engine) {
  const ModelTokenizer& tok = engine.tokenizer();
  std::vector<int32_t> ends;
  for (int64_t id :
       {int64_t{tok.tokenizer.eos_id()}, int64_t{tok.tokenizer.eot_id()},
        int64_t{engine.config().eos_token_id}}) {
    if (id >= 0 && id < int64_t(engine.vocab())) ends.push_back(int32_t(id));
  }
  return ends;
}

// How much of a sequence's cache a prompt can keep: the longest prefix
// they share, less one token when that is the whole prompt (at least one
// token runs, for the logits of the last position).
inline size_t ReusablePrefix(std::span<const int32_t> cached,
                             std::span<const int32_t> prompt) {
  size_t keep = 0;
  while (keep < cached.size() && keep < prompt.size() &&
         cached[keep] == prompt[keep]) {
    ++keep;
  }
  return prompt.empty() ? 0 : std::min(keep, prompt.size() - 1);
}

// Engine::Chat's prompt: the messages in the chat template, the oldest
// non-system ones left out (and any assistant messages that would then
// open the conversation) until prompt + one token fit the context.
inline std::vector<int32_t> FitChat(const Engine& engine,
                                    std::span<const ChatMessage> messages,
                                    bool add_bos, size_t& dropped) {
  std::vector<ChatMessage> kept(messages.begin(), messages.end());
  dropped = 0;
  std::vector<int32_t> ids;
  for (;;) {
    ids = engine.Tokenize(engine.ChatPrompt(kept), add_bos,
                          /*parse_special=*/true);
    if (ids.size() + 1 <= engine.context()) break;
    auto first = std::find_if(kept.begin(), kept.end(),
                              [](const auto& m) { return m.role != "system"; });
    if (first == kept.end() || first + 1 == kept.end()) break;
    first = kept.erase(first);
    ++dropped;
    while (first != kept.end() && first + 1 != kept.end() &&
           first->role == "assistant") {
      first = kept.erase(first);
      ++dropped;
    }
  }
  return ids;
}

// One text being generated: Engine::Generate's loop, one token per Next.
//
//   TextGeneration gen(engine, prompt, options, on_text);
//   ... run the prompt, logits of its last position ...
//   while (auto id = gen.Next(logits, position, context)) { run *id }
//   gen.result()
class TextGeneration {
 public:
  // The prompt's tokens go into the sampler's history (the repeat
  // penalty), as Engine::Generate does.
  TextGeneration(const Engine& engine, std::span<const int32_t> prompt,
                 const GenerateOptions& options, const OnText& on_text)
      : options_(options),
        on_text_(on_text),
        ends_(EndTokens(engine)),
        sampler_(options.sampling),
        decoder_(engine.tokenizer().tokenizer,
                 DecodeOptions{.skip_special = true}),
        stops_(options.stop) {
    result_.prompt_tokens = prompt.size();
    for (int32_t id : prompt) sampler_.Accept(id);
  }

  // Given the logits of the last position fed (the sequence then holds
  // `position` tokens): the next token to feed, or nullopt when the text
  // has ended (result().finish says why). `logits` may be changed.
  std::optional<int32_t> Next(std::span<float> logits, size_t position,
                              size_t context) {
    if (done_) return std::nullopt;
    if (options_.max_tokens >= 0 &&
        int64_t(result_.tokens.size()) >= options_.max_tokens) {
      return End(FinishReason::kLength);
    }
    if (options_.ignore_eos) {
      for (int32_t id : ends_) {
        logits[size_t(id)] = -std::numeric_limits<float>::infinity();
      }
    }
    const int32_t id = sampler_.Sample(logits);
    if (std::find(ends_.begin(), ends_.end(), id) != ends_.end()) {
      return End(FinishReason::kEndOfText);
    }
    result_.tokens.push_back(id);
    sampler_.Accept(id);
    Emit(stops_.Push(decoder_.Feed(id)));
    if (stops_.stopped()) return End(FinishReason::kStopString);
    if (cancelled_) return End(FinishReason::kCancelled);
    if (options_.max_tokens >= 0 &&
        int64_t(result_.tokens.size()) == options_.max_tokens) {
      return End(FinishReason::kLength);
    }
    if (position + 1 > context) return End(FinishReason::kContextFull);
    return id;
  }

  // Ends the text from outside (kCancelled; held-back text is dropped, as
  // when on_text returns false).
  void Cancel() {
    if (done_) return;
    cancelled_ = true;
    End(FinishReason::kCancelled);
  }

  bool done() const noexcept { return done_; }
  GenerateResult& result() noexcept { return result_; }

 private:
  void Emit(const std::string& text) {
    if (text.empty()) return;
    result_.text += text;
    if (on_text_ && !cancelled_ && !on_text_(text)) cancelled_ = true;
  }

  // The end of the text: what the decoder and the stop strings hold back
  // comes out, unless a stop string matched or the text was cancelled.
  std::nullopt_t End(FinishReason reason) {
    done_ = true;
    result_.finish = reason;
    if (!stops_.stopped() && !cancelled_) {
      Emit(stops_.Push(decoder_.Flush()));
      if (stops_.stopped()) {
        result_.finish = FinishReason::kStopString;
      } else {
        Emit(stops_.Flush());
      }
    }
    return std::nullopt;
  }

  const GenerateOptions& options_;
  const OnText& on_text_;
  std::vector<int32_t> ends_;
  Sampler sampler_;
  StreamDecoder decoder_;
  StopStrings stops_;
  GenerateResult result_;
  bool cancelled_ = false;
  bool done_ = false;
};

}  // namespace ternary::runtime_detail

#endif  // TERNARY_RUNTIME_TEXT_GENERATION_H_
