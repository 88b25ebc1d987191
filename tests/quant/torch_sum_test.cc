// TorchSum and the A8 activation scale against values PyTorch computed
// (tests/data/torch/sums.json, made by tests/data/torch/make_sums.py with
// torch 1.13, one thread, AVX2).
#include "ternary/quant/torch_sum.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "ternary/quant/activation.h"
#include "test_util.h"

namespace ternary::quant {
namespace {

// The script's inputs: u / 2^32 − 0.5 from a 32-bit LCG, rounded once.
std::vector<float> Values(size_t n, uint32_t seed) {
  std::vector<float> x(n);
  uint32_t u = seed;
  for (float& v : x) {
    u = u * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<double>(u) / 4294967296.0 - 0.5);
  }
  return x;
}

TEST_CASE("TorchSum equals PyTorch's float32 sum bit for bit") {
  std::ifstream in(test::DataPath("torch/sums.json"));
  REQUIRE(in);
  const auto j = nlohmann::json::parse(in);
  size_t cases = 0, differ_from_double = 0;
  for (const auto& c : j.at("cases")) {
    const size_t n = c.at("n");
    CAPTURE(n);
    const std::vector<float> x = Values(n, c.at("seed"));
    const auto abs = [](float v) { return std::fabs(v); };
    const auto id = [](float v) { return v; };
    const float abs_sum = TorchSum(x.data(), n, abs);
    CHECK(std::bit_cast<uint32_t>(abs_sum) == c.at("abs_sum").get<uint32_t>());
    CHECK(std::bit_cast<uint32_t>(TorchSum(x.data(), n, id)) ==
          c.at("sum").get<uint32_t>());
    // mean = sum / n in float, as at::mean does on a CPU.
    CHECK(std::bit_cast<uint32_t>(abs_sum / static_cast<float>(n)) ==
          c.at("abs_mean").get<uint32_t>());
    double exact = 0.0;
    for (float v : x) exact += std::fabs(v);
    differ_from_double += static_cast<float>(exact) != abs_sum;
    ++cases;
  }
  CHECK(cases >= 40);
  // The order matters: a correctly rounded sum differs for large n.
  CHECK(differ_from_double > 0);
}

TEST_CASE("Int8AbsMax's scale is PyTorch's 127 / max|x|, bit for bit") {
  std::ifstream in(test::DataPath("torch/sums.json"));
  REQUIRE(in);
  const auto j = nlohmann::json::parse(in);
  size_t cases = 0, single_rounding_differs = 0;
  for (const auto& c : j.at("act_scales")) {
    const size_t n = c.at("n");
    CAPTURE(n);
    const std::vector<float> x = Values(n, c.at("seed"));
    std::vector<int8_t> q(n);
    const ActScale s = Int8AbsMax::Quantize(x.data(), n, q.data());
    CHECK(std::bit_cast<uint32_t>(s.scale) == c.at("scale").get<uint32_t>());
    float m = 0.0f;
    for (float v : x) m = std::max(m, std::fabs(v));
    single_rounding_differs += s.scale != 127.0f / m;
    ++cases;
  }
  CHECK(cases >= 40);
  // The point of matching: 127 / m rounded once is not what PyTorch gets.
  CHECK(single_rounding_differs > 0);
  MESSAGE(single_rounding_differs << " of " << cases
                                  << " scales differ from fl(127 / m)");
}

}  // namespace
}  // namespace ternary::quant
