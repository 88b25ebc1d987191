// `ternary bench`: prompt-processing and generation throughput, as
// llama-bench measures them: ppP = one batch of P tokens from an empty
// cache; tgN = N single-token decode steps from an empty cache, N / time.
// One warm-up run, then the median of --reps runs.
#ifndef TERNARY_EXAMPLES_CLI_BENCH_H_
#define TERNARY_EXAMPLES_CLI_BENCH_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/engine.h"
#include "cli/memory_budget.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/model/config.h"
#include "ternary/simd/cpu.h"
#include "ternary/simd/targets.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kBenchUsage =
    "[-m MODEL | --shape 2b4t|tiny] [-p 128] [-n 64] [-t THREADS] [-r REPS] "
    "[--json] [--packing i2s|tl1|tl2] [--act a8|a4] [--head auto|q8|..]";

inline const std::string& BenchHelp() {
  static const std::string help =
      "Throughput like llama-bench: ppP runs one batch of P prompt tokens "
      "from an empty\ncache (tokens/s = P / time); tgN runs N single-token "
      "decode steps from an empty\ncache (N / time). One warm-up run, then "
      "the median of REPS runs.\n\n"
      "  --shape NAME         no file: random ternary weights of a known "
      "size,\n"
      "                       2b4t (bitnet-b1.58-2B-4T: 2560/6912, 30 "
      "layers, vocab\n"
      "                       128256) or tiny (tiny-shakespeare)\n"
      "  -p, --n-prompt P     prompt tokens (default 128; 0: skip pp)\n"
      "  -n, --n-gen N        generated tokens (default 64; 0: skip tg)\n"
      "  -r, --repetitions R  measured runs (default 5)\n"
      "  --json               one JSON object: pp{P}_tps, tg{N}_tps, "
      "threads, simd, cpu, ...\n" +
      std::string(kModelOptionsHelp);
  return help;
}

// The dimensions --shape names, as a config for RandomWeights.
inline ModelConfig ShapeConfig(const std::string& shape) {
  ModelConfig c;
  if (shape == "2b4t") {
    c.dims = kBitNet2B4T;
    c.max_position_embeddings = 4096;
  } else if (shape == "tiny") {
    c.dims = kTinyShakespeare;
    c.max_position_embeddings = 1024;
  } else {
    throw UsageError("--shape must be 2b4t or tiny, got '" + shape + "'");
  }
  c.rope_theta = 500000.0;
  c.rms_norm_eps = 1e-5f;
  c.tie_word_embeddings = true;
  return c;
}

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Tokens per second of one pp run of `tokens`.
inline double RunPromptOnce(Engine& engine, std::span<const int32_t> tokens,
                            std::vector<float>& logits) {
  engine.Reset(tokens.size());
  Stopwatch clock;
  engine.Forward(tokens, logits.data(), Logits::kLast);
  return double(tokens.size()) / clock.Seconds();
}

// Tokens per second of n decode steps (each with its logits).
inline double RunGenerationOnce(Engine& engine, std::span<const int32_t> tokens,
                                std::vector<float>& logits) {
  engine.Reset(tokens.size());
  Stopwatch clock;
  for (const int32_t& id : tokens) {
    engine.Forward(std::span<const int32_t>(&id, 1), logits.data(),
                   Logits::kLast);
  }
  return double(tokens.size()) / clock.Seconds();
}

inline int RunBench(Args& args) {
  const std::optional<std::string> shape = args.Value({"--shape"});
  const ModelOptions model = ModelOptions::Parse(args, /*allow_default=*/false);
  const int64_t p = args.Int({"-p", "--n-prompt"}, 128, 0, 1 << 20);
  const int64_t n = args.Int({"-n", "--n-gen"}, 64, 0, 1 << 20);
  const int64_t reps = args.Int({"-r", "--repetitions"}, 5, 1, 1000);
  const bool json = args.Flag({"--json"});
  args.Finish();
  model.Validate();
  if (shape && !model.path.empty()) {
    throw UsageError("give -m MODEL or --shape, not both");
  }
  if (!shape && model.path.empty()) {
    throw UsageError("missing -m MODEL (or --shape 2b4t|tiny)");
  }
  if (p == 0 && n == 0) throw UsageError("-p and -n are both 0: nothing to do");

  // -p and -n each run from an empty cache: neither may exceed the model's
  // context, and the larger one's KV cache must fit in memory. With
  // --shape that is known before building the weights.
  const auto check = [&](const ModelConfig& config, uint64_t weight_bytes) {
    CheckContext("-p", uint64_t(p), config);
    CheckContext("-n", uint64_t(n), config);
    const bool prompt_larger = p >= n;
    const uint64_t positions = uint64_t(prompt_larger ? p : n);
    CheckMemory(prompt_larger ? "-p" : "-n", positions,
                SequenceBytes(config, positions, 1, uint64_t(model.threads)),
                weight_bytes);
  };
  std::unique_ptr<Engine> engine;
  std::string name;
  if (shape) {
    const ModelConfig config = ShapeConfig(*shape);
    check(config, 0);
    name = "random " + *shape;
    engine = RandomEngine(config, model, name);
  } else {
    engine = LoadEngine(model);
    name = model.path;
    check(engine->config(), engine->Memory().total());
  }
  const size_t vocab = engine->vocab();
  // Token ids as llama-bench draws them: random, fixed seed.
  std::mt19937 rng(1234);
  auto random_tokens = [&](size_t count) {
    std::vector<int32_t> t(count);
    for (int32_t& id : t) id = static_cast<int32_t>(rng() % vocab);
    return t;
  };
  const std::vector<int32_t> prompt = random_tokens(size_t(p));
  const std::vector<int32_t> gen = random_tokens(size_t(n));
  std::vector<float> logits(vocab);

  if (!json) {
    std::fprintf(
        stderr,
        "ternary bench: %s, %.*s/%.*s, %zu threads, simd %s, "
        "built in %.1f s; warm-up...\n",
        name.c_str(), static_cast<int>(engine->packing().size()),
        engine->packing().data(), static_cast<int>(engine->act().size()),
        engine->act().data(), engine->threads(),
        simd::TargetName(simd::ActiveTarget()).c_str(), engine->load_seconds());
  }
  if (p > 0) RunPromptOnce(*engine, prompt, logits);
  if (n > 0) RunGenerationOnce(*engine, gen, logits);
  std::vector<double> pp, tg;
  for (int64_t r = 0; r < reps; ++r) {
    if (p > 0) pp.push_back(RunPromptOnce(*engine, prompt, logits));
    if (n > 0) tg.push_back(RunGenerationOnce(*engine, gen, logits));
  }

  const WeightMemory mem = engine->Memory();
  const ModelConfig& c = engine->config();
  const uint64_t params = SourceValues(c);
  const std::string pp_name = "pp" + std::to_string(p);
  const std::string tg_name = "tg" + std::to_string(n);
  const simd::CpuInfo cpu = simd::DetectCpu();
  std::string out;
  if (json) {
    out =
        "{\"model\": " + JsonString(name) +
        ", \"packing\": " + JsonString(engine->packing()) +
        ", \"act\": " + JsonString(engine->act()) +
        ", \"threads\": " + std::to_string(engine->threads()) +
        ", \"reps\": " + std::to_string(reps) +
        ", \"params\": " + std::to_string(params) +
        ", \"weight_bytes\": " + std::to_string(mem.total()) +
        ", \"head\": " + JsonString(engine->head_precision()) +
        ", \"simd\": " + JsonString(simd::TargetName(simd::ActiveTarget())) +
        ", \"cpu\": " + JsonString(cpu.brand.empty() ? cpu.vendor : cpu.brand) +
        ", \"cpu_family\": " + std::to_string(cpu.family) +
        ", \"cpu_model\": " + std::to_string(cpu.model) +
        ", \"cpu_microarchitecture\": " + JsonString(cpu.microarchitecture);
    auto add = [&](const std::string& key, const std::vector<double>& v) {
      out += ", \"" + key + "_tps\": " + JsonNumber(Median(v), "%.3f");
      out += ", \"" + key + "_tps_runs\": [";
      for (size_t i = 0; i < v.size(); ++i) {
        out += (i ? ", " : "") + JsonNumber(v[i], "%.3f");
      }
      out += "]";
    };
    if (p > 0) add(pp_name, pp);
    if (n > 0) add(tg_name, tg);
    out += "}\n";
  } else {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "| %-24s | %10s | %8s | %-7s | %7s | %6s | %10s | %17s |\n",
                  "model", "size", "params", "weights", "threads", "test",
                  "t/s", "min - max");
    out += buf;
    out +=
        "| ------------------------ | ---------: | -------: | ------- | "
        "------: | -----: | ---------: | ----------------: |\n";
    const std::string weights =
        std::string(engine->packing()) + "/" + std::string(engine->act());
    auto row = [&](const std::string& test, const std::vector<double>& v) {
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      char tps[32], range[64];
      std::snprintf(tps, sizeof tps, "%.2f", Median(v));
      std::snprintf(range, sizeof range, "%.2f - %.2f", *lo, *hi);
      std::snprintf(buf, sizeof buf,
                    "| %-24.24s | %10s | %8s | %-7s | %7zu | %6s | %10s | "
                    "%17s |\n",
                    name.c_str(), FormatBytes(mem.total()).c_str(),
                    FormatCount(params).c_str(), weights.c_str(),
                    engine->threads(), test.c_str(), tps, range);
      out += buf;
    };
    if (p > 0) row(pp_name, pp);
    if (n > 0) row(tg_name, tg);
  }
  return WriteStdout(out, /*flush=*/true) ? 0 : 1;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_BENCH_H_
