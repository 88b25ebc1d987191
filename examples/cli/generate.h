// `ternary generate`: a prompt's continuation, streamed to stdout after the
// echoed prompt (as llama-cli does); timings on stderr at the end, also
// after Ctrl-C. -cnv / -i switch to `chat`, as llama-cli's conversation
// mode.
#ifndef TERNARY_EXAMPLES_CLI_GENERATE_H_
#define TERNARY_EXAMPLES_CLI_GENERATE_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/args.h"
#include "cli/chat.h"
#include "cli/engine.h"
#include "cli/generation_options.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/io/read_file.h"
#include "ternary/runtime/engine.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kGenerateUsage =
    "[-m MODEL] -p PROMPT | -f FILE [-n N] [--temp T] [-r STOP] "
    "[--ignore-eos] [-t THREADS] [-c CONTEXT] ... (-cnv: chat)";

inline const std::string& GenerateHelp() {
  static const std::string help =
      "Streams the continuation of a prompt to stdout after the prompt "
      "itself (BOS +\nprompt, special tokens in the prompt parsed); load "
      "time and speeds go to stderr.\nWithout -p or -f, reads the prompt from "
      "a pipe. Without -m, runs the embedded\ntiny-shakespeare model. "
      "Ctrl-C stops the text and prints the timings.\n\n"
      "  -p, --prompt TEXT    the prompt\n"
      "  -f, --file FILE      read the prompt from a file (- : stdin)\n"
      "  -e, --escape         turn \\n, \\t, \\\\, \\\", \\' and \\xHH in the "
      "prompt into their\n"
      "                       characters (the default, as llama-cli); "
      "--no-escape: as typed\n"
      "  --no-display-prompt  do not echo the prompt\n"
      "  --no-bos             do not prepend BOS\n"
      "  -cnv, --conversation, -i, --interactive\n"
      "                       chat instead (ternary chat); -p or -sys is then "
      "the system\n"
      "                       message\n"
      "  -n, --n-predict N    tokens to generate (default 256; -1: until end "
      "of text or a\n"
      "                       full context)\n" +
      std::string(kGenerationHelp) + std::string(kSamplingHelp) +
      std::string(kModelOptionsHelp);
  return help;
}

// llama-cli's escape processing (common.cpp string_process_escapes):
// \n \r \t \' \" \\ \a \b \f \v \? and \xHH; any other backslash stays.
inline std::string ProcessEscapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '?':
        out += '?';
        break;
      case 'x':
        if (i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
          out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
          i += 2;
          break;
        }
        [[fallthrough]];
      default:
        out += '\\';
        out += c;
    }
  }
  return out;
}

// All of stdin (a pipe or a file), at most `limit` bytes.
inline std::string ReadStdin(const io::FileLimit& limit) {
  std::string out;
  char chunk[65536];
  for (;;) {
    const size_t n = std::fread(chunk, 1, sizeof chunk, stdin);
    out.append(chunk, n);
    if (out.size() > limit.max_bytes) {
      throw UsageError("stdin: more than " +
                       io::detail::FormatFileSize(limit.max_bytes) + " for " +
                       std::string(limit.what));
    }
    if (n < sizeof chunk) {
      if (std::ferror(stdin)) throw Error("stdin: read error");
      return out;
    }
  }
}

// The prompt: -p, -f FILE, -f - (stdin), or a pipe on stdin when neither.
inline std::string ReadPrompt(const std::optional<std::string>& prompt,
                              const std::optional<std::string>& file) {
  if (prompt && file) throw UsageError("give -p PROMPT or -f FILE, not both");
  if (prompt) return *prompt;
  if (file && *file != "-") return io::ReadFile(*file, io::kTextFileLimit);
  if (!file && isatty(STDIN_FILENO)) {
    throw UsageError("missing -p PROMPT (or -f FILE, or a pipe on stdin)");
  }
  std::string text = ReadStdin(io::kTextFileLimit);
  if (!file && text.empty()) {
    throw UsageError("missing -p PROMPT (or -f FILE; stdin was empty)");
  }
  return text;
}

inline int RunGenerate(Args& args) {
  if (args.Flag({"-cnv", "--conversation", "-i", "--interactive"})) {
    return RunConversation(args, /*prompt_is_system=*/true);
  }
  const ModelOptions model = ModelOptions::Parse(args, /*allow_default=*/true);
  const std::optional<std::string> prompt_arg = args.Value({"-p", "--prompt"});
  const std::optional<std::string> file = args.Value({"-f", "--file"});
  const bool escape_flag = args.Flag({"-e", "--escape"});
  const bool no_escape = args.Flag({"--no-escape"});
  const bool no_display = args.Flag({"--no-display-prompt"});
  const bool no_bos = args.Flag({"--no-bos"});
  const GenerationFlags flags = GenerationFlags::Parse(args);
  args.Finish();
  model.Validate();
  if (escape_flag && no_escape) {
    throw UsageError("give -e or --no-escape, not both");
  }
  std::string prompt = ReadPrompt(prompt_arg, file);
  // llama-cli processes escapes in -p text, not in a file's.
  if (prompt_arg && !no_escape) prompt = ProcessEscapes(prompt);

  std::unique_ptr<Engine> engine = LoadEngine(model, flags.Extras());
  WarnBeyondTrainedContext("-c", engine->context(), engine->config());
  GenerateOptions options = flags.Options();
  options.add_bos = !no_bos;
  // The prompt's ids first: a prompt too long for the context is a usage
  // error before anything is printed.
  const std::vector<int32_t> ids =
      engine->Tokenize(prompt, options.add_bos, /*parse_special=*/true);
  if (ids.empty()) {
    throw UsageError("the prompt is empty (and there is no BOS)");
  }
  if (ids.size() > engine->context()) {
    throw UsageError("the prompt has " + std::to_string(ids.size()) +
                     " tokens, more than the context of " +
                     std::to_string(engine->context()) + " (-c)");
  }
  const bool colour = flags.color && isatty(STDOUT_FILENO);
  if (!no_display) {
    if (colour) WriteStdout(kPromptColour);
    WriteStdout(prompt);
    if (colour) WriteStdout(kResetColour);
    WriteStdout("", true);
  }

  InstallSigint();
  const GenerateResult r = StreamToStdout([&](const OnText& on_text) {
    return engine->Generate(ids, options, on_text);
  });
  if (r.finish == FinishReason::kContextFull && !LogDisabled()) {
    std::fprintf(stderr,
                 "\nternary generate: stopped: the context is full (%zu "
                 "tokens; -c sets it)\n",
                 engine->context());
  }
  PrintTimings("ternary generate", *engine, r, flags.sampling.seed);
  return Interrupted() ? 130 : 0;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_GENERATE_H_
