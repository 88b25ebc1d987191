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

// The command line of `ternary bench`.
struct BenchOptions {
  std::optional<std::string> shape;  // --shape: random weights, no file
  ModelOptions model;
  int64_t p = 128;  // prompt tokens (0: no pp test)
  int64_t n = 64;   // generated tokens (0: no tg test)
  int64_t reps = 5;
  bool json = false;

  static BenchOptions Parse(Args& args) {
    BenchOptions o;
    o.shape = args.Value({"--shape"});
    o.model = ModelOptions::Parse(args, /*allow_default=*/false);
    o.p = args.Int({"-p", "--n-prompt"}, 128, 0, 1 << 20);
    o.n = args.Int({"-n", "--n-gen"}, 64, 0, 1 << 20);
    o.reps = args.Int({"-r", "--repetitions"}, 5, 1, 1000);
    o.json = args.Flag({"--json"});
    args.Finish();
    o.model.Validate();
    if (o.shape && !o.model.path.empty()) {
      throw UsageError("give -m MODEL or --shape, not both");
    }
    if (!o.shape && o.model.path.empty()) {
      throw UsageError("missing -m MODEL (or --shape 2b4t|tiny)");
    }
    if (o.p == 0 && o.n == 0) {
      throw UsageError("-p and -n are both 0: nothing to do");
    }
    return o;
  }
};

// -p and -n each run from an empty cache: neither may exceed the model's
// context, and the larger one's KV cache must fit in memory.
inline void CheckBenchFits(const BenchOptions& o, const ModelConfig& config,
                           uint64_t weight_bytes) {
  CheckContext("-p", uint64_t(o.p), config);
  CheckContext("-n", uint64_t(o.n), config);
  const bool prompt_larger = o.p >= o.n;
  const uint64_t positions = uint64_t(prompt_larger ? o.p : o.n);
  CheckMemory(prompt_larger ? "-p" : "-n", positions,
              SequenceBytes(config, positions, 1, uint64_t(o.model.threads)),
              weight_bytes);
}

// The engine to measure and its name in the results: random weights of
// --shape (checked before they are built) or the -m file.
inline std::unique_ptr<Engine> OpenBenchEngine(const BenchOptions& o,
                                               std::string& name) {
  if (o.shape) {
    const ModelConfig config = ShapeConfig(*o.shape);
    CheckBenchFits(o, config, 0);
    name = "random " + *o.shape;
    return RandomEngine(config, o.model, name);
  }
  std::unique_ptr<Engine> engine = LoadEngine(o.model);
  name = o.model.path;
  CheckBenchFits(o, engine->config(), engine->Memory().total());
  return engine;
}

// Tokens per second of every measured run of each test.
struct BenchRuns {
  std::vector<double> pp, tg;
};

// One warm-up run, then --reps measured runs of pp and tg on token ids
// drawn as llama-bench draws them: random, fixed seed.
inline BenchRuns MeasureBench(Engine& engine, const BenchOptions& o) {
  const size_t vocab = engine.vocab();
  std::mt19937 rng(1234);
  auto random_tokens = [&](size_t count) {
    std::vector<int32_t> t(count);
    for (int32_t& id : t) id = static_cast<int32_t>(rng() % vocab);
    return t;
  };
  const std::vector<int32_t> prompt = random_tokens(size_t(o.p));
  const std::vector<int32_t> gen = random_tokens(size_t(o.n));
  std::vector<float> logits(vocab);
  if (o.p > 0) RunPromptOnce(engine, prompt, logits);
  if (o.n > 0) RunGenerationOnce(engine, gen, logits);
  BenchRuns runs;
  for (int64_t r = 0; r < o.reps; ++r) {
    if (o.p > 0) runs.pp.push_back(RunPromptOnce(engine, prompt, logits));
    if (o.n > 0) runs.tg.push_back(RunGenerationOnce(engine, gen, logits));
  }
  return runs;
}

inline void PrintBenchBanner(const Engine& engine, const std::string& name) {
  std::fprintf(stderr,
               "ternary bench: %s, %.*s/%.*s, %zu threads, simd %s, "
               "built in %.1f s; warm-up...\n",
               name.c_str(), static_cast<int>(engine.packing().size()),
               engine.packing().data(), static_cast<int>(engine.act().size()),
               engine.act().data(), engine.threads(),
               simd::TargetName(simd::ActiveTarget()).c_str(),
               engine.load_seconds());
}

// --json: one object with the setup, the medians and every run.
inline std::string BenchJson(const Engine& engine, const std::string& name,
                             const BenchOptions& o, const BenchRuns& runs) {
  const simd::CpuInfo cpu = simd::DetectCpu();
  std::string out =
      "{\"model\": " + JsonString(name) +
      ", \"packing\": " + JsonString(engine.packing()) +
      ", \"act\": " + JsonString(engine.act()) +
      ", \"threads\": " + std::to_string(engine.threads()) +
      ", \"reps\": " + std::to_string(o.reps) +
      ", \"params\": " + std::to_string(SourceValues(engine.config())) +
      ", \"weight_bytes\": " + std::to_string(engine.Memory().total()) +
      ", \"head\": " + JsonString(engine.head_precision()) +
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
  if (o.p > 0) add("pp" + std::to_string(o.p), runs.pp);
  if (o.n > 0) add("tg" + std::to_string(o.n), runs.tg);
  return out + "}\n";
}

// The llama-bench style table: one row per test, median and range of t/s.
inline std::string BenchTable(const Engine& engine, const std::string& name,
                              const BenchOptions& o, const BenchRuns& runs) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "| %-24s | %10s | %8s | %-7s | %7s | %6s | %10s | %17s |\n",
                "model", "size", "params", "weights", "threads", "test", "t/s",
                "min - max");
  std::string out = buf;
  out +=
      "| ------------------------ | ---------: | -------: | ------- | "
      "------: | -----: | ---------: | ----------------: |\n";
  const std::string size = FormatBytes(engine.Memory().total());
  const std::string params = FormatCount(SourceValues(engine.config()));
  const std::string weights =
      std::string(engine.packing()) + "/" + std::string(engine.act());
  auto row = [&](const std::string& test, const std::vector<double>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    char tps[32], range[64];
    std::snprintf(tps, sizeof tps, "%.2f", Median(v));
    std::snprintf(range, sizeof range, "%.2f - %.2f", *lo, *hi);
    std::snprintf(buf, sizeof buf,
                  "| %-24.24s | %10s | %8s | %-7s | %7zu | %6s | %10s | "
                  "%17s |\n",
                  name.c_str(), size.c_str(), params.c_str(), weights.c_str(),
                  engine.threads(), test.c_str(), tps, range);
    out += buf;
  };
  if (o.p > 0) row("pp" + std::to_string(o.p), runs.pp);
  if (o.n > 0) row("tg" + std::to_string(o.n), runs.tg);
  return out;
}

inline int RunBench(Args& args) {
  const BenchOptions o = BenchOptions::Parse(args);
  std::string name;
  const std::unique_ptr<Engine> engine = OpenBenchEngine(o, name);
  if (!o.json) PrintBenchBanner(*engine, name);
  const BenchRuns runs = MeasureBench(*engine, o);
  const std::string out = o.json ? BenchJson(*engine, name, o, runs)
                                 : BenchTable(*engine, name, o, runs);
  return WriteStdout(out, /*flush=*/true) ? 0 : 1;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_BENCH_H_
