// Every matmul kernel (format × activation width × target) against the
// scalar reference: exhaustive on small shapes, random on 2B4T shapes.
#include "ternary/kernels/matmul.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

#include "ternary/quant/i2s.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "test_util.h"

namespace ternary {
namespace {

// Fills x with codes in [lo, hi] and the matching Σq.
void FillActs(QuantizedActs& x, size_t n_tokens, size_t cols, int lo, int hi,
              std::mt19937& rng) {
  x.Resize(n_tokens, cols, std::max(-lo, hi));
  for (size_t t = 0; t < n_tokens; ++t) {
    const auto v = test::RandomInt8(cols, lo, hi, rng);
    std::copy(v.begin(), v.end(), x.row(t));
    x.SetScale(t, {0.5f + static_cast<float>(t), 0});
  }
  x.RecomputeSums();
}

std::vector<int32_t> RefSums(const std::vector<int8_t>& w, size_t rows,
                             size_t cols, const QuantizedActs& x) {
  std::vector<int32_t> s(x.n_tokens() * rows);
  for (size_t t = 0; t < x.n_tokens(); ++t)
    for (size_t o = 0; o < rows; ++o)
      s[t * rows + o] = ref::TernaryDot(w.data() + o * cols, x.row(t), cols);
  return s;
}

template <class F>
void CheckShape(size_t rows, size_t cols, size_t n_tokens, int lo, int hi,
                std::mt19937& rng) {
  INFO("rows " << rows << " cols " << cols << " tokens " << n_tokens);
  const auto w = test::RandomTernary(rows * cols, rng);
  const auto m = PackedMatrix<F>::Pack(w, rows, cols, 0.75f);
  QuantizedActs x;
  FillActs(x, n_tokens, cols, lo, hi, rng);
  const auto want = RefSums(w, rows, cols, x);
  test::ForEachTarget([&](int64_t) {
    std::vector<int32_t> got(want.size(), -7);
    MatMulInt32<F>(m, x, got.data(), rows);
    CHECK(got == want);
    std::vector<float> y(want.size());
    MatMul<F>(m, x, y.data(), rows);
    for (size_t t = 0; t < n_tokens; ++t)
      for (size_t o = 0; o < rows; ++o)
        REQUIRE(y[t * rows + o] ==
                Rescale(want[t * rows + o], x.scale(t), 0.75f));
  });
  std::vector<int32_t> ref(want.size());
  MatMulInt32<F, simd::Reference>(m, x, ref.data(), rows);
  CHECK(ref == want);
}

TEST_CASE_TEMPLATE("matmul equals the scalar reference on small shapes", F,
                   quant::I2S, quant::TL1, quant::TL2) {
  std::mt19937 rng(1234);
  for (size_t cols : {1, 31, 127, 128, 129, 255, 256, 384, 385, 640}) {
    for (size_t rows : {1, 2, 3, 4, 5, 7, 16, 17}) {
      for (size_t n : {1, 2, 4, 5, 9, 17})
        CheckShape<F>(rows, cols, n, -128, 127, rng);
    }
  }
}

TEST_CASE_TEMPLATE("matmul with 4-bit activations", F, quant::I2S, quant::TL1,
                   quant::TL2) {
  std::mt19937 rng(99);
  for (size_t cols : {64, 384, 1000}) CheckShape<F>(37, cols, 3, -8, 7, rng);
  // The 4-bit GEMM paths (I2S on VNNI: planes 1 and 3 prepared as 4·q):
  // ragged rows, tails of half a vector, 1 to 17 tokens, and ±8.
  for (size_t cols : {128, 129, 640, 2560}) {
    for (size_t n : {1, 2, 5, 6, 17}) CheckShape<F>(9, cols, n, -8, 8, rng);
  }
}

TEST_CASE_TEMPLATE("matmul with 4-bit activations at their extremes", F,
                   quant::I2S, quant::TL1, quant::TL2) {
  // Every weight code against −8 and +8 (the bound the kernels take).
  const size_t rows = 6, cols = 6912;
  for (int sign : {1, 0, -1}) {
    std::vector<int8_t> w(rows * cols, static_cast<int8_t>(sign));
    const auto m = PackedMatrix<F>::Pack(w, rows, cols, 1.0f);
    QuantizedActs x;
    x.Resize(3, cols, 8);
    for (size_t i = 0; i < cols; ++i) {
      x.row(0)[i] = -8;
      x.row(1)[i] = 8;
      x.row(2)[i] = static_cast<int8_t>(i % 17 - 8);
    }
    x.RecomputeSums();
    const auto want = RefSums(w, rows, cols, x);
    test::ForEachTarget([&](int64_t) {
      std::vector<int32_t> s(want.size());
      MatMulInt32<F>(m, x, s.data(), rows);
      CHECK(s == want);
      CHECK(s[0] == sign * -8 * static_cast<int32_t>(cols));
    });
  }
}

TEST_CASE_TEMPLATE("matmul at the int32 extremes", F, quant::I2S, quant::TL1,
                   quant::TL2) {
  // All weights +1 against all −128, and −1 against +127: the largest |S|.
  for (int sign : {1, -1}) {
    const size_t rows = 8, cols = 6912;
    std::vector<int8_t> w(rows * cols, static_cast<int8_t>(sign));
    const auto m = PackedMatrix<F>::Pack(w, rows, cols, 1.0f);
    QuantizedActs x;
    x.Resize(2, cols);
    for (size_t i = 0; i < cols; ++i) {
      x.row(0)[i] = -128;
      x.row(1)[i] = 127;
    }
    x.RecomputeSums();
    test::ForEachTarget([&](int64_t) {
      std::vector<int32_t> s(2 * rows);
      MatMulInt32<F>(m, x, s.data(), rows);
      for (size_t o = 0; o < rows; ++o) {
        CHECK(s[o] == sign * -128 * static_cast<int32_t>(cols));
        CHECK(s[rows + o] == sign * 127 * static_cast<int32_t>(cols));
      }
    });
  }
}

TEST_CASE_TEMPLATE("matmul on the 2B4T shapes", F, quant::I2S, quant::TL1,
                   quant::TL2) {
  std::mt19937 rng(2025);
  const size_t shapes[][2] = {
      {2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}};
  for (const auto& shape : shapes) {
    for (size_t n : {1, 7})
      CheckShape<F>(shape[0], shape[1], n, -127, 127, rng);
  }
}

TEST_CASE_TEMPLATE("matmul splits rows across threads", F, quant::I2S,
                   quant::TL1, quant::TL2) {
  std::mt19937 rng(7);
  const size_t rows = 1000, cols = 768;
  const auto w = test::RandomTernary(rows * cols, rng);
  const auto m = PackedMatrix<F>::Pack(w, rows, cols, 1.0f);
  QuantizedActs x;
  FillActs(x, 5, cols, -127, 127, rng);
  const auto want = RefSums(w, rows, cols, x);
  ThreadPool pool(3);
  std::vector<int32_t> got(want.size());
  MatMulInt32<F>(m, x, got.data(), rows, &pool);
  CHECK(got == want);
}

TEST_CASE_TEMPLATE("thread tasks hold whole row tiles", F, quant::I2S,
                   quant::TL1, quant::TL2) {
  const size_t tile = F::kRowTile;
  for (size_t rows : {17, 640, 1000, 2560, 6912}) {
    for (size_t threads : {2, 3, 4, 16}) {
      CAPTURE(rows);
      CAPTURE(threads);
      const size_t per = detail::RowsPerTask(rows, threads, tile);
      CHECK(per % tile == 0);  // a tile is never computed by two tasks
      CHECK(per >= 16);        // enough work to amortise a task claim
      // As many tasks as threads·4 where the tiles allow it.
      const size_t tiles =
          DivCeil(rows, RoundUp(std::max<size_t>(16, tile), tile));
      CHECK(DivCeil(rows, per) >= std::min(tiles, threads * 4));
    }
  }
  CHECK(detail::RowsPerTask(640, 1, tile) == 640);
  if constexpr (std::is_same_v<F, quant::TL1>) {
    // 2B4T's k/v projections on 2 threads: ten one-chunk tasks, not tasks
    // that split the 64-row chunks.
    CHECK(detail::RowsPerTask(640, 2, tile) == 64);
  }
}

TEST_CASE("matmul rejects mismatched shapes") {
  const std::vector<int8_t> w(4 * 128, 1);
  const auto m = PackedMatrix<quant::I2S>::Pack(w, 4, 128, 1.0f);
  QuantizedActs x;
  x.Resize(1, 127);
  std::vector<float> y(4);
  CHECK_THROWS_AS(MatMul(m, x, y.data(), 4), ShapeError);
  x.Resize(1, 128);
  CHECK_THROWS_AS(MatMul(m, x, y.data(), 3), ShapeError);
}

}  // namespace
}  // namespace ternary
