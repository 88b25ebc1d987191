// Uses the installed headers: packs a matrix and multiplies it.
#include <cstdio>
#include <vector>

#include "ternary/ternary.h"  // the umbrella header must work installed

int main() {
  const std::vector<int8_t> w = {1, 0, -1, 1, -1, -1, 0, 1};  // 2 x 4
  const auto m =
      ternary::PackedMatrix<ternary::quant::I2S>::Pack(w, 2, 4, 1.0f);
  ternary::QuantizedActs x;
  x.Resize(1, 4);
  for (int i = 0; i < 4; ++i)
    x.row(0)[i] = static_cast<int8_t>(i + 1);  // 1 2 3 4
  x.RecomputeSums();
  std::vector<int32_t> s(2);
  ternary::MatMulInt32(m, x, s.data(), 2);
  // 1 - 3 + 4 = 2 and -1 - 2 + 4 = 1
  if (s[0] != 2 || s[1] != 1) {
    std::fprintf(stderr, "consumer: wrong result %d %d\n", s[0], s[1]);
    return 1;
  }
  std::puts("consumer: ok");
  return 0;
}
