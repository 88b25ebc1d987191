// `ternary perplexity`: perplexity of a text file, computed as
// llama-perplexity does: the text is tokenized without BOS and cut into
// consecutive chunks of ctx − 1 tokens (a last partial chunk is dropped);
// each chunk runs as BOS + chunk from an empty cache in one forward pass,
// and every chunk token is scored (the BOS position predicts token 0).
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
    "-m MODEL -f FILE [--ctx 256] [--chunks N] [--act a8|a4] "
    "[--packing i2s|tl1|tl2] [-t THREADS] [--json]";

inline const std::string& PerplexityHelp() {
  static const std::string help =
      "Perplexity of a text file: tokenized without BOS, cut into chunks of "
      "ctx - 1\ntokens (a last partial chunk is dropped), each run as BOS + "
      "chunk from an empty\ncache with every chunk token scored. Progress "
      "goes to stderr; the last line of\nstdout is \"perplexity: X\" (with "
      "--json, stdout is one JSON object instead).\n\n"
      "  -f, --file FILE      the text\n"
      "  --ctx N              chunk length including BOS (default 256)\n"
      "  --chunks N           score only the first N chunks\n"
      "  --json               {\"perplexity\", \"tokens\", \"chunks\", ...}\n" +
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

inline int RunPerplexity(Args& args) {
  const ModelOptions model = ModelOptions::Parse(args, /*allow_default=*/false);
  const std::optional<std::string> file = args.Value({"-f", "--file"});
  const int64_t ctx = args.Int({"--ctx", "-c", "--ctx-size"}, 256, 2, 1 << 20);
  const int64_t max_chunks = args.Int({"--chunks"}, -1, -1, int64_t{1} << 40);
  const bool json = args.Flag({"--json"});
  const TokenizerLoadOptions tok_options = ParseTokenizerOptions(args);
  args.Finish();
  model.Require();
  model.Validate();
  if (!file) throw UsageError("missing -f FILE");
  const std::string text = io::ReadFile(*file, io::kTextFileLimit);

  const ModelTokenizer tok = LoadTokenizer(model.path, tok_options);
  std::unique_ptr<Engine> engine = LoadEngine(model);
  // A window the model has no positions for, or a KV cache + logits above
  // this machine's memory: say so now, naming --ctx.
  CheckContext("--ctx", uint64_t(ctx), engine->config());
  const size_t rows = std::min<size_t>(size_t(ctx), kBatchRows);
  CheckMemory(
      "--ctx", uint64_t(ctx),
      SequenceBytes(engine->config(), uint64_t(ctx), rows, engine->threads()),
      engine->Memory().total());
  const std::vector<int32_t> ids = tok.tokenizer.Encode(
      text, EncodeOptions{.add_bos = false, .parse_special = false});
  const int32_t bos = tok.tokenizer.bos_id();
  // Without a BOS token the first chunk token only conditions the rest.
  const size_t chunk = bos >= 0 ? size_t(ctx) - 1 : size_t(ctx);
  size_t chunks = ids.size() / chunk;
  if (max_chunks >= 0) chunks = std::min(chunks, size_t(max_chunks));
  if (chunks == 0) {
    throw UsageError(*file + ": " + std::to_string(ids.size()) +
                     " tokens, fewer than one chunk of " +
                     std::to_string(chunk) + " (--ctx " + std::to_string(ctx) +
                     ")");
  }
  std::fprintf(stderr,
               "ternary perplexity: %zu tokens, %zu chunks of %zu (ctx %lld, "
               "%.*s/%.*s, %zu threads)\n",
               ids.size(), chunks, chunk, static_cast<long long>(ctx),
               static_cast<int>(engine->packing().size()),
               engine->packing().data(), static_cast<int>(engine->act().size()),
               engine->act().data(), engine->threads());
  const bool tty = isatty(STDERR_FILENO) != 0;
  const size_t vocab = engine->vocab();
  std::vector<int32_t> input;
  // Logits of one batch of positions at a time (the batches the model runs
  // anyway), not of the whole window: each row is needed only to score
  // the next token.
  std::vector<float> logits(rows * vocab);
  double nll = 0.0;
  uint64_t scored = 0;
  Stopwatch clock;
  for (size_t c = 0; c < chunks; ++c) {
    input.clear();
    if (bos >= 0) input.push_back(bos);
    input.insert(input.end(), ids.begin() + c * chunk,
                 ids.begin() + (c + 1) * chunk);
    engine->Reset(input.size());
    for (size_t begin = 0; begin < input.size(); begin += rows) {
      const size_t n = std::min(rows, input.size() - begin);
      engine->Forward(std::span<const int32_t>(input).subspan(begin, n),
                      logits.data(), Logits::kAll);
      // Row t predicts input[t + 1].
      for (size_t t = begin; t < begin + n && t + 1 < input.size(); ++t) {
        nll += NegativeLogLikelihood(
            std::span<const float>(logits).subspan((t - begin) * vocab, vocab),
            input[t + 1]);
        ++scored;
      }
    }
    const double ppl = std::exp(nll / double(scored));
    const double s = clock.Seconds();
    std::fprintf(stderr, "%s[%zu/%zu] perplexity %.4f, %.1f s, %.0f tok/s%s",
                 tty ? "\r" : "", c + 1, chunks, ppl, s,
                 double((c + 1) * input.size()) / s, tty ? "" : "\n");
    std::fflush(stderr);
  }
  if (tty) std::fprintf(stderr, "\n");
  const double ppl = std::exp(nll / double(scored));
  std::string out;
  if (json) {
    out = "{\"perplexity\": " + JsonNumber(ppl, "%.6f") +
          ", \"nll_per_token\": " + JsonNumber(nll / double(scored), "%.6f") +
          ", \"tokens\": " + std::to_string(scored) +
          ", \"chunks\": " + std::to_string(chunks) +
          ", \"ctx\": " + std::to_string(ctx) +
          ", \"packing\": " + JsonString(engine->packing()) +
          ", \"act\": " + JsonString(engine->act()) + "}\n";
  } else {
    char buf[64];
    std::snprintf(buf, sizeof buf, "perplexity: %.4f\n", ppl);
    out = buf;
  }
  return WriteStdout(out, /*flush=*/true) ? 0 : 1;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_PERPLEXITY_H_
