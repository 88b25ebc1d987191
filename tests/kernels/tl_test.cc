// TL1 / TL2 kernels beyond matmul_test.cc: lookup-table entries, every
// pair/triple code through every target, non-default geometries (bitnet.cpp
// presets, blocks long enough to need several int16 widenings).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "ternary/kernels/matmul.h"
#include "ternary/kernels/ref/lut_tables.h"  // the scalar table entries
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "test_util.h"

namespace ternary {
namespace {

using quant::TL1Layout;
using quant::TL2Layout;

TEST_CASE("TL lookup-table entries: all 9 pair codes, all 27 signed triples") {
  const int vals[] = {-128, -127, -8, -1, 0, 1, 7, 8, 127};
  for (int a : vals) {
    for (int b : vals) {
      uint8_t lo[16], hi[16], i8[16];
      ref::ScalarPairTableA8(a, b, lo, hi);
      ref::ScalarPairTableA4(a, b, i8);
      for (int w0 = -1; w0 <= 1; ++w0) {
        for (int w1 = -1; w1 <= 1; ++w1) {
          const int n = quant::TL1::PairNibble(w0, w1), want = w0 * a + w1 * b;
          CHECK(ref::PairEntry(a, b, n) == want);
          CHECK(ref::TableEntryA8(lo, hi, n) == want);
          if (want >= -128 && want <= 127)
            CHECK(ref::TableEntryA4(i8, n) == want);
        }
      }
      for (int c : vals) {
        ref::ScalarTripleTableA8(a, b, c, lo, hi);
        for (int code = -13; code <= 13; ++code) {
          const int w0 = (code + 13) / 9 - 1, w1 = (code + 13) / 3 % 3 - 1,
                    w2 = (code + 13) % 3 - 1;
          const int k = code < 0 ? -code : code, sign = code < 0 ? -1 : 1;
          const int want = w0 * a + w1 * b + w2 * c;
          CHECK(sign * ref::TripleEntry(a, b, c, k) == want);
          CHECK(sign * ref::TableEntryA8(lo, hi, k) == want);
        }
      }
    }
  }
}

// Random ternary weights with every row/column class seeing every code:
// pair (or triple) j of row r gets code (r + j) mod 9 (or 27).
std::vector<int8_t> AllCodes(size_t rows, size_t cols, int group) {
  std::vector<int8_t> w(rows * cols);
  const int codes = group == 2 ? 9 : 27;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const int code = static_cast<int>((r + c / group) % codes);
      const int digit = c % group;  // most significant first
      const int d = group == 2 ? (digit == 0 ? code / 3 : code % 3)
                               : (digit == 0   ? code / 9
                                  : digit == 1 ? code / 3 % 3
                                               : code % 3);
      w[r * cols + c] = static_cast<int8_t>(d - 1);
    }
  }
  return w;
}

template <class F>
void CheckKernel(const std::vector<int8_t>& w, size_t rows, size_t cols,
                 size_t n_tokens, int lo, int hi, std::mt19937& rng,
                 ThreadPool* pool = nullptr) {
  INFO(F::kName << " BM " << F::kRowsPerTile << " BK " << F::kBK << " rows "
                << rows << " cols " << cols << " tokens " << n_tokens
                << " acts [" << lo << ", " << hi << "]");
  const auto m = PackedMatrix<F>::Pack(w, rows, cols, 0.25f);
  QuantizedActs x;
  x.Resize(n_tokens, cols, std::max(-lo, hi));
  for (size_t t = 0; t < n_tokens; ++t) {
    const auto v = test::RandomInt8(cols, lo, hi, rng);
    std::copy(v.begin(), v.end(), x.row(t));
    x.SetScale(t, {1.0f, 0});
  }
  x.RecomputeSums();
  std::vector<int32_t> want(n_tokens * rows);
  for (size_t t = 0; t < n_tokens; ++t)
    for (size_t o = 0; o < rows; ++o)
      want[t * rows + o] = ref::TernaryDot(w.data() + o * cols, x.row(t), cols);
  test::ForEachTarget([&](int64_t) {
    std::vector<int32_t> got(want.size(), -7);
    MatMulInt32<F>(m, x, got.data(), rows, pool);
    CHECK(got == want);
  });
}

// Non-default geometries, each instantiated for every target (build time):
// bm = 32 (two pair couples per vector, bitnet.cpp's BM = 256) with 64 steps
// per block (two int16 widenings); TL2 with bitnet_b1_58-3B's BM = 160 and
// 64 steps per block (widenings after 40 and 24 steps).
using TL1Other = TL1Layout<256, 512, 32>;
using TL2Other = TL2Layout<160, 384>;

// The default geometries run through matmul_test.cc; here the others (one
// instantiation per layout and target costs ~5 s of build time).
TEST_CASE_TEMPLATE("TL kernels: every code, A8 and A4, odd shapes", F, TL1Other,
                   TL2Other) {
  std::mt19937 rng(4242);
  const int group = F::kName == "tl1" ? 2 : 3;
  const size_t shapes[][2] = {
      {27, 96}, {33, 200}, {64, 384}, {161, 1031}, {300, 2560}};
  for (const auto& s : shapes) {
    const auto w = AllCodes(s[0], s[1], group);
    for (size_t n : {1, 2, 5}) {
      CheckKernel<F>(w, s[0], s[1], n, -128, 127, rng);
      CheckKernel<F>(w, s[0], s[1], n, -8, 8, rng);
    }
  }
}

TEST_CASE_TEMPLATE("TL kernels: int16 and int8 bounds of long blocks", F,
                   TL1Other, TL2Other) {
  // Every lookup at its extreme (|entry| = 2·128 or 3·128, 2·8 or 3·8), with
  // one sign over the whole row, for int8 and int4 activations.
  const size_t rows = 64, cols = 6912;
  std::mt19937 rng(5);
  for (int sign : {1, -1}) {
    const std::vector<int8_t> w(rows * cols, static_cast<int8_t>(sign));
    for (int act : {-128, 127, -8, 8}) {
      const auto m = PackedMatrix<F>::Pack(w, rows, cols, 1.0f);
      QuantizedActs x;
      x.Resize(3, cols, act == -8 || act == 8 ? 8 : 128);
      for (size_t t = 0; t < 3; ++t)
        for (size_t i = 0; i < cols; ++i)
          x.row(t)[i] = static_cast<int8_t>(act);
      x.RecomputeSums();
      test::ForEachTarget([&](int64_t) {
        std::vector<int32_t> s(3 * rows);
        MatMulInt32<F>(m, x, s.data(), rows);
        for (size_t i = 0; i < s.size(); ++i) {
          CHECK(s[i] == sign * act * static_cast<int32_t>(cols));
        }
      });
    }
  }
}

TEST_CASE_TEMPLATE("TL kernels: thread tasks that split tiles and chunks", F,
                   TL1Other, TL2Other) {
  // Tasks are multiples of 16 rows; tiles are BM rows and chunks 32 or 64.
  std::mt19937 rng(77);
  for (size_t rows : {16, 48, 200, 1000}) {
    const auto w = test::RandomTernary(rows * 320, rng);
    ThreadPool pool(3);
    CheckKernel<F>(w, rows, 320, 5, -127, 127, rng, &pool);
    CheckKernel<F>(w, rows, 320, 1, -8, 7, rng, &pool);
  }
}

}  // namespace
}  // namespace ternary
