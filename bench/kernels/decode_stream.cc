// Decode's two weight streams, as a token reads them: every I2_S projection
// of a 2B4T-shaped model (30 layers of q, k, v, o, gate, up, down; 496 MB
// of distinct bytes, used in allocation order) and the 2B4T Q6_K LM head
// (128256 x 2560, 269 MB), each GEMV'd once per pass with one token.
// Prints the median and best GB/s of the packed bytes over the passes.
//
//   build/bench/ternary_decode_stream [cold|hot]
//
// cold: the whole sets, streamed from DRAM (compare bench/peers/membw.c);
// hot: 16 MB of each, cache-resident, which shows the kernels' own speed.
// Single thread, the best SIMD target (TERNARY_SIMD to cap it).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ternary/kernels/dense.h"
#include "ternary/kernels/matmul.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/quant/i2s.h"

namespace ternary {
namespace {

std::vector<uint8_t> RandomBytes(size_t n, std::mt19937& rng) {
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

QuantizedActs RandomActs(size_t cols, std::mt19937& rng) {
  QuantizedActs x;
  x.Resize(1, cols, 128);
  for (size_t i = 0; i < cols; ++i)
    x.row(0)[i] = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  x.SetScale(0, {1.0f, 0});
  x.RecomputeSums();
  return x;
}

template <class Fn>
void Report(const char* what, double bytes, int passes, const Fn& pass) {
  std::vector<double> s;
  for (int p = 0; p < passes; ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    pass();
    s.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count());
  }
  std::sort(s.begin(), s.end());
  std::printf("%-28s %7.1f MB  median %6.1f GB/s  best %6.1f GB/s\n", what,
              bytes / 1e6, bytes / s[s.size() / 2] / 1e9, bytes / s[0] / 1e9);
}

int Main(bool hot) {
  std::mt19937 rng(1);
  // I2_S: random bytes with every 2-bit code in {0, 1} (valid codes).
  struct Shape {
    size_t rows, cols;
  };
  const Shape layer[] = {{2560, 2560}, {640, 2560},  {640, 2560}, {2560, 2560},
                         {6912, 2560}, {6912, 2560}, {2560, 6912}};
  const int layers = hot ? 1 : 30;
  std::vector<PackedMatrix<quant::I2S>> mats;
  size_t i2s_bytes = 0;
  for (int l = 0; l < layers; ++l) {
    for (const Shape s : layer) {
      auto b = RandomBytes(quant::I2S::PackedBytes(s.rows, s.cols), rng);
      for (auto& x : b) x &= 0x55;
      mats.push_back(PackedMatrix<quant::I2S>::Copy(b, s.rows, s.cols, 0.5f));
      i2s_bytes += b.size();
    }
  }
  const QuantizedActs x2560 = RandomActs(2560, rng);
  const QuantizedActs x6912 = RandomActs(6912, rng);
  std::vector<float> y(128256);
  KernelScratch scratch;
  Report(hot ? "I2_S, one layer (hot)" : "I2_S, 30 layers (cold)",
         static_cast<double>(i2s_bytes), hot ? 400 : 12, [&] {
           for (const auto& m : mats) {
             MatMul(m, m.cols() == 2560 ? x2560 : x6912, y.data(), m.rows(),
                    scratch);
           }
         });
  // Q6_K: random blocks with fp16 d = 1.0.
  using B = quant::BlockQ6_K;
  const size_t rows = hot ? 8000 : 128256, cols = 2560;
  auto b = RandomBytes(rows * cols / B::kElements * B::kBytes, rng);
  for (size_t k = 0; k < b.size(); k += B::kBytes) {
    b[k + 208] = 0x00;
    b[k + 209] = 0x3C;
  }
  const auto head = BlockMatrix<B>::FromBytes(b, rows, cols);
  Report(hot ? "Q6_K head, 8000 rows (hot)" : "Q6_K head (cold)",
         static_cast<double>(b.size()), hot ? 400 : 12,
         [&] { BlockMatMul(head, x2560, y.data(), rows); });
  return 0;
}

}  // namespace
}  // namespace ternary

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "cold";
  if (argc > 2 || (mode != "cold" && mode != "hot")) {
    std::fprintf(stderr, "usage: ternary_decode_stream [cold|hot]\n");
    return 2;
  }
  return ternary::Main(mode == "hot");
}
