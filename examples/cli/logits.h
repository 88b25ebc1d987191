// `ternary logits`: the conformance command. Prints one JSON object with a
// row of logits per input position and, with --generate N, N greedy ids.
#ifndef TERNARY_EXAMPLES_CLI_LOGITS_H_
#define TERNARY_EXAMPLES_CLI_LOGITS_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/engine.h"
#include "cli/model_options.h"
#include "ternary/model/generate.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kLogitsUsage =
    "-m MODEL --ids 1,2,3 [--generate N] [--packing i2s|tl1|tl2] [--act a8|a4] "
    "[-t THREADS]";

inline void AppendFloat(std::string& s, float v) {
  if (!std::isfinite(v)) {
    s += "null";
    return;
  }
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  s.append(buf, static_cast<size_t>(n));
}

inline int RunLogits(Args& args) {
  const ModelOptions model = ModelOptions::Parse(args, /*allow_default=*/false);
  const std::vector<int64_t> ids64 = args.IntList({"--ids"});
  const int64_t generate = args.Int({"--generate"}, 0, 0, 1 << 20);
  args.Finish();
  model.Validate();
  if (model.path.empty()) {
    throw UsageError("missing -m MODEL (a checkpoint folder or .gguf file)");
  }
  if (ids64.empty()) throw UsageError("--ids needs at least one token id");
  std::vector<int32_t> ids;
  for (int64_t id : ids64) {
    if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
      throw UsageError("--ids: token id " + std::to_string(id) +
                       " out of range");
    }
    ids.push_back(static_cast<int32_t>(id));
  }

  const std::unique_ptr<Engine> engine =
      LoadEngine(model, EngineExtras{.load_tokenizer = false});
  engine->Reset(ids.size() + static_cast<size_t>(generate));
  const std::vector<float> logits = engine->Forward(ids, Logits::kAll);
  const size_t vocab = engine->vocab();
  // Greedy ids, each fed back through the KV cache (GreedyContinue).
  std::vector<int32_t> generated;
  std::vector<float> row(logits.end() - static_cast<ptrdiff_t>(vocab),
                         logits.end());
  for (int64_t i = 0; i < generate; ++i) {
    const int32_t next = ArgMax(row);
    generated.push_back(next);
    if (i + 1 == generate) break;
    engine->Forward(std::span<const int32_t>(&next, 1), row.data(),
                    Logits::kLast);
  }
  std::string out;
  out.reserve(logits.size() * 14 + 64);
  out += "{\"logits\": [";
  for (size_t t = 0; t < ids.size(); ++t) {
    out += t ? ", [" : "[";
    for (size_t v = 0; v < vocab; ++v) {
      if (v) out += ", ";
      AppendFloat(out, logits[t * vocab + v]);
    }
    out += "]";
  }
  out += "]";
  if (generate > 0) {
    out += ", \"generated\": [";
    for (size_t i = 0; i < generated.size(); ++i) {
      if (i) out += ", ";
      out += std::to_string(generated[i]);
    }
    out += "]";
  }
  out += "}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_LOGITS_H_
