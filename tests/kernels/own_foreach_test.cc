// A translation unit that runs its own hwy/foreach_target.h pass before
// including ternary (kernels/dispatch.h then uses that pass): its own
// per-target code and ternary's kernels both work, on every target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/own_ops-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
// clang-format off
#include <hwy/highway.h>
#include "kernels/own_ops-inl.h"
// clang-format on

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "ternary/kernels/matmul.h"
#include "ternary/quant/i2s.h"
#include "test_util.h"

#if HWY_ONCE
namespace own {
HWY_EXPORT(TripleAndReport);
}  // namespace own

namespace ternary {
namespace {

TEST_CASE("a program's own foreach_target pass compiles ternary's kernels") {
  const std::vector<float> x = {1.5f, -2.0f, 0.25f, 3.0f, 7.0f, -1.0f,
                                0.5f, 2.0f,  -4.0f, 9.0f, 1.0f};
  std::vector<float> y(x.size());
  const int64_t target =
      HWY_DYNAMIC_DISPATCH(own::TripleAndReport)(x.data(), x.size(), y.data());
  CHECK(target != 0);
  for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == 3.0f * x[i]);

  // ternary's own dispatch still works in this translation unit.
  const size_t rows = 32, cols = 256;
  std::vector<int8_t> w(rows * cols);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(i % 3) - 1;
  const auto m = PackedMatrix<quant::I2S>::Pack(w, rows, cols, 1.0f);
  QuantizedActs acts;
  acts.Resize(1, cols);
  for (size_t i = 0; i < cols; ++i) acts.row(0)[i] = static_cast<int8_t>(i % 7);
  acts.RecomputeSums();
  std::vector<int32_t> want(rows), got(rows);
  MatMulInt32<quant::I2S, simd::Reference>(m, acts, want.data(), rows);
  test::ForEachTarget([&](int64_t) {
    MatMulInt32<quant::I2S>(m, acts, got.data(), rows);
    CHECK(got == want);
  });
}

}  // namespace
}  // namespace ternary
#endif  // HWY_ONCE
