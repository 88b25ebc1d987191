// `ternary perplexity`: perplexity of a text file.
//
// By default as llama-perplexity's perplexity() computes it: the text is
// tokenized with BOS (when the tokenizer adds one) and cut into consecutive
// windows of n_ctx tokens (a last partial window is dropped); each window
// runs from an empty cache with its first token replaced by BOS, and only
// its second half is scored: the logits at positions n_ctx/2 … n_ctx − 2
// predict the tokens after them (n_ctx − 1 − n_ctx/2 tokens a window, each
// with at least n_ctx/2 tokens of context). PPL = exp(mean NLL) and the
// error estimate is llama-perplexity's: sqrt((mean NLL² − mean NLL²) /
// (count − 1)) × PPL.
//
// --score-all keeps this program's earlier method: the text is tokenized
// without BOS and cut into chunks of n_ctx − 1 tokens, each run as BOS +
// chunk, and every chunk token is scored (the first ones with little
// context, so the figure is higher than llama-perplexity's).
#ifndef TERNARY_EXAMPLES_CLI_PERPLEXITY_H_
#define TERNARY_EXAMPLES_CLI_PERPLEXITY_H_

#include <unistd.h>

#include <algorithm>
#include <cmath>
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
#include "cli/memory_budget.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/io/read_file.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kPerplexityUsage =
    "-m MODEL -f FILE [-c 512] [--chunks N] [--score-all] [--json] "
    "[--act a8|a4] [--packing i2s|tl1|tl2] [-t THREADS]";

inline const std::string& PerplexityHelp() {
  static const std::string help =
      "Perplexity of a text file, as llama-perplexity computes it: the text "
      "(with BOS)\nis cut into windows of N tokens, each run from an empty "
      "cache with BOS first,\nand the second half of each window is scored. "
      "Progress goes to stderr; the\nlast line of stdout is \"Final estimate: "
      "PPL = X +/- E\" (E: llama-perplexity's\nerror estimate), or one JSON "
      "object with --json.\n\n"
      "  -f, --file FILE      the text\n"
      "  -c, --ctx-size N     window length in tokens, BOS included (default "
      "512; 0: the\n"
      "                       model's max_position_embeddings)\n"
      "  --chunks N           score only the first N windows\n"
      "  --score-all          the earlier method: chunks of N - 1 tokens "
      "after BOS, every\n"
      "                       token scored (not comparable with "
      "llama-perplexity)\n"
      "  --json               {\"perplexity\", \"error\", \"tokens\", "
      "\"chunks\", \"ctx\", \"method\", ...}\n" +
      std::string(kModelOptionsHelp);
  return help;
}

// −log p(target) from one row of logits, in double.
inline double NegativeLogLikelihood(std::span<const float> logits,
                                    int32_t target) {
  double max = logits[0];
  for (const float l : logits) max = std::max(max, double(l));
  double sum = 0.0;
  for (const float l : logits) sum += std::exp(double(l) - max);
  return std::log(sum) + max - double(logits[static_cast<size_t>(target)]);
}

// Σ NLL, Σ NLL² and the count of scored tokens.
struct NllSums {
  double nll = 0.0;
  double nll2 = 0.0;
  uint64_t count = 0;

  double Perplexity() const { return std::exp(nll / double(count)); }
  // llama-perplexity's estimate: the standard error of the mean NLL, times
  // PPL (NaN when it cannot be computed).
  double Error() const {
    if (count < 2) return std::nan("");
    const double mean = nll / double(count);
    const double var = nll2 / double(count) - mean * mean;
    if (!(var > 0.0)) return std::nan("");
    return std::sqrt(var / double(count - 1)) * Perplexity();
  }
};

// The text's windows: what each runs, and from which row on it is scored.
struct PerplexityWindows {
  std::vector<int32_t> ids;    // the tokenized text
  size_t window = 0;           // tokens a window runs
  size_t stride = 0;           // tokens of the text a window covers
  size_t count = 0;            // windows
  bool bos_first = false;      // the window starts with BOS (replacing or
                               // before the text's tokens)
  bool replace_first = false;  // BOS replaces the window's first token
  size_t first_scored = 0;     // logits rows first_scored … window − 2

  std::vector<int32_t> Input(size_t w, int32_t bos) const {
    std::vector<int32_t> in;
    if (bos_first && !replace_first) in.push_back(bos);
    in.insert(in.end(), ids.begin() + ptrdiff_t(w * stride),
              ids.begin() + ptrdiff_t((w + 1) * stride));
    if (bos_first && replace_first) in[0] = bos;
    return in;
  }
  size_t ScoredPerWindow() const { return window - 1 - first_scored; }
};

// Tokenizes `text` and cuts it as the method says (see the file comment).
inline PerplexityWindows CutWindows(const ModelTokenizer& tok,
                                    const std::string& text, size_t ctx,
                                    bool score_all, int64_t max_chunks) {
  PerplexityWindows w;
  const int32_t bos = tok.tokenizer.bos_id();
  if (score_all) {
    w.ids = tok.tokenizer.Encode(
        text, EncodeOptions{.add_bos = false, .parse_special = false});
    // Without a BOS token the first chunk token only conditions the rest.
    w.bos_first = bos >= 0;
    w.stride = w.bos_first ? ctx - 1 : ctx;
    w.window = ctx;
    w.first_scored = 0;
  } else {
    // llama-perplexity: common_tokenize(text, add_special = true), and
    // each window's first token becomes BOS when the vocabulary adds one.
    const bool add_bos = tok.add_bos && bos >= 0;
    w.ids = tok.tokenizer.Encode(
        text, EncodeOptions{.add_bos = add_bos, .parse_special = false});
    w.bos_first = add_bos;
    w.replace_first = true;
    w.stride = ctx;
    w.window = ctx;
    w.first_scored = ctx / 2;
  }
  w.count = w.ids.size() / w.stride;
  if (max_chunks >= 0) w.count = std::min(w.count, size_t(max_chunks));
  return w;
}

inline int RunPerplexity(Args& args) {
  const ModelOptions model = ModelOptions::Parse(args, /*allow_default=*/false);
  const std::optional<std::string> file = args.Value({"-f", "--file"});
  int64_t ctx = args.Int({"-c", "--ctx-size", "--ctx"}, 512, 0, 1 << 20);
  const int64_t max_chunks = args.Int({"--chunks"}, -1, -1, int64_t{1} << 40);
  const bool score_all = args.Flag({"--score-all"});
  const bool json = args.Flag({"--json"});
  const TokenizerLoadOptions tok_options = ParseTokenizerOptions(args);
  args.Finish();
  model.Require();
  model.Validate();
  if (ctx == 1) throw UsageError("-c must be 0 or at least 2, got 1");
  if (!file) throw UsageError("missing -f FILE");
  const std::string text = io::ReadFile(*file, io::kTextFileLimit);

  const ModelTokenizer tok = LoadTokenizer(model.path, tok_options);
  // Too short a text for one window: say so before loading the weights.
  auto cut = [&] {
    PerplexityWindows w =
        CutWindows(tok, text, size_t(ctx), score_all, max_chunks);
    if (w.count == 0) {
      throw UsageError(*file + ": " + std::to_string(w.ids.size()) +
                       " tokens, fewer than one window of " +
                       std::to_string(w.stride) + " (-c " +
                       std::to_string(ctx) + ")");
    }
    return w;
  };
  std::optional<PerplexityWindows> windows;
  if (ctx != 0) windows = cut();
  std::unique_ptr<Engine> engine = LoadEngine(model);
  if (ctx == 0) {
    ctx = std::max<int64_t>(2, engine->config().max_position_embeddings);
    windows = cut();
  }
  // A window past the trained context: a warning, as llama.cpp gives. A KV
  // cache + logits above this machine's memory: a usage error naming -c.
  WarnBeyondTrainedContext("-c", uint64_t(ctx), engine->config());
  const size_t rows = std::min<size_t>(size_t(ctx), kBatchRows);
  CheckMemory(
      "-c", uint64_t(ctx),
      SequenceBytes(engine->config(), uint64_t(ctx), rows, engine->threads()),
      engine->Memory().total());
  const PerplexityWindows& w = *windows;
  if (!LogDisabled()) {
    std::fprintf(
        stderr,
        "ternary perplexity: %zu tokens, %zu chunks of %zu, scoring "
        "%zu tokens each (%s; ctx %lld, %.*s/%.*s, %zu threads)\n",
        w.ids.size(), w.count, w.stride, w.ScoredPerWindow(),
        score_all ? "every token" : "second half, as llama-perplexity",
        static_cast<long long>(ctx), static_cast<int>(engine->packing().size()),
        engine->packing().data(), static_cast<int>(engine->act().size()),
        engine->act().data(), engine->threads());
  }
  const bool tty = isatty(STDERR_FILENO) != 0 && !LogDisabled();
  const size_t vocab = engine->vocab();
  const int32_t bos = tok.tokenizer.bos_id();
  // Logits of one batch of positions at a time (the batches the model runs
  // anyway), not of the whole window: each row is needed only to score
  // the next token; batches before the scored rows need none.
  std::vector<float> logits(rows * vocab);
  NllSums sums;
  Stopwatch clock;
  for (size_t c = 0; c < w.count; ++c) {
    const std::vector<int32_t> input = w.Input(c, bos);
    engine->Reset(input.size());
    for (size_t begin = 0; begin < input.size(); begin += rows) {
      const size_t n = std::min(rows, input.size() - begin);
      const auto batch = std::span<const int32_t>(input).subspan(begin, n);
      if (begin + n <= w.first_scored) {
        engine->Forward(batch, logits.data(), Logits::kNone);
        continue;
      }
      engine->Forward(batch, logits.data(), Logits::kAll);
      // Row t predicts input[t + 1].
      for (size_t t = std::max(begin, w.first_scored);
           t < begin + n && t + 1 < input.size(); ++t) {
        const double v = NegativeLogLikelihood(
            std::span<const float>(logits).subspan((t - begin) * vocab, vocab),
            input[t + 1]);
        sums.nll += v;
        sums.nll2 += v * v;
        ++sums.count;
      }
    }
    if (!LogDisabled()) {
      const double s = clock.Seconds();
      std::fprintf(stderr, "%s[%zu/%zu] perplexity %.4f, %.1f s, %.0f tok/s%s",
                   tty ? "\r" : "", c + 1, w.count, sums.Perplexity(), s,
                   double((c + 1) * input.size()) / s, tty ? "" : "\n");
      std::fflush(stderr);
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  const double ppl = sums.Perplexity();
  const double error = sums.Error();
  std::string out;
  if (json) {
    out = "{\"perplexity\": " + JsonNumber(ppl, "%.6f") +
          ", \"error\": " + JsonNumber(error, "%.6f") +
          ", \"nll_per_token\": " +
          JsonNumber(sums.nll / double(sums.count), "%.6f") +
          ", \"tokens\": " + std::to_string(sums.count) +
          ", \"chunks\": " + std::to_string(w.count) +
          ", \"ctx\": " + std::to_string(ctx) +
          ", \"method\": " + JsonString(score_all ? "all" : "second-half") +
          ", \"packing\": " + JsonString(engine->packing()) +
          ", \"act\": " + JsonString(engine->act()) + "}\n";
  } else {
    // llama-perplexity's last line (its "%.4lf +/- %.5lf").
    char buf[96];
    std::snprintf(buf, sizeof buf, "Final estimate: PPL = %.4f +/- %.5f\n", ppl,
                  error);
    out = buf;
  }
  return WriteStdout(out, /*flush=*/true) ? 0 : 1;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_PERPLEXITY_H_
