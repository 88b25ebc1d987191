// `ternary bench`: prompt-processing and generation throughput with
// llama-bench's interface: lists for -t/-p/-n/-pg, -r, -o md|json|jsonl|csv,
// the same columns and the same JSON records (one per test). A test runs
// from an empty cache: ppP = one batch of P prompt tokens; tgN = N
// single-token decode steps; pp P+tg N (-pg P,N) = both, one after the
// other, timed together. Token ids are random (fixed seed); one warm-up run
// per test, then -r measured runs. t/s = tokens / time of each run: avg ±
// sample standard deviation, as llama-bench computes them.
#ifndef TERNARY_EXAMPLES_CLI_BENCH_H_
#define TERNARY_EXAMPLES_CLI_BENCH_H_

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
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
    "[-m MODEL | --shape NAME] [-p 128,...] [-n 64,...] [-pg PP,TG] "
    "[-t 1,2,...] [-r 5] [-o md|json|jsonl|csv] [--json] "
    "[--packing i2s|tl1|tl2] [--act a8|a4] [--head auto|q8|..]";

inline const std::string& BenchHelp() {
  static const std::string help =
      "Throughput as llama-bench measures it, with its options and output. "
      "Each test runs\nfrom an empty cache: ppP processes P prompt tokens in "
      "one batch; tgN runs N\nsingle-token decode steps; ppP+tgN (-pg) does "
      "both, timed together. One warm-up\nrun per test, then REPS runs; t/s "
      "is the mean +/- the standard deviation of\ntokens / time. Lists "
      "(1,2,4) and repeated options run every combination.\n\n"
      "  --shape NAME         no file: random ternary weights of a "
      "published model's\n"
      "                       shape and graph: tiny, large and 3b (1bitLLM), "
      "2b4t,\n"
      "                       llama3-8b, falcon3-1b, falcon3-3b, falcon3-7b, "
      "falcon3-10b\n"
      "  -p, --n-prompt P,... prompt tokens (default 128; 0: no pp test)\n"
      "  -n, --n-gen N,...    generated tokens (default 64; 0: no tg test)\n"
      "  -pg PP,TG            a prompt of PP tokens then TG generated ones "
      "(repeatable)\n"
      "  -t, --threads T,...  thread counts (default: all cores)\n"
      "  -r, --repetitions R  measured runs per test (default 5)\n"
      "  -o, --output FORMAT  md (default: llama-bench's table), json (an "
      "array of\n"
      "                       llama-bench records: model_filename, "
      "model_size, n_threads,\n"
      "                       n_prompt, n_gen, avg_ts, stddev_ts, "
      "samples_ts, ...), jsonl\n"
      "                       (one record a line) or csv\n"
      "  --json               the older format: one object per thread count "
      "with\n"
      "                       pp{P}_tps / tg{N}_tps medians (bench/*.sh read "
      "it)\n"
      "  -mmp 0|1             llama-bench's mmap switch (1: as --mmap, 0: as "
      "--no-mmap)\n"
      "  -fa, -ngl, -b, -ub   llama-bench's GPU / batch options: accepted, "
      "ignored\n"
      "size is the model file's size (for --shape: the weights in memory); "
      "the weights'\nmemory once loaded is on stderr and in the records' "
      "weight_bytes.\n\n" +
      std::string(kModelOptionsHelp);
  return help;
}

// The model sizes --shape names: each family's published configs
// (docs/model.md §5), as configs for RandomWeights.
struct BenchShape {
  std::string_view name;
  std::string_view what;
  Dims dims;
  ModelFamily family;
  bool tied;
  int max_position_embeddings;
  double rope_theta;
  float rms_norm_eps;
};

inline constexpr BenchShape kBenchShapes[] = {
    {"tiny", "tiny-shakespeare", kTinyShakespeare, ModelFamily::kBitNet, true,
     1024, 500000.0, 1e-5f},
    {"large", "1bitLLM bitnet_b1_58-large (0.7B)",
     Dims{.hidden = 1536,
          .ffn = 4096,
          .heads = 16,
          .kv_heads = 16,
          .head_dim = 96,
          .layers = 24,
          .vocab = 32002},
     ModelFamily::kOneBitLlm, true, 2048, 10000.0, 1e-5f},
    {"2b4t", "microsoft bitnet-b1.58-2B-4T", kBitNet2B4T, ModelFamily::kBitNet,
     true, 4096, 500000.0, 1e-5f},
    {"3b", "1bitLLM bitnet_b1_58-3B",
     Dims{.hidden = 3200,
          .ffn = 8640,
          .heads = 32,
          .kv_heads = 32,
          .head_dim = 100,
          .layers = 26,
          .vocab = 32002},
     ModelFamily::kOneBitLlm, true, 2048, 10000.0, 1e-5f},
    {"llama3-8b", "HF1BitLLM Llama3-8B-1.58-100B-tokens",
     Dims{.hidden = 4096,
          .ffn = 14336,
          .heads = 32,
          .kv_heads = 8,
          .head_dim = 128,
          .layers = 32,
          .vocab = 128256},
     ModelFamily::kLlamaBitNet, false, 8192, 500000.0, 1e-5f},
    {"falcon3-1b", "tiiuae Falcon3-1B-Instruct-1.58bit",
     Dims{.hidden = 2048,
          .ffn = 8192,
          .heads = 8,
          .kv_heads = 4,
          .head_dim = 256,
          .layers = 18,
          .vocab = 131072},
     ModelFamily::kLlamaBitNet, false, 8192, 1000042.0, 1e-6f},
    {"falcon3-3b", "tiiuae Falcon3-3B-Instruct-1.58bit",
     Dims{.hidden = 3072,
          .ffn = 9216,
          .heads = 12,
          .kv_heads = 4,
          .head_dim = 256,
          .layers = 22,
          .vocab = 131072},
     ModelFamily::kLlamaBitNet, false, 4096, 1000042.0, 1e-6f},
    {"falcon3-7b", "tiiuae Falcon3-7B-Instruct-1.58bit",
     Dims{.hidden = 3072,
          .ffn = 23040,
          .heads = 12,
          .kv_heads = 4,
          .head_dim = 256,
          .layers = 28,
          .vocab = 131072},
     ModelFamily::kLlamaBitNet, false, 8192, 1000042.0, 1e-6f},
    {"falcon3-10b", "tiiuae Falcon3-10B-Instruct-1.58bit",
     Dims{.hidden = 3072,
          .ffn = 23040,
          .heads = 12,
          .kv_heads = 4,
          .head_dim = 256,
          .layers = 40,
          .vocab = 131072},
     ModelFamily::kLlamaBitNet, false, 32768, 1000042.0, 1e-6f},
};

inline std::string BenchShapeNames() {
  std::string names;
  for (const BenchShape& s : kBenchShapes) {
    if (!names.empty()) names += ", ";
    names += s.name;
  }
  return names;
}

// The dimensions --shape names, as a config for RandomWeights.
inline ModelConfig ShapeConfig(const std::string& shape) {
  for (const BenchShape& s : kBenchShapes) {
    if (s.name != shape) continue;
    ModelConfig c;
    c.dims = s.dims;
    c.family = s.family;
    c.tie_word_embeddings = s.tied;
    c.max_position_embeddings = s.max_position_embeddings;
    c.rope_theta = s.rope_theta;
    c.rms_norm_eps = s.rms_norm_eps;
    return c;
  }
  throw UsageError("--shape must be one of " + BenchShapeNames() + ", got '" +
                   shape + "'");
}

inline double Median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// llama-bench's avg and stdev (the sample standard deviation; 0 for one
// value).
inline double Mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}
inline double StdDev(const std::vector<double>& v) {
  if (v.size() <= 1) return 0.0;
  const double mean = Mean(v);
  double sq = 0.0;
  for (const double x : v) sq += (x - mean) * (x - mean);
  return std::sqrt(sq / double(v.size() - 1));
}

// One test: llama-bench's n_prompt / n_gen.
struct BenchTest {
  int64_t n_prompt = 0;
  int64_t n_gen = 0;

  // "pp128", "tg64", "pp128+tg64".
  std::string Name() const {
    if (n_gen == 0) return "pp" + std::to_string(n_prompt);
    if (n_prompt == 0) return "tg" + std::to_string(n_gen);
    return "pp" + std::to_string(n_prompt) + "+tg" + std::to_string(n_gen);
  }
};

// The results of one test at one thread count.
struct BenchResult {
  BenchTest test;
  size_t threads = 0;
  std::string test_time;             // RFC 3339, UTC, when it started
  std::vector<uint64_t> samples_ns;  // one per measured run

  std::vector<double> SamplesTs() const {
    std::vector<double> ts;
    const double tokens = double(test.n_prompt + test.n_gen);
    for (const uint64_t ns : samples_ns) {
      ts.push_back(ns == 0 ? 0.0 : 1e9 * tokens / double(ns));
    }
    return ts;
  }
  double AvgTs() const { return Mean(SamplesTs()); }
  double StdDevTs() const { return StdDev(SamplesTs()); }
  std::vector<double> SamplesNs() const {
    return std::vector<double>(samples_ns.begin(), samples_ns.end());
  }
};

// The command line of `ternary bench`.
struct BenchOptions {
  std::optional<std::string> shape;  // --shape: random weights, no file
  ModelOptions model;
  std::vector<int64_t> threads;  // -t list
  std::vector<BenchTest> tests;  // -p, -n, -pg, in llama-bench's order
  int64_t reps = 5;
  std::string output = "md";  // -o
  bool json = false;          // --json: the older one-object format

  static BenchOptions Parse(Args& args) {
    BenchOptions o;
    o.shape = args.Value({"--shape"});
    // llama-bench's -fa takes a value (a list of 0/1); -mmp 1 is --mmap.
    if (const auto fa = args.Value({"-fa", "--flash-attn"})) {
      Note("-fa " + *fa + " ignored: CPU engine");
    }
    // --mmap also as the plain flag of the other subcommands.
    const std::optional<std::string> mmap_long =
        args.FlagOrValue({"--mmap"}, {"0", "1"});
    std::vector<int64_t> mmp = args.IntLists({"-mmp"}, 0, 1);
    if (mmap_long) mmp.push_back(*mmap_long == "0" ? 0 : 1);
    const int64_t kMaxTokens = 1 << 20;
    std::vector<int64_t> p = args.IntLists({"-p", "--n-prompt"}, 0, kMaxTokens);
    std::vector<int64_t> n = args.IntLists({"-n", "--n-gen"}, 0, kMaxTokens);
    const std::vector<std::string> pg = args.Values({"-pg"});
    o.threads = args.IntLists({"-t", "--threads"}, 1, int64_t{1} << 30);
    o.reps = args.Int({"-r", "--repetitions"}, 5, 1, 1000);
    const std::optional<std::string> output = args.Value({"-o", "--output"});
    o.json = args.Flag({"--json"});
    o.model = ModelOptions::Parse(args, /*allow_default=*/false);
    args.Finish();
    o.model.Validate();
    if (!mmp.empty()) o.model.mmap = mmp.back() == 1;
    if (output) {
      if (*output != "md" && *output != "json" && *output != "jsonl" &&
          *output != "csv") {
        throw UsageError("-o must be md, json, jsonl or csv, got '" + *output +
                         "'");
      }
      if (o.json)
        throw UsageError("give -o " + *output + " or --json, not both");
      o.output = *output;
    }
    if (o.shape && !o.model.path.empty()) {
      throw UsageError("give -m MODEL or --shape, not both");
    }
    if (!o.shape && o.model.path.empty()) {
      throw UsageError("missing -m MODEL (or --shape NAME)");
    }
    // -t: each count as ModelOptions checks it; default all cores.
    if (o.threads.empty()) o.threads.push_back(DefaultThreads());
    for (const int64_t t : o.threads) {
      if (t > MaxThreads()) {
        throw UsageError(
            "option -t must be in [1, " + std::to_string(MaxThreads()) +
            "], got " + std::to_string(t) + " (at most 4 x the " +
            std::to_string(DefaultThreads()) + " hardware threads, or 64)");
      }
    }
    if (p.empty()) p.push_back(128);
    if (n.empty()) n.push_back(64);
    for (const int64_t x : p) {
      if (x > 0) o.tests.push_back({.n_prompt = x, .n_gen = 0});
    }
    for (const int64_t x : n) {
      if (x > 0) o.tests.push_back({.n_prompt = 0, .n_gen = x});
    }
    for (const std::string& v : pg) {
      Args one(std::vector<std::string>{"-pg", v});
      const std::vector<int64_t> pair = one.IntLists({"-pg"}, 0, kMaxTokens);
      if (pair.size() != 2) {
        throw UsageError("-pg takes PP,TG (two numbers), got '" + v + "'");
      }
      if (pair[0] + pair[1] > 0) {
        o.tests.push_back({.n_prompt = pair[0], .n_gen = pair[1]});
      }
    }
    if (o.tests.empty()) {
      throw UsageError("-p and -n are both 0: nothing to do");
    }
    return o;
  }
};

// Every test runs from an empty cache: none may exceed the model's
// context, and the longest one's sequence must fit in memory.
inline void CheckBenchFits(const BenchOptions& o, const ModelConfig& config,
                           uint64_t weight_bytes) {
  const BenchTest* longest = &o.tests.front();
  for (const BenchTest& t : o.tests) {
    if (t.n_prompt + t.n_gen > longest->n_prompt + longest->n_gen) {
      longest = &t;
    }
  }
  const char* option = longest->n_gen == 0      ? "-p"
                       : longest->n_prompt == 0 ? "-n"
                                                : "-pg";
  const uint64_t positions = uint64_t(longest->n_prompt + longest->n_gen);
  CheckContext(option, positions, config);
  const int64_t most_threads =
      *std::max_element(o.threads.begin(), o.threads.end());
  CheckMemory(option, positions,
              SequenceBytes(config, positions, 1, uint64_t(most_threads)),
              weight_bytes);
}

// Bytes of the model's files: a .gguf, or a folder's *.safetensors.
inline uint64_t ModelFileBytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    const auto size = std::filesystem::file_size(path, ec);
    return ec ? 0 : uint64_t(size);
  }
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    if (e.path().extension() == ".safetensors") {
      const auto size = std::filesystem::file_size(e.path(), ec);
      if (!ec) bytes += uint64_t(size);
    }
  }
  return bytes;
}

// What the records say about the model (the same at every thread count).
struct BenchModel {
  std::string name;  // the -m path, or "random 2b4t"
  std::string type;  // "bitnet-b1.58 14.2M i2s/a8"
  uint64_t file_bytes = 0;
  uint64_t params = 0;
  uint64_t weight_bytes = 0;  // in memory, once loaded
  std::string packing, act, head;
};

// The engine at `threads` threads: random weights of --shape (checked
// before they are built) or the -m file.
inline std::unique_ptr<Engine> OpenBenchEngine(const BenchOptions& o,
                                               int64_t threads,
                                               BenchModel& info) {
  ModelOptions mo = o.model;
  mo.threads = threads;
  std::unique_ptr<Engine> engine;
  if (o.shape) {
    const ModelConfig config = ShapeConfig(*o.shape);
    CheckBenchFits(o, config, 0);
    info.name = "random " + *o.shape;
    engine = RandomEngine(config, mo, info.name);
  } else {
    engine = LoadEngine(mo, EngineExtras{.load_tokenizer = false});
    info.name = o.model.path;
    CheckBenchFits(o, engine->config(), engine->Memory().total());
  }
  info.params = ParameterCount(engine->config());
  info.weight_bytes = engine->Memory().total();
  info.file_bytes = o.shape ? info.weight_bytes : ModelFileBytes(o.model.path);
  info.packing = std::string(engine->packing());
  info.act = std::string(engine->act());
  info.head = std::string(engine->head_precision());
  std::string count = FormatCount(info.params);
  count.erase(std::remove(count.begin(), count.end(), ' '), count.end());
  info.type = "bitnet-b1.58 " + count + " " + info.packing + "/" + info.act;
  return engine;
}

inline std::string Rfc3339Now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%FT%TZ", &tm);
  return buf;
}

// One run of a test from an empty cache; nanoseconds.
inline uint64_t RunBenchOnce(Engine& engine, std::span<const int32_t> prompt,
                             std::span<const int32_t> gen,
                             std::vector<float>& logits) {
  engine.Reset(prompt.size() + gen.size());
  const auto start = std::chrono::steady_clock::now();
  if (!prompt.empty()) engine.Forward(prompt, logits.data(), Logits::kLast);
  for (const int32_t& id : gen) {
    engine.Forward(std::span<const int32_t>(&id, 1), logits.data(),
                   Logits::kLast);
  }
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count());
}

// One warm-up run, then --reps measured runs, on token ids drawn as
// llama-bench draws them: random, fixed seed.
inline BenchResult MeasureBenchTest(Engine& engine, const BenchTest& test,
                                    int64_t reps) {
  const size_t vocab = engine.vocab();
  std::mt19937 rng(1234);
  auto random_tokens = [&](size_t count) {
    std::vector<int32_t> t(count);
    for (int32_t& id : t) id = static_cast<int32_t>(rng() % vocab);
    return t;
  };
  const std::vector<int32_t> prompt = random_tokens(size_t(test.n_prompt));
  const std::vector<int32_t> gen = random_tokens(size_t(test.n_gen));
  std::vector<float> logits(vocab);
  BenchResult r;
  r.test = test;
  r.threads = engine.threads();
  r.test_time = Rfc3339Now();
  RunBenchOnce(engine, prompt, gen, logits);  // warm-up
  for (int64_t i = 0; i < reps; ++i) {
    r.samples_ns.push_back(RunBenchOnce(engine, prompt, gen, logits));
  }
  return r;
}

inline void PrintBenchBanner(const Engine& engine, const BenchModel& m) {
  if (LogDisabled()) return;
  std::fprintf(stderr,
               "ternary bench: %s, %s/%s, head %s, %zu threads, simd %s, "
               "loaded in %.1f s (%s in memory)\n",
               m.name.c_str(), m.packing.c_str(), m.act.c_str(), m.head.c_str(),
               engine.threads(), simd::TargetName(simd::ActiveTarget()).c_str(),
               engine.load_seconds(), FormatBytes(m.weight_bytes).c_str());
}

// "1.71 GiB" / "6.05 MiB" and "2.41 B" / "14.20 M", as llama-bench's table.
inline std::string BenchSize(uint64_t bytes) {
  char buf[32];
  if (bytes < (uint64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / 1024 / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB",
                  double(bytes) / 1024 / 1024 / 1024);
  }
  return buf;
}
inline std::string BenchParams(uint64_t n) {
  char buf[32];
  if (n < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.2f M", double(n) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f B", double(n) / 1e9);
  }
  return buf;
}

// llama-bench's markdown table: the header once, then a row per test as it
// finishes. Columns beyond llama-bench's appear for non-default choices
// (as llama-bench adds a column for each non-default parameter).
class BenchTable {
 public:
  explicit BenchTable(const BenchOptions& o)
      : packing_(o.model.packing != "i2s"),
        act_(o.model.act != "a8"),
        head_(o.model.head_given) {}

  std::string Header() const {
    std::string names = "| " + Pad("model", -30) + " | " + Pad("size", 10) +
                        " | " + Pad("params", 10) + " | " +
                        Pad("backend", -10) + " | ";
    std::string rule = "| " + Rule(-30) + " | " + Rule(10) + " | " + Rule(10) +
                       " | " + Rule(-10) + " | ";
    auto add = [&](bool on, const char* name, int width) {
      if (!on) return;
      names += Pad(name, width) + " | ";
      rule += Rule(width) + " | ";
    };
    add(packing_, "packing", -7);
    add(act_, "act", -3);
    add(head_, "head", -4);
    names += Pad("threads", 7) + " | " + Pad("test", 15) + " | " +
             Pad("t/s", 20) + " |\n";
    rule += Rule(7) + " | " + Rule(15) + " | " + Rule(20) + " |\n";
    return names + rule;
  }

  std::string Row(const BenchModel& m, const BenchResult& r) const {
    char ts[64];
    std::snprintf(ts, sizeof ts, "%.2f ± %.2f", r.AvgTs(), r.StdDevTs());
    std::string row = "| " + Pad(m.name, -30) + " | " +
                      Pad(BenchSize(m.file_bytes), 10) + " | " +
                      Pad(BenchParams(m.params), 10) + " | " + Pad("CPU", -10) +
                      " | ";
    if (packing_) row += Pad(m.packing, -7) + " | ";
    if (act_) row += Pad(m.act, -3) + " | ";
    if (head_) row += Pad(m.head, -4) + " | ";
    // "±" is two bytes: one more column of padding, as llama-bench pads.
    row += Pad(std::to_string(r.threads), 7) + " | " + Pad(r.test.Name(), 15) +
           " | " + Pad(ts, 21) + " |\n";
    return row;
  }

  static std::string Footer() {
    return std::string("\nbuild: ") + kBuildDescribe + " (ternary " +
           TERNARY_VERSION_STRING + "), simd " +
           simd::TargetName(simd::ActiveTarget()) + "\n";
  }

 private:
  // Right-aligned in `width` columns, or left-aligned for a negative width;
  // never truncated.
  static std::string Pad(const std::string& s, int width) {
    const size_t w = size_t(width < 0 ? -width : width);
    if (s.size() >= w) return s;
    const std::string fill(w - s.size(), ' ');
    return width < 0 ? s + fill : fill + s;
  }
  static std::string Rule(int width) {
    const size_t w = size_t(width < 0 ? -width : width);
    return std::string(w - 1, '-') + (width < 0 ? "-" : ":");
  }

  bool packing_, act_, head_;
};

// One field of a record: its value as text, and whether it is a string
// (quoted in JSON) or a number, bool or list.
struct BenchField {
  std::string key;
  std::string value;
  bool is_string = false;
};

// The fields of a record, in llama-bench's order (its names and meaning
// where ternary has the same thing), then ternary's own.
inline std::vector<BenchField> BenchRecord(const BenchOptions& o,
                                           const BenchModel& m,
                                           const BenchResult& r) {
  const simd::CpuInfo cpu = simd::DetectCpu();
  auto str = [](std::string key, std::string v) {
    return BenchField{std::move(key), std::move(v), true};
  };
  auto num = [](std::string key, uint64_t x) {
    return BenchField{std::move(key), std::to_string(x), false};
  };
  auto raw = [](std::string key, std::string v) {
    return BenchField{std::move(key), std::move(v), false};
  };
  auto list = [](const std::vector<double>& v, const char* format) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      s += (i ? ", " : "") + JsonNumber(v[i], format);
    }
    return s + "]";
  };
  const std::vector<double> ns = r.SamplesNs();
  return {
      str("build_commit", kBuildDescribe),
      num("build_number", 0),
      str("cpu_info", cpu.brand.empty() ? cpu.vendor : cpu.brand),
      str("gpu_info", ""),
      str("backends", "CPU"),
      str("model_filename", m.name),
      str("model_type", m.type),
      num("model_size", m.file_bytes),
      num("model_n_params", m.params),
      num("n_batch", kBatchRows),
      num("n_ubatch", kBatchRows),
      num("n_threads", r.threads),
      str("type_k", "f32"),
      str("type_v", "f32"),
      num("n_gpu_layers", 0),
      raw("flash_attn", "false"),
      raw("use_mmap", o.model.mmap ? "true" : "false"),
      raw("embeddings", "false"),
      num("n_prompt", uint64_t(r.test.n_prompt)),
      num("n_gen", uint64_t(r.test.n_gen)),
      num("n_depth", 0),
      str("test_time", r.test_time),
      raw("avg_ns", JsonNumber(Mean(ns), "%.0f")),
      raw("stddev_ns", JsonNumber(StdDev(ns), "%.0f")),
      raw("avg_ts", JsonNumber(r.AvgTs(), "%.6f")),
      raw("stddev_ts", JsonNumber(r.StdDevTs(), "%.6f")),
      raw("samples_ns", list(ns, "%.0f")),
      raw("samples_ts", list(r.SamplesTs(), "%.6f")),
      str("packing", m.packing),
      str("act", m.act),
      str("head", m.head),
      str("simd", simd::TargetName(simd::ActiveTarget())),
      num("weight_bytes", m.weight_bytes),
  };
}

// -o json: the records of an array, two-space indented as llama-bench
// writes them; -o jsonl: one record a line.
inline std::string BenchJsonRecord(const std::vector<BenchField>& fields,
                                   bool one_line) {
  std::string out = one_line ? "{" : "  {\n";
  for (size_t i = 0; i < fields.size(); ++i) {
    const BenchField& f = fields[i];
    const std::string kv = JsonString(f.key) + ": " +
                           (f.is_string ? JsonString(f.value) : f.value);
    if (one_line) {
      out += (i ? ", " : "") + kv;
    } else {
      out += "    " + kv + (i + 1 < fields.size() ? ",\n" : "\n");
    }
  }
  return out + (one_line ? "}\n" : "  }");
}

// -o csv: llama-bench's columns (no sample lists), every value quoted.
inline std::string BenchCsvLine(const std::vector<BenchField>& fields,
                                bool header) {
  std::string out;
  for (const BenchField& f : fields) {
    if (f.key == "samples_ns" || f.key == "samples_ts") continue;
    std::string q = out.empty() ? "\"" : ",\"";
    for (const char c : header ? f.key : f.value) {
      q += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    out += q + "\"";
  }
  return out + "\n";
}

// --json (the older format): one object per thread count with the setup,
// pp{P}_tps / tg{N}_tps medians and every run.
inline std::string BenchLegacyJson(const BenchOptions& o, const BenchModel& m,
                                   const std::vector<BenchResult>& results) {
  const simd::CpuInfo cpu = simd::DetectCpu();
  std::string out =
      "{\"model\": " + JsonString(m.name) +
      ", \"packing\": " + JsonString(m.packing) +
      ", \"act\": " + JsonString(m.act) +
      ", \"threads\": " + std::to_string(results.front().threads) +
      ", \"reps\": " + std::to_string(o.reps) +
      ", \"params\": " + std::to_string(m.params) +
      ", \"weight_bytes\": " + std::to_string(m.weight_bytes) +
      ", \"head\": " + JsonString(m.head) +
      ", \"simd\": " + JsonString(simd::TargetName(simd::ActiveTarget())) +
      ", \"cpu\": " + JsonString(cpu.brand.empty() ? cpu.vendor : cpu.brand) +
      ", \"cpu_family\": " + std::to_string(cpu.family) +
      ", \"cpu_model\": " + std::to_string(cpu.model) +
      ", \"cpu_microarchitecture\": " + JsonString(cpu.microarchitecture);
  for (const BenchResult& r : results) {
    const std::vector<double> v = r.SamplesTs();
    const std::string key = r.test.Name();
    out += ", \"" + key + "_tps\": " + JsonNumber(Median(v), "%.3f");
    out += ", \"" + key + "_tps_runs\": [";
    for (size_t i = 0; i < v.size(); ++i) {
      out += (i ? ", " : "") + JsonNumber(v[i], "%.3f");
    }
    out += "]";
  }
  return out + "}\n";
}

inline int RunBench(Args& args) {
  const BenchOptions o = BenchOptions::Parse(args);
  const BenchTable table(o);
  bool first_record = true;
  bool ok = true;  // stdout still writable (false: a closed pipe)
  auto emit = [&ok](const std::string& s) {
    ok = ok && WriteStdout(s, /*flush=*/true);
  };
  if (o.output == "md" && !o.json) emit(table.Header());
  // llama-bench's order: each thread count, then each test.
  for (const int64_t threads : o.threads) {
    BenchModel m;
    const std::unique_ptr<Engine> engine = OpenBenchEngine(o, threads, m);
    PrintBenchBanner(*engine, m);
    std::vector<BenchResult> results;
    for (const BenchTest& test : o.tests) {
      results.push_back(MeasureBenchTest(*engine, test, o.reps));
      const BenchResult& r = results.back();
      if (o.json) continue;
      if (o.output == "md") {
        emit(table.Row(m, r));
      } else if (o.output == "csv") {
        const std::vector<BenchField> fields = BenchRecord(o, m, r);
        if (first_record) emit(BenchCsvLine(fields, /*header=*/true));
        emit(BenchCsvLine(fields, /*header=*/false));
      } else if (o.output == "jsonl") {
        emit(BenchJsonRecord(BenchRecord(o, m, r), /*one_line=*/true));
      } else {
        emit((first_record ? "[\n" : ",\n") +
             BenchJsonRecord(BenchRecord(o, m, r), /*one_line=*/false));
      }
      first_record = false;
      if (!ok) return 1;
    }
    if (o.json) emit(BenchLegacyJson(o, m, results));
    if (!ok) return 1;
  }
  if (o.output == "md" && !o.json) emit(BenchTable::Footer());
  if (o.output == "json" && !o.json) emit("\n]\n");
  return ok ? 0 : 1;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_BENCH_H_
