// Quantizers and the I2_S layout against hand-checked values
// (docs/numerics.md §2-§5, docs/formats.md §4).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "ternary/quant/activation.h"
#include "ternary/quant/i2s.h"
#include "ternary/quant/ternarize.h"
#include "ternary/util/half.h"
#include "test_util.h"

namespace ternary::quant {
namespace {

template <class Q>
std::vector<int> Codes(const std::vector<float>& x, ActScale* scale = nullptr) {
  std::vector<int8_t> q(x.size(), 99);
  const ActScale s = Q::Quantize(x.data(), x.size(), q.data());
  if (scale) *scale = s;
  return {q.begin(), q.end()};
}

TEST_CASE("Int8AbsMax rounds half to even and scales by 127 / absmax") {
  // absmax 63.5 makes the scale exactly 2, so x·s lands on .5 ties.
  ActScale s;
  const auto q =
      Codes<Int8AbsMax>({63.5f, 0.25f, 0.75f, -0.25f, -0.75f, 1.25f}, &s);
  CHECK(s.scale == 2.0f);
  CHECK(q == std::vector<int>{127, 0, 2, 0, -2, 2});
  CHECK(s.sum == 129);
  CHECK(Codes<Int8AbsMax>({0.5f, -1.0f, 0.25f, 0.0f}) ==
        std::vector<int>{64, -127, 32, 0});  // 63.5 → 64, 31.75 → 32
}

TEST_CASE("Int8AbsMax on all-zero rows and extremes") {
  ActScale s;
  CHECK(Codes<Int8AbsMax>({0.0f, -0.0f, 0.0f}, &s) ==
        std::vector<int>{0, 0, 0});
  CHECK(s.scale == 127.0f * (1.0f / 1e-5f));  // the 1e-5 floor
  CHECK(s.sum == 0);
  CHECK(Codes<Int8AbsMax>({1e30f, -1e30f, 1e-30f}) ==
        std::vector<int>{127, -127, 0});
  // Below the floor the scale stays fixed: 5e-6 · 127/1e-5 = 63.5 → 64.
  CHECK(Codes<Int8AbsMax>({5e-6f, -1e-6f}) == std::vector<int>{64, -13});
}

TEST_CASE("Int4AbsMean: √7 / mean|x|, clamped to [-8, 7]") {
  ActScale s;
  CHECK(Codes<Int4AbsMean>({1, -1, 1, -1}, &s) ==
        std::vector<int>{3, -3, 3, -3});
  CHECK(s.scale == doctest::Approx(std::sqrt(7.0) / (1 + 1e-5)));
  CHECK(Codes<Int4AbsMean>({10, 0, 0, 0}) == std::vector<int>{7, 0, 0, 0});
  CHECK(Codes<Int4AbsMean>({-10, 0, 0, 0}) == std::vector<int>{-8, 0, 0, 0});
  CHECK(Codes<Int4AbsMean>({0, 0}) == std::vector<int>{0, 0});
}

TEST_CASE("TopKInt8 keeps the larger half, ties to the lower index") {
  ActScale s;
  // |x| ranks: 4 (i1), 3 (i2), then a tie at 2 between i3 and i4: i3 stays.
  const auto q = Codes<TopKInt8>({1, -4, 3, 2, -2, 0.5f}, &s);
  CHECK(s.scale == 127.0f / 4.0f);
  CHECK(q == std::vector<int>{0, -127, 95, 64, 0, 0});
  CHECK(s.sum == 32);
  // Odd length keeps ⌈n/2⌉.
  CHECK(Codes<TopKInt8>({1, 2, 3}) == std::vector<int>{0, 85, 127});
}

// Against the definition written out: rank every entry by |x| (larger first,
// then lower index first) with a full sort, keep the first ⌈n/2⌉, int8
// absmax the rest to zero. Many ties (values from a few levels), both signs.
TEST_CASE("TopKInt8 equals a full sort of |x| with ties to the lower index") {
  std::mt19937 rng(11);
  for (const size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{8},
                         size_t{255}, size_t{2560}, size_t{6912}}) {
    for (const int levels : {3, 50, 100000}) {
      CAPTURE(n);
      CAPTURE(levels);
      std::uniform_int_distribution<int> level(-levels, levels);
      std::vector<float> x(n);
      for (float& v : x) v = 0.01f * float(level(rng));
      std::vector<int8_t> dense(n), got(n);
      const ActScale d = Int8AbsMax::Quantize(x.data(), n, dense.data());
      const ActScale s = TopKInt8::Quantize(x.data(), n, got.data());
      std::vector<size_t> rank(n);
      for (size_t i = 0; i < n; ++i) rank[i] = i;
      std::stable_sort(rank.begin(), rank.end(), [&](size_t a, size_t b) {
        return std::fabs(x[a]) > std::fabs(x[b]);
      });
      std::vector<int8_t> want = dense;
      int32_t sum = 0;
      for (size_t r = 0; r < n; ++r) {
        if (r >= (n + 1) / 2) want[rank[r]] = 0;
        sum += want[rank[r]];
      }
      CHECK(got == want);
      CHECK(s.sum == sum);
      CHECK(s.scale == d.scale);
    }
  }
}

TEST_CASE("A8 and A4 pick the a4.8 quantizer per BitLinear input") {
  static_assert(std::is_same_v<A8::Quantizer<Role::kAttnOut>, Int8AbsMax>);
  static_assert(std::is_same_v<A4::Quantizer<Role::kAttnIn>, Int4AbsMean>);
  static_assert(std::is_same_v<A4::Quantizer<Role::kFfnIn>, Int4AbsMean>);
  static_assert(std::is_same_v<A4::Quantizer<Role::kAttnOut>, TopKInt8>);
  static_assert(std::is_same_v<A4::Quantizer<Role::kFfnOut>, Int8AbsMax>);
}

TEST_CASE("AbsMeanTernarize: per-matrix absmean scale, ties to even") {
  std::vector<int8_t> t(4);
  CHECK(AbsMeanTernarize(std::vector<float>{0.5f, -0.25f, 0.1f, 0.0f}, t) ==
        doctest::Approx(0.2125f));
  CHECK(t == std::vector<int8_t>{1, -1, 0, 0});
  // mean 0.5 → s = 2: 0.25·2 = 0.5 rounds to 0, 1.5·2 = 3 clamps to 1.
  CHECK(AbsMeanTernarize(std::vector<float>{1.5f, 0.25f, -0.25f, 0.0f}, t) ==
        0.5f);
  CHECK(t == std::vector<int8_t>{1, 0, 0, 0});
  CHECK(AbsMeanTernarize(std::vector<float>{0.75f, -0.75f, 0.5f, 0.0f}, t) ==
        0.5f);
  CHECK(t == std::vector<int8_t>{1, -1, 1, 0});  // 1.5 → 2 → 1; 1.0 → 1
  // All zero: the 1e-5 floor.
  CHECK(AbsMeanTernarize(std::vector<float>(4, 0.0f), t) ==
        doctest::Approx(1e-5f));
  CHECK(t == std::vector<int8_t>(4, 0));
  CHECK_THROWS_AS(AbsMeanTernarize(std::vector<float>(3), t), ShapeError);
}

TEST_CASE("I2S packs every code quadruple as bitnet.cpp does") {
  // Worked example of docs/formats.md §4.2: w[0] = −1, w[32] = 0, w[64] = +1,
  // w[96] = +1.
  std::vector<int8_t> w(128, 0);
  w[0] = -1;
  w[64] = 1;
  w[96] = 1;
  std::vector<uint8_t> p(I2S::PackedBytes(1, 128));
  I2S::Pack(w.data(), 1, 128, p.data());
  CHECK(p[0] == 0x1A);
  for (size_t i = 1; i < 32; ++i)
    CHECK(p[i] == 0x55);  // four zeros: 01 01 01 01
  // All 3^4 quadruples in byte 5 of a block.
  for (int v = 0; v < 81; ++v) {
    const int c[4] = {v % 3, v / 3 % 3, v / 9 % 3, v / 27};
    std::fill(w.begin(), w.end(), 0);
    for (int j = 0; j < 4; ++j) w[32 * j + 5] = static_cast<int8_t>(c[j] - 1);
    I2S::Pack(w.data(), 1, 128, p.data());
    CHECK(p[5] == (c[0] << 6 | c[1] << 4 | c[2] << 2 | c[3]));
    std::vector<int8_t> back(128);
    I2S::Unpack(p.data(), 1, 128, back.data());
    CHECK(back == w);
  }
}

TEST_CASE("I2S pads rows to 128 columns with zero weights") {
  std::mt19937 rng(5);
  for (size_t rows : {1, 3, 7}) {
    for (size_t cols : {1, 5, 127, 128, 129, 300, 2560}) {
      const auto w = test::RandomTernary(rows * cols, rng);
      std::vector<uint8_t> p(I2S::PackedBytes(rows, cols));
      CHECK(p.size() == rows * RoundUp(cols, 128) / 4);
      I2S::Pack(w.data(), rows, cols, p.data());
      std::vector<int8_t> back(rows * cols);
      I2S::Unpack(p.data(), rows, cols, back.data());
      CHECK(back == w);
      if (cols % 128 != 0) {
        // The last block's padding positions hold code 1 (weight 0).
        const size_t kp = RoundUp(cols, 128);
        std::vector<int8_t> padded(kp);
        I2S::Unpack(p.data() + (rows - 1) * kp / 4, 1, kp, padded.data());
        for (size_t c = cols; c < kp; ++c) CHECK(padded[c] == 0);
      }
    }
  }
  CHECK_THROWS_AS(I2S::CheckShape(0, 128), ShapeError);
}

TEST_CASE("bf16 and f16 conversions") {
  CHECK(FloatToBf16(1.0f) == 0x3F80);
  CHECK(Bf16ToFloat(0x3F80) == 1.0f);
  CHECK(FloatToBf16(1.00390625f) == 0x3F80);  // tie → even
  CHECK(FloatToBf16(1.01171875f) == 0x3F82);  // tie → even (up)
  CHECK(std::isnan(
      Bf16ToFloat(FloatToBf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(FloatToF16(1.0f) == 0x3C00);
  CHECK(FloatToF16(65504.0f) == 0x7BFF);
  CHECK(FloatToF16(65520.0f) == 0x7C00);  // rounds to inf
  CHECK(FloatToF16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(FloatToF16(std::ldexp(1.0f, -26)) == 0x0000);
  CHECK(FloatToF16(-2.0f) == 0xC000);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = F16ToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(FloatToF16(f) == h);  // every f16 value round-trips
  }
}

}  // namespace
}  // namespace ternary::quant
