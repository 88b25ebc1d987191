// `ternary chat`: multi-turn chat in the model's trained format
// (docs/model.md §6.6, template 1), streaming each reply. Reads a terminal or
// a pipe (one user turn per line). The KV cache is kept across turns: each
// turn feeds only its own tokens.
#ifndef TERNARY_EXAMPLES_CLI_CHAT_H_
#define TERNARY_EXAMPLES_CLI_CHAT_H_

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
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
#include "cli/generate.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/model/sampling.h"
#include "ternary/tokenizer/chat_template.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kChatUsage =
    "[-m MODEL] [--system TEXT] [-n N] [--temp T] [--top-k K] [--top-p P] "
    "[--min-p P] [--seed S] [-t THREADS] [--packing ..] [--act ..] "
    "[-c CONTEXT]";

inline const std::string& ChatHelp() {
  static const std::string help =
      "Interactive chat with the model's chat template (\"User: ...<|eot_id|>"
      "Assistant: \").\nOne line is one user turn; replies stream to stdout. "
      "/exit or Ctrl-D quits,\n/reset starts a new conversation, Ctrl-C "
      "stops a reply (at the prompt, or\npressed twice, it quits). Reads "
      "from a pipe too. Without -m, runs the embedded\nmodel.\n\n"
      "  --system TEXT        a system message to start the conversation\n" +
      std::string(kSamplingHelp) + std::string(kModelOptionsHelp);
  return help;
}

namespace detail {

// Ctrl-C presses not yet acted on. A second one before the first is
// handled (a long prompt, a slow model) quits at once.
inline std::atomic<int> g_chat_interrupts{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" inline void OnChatSigint(int) {
  if (g_chat_interrupts.fetch_add(1) >= 1) {
    const char nl = '\n';
    (void)!write(STDERR_FILENO, &nl, 1);
    _exit(130);
  }
}

inline void InstallChatSigint() {
  struct sigaction sa = {};
  sa.sa_handler = OnChatSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: Ctrl-C interrupts read()
  sigaction(SIGINT, &sa, nullptr);
}

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
      if (g_chat_interrupts.load() > 0) return kInterrupted;
      char chunk[4096];
      const ssize_t r = read(STDIN_FILENO, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) {
        if (g_chat_interrupts.load() > 0) return kInterrupted;
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

// What closes an assistant message in the template ("<|eot_id|>"): the
// rendering of an empty assistant message minus the generation prompt.
inline std::string EndOfAssistantTurn() {
  const ChatMessage empty{"assistant", ""};
  const std::string closed =
      ApplyChatTemplate(std::span<const ChatMessage>(&empty, 1), false);
  const std::string open = ApplyChatTemplate({}, true);
  if (closed.compare(0, open.size(), open) == 0) {
    return closed.substr(open.size());
  }
  return "<|eot_id|>";
}

}  // namespace detail

// The command line of `ternary chat`.
struct ChatOptions {
  ModelOptions model;
  std::optional<std::string> system;  // --system
  int64_t n = -1;                     // -n: tokens per reply (-1: no limit)
  int64_t context = 0;                // -c, as ParseContext returns it
  SamplingParams sampling;
  TokenizerLoadOptions tokenizer;

  static ChatOptions Parse(Args& args) {
    ChatOptions o;
    o.model = ModelOptions::Parse(args, /*allow_default=*/true);
    o.system = args.Value({"--system"});
    o.n = args.Int({"-n", "--n-predict"}, -1, -1, int64_t{1} << 40);
    o.context = ParseContext(args);
    o.sampling = ParseSampling(args);
    o.tokenizer = ParseTokenizerOptions(args);
    args.Finish();
    o.model.Validate();
    return o;
  }
};

// One conversation. The KV cache holds every turn so far; each turn feeds
// only its own tokens, plus the last reply token not yet fed.
class ChatSession {
 public:
  ChatSession(Engine& engine, const ModelTokenizer& tok,
              const ChatOptions& options, size_t context, bool interactive)
      : engine_(engine),
        tok_(tok),
        options_(options),
        context_(context),
        interactive_(interactive),
        sampler_(options.sampling),
        end_of_turn_(detail::EndOfAssistantTurn()) {
    engine_.Reset(CacheReserve());
  }

  // Acts on one input line: a command, or a user turn and its streamed
  // reply. False when the line asks to quit.
  bool HandleLine(std::string_view line) {
    const std::string_view text = detail::TrimAscii(line);
    if (text == "/exit" || text == "/quit") return false;
    if (text == "/reset" || text == "/clear") {
      StartOver();
      if (interactive_) std::fprintf(stderr, "(new conversation)\n");
      return true;
    }
    if (text.empty()) return true;
    const std::optional<std::vector<int32_t>> ids =
        TurnTokens(ChatMessage{"user", std::string(text)});
    if (ids) Reply(*ids);
    return true;
  }

 private:
  size_t CacheReserve() const { return std::min<size_t>(context_, 512); }

  void StartOver() {
    engine_.Reset(CacheReserve());
    sampler_.Reset();
    pending_.clear();
  }

  // This turn's tokens: the whole opening for the first turn, else the end
  // of the previous reply plus the new user message.
  std::vector<int32_t> TurnIds(const ChatMessage& user, bool first) const {
    std::vector<ChatMessage> messages;
    if (first && options_.system) {
      messages.push_back({"system", *options_.system});
    }
    messages.push_back(user);
    std::string prompt = ApplyChatTemplate(messages, true);
    if (!first) prompt = end_of_turn_ + prompt;
    std::vector<int32_t> ids = tok_.tokenizer.Encode(
        prompt,
        EncodeOptions{.add_bos = first && tok_.add_bos, .parse_special = true});
    if (!first) ids.insert(ids.begin(), pending_.begin(), pending_.end());
    return ids;
  }

  // The tokens to feed for `user`. When they do not fit after the turns so
  // far, a new conversation starts; nullopt when they do not fit at all.
  std::optional<std::vector<int32_t>> TurnTokens(const ChatMessage& user) {
    std::vector<int32_t> ids = TurnIds(user, engine_.position() == 0);
    if (engine_.position() + ids.size() + 1 <= context_) return ids;
    std::fprintf(stderr,
                 "(the context of %zu tokens is full: starting a new "
                 "conversation)\n",
                 context_);
    StartOver();
    ids = TurnIds(user, true);
    if (ids.size() + 1 > context_) {
      std::fprintf(stderr,
                   "(that message has %zu tokens, too many for the context "
                   "of %zu; -c sets it)\n",
                   ids.size(), context_);
      engine_.Reset(CacheReserve());
      return std::nullopt;
    }
    return ids;
  }

  // Feeds the turn, then streams the reply until it ends, fills the
  // context or Ctrl-C stops it.
  void Reply(const std::vector<int32_t>& ids) {
    pending_.clear();
    for (int32_t id : ids) sampler_.Accept(id);
    detail::g_chat_interrupts.store(0);
    std::vector<float> logits = engine_.Forward(ids, Logits::kLast);
    const Continuation c =
        Continue(engine_, tok_.tokenizer, sampler_, logits, options_.n,
                 context_, [] { return detail::g_chat_interrupts.load() > 0; });
    detail::g_chat_interrupts.store(0);
    if (c.reason == StopReason::kOutputClosed) {
      throw Error("cannot write to stdout");
    }
    if (!c.last_fed) pending_.push_back(c.ids.back());
    WriteStdout("\n", true);
    if (c.reason == StopReason::kContextFull) {
      std::fprintf(stderr, "(the context of %zu tokens is full)\n", context_);
    } else if (c.reason == StopReason::kInterrupted && interactive_) {
      std::fprintf(stderr, "(interrupted)\n");
    }
  }

  Engine& engine_;
  const ModelTokenizer& tok_;
  const ChatOptions& options_;
  const size_t context_;
  const bool interactive_;
  Sampler sampler_;
  const std::string end_of_turn_;
  std::vector<int32_t> pending_;  // generated but not yet in the KV cache
};

inline int RunChat(Args& args) {
  const ChatOptions options = ChatOptions::Parse(args);
  const ModelTokenizer tok =
      LoadTokenizer(options.model.path, options.tokenizer);
  std::unique_ptr<Engine> engine = LoadEngine(options.model);
  const size_t context = ContextLength(*engine, options.context);
  const bool interactive = isatty(STDIN_FILENO) != 0;
  ChatSession session(*engine, tok, options, context, interactive);
  detail::InstallChatSigint();
  if (interactive) {
    std::fprintf(
        stderr,
        "ternary chat: %s (%.*s/%.*s, %zu threads, context %zu). "
        "/exit or Ctrl-D quits, Ctrl-C stops a reply.\n",
        options.model.path.c_str(), static_cast<int>(engine->packing().size()),
        engine->packing().data(), static_cast<int>(engine->act().size()),
        engine->act().data(), engine->threads(), context);
  }
  detail::LineReader reader;
  std::string line;
  for (;;) {
    if (interactive) WriteStdout("> ", true);
    if (reader.Read(line) != detail::LineReader::kLine) {
      if (interactive) WriteStdout("\n", true);
      break;
    }
    if (!session.HandleLine(line)) break;
  }
  return 0;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_CHAT_H_
