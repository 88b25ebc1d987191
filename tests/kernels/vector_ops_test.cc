// The layers' row helpers (kernels/vector_ops.h) on every target against
// their scalar twins: equal bits, at every length around the vector widths
// and at the 2B4T row lengths, in place and out of place; the SiLU gate
// also against its exact value.
#include "ternary/kernels/vector_ops.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ternary/kernels/matmul.h"
#include "ternary/kernels/quantized_acts.h"
#include "test_util.h"

namespace ternary {
namespace {

using Ref = simd::Reference;

std::vector<size_t> Lengths() {
  std::vector<size_t> n;
  for (size_t i = 0; i <= 70; ++i) n.push_back(i);
  for (size_t i : {127, 128, 129, 640, 2560, 6912}) n.push_back(i);
  return n;
}

// Floats in [-s, s) with a sprinkle of exact zeros and halves (rounding
// ties once scaled by 1).
std::vector<float> RandomRow(size_t n, float s, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-s, s);
  std::uniform_int_distribution<int> pick(0, 7), half(-255, 255);
  std::vector<float> v(n);
  for (auto& x : v) {
    const int k = pick(rng);
    x = k == 0   ? 0.0f
        : k == 1 ? 0.5f * static_cast<float>(half(rng))
                 : dist(rng);
  }
  return v;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() ||  // memcmp must not see the null data() of n = 0
          std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST_CASE("absmax and int8 quantization equal the scalar twins, ties too") {
  std::mt19937 rng(11);
  for (size_t n : Lengths()) {
    const auto x = RandomRow(n, 200.0f, rng);
    const float want_max = vec::AbsMax<Ref>(x.data(), n);
    for (float scale : {1.0f, 0.37f, 127.0f / 199.5f}) {
      for (const int lo : {-128, -8}) {
        const int hi = -lo - 1;  // clang 14 lambdas cannot capture bindings
        std::vector<int8_t> want(n + 1, 42);
        const int32_t want_sum =
            vec::QuantizeRow<Ref>(x.data(), n, scale, lo, hi, want.data());
        test::ForEachTarget([&](int64_t) {
          INFO("n " << n << " scale " << scale << " lo " << lo);
          CHECK(vec::AbsMax(x.data(), n) == want_max);
          std::vector<int8_t> got(n + 1, 42);
          CHECK(vec::QuantizeRow(x.data(), n, scale, lo, hi, got.data()) ==
                want_sum);
          CHECK(got == want);  // and the byte after the row untouched
        });
      }
    }
  }
}

TEST_CASE("vectorized A8 quantization gives the reference codes and scales") {
  std::mt19937 rng(5);
  const size_t n_tokens = 3, cols = 2560, ld = 2600;
  const auto x = RandomRow(n_tokens * ld, 3.0f, rng);
  QuantizedActs want, got;
  QuantizeActs<quant::Int8AbsMax, Ref>(x.data(), n_tokens, cols, ld, want);
  test::ForEachTarget([&](int64_t) {
    QuantizeActs<quant::Int8AbsMax>(x.data(), n_tokens, cols, ld, got);
    for (size_t t = 0; t < n_tokens; ++t) {
      CHECK(got.scale(t).scale == want.scale(t).scale);
      CHECK(got.scale(t).sum == want.scale(t).sum);
      CHECK(std::memcmp(got.row(t), want.row(t), got.stride()) == 0);
    }
  });
}

TEST_CASE("RMSNorm pieces and the relu² gate equal the scalar twins") {
  std::mt19937 rng(3);
  for (size_t n : Lengths()) {
    INFO("n " << n);
    const auto x = RandomRow(n, 4.0f, rng), g = RandomRow(n, 2.0f, rng),
               up = RandomRow(n, 3.0f, rng);
    const double want_ss = vec::SumSquares<Ref>(x.data(), n);
    std::vector<float> want_y(n), want_z(n);
    vec::ScaleRow<Ref>(x.data(), 0.731f, g.data(), n, want_y.data());
    vec::ReluSquaredGate<Ref>(x.data(), up.data(), n, want_z.data());
    test::ForEachTarget([&](int64_t) {
      // Only the order of exact double additions differs.
      CHECK(vec::SumSquares(x.data(), n) ==
            doctest::Approx(want_ss).epsilon(1e-13));
      std::vector<float> y(n), z(n);
      vec::ScaleRow(x.data(), 0.731f, g.data(), n, y.data());
      CHECK(SameBits(y, want_y));
      vec::ReluSquaredGate(x.data(), up.data(), n, z.data());
      CHECK(SameBits(z, want_z));
      std::vector<float> in_place = x;  // the model's aliasing calls
      vec::ScaleRow(in_place.data(), 0.731f, g.data(), n, in_place.data());
      CHECK(SameBits(in_place, want_y));
      in_place = x;
      vec::ReluSquaredGate(in_place.data(), up.data(), n, in_place.data());
      CHECK(SameBits(in_place, want_z));
    });
  }
}

// silu(g)·u in double, the exact value the float op approximates.
double SiluGateExact(float g, float u) {
  return double(g) / (1.0 + std::exp(-double(g))) * double(u);
}

TEST_CASE("the SiLU gate equals its scalar twin and is within 4 ulp of exact") {
  std::mt19937 rng(17);
  for (size_t n : Lengths()) {
    for (const float span : {4.0f, 30.0f, 120.0f}) {  // 120: past the ±87 clamp
      INFO("n " << n << " span " << span);
      const auto g = RandomRow(n, span, rng), up = RandomRow(n, 3.0f, rng);
      std::vector<float> want(n);
      vec::SiluGate<Ref>(g.data(), up.data(), n, want.data());
      for (size_t i = 0; i < n; ++i) {
        // silu(g)·u is a product of ≤ 4 roundings of a ≤ 1-ulp exp: within
        // 4 ulp of the exact value, or below 1e-30 where silu underflows.
        const double exact = SiluGateExact(g[i], up[i]);
        const double tol = 4.0 * std::fabs(exact) * 0x1p-23 + 1e-30;
        if (std::fabs(want[i] - exact) > tol) {
          FAIL("g " << g[i] << " up " << up[i] << ": " << want[i] << " vs "
                    << exact);
        }
      }
      test::ForEachTarget([&](int64_t) {
        std::vector<float> z(n);
        vec::SiluGate(g.data(), up.data(), n, z.data());
        CHECK(SameBits(z, want));
        std::vector<float> in_place = g;  // the model's aliasing call
        vec::SiluGate(in_place.data(), up.data(), n, in_place.data());
        CHECK(SameBits(in_place, want));
      });
    }
  }
}

}  // namespace
}  // namespace ternary
