// One kernel on its own: pack a ternary matrix as TL2, quantize activations
// to int8, multiply. Only the kernel headers: no JSON or PCRE2. Build it
// without CMake, from the repository root:
//
// clang-format off
//   g++ -std=c++20 -O2 -DHWY_WANT_AVX3_DL -Iinclude examples/readme/kernel.cc -lhwy -pthread -o kernel
// clang-format on
#include <cstdint>
#include <cstdio>
#include <vector>

#include "ternary/kernels/matmul.h"
#include "ternary/quant/tl2.h"

int main() {
  const size_t rows = 4, cols = 256, tokens = 2;
  std::vector<int8_t> weights(rows * cols);  // values in {-1, 0, +1}
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = int8_t(i % 3) - 1;
  const float alpha = 0.5f;  // the matrix's scale: W = alpha * weights

  const auto w = ternary::PackedMatrix<ternary::quant::TL2>::Pack(weights, rows,
                                                                  cols, alpha);
  std::vector<float> input(tokens * cols, 1.0f);  // token-major
  ternary::QuantizedActs x;
  ternary::QuantizeActs<ternary::quant::Int8AbsMax>(input.data(), tokens, cols,
                                                    cols, x);
  std::vector<float> output(tokens * rows);
  ternary::MatMul(w, x, output.data(), rows);  // output[t * rows + o]

  // Each output is alpha * (sum of the row): row o runs the cycle -1, 0, +1
  // from index 256 * o, and 256 = 3 * 85 + 1 leaves one value over, so both
  // lines print: -0.5 0 0.5 -0.5
  for (size_t t = 0; t < tokens; ++t) {
    for (size_t o = 0; o < rows; ++o) std::printf("%g ", output[t * rows + o]);
    std::printf("\n");
  }
}
