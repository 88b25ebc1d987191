// `ternary logits`: the conformance command. Prints one JSON object with a
// row of logits per input position and, with --generate N, N greedy ids.
#ifndef TERNARY_EXAMPLES_CLI_LOGITS_H_
#define TERNARY_EXAMPLES_CLI_LOGITS_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/dispatch.h"
#include "ternary/model/generate.h"
#include "ternary/model/model.h"
#include "ternary/util/error.h"
#include "ternary/util/thread_pool.h"

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
  const std::optional<std::string> model_dir = args.Value({"-m", "--model"});
  const std::vector<int64_t> ids64 = args.IntList({"--ids"});
  const int64_t generate = args.Int({"--generate"}, 0, 0, 1 << 20);
  const std::string packing = args.String({"--packing"}, "i2s");
  const std::string act = args.String({"--act"}, "a8");
  const int64_t hw = std::max<unsigned>(1, std::thread::hardware_concurrency());
  const int64_t threads = args.Int({"-t", "--threads"}, hw, 1, 1024);
  args.Finish();
  if (!model_dir) throw UsageError("missing -m MODEL (a checkpoint folder)");
  if (ids64.empty()) throw UsageError("--ids needs at least one token id");
  std::vector<int32_t> ids;
  for (int64_t id : ids64) {
    if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
      throw UsageError("--ids: token id " + std::to_string(id) +
                       " out of range");
    }
    ids.push_back(static_cast<int32_t>(id));
  }

  return WithPolicy(packing, act, [&]<class P>(P) {
    ThreadPool pool(static_cast<size_t>(threads));
    const auto model = Model<kDynamicDims, P>::Load(*model_dir);
    auto state = model.NewState(ids.size() + static_cast<size_t>(generate));
    const std::vector<float> logits =
        model.Forward(ids, state, Logits::kAll, &pool);
    const size_t vocab = model.vocab();
    std::vector<int32_t> generated;
    if (generate > 0) {
      generated = GreedyContinue(model, state,
                                 std::span<const float>(logits).subspan(
                                     (ids.size() - 1) * vocab, vocab),
                                 static_cast<size_t>(generate), &pool);
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
  });
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_LOGITS_H_
