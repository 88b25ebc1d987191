// Dense (LM head) kernels against scalar references on every target.
#include "ternary/kernels/dense.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ternary/kernels/matmul.h"
#include "test_util.h"

namespace ternary {
namespace {

// Uniform in [-2, 2) from the generator's bits: std::normal_distribution
// computes logs in long double, software quad precision on aarch64 (minutes
// for 1M values under qemu).
std::vector<float> RandomFloats(size_t n, std::mt19937& rng) {
  std::vector<float> v(n);
  for (auto& x : v) {
    x = static_cast<float>(static_cast<int64_t>(rng()) - (int64_t{1} << 31)) *
        0x1p-30f;
  }
  return v;
}

TEST_CASE_TEMPLATE("DenseMatMul matches a double-precision reference", T, float,
                   hwy::float16_t, hwy::bfloat16_t) {
  std::mt19937 rng(11);
  for (size_t cols : {1, 15, 16, 33, 384, 1000}) {
    for (size_t rows : {1, 3, 4, 9}) {
      for (size_t n : {1, 3, 4, 6}) {
        INFO("rows " << rows << " cols " << cols << " tokens " << n);
        const auto w = DenseMatrix<T>::FromFloats(
            RandomFloats(rows * cols, rng), rows, cols);
        const auto x = RandomFloats(n * cols, rng);
        std::vector<double> want(n * rows);
        std::vector<double> bound(n * rows);
        for (size_t t = 0; t < n; ++t)
          for (size_t o = 0; o < rows; ++o)
            for (size_t i = 0; i < cols; ++i) {
              const double p = double{ToFloat(w.row(o)[i])} * x[t * cols + i];
              want[t * rows + o] += p;
              bound[t * rows + o] += std::fabs(p);
            }
        test::ForEachTarget([&](int64_t) {
          std::vector<float> y(n * rows);
          DenseMatMul(w, x.data(), cols, n, y.data(), rows);
          for (size_t k = 0; k < y.size(); ++k) {
            // float32 summation in any order: |error| ≤ cols·ε·Σ|p|.
            REQUIRE(std::fabs(y[k] - want[k]) <=
                    1e-6 * cols * bound[k] + 1e-30);
          }
        });
      }
    }
  }
}

// The batched decode relies on this: a token's outputs do not depend on
// which other tokens share the call (tiles and chunks change the loop
// order, never one output's arithmetic). 16384 columns make the chunk four
// tokens, so nine tokens run as 4 + 4 + 1.
TEST_CASE_TEMPLATE(
    "DenseMatMul: a token alone equals the same token in a batch", T, float,
    hwy::float16_t, hwy::bfloat16_t) {
  std::mt19937 rng(12);
  for (size_t cols : {1000, 16384}) {
    const size_t rows = 7, n = 9;
    INFO("cols " << cols);
    const auto w =
        DenseMatrix<T>::FromFloats(RandomFloats(rows * cols, rng), rows, cols);
    const auto x = RandomFloats(n * cols, rng);
    test::ForEachTarget([&](int64_t) {
      std::vector<float> batch(n * rows), alone(rows);
      DenseMatMul(w, x.data(), cols, n, batch.data(), rows);
      for (size_t t = 0; t < n; ++t) {
        DenseMatMul(w, x.data() + t * cols, cols, 1, alone.data(), rows);
        for (size_t o = 0; o < rows; ++o) {
          REQUIRE(batch[t * rows + o] == alone[o]);
        }
      }
    });
  }
}

TEST_CASE("Q8MatMul equals the scalar reference exactly on every target") {
  std::mt19937 rng(12);
  for (size_t cols : {1, 63, 64, 65, 384, 2560}) {
    for (size_t rows : {1, 4, 7}) {
      const auto wf = RandomFloats(rows * cols, rng);
      const auto w =
          Q8RowMatrix::Quantize(rows, cols, [&](size_t r, float* out) {
            std::copy_n(wf.data() + r * cols, cols, out);
          });
      for (size_t r = 0; r < rows; ++r)
        for (size_t i = 0; i < cols; ++i)
          REQUIRE(std::fabs(w.row(r)[i] * w.scale(r) - wf[r * cols + i]) <=
                  0.5f * w.scale(r) * 1.0001f);
      const auto xf = RandomFloats(3 * cols, rng);
      QuantizedActs x;
      QuantizeActs<quant::Int8AbsMax>(xf.data(), 3, cols, cols, x);
      std::vector<float> want(3 * rows);
      Q8MatMul<simd::Reference>(w, x, want.data(), rows);
      test::ForEachTarget([&](int64_t) {
        std::vector<float> y(3 * rows);
        Q8MatMul(w, x, y.data(), rows);
        CHECK(y == want);
      });
    }
  }
}

TEST_CASE("dense kernels split rows across threads") {
  std::mt19937 rng(13);
  const size_t rows = 4099, cols = 256;
  const auto w = DenseMatrix<hwy::float16_t>::FromFloats(
      RandomFloats(rows * cols, rng), rows, cols);
  const auto x = RandomFloats(cols, rng);
  std::vector<float> one(rows), many(rows);
  DenseMatMul(w, x.data(), cols, 1, one.data(), rows);
  ThreadPool pool(2);
  DenseMatMul(w, x.data(), cols, 1, many.data(), rows, &pool);
  CHECK(one == many);
}

}  // namespace
}  // namespace ternary
