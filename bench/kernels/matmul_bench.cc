// Matmul kernels: format × activation width × 2B4T shape × tokens × target.
//
//   build/bench/ternary_kernels_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true --benchmark_filter='a8/.*/1/'
//
// Weights are cold: each iteration uses the next of enough copies of the
// matrix to overflow the last-level cache (as the peers' figures are
// measured), so GEMV time includes streaming the packed weights from DRAM.
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ternary/kernels/matmul.h"
#include "ternary/quant/i2s.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"

namespace ternary {
namespace {

const size_t kColdBytes =
    std::getenv("TERNARY_BENCH_HOT") ? 0 : size_t{256} << 20;

template <class F>
void BM_MatMul(benchmark::State& state, int64_t target, int act_bits) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const size_t cols = static_cast<size_t>(state.range(1));
  const size_t n_tokens = static_cast<size_t>(state.range(2));
  simd::ScopedMaxTarget cap(target);
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> tern(-1, 1);
  std::vector<int8_t> w(rows * cols);
  for (auto& v : w) v = static_cast<int8_t>(tern(rng));
  const auto one = PackedMatrix<F>::Pack(w, rows, cols, 0.5f);
  const size_t copies =
      n_tokens == 1 ? std::max<size_t>(1, kColdBytes / one.bytes().size()) : 1;
  std::vector<PackedMatrix<F>> mats;
  for (size_t i = 0; i < copies; ++i)
    mats.push_back(PackedMatrix<F>::Pack(w, rows, cols, 0.5f));

  const int hi = act_bits == 8 ? 127 : 7;
  std::uniform_int_distribution<int> act(-hi, hi);
  QuantizedActs x;
  x.Resize(n_tokens, cols, hi + 1);
  for (size_t t = 0; t < n_tokens; ++t) {
    for (size_t i = 0; i < cols; ++i)
      x.row(t)[i] = static_cast<int8_t>(act(rng));
    x.SetScale(t, {1.0f, 0});
  }
  x.RecomputeSums();
  std::vector<float> y(rows * n_tokens);
  KernelScratch scratch;
  size_t i = 0;
  for (auto _ : state) {
    MatMul(mats[i], x, y.data(), rows, scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    if (++i == copies) i = 0;
  }
  const auto iters = static_cast<int64_t>(state.iterations());
  state.SetItemsProcessed(iters * static_cast<int64_t>(rows * cols * n_tokens));
  state.SetBytesProcessed(iters * static_cast<int64_t>(one.bytes().size()));
  state.counters["GMAC/s"] =
      benchmark::Counter(static_cast<double>(rows * cols * n_tokens) * 1e-9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

template <class F>
void Register(const char* format) {
  for (int64_t target : simd::RunnableTargets()) {
    if (target == simd::kFallbackTarget) continue;  // scalar: minutes per run
    for (int bits : {8, 4}) {
      const std::string name = std::string("MatMul/") + format + "/a" +
                               std::to_string(bits) + "/" +
                               hwy::TargetName(target);
      benchmark::RegisterBenchmark(name.c_str(), BM_MatMul<F>, target, bits)
          ->ArgNames({"M", "K", "N"})
          ->ArgsProduct({{2560}, {2560}, {1, 128}})
          ->ArgsProduct({{640}, {2560}, {1, 128}})
          ->ArgsProduct({{6912}, {2560}, {1, 128}})
          ->ArgsProduct({{2560}, {6912}, {1, 128}})
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace
}  // namespace ternary

int main(int argc, char** argv) {
  ternary::Register<ternary::quant::I2S>("i2s");
  ternary::Register<ternary::quant::TL1>("tl1");
  ternary::Register<ternary::quant::TL2>("tl2");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
