// What `generate` and `chat` share: their flags (llama-cli's names), Ctrl-C
// handling, and the timings line.
#ifndef TERNARY_EXAMPLES_CLI_GENERATION_OPTIONS_H_
#define TERNARY_EXAMPLES_CLI_GENERATION_OPTIONS_H_

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/engine.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/runtime/engine.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr int64_t kDefaultPredict = 256;

inline constexpr std::string_view kGenerationHelp =
    "  -r, --reverse-prompt S, --stop S\n"
    "                       stop where the text S appears (not printed); "
    "repeatable\n"
    "  --ignore-eos         never end the text at an end-of-text token\n"
    "  --chat-template NAME the chat format: bitnet, bitnet-llamacpp, "
    "llama3, falcon3,\n"
    "                       chatml, plain (default: the file's template, "
    "else the\n"
    "                       family's: bitnet for 2B4T, the vocabulary's "
    "chat tokens,\n"
    "                       else plain)\n"
    "  --color              colour the echoed prompt and user input on a "
    "terminal\n"
    "  --pretokenizer NAME  auto (default), llama3, falcon3, "
    "bitnet-cpp-default\n";

// The flags of text generation, generate's and chat's alike.
struct GenerationFlags {
  int64_t n = kDefaultPredict;  // -n: tokens per text / reply (-1: no limit)
  int64_t context = 0;          // -c (0: the model's)
  SamplingParams sampling;
  std::vector<std::string> stop;  // -r, --reverse-prompt, --stop
  bool ignore_eos = false;
  bool color = false;
  std::string chat_template;  // --chat-template ("": the file's)
  TokenizerLoadOptions tokenizer;

  static GenerationFlags Parse(Args& args) {
    GenerationFlags f;
    f.n =
        args.Int({"-n", "--n-predict"}, kDefaultPredict, -1, int64_t{1} << 40);
    f.context = args.Int({"-c", "--ctx-size"}, 0, 0, int64_t{1} << 24);
    f.sampling = ParseSampling(args);
    f.stop = args.Values({"-r", "--reverse-prompt", "--stop"});
    for (const std::string& s : f.stop) {
      if (s.empty()) throw UsageError("option --stop needs a non-empty text");
    }
    f.ignore_eos = args.Flag({"--ignore-eos"});
    f.color = args.Flag({"--color", "-co"});
    f.chat_template = args.String({"--chat-template"}, "");
    if (!f.chat_template.empty() && !ParseChatTemplateName(f.chat_template)) {
      throw UsageError("--chat-template must be one of " +
                       std::string(kChatTemplateNames) + ", got '" +
                       f.chat_template + "'");
    }
    f.tokenizer = ParseTokenizerOptions(args);
    return f;
  }

  EngineExtras Extras() const {
    return EngineExtras{.context = size_t(context),
                        .chat_template = chat_template,
                        .tokenizer = tokenizer};
  }

  GenerateOptions Options() const {
    GenerateOptions o;
    o.max_tokens = n;
    o.sampling = sampling;
    o.stop = stop;
    o.ignore_eos = ignore_eos;
    return o;
  }
};

// Ctrl-C while text streams: the first press stops the text (the command
// then reports as usual), a second one before that quits at once (exit 130).
namespace detail {
inline std::atomic<int> g_interrupts{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" inline void OnSigint(int) {
  if (g_interrupts.fetch_add(1) >= 1) {
    const char nl = '\n';
    (void)!write(STDERR_FILENO, &nl, 1);
    _exit(130);
  }
}
}  // namespace detail

inline void InstallSigint() {
  struct sigaction sa = {};
  sa.sa_handler = detail::OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: Ctrl-C interrupts a read()
  sigaction(SIGINT, &sa, nullptr);
}
inline bool Interrupted() { return detail::g_interrupts.load() > 0; }
inline void ClearInterrupts() { detail::g_interrupts.store(0); }

// ANSI colours for --color on a terminal.
inline constexpr std::string_view kPromptColour = "\033[33m";  // yellow
inline constexpr std::string_view kInputColour = "\033[32m";   // green
inline constexpr std::string_view kResetColour = "\033[0m";

// Runs a generation, run(on_text), streaming its text to stdout until
// Ctrl-C, then ends the line; throws Error when stdout cannot be written
// (a closed pipe).
template <class Run>
GenerateResult StreamToStdout(Run&& run) {
  bool closed = false;
  GenerateResult r = run(OnText([&](std::string_view text) {
    if (!WriteStdout(text, /*flush=*/true)) {
      closed = true;
      return false;
    }
    return !Interrupted();
  }));
  if (closed || !WriteStdout("\n", true)) {
    throw Error("cannot write to stdout");
  }
  return r;
}

inline std::string_view FinishNote(FinishReason r) {
  switch (r) {
    case FinishReason::kEndOfText:
      return "end of text";
    case FinishReason::kStopString:
      return "stop string";
    case FinishReason::kContextFull:
      return "the context is full";
    case FinishReason::kCancelled:
      return "interrupted";
    case FinishReason::kLength:
      break;
  }
  return "-n tokens";
}

// "<command>: load ..., prompt ..., generation ..." on stderr, unless
// --log-disable.
inline void PrintTimings(const char* command, const Engine& engine,
                         const GenerateResult& r, uint64_t seed) {
  if (LogDisabled()) return;
  std::fprintf(
      stderr, "\n%s: load %.2f s (%.*s/%.*s, %zu threads), seed %llu\n",
      command, engine.load_seconds(), static_cast<int>(engine.packing().size()),
      engine.packing().data(), static_cast<int>(engine.act().size()),
      engine.act().data(), engine.threads(),
      static_cast<unsigned long long>(seed));
  const size_t run = r.prompt_tokens - r.cached_tokens;
  std::fprintf(stderr, "%s: prompt %zu tokens, %.3f s, %.1f tok/s\n", command,
               run, r.prompt_seconds,
               r.prompt_seconds > 0 ? run / r.prompt_seconds : 0.0);
  std::fprintf(
      stderr, "%s: generation %zu tokens, %.3f s, %.1f tok/s (stop: %.*s)\n",
      command, r.tokens.size(), r.generate_seconds,
      r.generate_seconds > 0 ? r.tokens.size() / r.generate_seconds : 0.0,
      static_cast<int>(FinishNote(r.finish).size()),
      FinishNote(r.finish).data());
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_GENERATION_OPTIONS_H_
