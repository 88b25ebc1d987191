// One bitnet-b1.58-2B-4T decoder layer (RMSNorm, q/k/v/o, RoPE, GQA over
// the KV cache, sub-norms, relu² FFN) on random weights: decode one token
// at a given context length, and prefill a prompt. A model of one layer
// with the 2B4T widths and a tiny vocabulary, run without logits, is
// exactly that layer (the embedding lookup is a row copy).
//
//   build/bench/ternary_layer_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
//   TERNARY_BENCH_THREADS=2 build/bench/ternary_layer_bench
//
// A full decode token of 2B4T is 30 of these plus the LM head, which
// BM_Head measures on its own (128256 × 2560, streamed from DRAM: 657 MB
// as bf16, 330 MB as Q8 rows).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ternary/ternary.h"

namespace ternary {
namespace {

constexpr Dims kOneLayer{.hidden = kBitNet2B4T.hidden,
                         .ffn = kBitNet2B4T.ffn,
                         .heads = kBitNet2B4T.heads,
                         .kv_heads = kBitNet2B4T.kv_heads,
                         .head_dim = kBitNet2B4T.head_dim,
                         .layers = 1,
                         .vocab = 256};

template <class P>
using LayerModel = Model<kOneLayer, P>;

size_t Threads() {
  const char* t = std::getenv("TERNARY_BENCH_THREADS");
  return t ? static_cast<size_t>(std::max(1, std::atoi(t))) : 1;
}

template <class P>
const LayerModel<P>& Get() {
  static const LayerModel<P> m = [] {
    ModelConfig c;
    c.dims = kOneLayer;
    c.max_position_embeddings = 4096;
    RandomWeights w(c, 1234);
    return LayerModel<P>::FromSource(w, "random 2b4t layer");
  }();
  return m;
}

std::vector<int32_t> Tokens(size_t n) {
  std::mt19937 rng(1234);
  std::vector<int32_t> t(n);
  for (int32_t& id : t) id = static_cast<int32_t>(rng() % kOneLayer.vocab);
  return t;
}

// One decode step after `context` tokens already in the KV cache.
template <class P>
void BM_Decode(benchmark::State& st) {
  const auto& m = Get<P>();
  ThreadPool pool(Threads());
  const size_t context = static_cast<size_t>(st.range(0));
  auto s = m.NewState();
  const std::vector<int32_t> prompt = Tokens(context), next = Tokens(1);
  for (auto _ : st) {
    st.PauseTiming();  // refill the cache to `context` tokens
    s.Reset();
    m.Forward(prompt, s, Logits::kNone, &pool);
    st.ResumeTiming();
    m.Forward(next, s, Logits::kNone, &pool);
  }
  const double weights =
      2.0 * double(kOneLayer.hidden) *
      (2.0 * kOneLayer.hidden + 2.0 * kOneLayer.kv_heads * kOneLayer.head_dim +
       3.0 * kOneLayer.ffn) /
      8.0;  // packed bytes at 2 bits per weight
  st.counters["weight_GB/s"] = benchmark::Counter(
      weights, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::to_string(pool.NumThreads()) + " threads");
}

// A prompt of range(0) tokens through the layer (GEMM kernels).
template <class P>
void BM_Prefill(benchmark::State& st) {
  const auto& m = Get<P>();
  ThreadPool pool(Threads());
  const std::vector<int32_t> prompt = Tokens(static_cast<size_t>(st.range(0)));
  auto s = m.NewState();
  for (auto _ : st) {
    s.Reset();
    m.Forward(prompt, s, Logits::kNone, &pool);
  }
  st.counters["tokens/s"] = benchmark::Counter(
      double(prompt.size()), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::to_string(pool.NumThreads()) + " threads");
}

// The LM head of 2B4T for one token: every row of the table once.
template <nn::HeadPrecision kPrecision>
void BM_Head(benchmark::State& st) {
  constexpr size_t kVocab = kBitNet2B4T.vocab, kDim = kBitNet2B4T.hidden;
  static const nn::Embedding<> head = [] {
    AlignedBuffer<float> table(kVocab * kDim);
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    for (float& v : table.span()) v = normal(rng);
    return nn::Embedding<>(std::move(table), kVocab, kDim, kPrecision);
  }();
  ThreadPool pool(Threads());
  std::vector<float> h(kDim, 0.5f), logits(kVocab);
  for (auto _ : st) {
    head.Project(h.data(), 1, kDim, logits.data(), kVocab, &pool);
    benchmark::DoNotOptimize(logits.data());
  }
  st.counters["weight_GB/s"] = benchmark::Counter(
      double(head.bytes()), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::to_string(pool.NumThreads()) + " threads");
}

using I2sA8 = Policy<quant::I2S, quant::A8>;
using Tl2A8 = Policy<quant::TL2, quant::A8>;
using I2sA4 = Policy<quant::I2S, quant::A4>;

BENCHMARK(BM_Decode<I2sA8>)
    ->Arg(1)
    ->Arg(128)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Decode<Tl2A8>)->Arg(128)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Decode<I2sA4>)->Arg(128)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Prefill<I2sA8>)
    ->Arg(16)
    ->Arg(128)
    ->Arg(512)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Prefill<I2sA4>)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Head<nn::HeadPrecision::kBF16>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Head<nn::HeadPrecision::kQ8>)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ternary

BENCHMARK_MAIN();
