// `ternary generate`: a prompt's continuation, streamed to stdout as it is
// sampled; timings on stderr at the end. Also the decoding loop `chat`
// shares.
#ifndef TERNARY_EXAMPLES_CLI_GENERATE_H_
#define TERNARY_EXAMPLES_CLI_GENERATE_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/engine.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/io/read_file.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/model/sampling.h"
#include "ternary/tokenizer/stream_decoder.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kGenerateUsage =
    "[-m MODEL] -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] "
    "[--min-p P] [--repeat-penalty R] [--seed S] [-t THREADS] "
    "[--packing i2s|tl1|tl2] [--act a8|a4] [-c CONTEXT]";

inline const std::string& GenerateHelp() {
  static const std::string help =
      "Streams the continuation of a prompt to stdout (BOS + prompt, special "
      "tokens in\nthe prompt parsed); load time and speeds go to stderr. "
      "Without -m, runs the\nembedded tiny-shakespeare model.\n\n"
      "  -p, --prompt TEXT    the prompt\n"
      "  -f, --file FILE      read the prompt from a file instead\n"
      "  --no-bos             do not prepend BOS\n" +
      std::string(kSamplingHelp) + std::string(kModelOptionsHelp);
  return help;
}

enum class StopReason {
  kLength,       // -n tokens generated
  kEndOfText,    // EOS or <|eot_id|> sampled (not printed, not fed)
  kContextFull,  // the next token would not fit in the context
  kInterrupted,  // the caller's interrupt check said so
  kOutputClosed  // stdout could not be written
};

struct Continuation {
  std::vector<int32_t> ids;  // generated and printed; each but the last is
                             // in the KV cache, the last when last_fed
  StopReason reason = StopReason::kLength;
  bool last_fed = true;
  double seconds = 0.0;
};

// Samples up to max_tokens (< 0: unbounded) tokens after `logits` (the last
// row of what the engine holds), streaming their text to stdout and
// feeding each back, until end of text, `context` positions, or
// interrupted() returns true (checked before each token).
template <class Interrupted>
Continuation Continue(Engine& engine, const Tokenizer& tokenizer,
                      Sampler& sampler, std::vector<float>& logits,
                      int64_t max_tokens, size_t context,
                      Interrupted&& interrupted) {
  Continuation c;
  Stopwatch clock;
  StreamDecoder decoder(tokenizer, DecodeOptions{.skip_special = true});
  const int64_t config_eos = engine.config().eos_token_id;
  auto write = [&](const std::string& text) {
    if (!WriteStdout(text, /*flush=*/true)) {
      c.reason = StopReason::kOutputClosed;
      return false;
    }
    return true;
  };
  for (int64_t i = 0; max_tokens < 0 || i < max_tokens; ++i) {
    if (interrupted()) {
      c.reason = StopReason::kInterrupted;
      break;
    }
    const int32_t id = sampler.Sample(logits);
    if (tokenizer.IsEndOfGeneration(id) || id == config_eos) {
      c.reason = StopReason::kEndOfText;
      break;
    }
    c.ids.push_back(id);
    sampler.Accept(id);
    c.last_fed = false;
    if (!write(decoder.Feed(id))) break;
    if (max_tokens >= 0 && i + 1 == max_tokens) break;  // kLength
    if (engine.position() + 1 > context) {
      c.reason = StopReason::kContextFull;
      break;
    }
    engine.Forward(std::span<const int32_t>(&id, 1), logits.data(),
                   Logits::kLast);
    c.last_fed = true;
  }
  if (c.reason != StopReason::kOutputClosed) write(decoder.Flush());
  c.seconds = clock.Seconds();
  return c;
}

// The prompt's ids: BOS (if the tokenizer adds one and add_bos) + text,
// special-token text parsed, as llama.cpp tokenizes prompts.
inline std::vector<int32_t> EncodePrompt(const ModelTokenizer& tok,
                                         std::string_view text, bool add_bos) {
  return tok.tokenizer.Encode(
      text,
      EncodeOptions{.add_bos = add_bos && tok.add_bos, .parse_special = true});
}

// -c N: the context length; 0 (the default) means the model's trained
// max_position_embeddings.
inline int64_t ParseContext(Args& args) {
  return args.Int({"-c", "--ctx-size"}, 0, 0, int64_t{1} << 24);
}
inline size_t ContextLength(const Engine& engine, int64_t given) {
  if (given > 0) return static_cast<size_t>(given);
  return static_cast<size_t>(
      std::max(engine.config().max_position_embeddings, 1));
}

inline void PrintTimings(const char* command, const Engine& engine,
                         size_t prompt_tokens, double prompt_seconds,
                         const Continuation& c, uint64_t seed) {
  std::fprintf(
      stderr, "\n%s: load %.2f s (%.*s/%.*s, %zu threads), seed %llu\n",
      command, engine.load_seconds(), static_cast<int>(engine.packing().size()),
      engine.packing().data(), static_cast<int>(engine.act().size()),
      engine.act().data(), engine.threads(),
      static_cast<unsigned long long>(seed));
  std::fprintf(stderr, "%s: prompt %zu tokens, %.3f s, %.1f tok/s\n", command,
               prompt_tokens, prompt_seconds,
               prompt_seconds > 0 ? prompt_tokens / prompt_seconds : 0.0);
  std::fprintf(stderr, "%s: generation %zu tokens, %.3f s, %.1f tok/s\n",
               command, c.ids.size(), c.seconds,
               c.seconds > 0 ? c.ids.size() / c.seconds : 0.0);
}

inline int RunGenerate(Args& args) {
  const ModelOptions model = ModelOptions::Parse(args, /*allow_default=*/true);
  const std::optional<std::string> prompt_arg = args.Value({"-p", "--prompt"});
  const std::optional<std::string> file = args.Value({"-f", "--file"});
  const bool no_bos = args.Flag({"--no-bos"});
  const int64_t n = args.Int({"-n", "--n-predict"}, 128, -1, int64_t{1} << 40);
  const int64_t ctx_arg = ParseContext(args);
  const SamplingParams sampling = ParseSampling(args);
  const TokenizerLoadOptions tok_options = ParseTokenizerOptions(args);
  args.Finish();
  model.Validate();
  if (prompt_arg && file)
    throw UsageError("give -p PROMPT or -f FILE, not both");
  if (!prompt_arg && !file) throw UsageError("missing -p PROMPT (or -f FILE)");
  const std::string prompt =
      file ? io::ReadFile(*file, io::kTextFileLimit) : *prompt_arg;

  const ModelTokenizer tok = LoadTokenizer(model.path, tok_options);
  const std::vector<int32_t> ids = EncodePrompt(tok, prompt, !no_bos);
  if (ids.empty())
    throw UsageError("the prompt is empty (and there is no BOS)");
  std::unique_ptr<Engine> engine = LoadEngine(model);
  const size_t context = ContextLength(*engine, ctx_arg);
  if (ids.size() > context) {
    throw UsageError("the prompt has " + std::to_string(ids.size()) +
                     " tokens, more than the context of " +
                     std::to_string(context) + " (-c)");
  }
  // The cache grows as needed; reserve what -n asks for.
  const size_t budget = ids.size() + (n < 0 ? 256 : static_cast<size_t>(n));
  engine->Reset(std::min(context, budget));

  Sampler sampler(sampling);
  for (int32_t id : ids) sampler.Accept(id);
  Stopwatch prompt_clock;
  std::vector<float> logits = engine->Forward(ids, Logits::kLast);
  const double prompt_seconds = prompt_clock.Seconds();
  const Continuation c = Continue(*engine, tok.tokenizer, sampler, logits, n,
                                  context, [] { return false; });
  if (c.reason == StopReason::kOutputClosed) {
    throw Error("cannot write to stdout");
  }
  if (isatty(STDOUT_FILENO)) WriteStdout("\n", true);
  if (c.reason == StopReason::kContextFull) {
    std::fprintf(stderr,
                 "\nternary generate: stopped: the context is full (%zu "
                 "tokens; -c sets it)\n",
                 context);
  }
  PrintTimings("ternary generate", *engine, ids.size(), prompt_seconds, c,
               sampling.seed);
  return 0;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_GENERATE_H_
