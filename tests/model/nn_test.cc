// Float layers of include/ternary/nn against direct formulas.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "ternary/nn/attention.h"
#include "ternary/nn/ffn.h"
#include "ternary/nn/rms_norm.h"
#include "ternary/nn/rotary.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/thread_pool.h"
#include "test_util.h"

namespace ternary {
namespace {

std::vector<float> RandomVector(size_t n, std::mt19937& rng, float sd = 1.0f) {
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

AlignedBuffer<float> ToBuffer(const std::vector<float>& v) {
  AlignedBuffer<float> b(v.size());
  for (size_t i = 0; i < v.size(); ++i) b[i] = v[i];
  return b;
}

TEST_CASE("RmsNorm matches x / sqrt(mean(x^2) + eps) * g") {
  std::mt19937 rng{1234};
  for (size_t n : {1, 7, 64, 384, 1024, 2560}) {
    const size_t rows = 3;
    const std::vector<float> x = RandomVector(rows * n, rng, 3.0f);
    const std::vector<float> g = RandomVector(n, rng);
    nn::RmsNorm<> norm(ToBuffer(g), 1e-5f);
    std::vector<float> y(rows * n);
    norm.Forward(x.data(), rows, n, y.data(), n);
    for (size_t r = 0; r < rows; ++r) {
      double ss = 0;
      for (size_t i = 0; i < n; ++i) ss += double(x[r * n + i]) * x[r * n + i];
      const double inv = 1.0 / std::sqrt(ss / n + 1e-5);
      for (size_t i = 0; i < n; ++i) {
        const double want = x[r * n + i] * inv * g[i];
        // Three float roundings: mean, rsqrt, two products.
        CHECK(y[r * n + i] == doctest::Approx(want).epsilon(4e-7).scale(1e-6));
      }
    }
    // In place gives the same result.
    std::vector<float> z = x;
    norm.Forward(z.data(), rows, n, z.data(), n);
    CHECK(z == y);
  }
  // A zero row stays zero (no NaN from 0/0).
  std::vector<float> zero(16, 0.0f), out(16, 1.0f);
  nn::RmsNorm<16> fixed(ToBuffer(std::vector<float>(16, 1.0f)), 1e-5f);
  fixed.Forward(zero.data(), 1, 16, out.data(), 16);
  for (float v : out) CHECK(v == 0.0f);
  CHECK_THROWS_AS(nn::RmsNorm<8>(ToBuffer(std::vector<float>(16, 1.0f)), 1e-5f),
                  ShapeError);
}

TEST_CASE("Rotary matches the split-half formula") {
  std::mt19937 rng{1234};
  for (size_t head_dim : {2, 64, 96, 100, 128, 256}) {
    const double base = 500000.0;
    const size_t heads = 3, table = 40;
    nn::Rotary<> rope(head_dim, base, table);
    const size_t half = head_dim / 2;
    for (size_t pos : {0, 1, 17, 39, 40, 300}) {  // 40, 300: past the table
      std::vector<float> x = RandomVector(heads * head_dim, rng);
      std::vector<float> y = x;
      rope.Apply(y.data(), heads, pos);
      for (size_t h = 0; h < heads; ++h) {
        const float* a = x.data() + h * head_dim;
        const float* b = y.data() + h * head_dim;
        for (size_t i = 0; i < half; ++i) {
          const double th = pos * std::pow(base, -2.0 * i / head_dim);
          const double c = std::cos(th), s = std::sin(th);
          const double lo = a[i] * c - a[i + half] * s;
          const double hi = a[i] * s + a[i + half] * c;
          // θ is rounded to float (as transformers computes it): an error of
          // up to pos·2^-24 radians on top of the float products.
          const double tol =
              1e-6 + pos * 1.2e-7 * (std::fabs(a[i]) + std::fabs(a[i + half]));
          CHECK(std::fabs(b[i] - lo) <= tol);
          CHECK(std::fabs(b[i + half] - hi) <= tol);
        }
      }
    }
    // Position 0 is the identity.
    std::vector<float> x = RandomVector(head_dim, rng), y = x;
    rope.Apply(y.data(), 1, 0);
    CHECK(x == y);
  }
  // Table and on-the-fly angles agree exactly.
  nn::Rotary<64> small(64, 10000.0, 8), big(64, 10000.0, 64);
  std::vector<float> x = RandomVector(64, rng), y = x;
  small.Apply(x.data(), 1, 33);
  big.Apply(y.data(), 1, 33);
  CHECK(x == y);
  CHECK_THROWS_AS(nn::Rotary<>(63, 1e4, 4), ShapeError);
  CHECK_THROWS_AS(nn::Rotary<64>(128, 1e4, 4), ShapeError);
}

// O(n²) attention in double: the oracle.
std::vector<double> NaiveAttention(const std::vector<float>& q,
                                   const std::vector<float>& k,
                                   const std::vector<float>& v, size_t n,
                                   size_t pos0, nn::AttentionShape s) {
  const size_t qd = s.heads * s.head_dim, kvd = s.kv_heads * s.head_dim;
  std::vector<double> out(n * qd);
  for (size_t t = 0; t < n; ++t) {
    for (size_t h = 0; h < s.heads; ++h) {
      const size_t g = h / (s.heads / s.kv_heads);
      std::vector<double> sc(pos0 + t + 1);
      double m = -1e300;
      for (size_t j = 0; j <= pos0 + t; ++j) {
        double d = 0;
        for (size_t i = 0; i < s.head_dim; ++i) {
          d += double(q[t * qd + h * s.head_dim + i]) *
               k[j * kvd + g * s.head_dim + i];
        }
        sc[j] = d / std::sqrt(double(s.head_dim));
        m = std::max(m, sc[j]);
      }
      double sum = 0;
      for (double& x : sc) sum += (x = std::exp(x - m));
      for (size_t i = 0; i < s.head_dim; ++i) {
        double o = 0;
        for (size_t j = 0; j < sc.size(); ++j) {
          o += sc[j] / sum * v[j * kvd + g * s.head_dim + i];
        }
        out[t * qd + h * s.head_dim + i] = o;
      }
    }
  }
  return out;
}

template <int kHeadDim>
void CheckAttention(nn::AttentionShape s, size_t n, size_t pos0,
                    ThreadPool* pool) {
  std::mt19937 rng{1234};
  const size_t qd = s.heads * s.head_dim, kvd = s.kv_heads * s.head_dim;
  const auto q = RandomVector(n * qd, rng),
             k = RandomVector((pos0 + n) * kvd, rng),
             v = RandomVector((pos0 + n) * kvd, rng);
  const auto want = NaiveAttention(q, k, v, n, pos0, s);
  auto check = [&](auto policy) {
    std::vector<float> out(n * qd, -1.0f);
    nn::AttentionScratch scratch;
    nn::Attention<kHeadDim, decltype(policy)>(q.data(), qd, n, pos0, k.data(),
                                              v.data(), kvd, s, out.data(), qd,
                                              scratch, pool);
    double worst = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      worst = std::max(worst, std::fabs(out[i] - want[i]));
    }
    // |v| ≲ 4 and softmax weights sum to 1: float error ≲ 64 ulp of 4.
    CAPTURE(n);
    CAPTURE(pos0);
    CHECK(worst < 2e-5);
  };
  check(simd::Reference{});
  test::ForEachTarget([&](int64_t) { check(simd::Dynamic{}); });
}

TEST_CASE("Attention matches a naive O(n^2) reference") {
  ThreadPool pool(3);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    // tiny-shakespeare GQA (6 heads on 2 KV heads), prompt and decode steps.
    CheckAttention<64>({6, 2, 64}, 8, 0, p);
    CheckAttention<64>({6, 2, 64}, 1, 40, p);
    CheckAttention<kDynamic>({6, 2, 64}, 37, 5, p);   // > one query block
    CheckAttention<kDynamic>({4, 4, 16}, 20, 0, p);   // MHA
    CheckAttention<kDynamic>({20, 5, 128}, 3, 2, p);  // 2B4T shape
    CheckAttention<kDynamic>({8, 4, 256}, 9, 3, p);   // Falcon3 shape
    CheckAttention<kDynamic>({16, 16, 96}, 5, 1, p);  // 1bitLLM large
    CheckAttention<kDynamic>({2, 1, 6}, 50, 17, p);   // MQA, odd head_dim
  }
}

TEST_CASE("KvCache grows and keeps its rows") {
  nn::KvCache c(2, 4, 1);
  c.k(1)[0] = 5.0f;
  c.v(0)[3] = 7.0f;
  c.Resize(1);
  c.Reserve(100);
  CHECK(c.capacity() >= 100);
  CHECK(c.size() == 1);
  CHECK(c.k(1)[0] == 5.0f);
  CHECK(c.v(0)[3] == 7.0f);
}

TEST_CASE("relu(gate)^2 * up") {
  const std::vector<float> g = {-2.0f, 0.0f, 1.5f, 3.0f};
  const std::vector<float> u = {5.0f, 5.0f, 2.0f, -1.0f};
  std::vector<float> z(4);
  nn::ReluSquaredGate(g.data(), u.data(), 4, z.data());
  CHECK(z == std::vector<float>{0.0f, 0.0f, 4.5f, -9.0f});
}

}  // namespace
}  // namespace ternary
