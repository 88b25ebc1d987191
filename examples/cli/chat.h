// `ternary chat`: a conversation in the model's chat template (the file's,
// or --chat-template), each reply streamed. Reads a terminal (with line
// editing and history when built with libedit) or a pipe (one user turn per
// line). Every turn is kept: the Engine reuses the KV cache of the
// conversation so far, and when the context is full the oldest turns are
// left out (and the user is told).
#ifndef TERNARY_EXAMPLES_CLI_CHAT_H_
#define TERNARY_EXAMPLES_CLI_CHAT_H_

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#ifdef TERNARY_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "cli/args.h"
#include "cli/engine.h"
#include "cli/generation_options.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/runtime/engine.h"
#include "ternary/tokenizer/chat_template.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kChatUsage =
    "[-m MODEL] [-sys TEXT] [-n N] [--temp T] [-r STOP] "
    "[--chat-template NAME] [-t THREADS] [-c CONTEXT] ...";

inline constexpr std::string_view kChatCommands =
    "  /help                this list\n"
    "  /reset, /clear       start a new conversation\n"
    "  /exit, /quit         quit (so does Ctrl-D)\n";

inline const std::string& ChatHelp() {
  static const std::string help =
      "Interactive chat in the model's chat template (the file's, else "
      "its family's;\n--chat-template NAME chooses). One line is one user "
      "turn; replies stream to stdout.\nEvery turn is kept; when the context "
      "is full the oldest turns are left out.\nCtrl-C stops a reply (at the "
      "prompt, or pressed twice, it quits). Reads from\na pipe too. Without "
      "-m, runs the embedded model.\n\nCommands:\n" +
      std::string(kChatCommands) +
      "\n  -sys, --system-prompt, --system TEXT\n"
      "                       a system message to start the conversation\n"
      "  -n, --n-predict N    tokens per reply at most (default 256; -1: "
      "until end of\n"
      "                       turn or a full context)\n" +
      std::string(kGenerationHelp) + std::string(kSamplingHelp) +
      std::string(kModelOptionsHelp);
  return help;
}

namespace detail {

// Lines from stdin with read(2), so that Ctrl-C at the prompt interrupts
// the read (the handler is installed without SA_RESTART).
class LineReader {
 public:
  enum Result { kLine, kEof, kInterrupted };

  Result Read(std::string& line) {
    line.clear();
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line.assign(buffer_, 0, nl);
        buffer_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return kLine;
      }
      if (Interrupted()) return kInterrupted;
      char chunk[4096];
      const ssize_t r = read(STDIN_FILENO, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) {
        if (Interrupted()) return kInterrupted;
        continue;
      }
      if (r <= 0) {  // EOF (or an error): a last unterminated line counts
        if (buffer_.empty()) return kEof;
        line.swap(buffer_);
        buffer_.clear();
        return kLine;
      }
      buffer_.append(chunk, static_cast<size_t>(r));
    }
  }

 private:
  std::string buffer_;
};

inline std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace detail

// The command line of `ternary chat`.
struct ChatOptions {
  ModelOptions model;
  std::optional<std::string> system;  // -sys
  GenerationFlags flags;

  // `prompt_is_system`: from `generate -cnv`, where -p is the system
  // message (as in llama-cli's conversation mode).
  static ChatOptions Parse(Args& args, bool prompt_is_system = false) {
    ChatOptions o;
    o.model = ModelOptions::Parse(args, /*allow_default=*/true);
    o.system = args.Value({"-sys", "--system-prompt", "--system"});
    if (prompt_is_system) {
      const std::optional<std::string> p = args.Value({"-p", "--prompt"});
      if (p && o.system) throw UsageError("give -p or -sys, not both");
      if (p) o.system = p;
    }
    o.flags = GenerationFlags::Parse(args);
    args.Finish();
    o.model.Validate();
    return o;
  }
};

// One conversation: the messages so far; the Engine keeps their KV cache.
class ChatSession {
 public:
  ChatSession(Engine& engine, const ChatOptions& options, bool interactive)
      : engine_(engine), options_(options), interactive_(interactive) {
    StartOver();
  }

  // Acts on one input line: a command, or a user turn and its streamed
  // reply. False when the line asks to quit.
  bool HandleLine(std::string_view line) {
    const std::string_view text = detail::TrimAscii(line);
    if (text == "/exit" || text == "/quit") return false;
    if (text == "/reset" || text == "/clear") {
      StartOver();
      if (interactive_) Note("(new conversation)");
      return true;
    }
    if (text == "/help" || text == "/?") {
      std::fprintf(stderr, "%.*s", static_cast<int>(kChatCommands.size()),
                   kChatCommands.data());
      return true;
    }
    if (text.empty()) return true;
    if (text.front() == '/' && text.find(' ') == std::string_view::npos &&
        text.size() < 16) {
      std::fprintf(stderr, "unknown command %.*s (/help lists them)\n",
                   static_cast<int>(text.size()), text.data());
      return true;
    }
    messages_.push_back({"user", std::string(text)});
    Reply();
    return true;
  }

 private:
  void StartOver() {
    messages_.clear();
    if (options_.system) messages_.push_back({"system", *options_.system});
  }

  void Reply() {
    ClearInterrupts();
    const GenerateResult r = StreamToStdout([&](const OnText& on_text) {
      return engine_.Chat(messages_, options_.flags.Options(), on_text);
    });
    if (r.dropped_messages > 0) {
      // The Engine left out the oldest non-system messages; so do we.
      size_t first = 0;
      while (first < messages_.size() && messages_[first].role == "system") {
        ++first;
      }
      messages_.erase(messages_.begin() + long(first),
                      messages_.begin() + long(first + r.dropped_messages));
      Note("(the context of " + std::to_string(engine_.context()) +
           " tokens is full: left out the " +
           std::to_string(r.dropped_messages) + " oldest messages)");
    }
    messages_.push_back({"assistant", r.text});
    if (r.finish == FinishReason::kContextFull) {
      Note("(the context of " + std::to_string(engine_.context()) +
           " tokens is full; -c sets it)");
    } else if (r.finish == FinishReason::kCancelled && interactive_) {
      Note("(interrupted)");
    }
    ClearInterrupts();
  }

  Engine& engine_;
  const ChatOptions& options_;
  const bool interactive_;
  std::vector<ChatMessage> messages_;
};

// Reads user lines: libedit's readline on a terminal (editing, history in
// memory only: nothing is written to disk), else LineReader.
class ChatInput {
 public:
  ChatInput(bool interactive, bool colour)
      : interactive_(interactive), colour_(colour) {}

  // False at the end of input (Ctrl-D, EOF) or Ctrl-C at the prompt.
  bool Read(std::string& line) {
#ifdef TERNARY_HAVE_LIBEDIT
    if (interactive_) {
      // libedit restores the terminal and re-raises Ctrl-C: at the prompt
      // it quits, with the default action.
      signal(SIGINT, SIG_DFL);
      // With --color the user's line is green (as llama-cli's input).
      char* got = readline(colour_ ? "\001\033[32m\002> " : "> ");
      if (colour_) WriteStdout(kResetColour, true);
      InstallSigint();
      if (got == nullptr) return false;
      line = got;
      std::free(got);
      if (!detail::TrimAscii(line).empty()) add_history(line.c_str());
      return true;
    }
#endif
    if (interactive_) {
      if (colour_) WriteStdout(kInputColour);
      WriteStdout("> ", true);
      if (colour_) WriteStdout(kResetColour, true);
    }
    return reader_.Read(line) == detail::LineReader::kLine;
  }

 private:
  bool interactive_;
  bool colour_;
  detail::LineReader reader_;
};

// `prompt_is_system`: see ChatOptions::Parse.
inline int RunConversation(Args& args, bool prompt_is_system) {
  const ChatOptions options = ChatOptions::Parse(args, prompt_is_system);
  std::unique_ptr<Engine> engine =
      LoadEngine(options.model, options.flags.Extras());
  WarnBeyondTrainedContext("-c", engine->context(), engine->config());
  const bool interactive = isatty(STDIN_FILENO) != 0;
  ChatSession session(*engine, options, interactive);
  InstallSigint();
  if (interactive && !LogDisabled()) {
    std::fprintf(
        stderr,
        "ternary chat: %s (%.*s/%.*s, %zu threads, context %zu, "
        "template %.*s). /help lists commands, Ctrl-C stops a "
        "reply.\n",
        options.model.path.c_str(), static_cast<int>(engine->packing().size()),
        engine->packing().data(), static_cast<int>(engine->act().size()),
        engine->act().data(), engine->threads(), engine->context(),
        static_cast<int>(ChatTemplateName(engine->chat_template()).size()),
        ChatTemplateName(engine->chat_template()).data());
  }
  ChatInput input(interactive, options.flags.color && interactive);
  std::string line;
  for (;;) {
    if (!input.Read(line)) {
      if (interactive) WriteStdout("\n", true);
      break;
    }
    if (!session.HandleLine(line)) break;
  }
  return 0;
}

inline int RunChat(Args& args) {
  return RunConversation(args, /*prompt_is_system=*/false);
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_CHAT_H_
