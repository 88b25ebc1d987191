// TL1 / TL2 weight layouts: pack→unpack identity, bitnet.cpp's byte order
// (docs/formats.md §5/§6 loops and the converter's numpy reshapes), every code.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "test_util.h"

namespace ternary::quant {
namespace {

template <class F>
std::vector<uint8_t> PackVec(const std::vector<int8_t>& w, size_t rows,
                             size_t cols) {
  std::vector<uint8_t> p(F::PackedBytes(rows, cols), 0xEE);
  F::Pack(w.data(), rows, cols, p.data());
  return p;
}

template <class F>
void CheckRoundTrip(size_t rows, size_t cols, std::mt19937& rng) {
  INFO(F::kName << " rows " << rows << " cols " << cols);
  const auto w = test::RandomTernary(rows * cols, rng);
  const auto p = PackVec<F>(w, rows, cols);
  std::vector<int8_t> back(rows * cols, 9);
  F::Unpack(p.data(), rows, cols, back.data());
  CHECK(back == w);
}

using TL1Bitnet = TL1Layout<256, 128, 32>;  // bitnet_b1_58-large (1536, 4096)
using TL1Bm64 = TL1Layout<128, 64, 64>;     // bitnet_b1_58-large (1536, 1536)
using TL2Bitnet = TL2Layout<160, 96>;       // bitnet_b1_58-3B (3200, 8640)
using TL2Small = TL2Layout<32, 24>;
using TL1Wide = TL1Layout<64, 512, 32>;
using TL2Mid = TL2Layout<64, 48>;

TEST_CASE_TEMPLATE("pack then unpack is the identity", F, TL1, TL2, TL1Bitnet,
                   TL1Bm64, TL2Bitnet, TL2Small, TL1Wide, TL2Mid) {
  std::mt19937 rng(1234);
  const size_t shapes[][2] = {{1, 1},      {1, 2},     {2, 3},     {3, 5},
                              {1, 96},     {31, 33},   {32, 96},   {33, 97},
                              {64, 128},   {100, 250}, {129, 300}, {17, 512},
                              {257, 1000}, {160, 130}, {5, 2561}};
  for (const auto& s : shapes) CheckRoundTrip<F>(s[0], s[1], rng);
}

TEST_CASE_TEMPLATE("pack then unpack on the 2B4T shapes", F, TL1, TL2) {
  std::mt19937 rng(2025);
  const size_t shapes[][2] = {
      {2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}};
  for (const auto& s : shapes) CheckRoundTrip<F>(s[0], s[1], rng);
}

TEST_CASE("packed sizes") {
  // 2B4T needs no padding with the default geometries: 2 bits per weight
  // (TL1), 5 bits per triple + 2 bits per weight of the 64-column two part.
  CHECK(TL1::PackedBytes(2560, 2560) == 2560u * 2560 / 4);
  CHECK(TL1::PackedBytes(6912, 2560) == 6912u * 2560 / 4);
  CHECK(TL2::PackedBytes(2560, 6912) == 2560u * 6912 * 5 / 24);
  CHECK(TL2::PackedBytes(2560, 2560) == 2560u * 2496 * 5 / 24 + 2560u * 64 / 4);
  // Padding: rows to 32 (bm), TL1 cols to BK, TL2 two part to 32 columns.
  CHECK(TL1::PackedBytes(1, 1) == 64u * 128 / 4);
  CHECK(TL1Bitnet::PackedBytes(33, 129) == 64u * 256 / 4);
  CHECK(TL2::PackedBytes(1, 1) == 32u * 32 / 4);
  CHECK(TL2::PackedBytes(33, 97) == 64u * 96 * 5 / 24 + 64u * 32 / 4);
  CHECK(TL2::PreparedActBytes(2560) == 2496u / 3 * 32 + 64 / 2 * 32);
  CHECK(TL1::PreparedActBytes(2560) == 2560u / 2 * 32);
}

// ---- Oracle 1: the docs/formats.md §5/§6 loops, written out independently.

std::vector<uint8_t> SpecTL1(const std::vector<int8_t>& w, size_t M, size_t K,
                             size_t BM, size_t BK, size_t bm) {
  const size_t by = 256 / bm;
  auto n = [&](size_t m, size_t t) {
    return 3 * w[m * K + 2 * t] + w[m * K + 2 * t + 1] + 4;
  };
  std::vector<uint8_t> out;
  for (size_t mb = 0; mb < M / BM; ++mb)
    for (size_t kb = 0; kb < K / BK; ++kb)
      for (size_t mo = 0; mo < BM / bm; ++mo)
        for (size_t ky = 0; ky < BK / by; ++ky)
          for (size_t mg = 0; mg < bm / 16; ++mg)
            for (size_t tq = 0; tq < by / 4; ++tq)
              for (size_t ml = 0; ml < 16; ++ml) {
                const size_t m = mb * BM + mo * bm + mg * 16 + ml;
                const size_t t = kb * (BK / 2) + ky * (by / 2) + 2 * tq;
                out.push_back(static_cast<uint8_t>(n(m, t) << 4 | n(m, t + 1)));
              }
  return out;
}

std::vector<uint8_t> SpecTL2(const std::vector<int8_t>& w, size_t M, size_t K,
                             size_t BM, size_t BK) {
  const size_t K3 = K / BK * BK, K2 = K - K3;
  REQUIRE(K2 % 32 == 0);
  auto v = [&](size_t m, size_t u) {
    return 9 * w[m * K + 3 * u] + 3 * w[m * K + 3 * u + 1] +
           w[m * K + 3 * u + 2];
  };
  auto abs = [](int x) { return x < 0 ? -x : x; };
  auto perm = [](size_t pos) {
    return size_t{(pos / 8 == 1   ? 2u
                   : pos / 8 == 2 ? 1u
                                  : pos / 8)} *
               8 +
           pos % 8;
  };
  std::vector<uint8_t> out;
  for (size_t mb = 0; mb < M / BM; ++mb)  // A
    for (size_t kb = 0; kb < K3 / BK; ++kb)
      for (size_t mo = 0; mo < BM / 32; ++mo)
        for (size_t ky = 0; ky < BK / 6; ++ky)
          for (size_t pos = 0; pos < 32; ++pos) {
            const size_t m = mb * BM + mo * 32 + perm(pos),
                         u0 = kb * (BK / 3) + 2 * ky;
            out.push_back(
                static_cast<uint8_t>(abs(v(m, u0)) << 4 | abs(v(m, u0 + 1))));
          }
  for (size_t mb = 0; mb < M / BM; ++mb)  // B
    for (size_t kb = 0; kb < K3 / BK; ++kb)
      for (size_t mo = 0; mo < BM / 32; ++mo)
        for (size_t kq = 0; kq < BK / 24; ++kq)
          for (size_t j = 0; j < 16; ++j) {
            unsigned word = 0;
            for (size_t i = 0; i < 16; ++i) {
              const size_t uv = i / 2, mm = (i % 2) * 16 + j;
              if (v(mb * BM + mo * 32 + mm, kb * (BK / 3) + 8 * kq + uv) < 0)
                word |= 1u << (15 - i);
            }
            out.push_back(static_cast<uint8_t>(word & 0xFF));
            out.push_back(static_cast<uint8_t>(word >> 8));
          }
  auto n = [&](size_t m, size_t t) {
    return 3 * w[m * K + K3 + 2 * t] + w[m * K + K3 + 2 * t + 1] + 4;
  };
  for (size_t mb = 0; mb < M / BM; ++mb)  // C
    for (size_t kb2 = 0; kb2 < K2 / 32; ++kb2)
      for (size_t mo = 0; mo < BM / 32; ++mo)
        for (size_t ky = 0; ky < 8; ++ky)
          for (size_t pos = 0; pos < 32; ++pos) {
            const size_t m = mb * BM + mo * 32 + perm(pos),
                         t0 = kb2 * 16 + 2 * ky;
            out.push_back(static_cast<uint8_t>(n(m, t0) << 4 | n(m, t0 + 1)));
          }
  return out;
}

// ---- Oracle 2: bitnet.cpp's converter (utils/convert-hf-to-gguf-bitnet.py
// process_tl1, preprocess_three/two_weights_tl2) transliterated: the same
// numpy reshape/transpose chain on a small n-d array.

struct Nd {
  std::vector<size_t> shape;
  std::vector<int64_t> data;  // row-major

  Nd Reshape(std::vector<size_t> s) const {
    size_t n = 1;
    for (size_t x : s) n *= x;
    REQUIRE(n == data.size());
    return {std::move(s), data};
  }
  Nd Transpose(const std::vector<size_t>& axes) const {
    const size_t r = shape.size();
    std::vector<size_t> s(r), in_stride(r);
    size_t st = 1;
    for (size_t i = r; i-- > 0;) {
      in_stride[i] = st;
      st *= shape[i];
    }
    for (size_t i = 0; i < r; ++i) s[i] = shape[axes[i]];
    Nd out{s, std::vector<int64_t>(data.size())};
    std::vector<size_t> idx(r, 0);
    for (size_t flat = 0; flat < data.size(); ++flat) {
      size_t src = 0;
      for (size_t i = 0; i < r; ++i) src += idx[i] * in_stride[axes[i]];
      out.data[flat] = data[src];
      for (size_t i = r; i-- > 0;) {
        if (++idx[i] < s[i]) break;
        idx[i] = 0;
      }
    }
    return out;
  }
  // Python's a[..., k] on the last axis.
  Nd Last(size_t k) const {
    const size_t last = shape.back();
    Nd out{std::vector<size_t>(shape.begin(), shape.end() - 1), {}};
    for (size_t i = k; i < data.size(); i += last) out.data.push_back(data[i]);
    return out;
  }
  // a[:, [0, 1, 2, 3], :] = a[:, [0, 2, 1, 3], :] on a (n, 4, 8) array.
  Nd SwapChunks() const {
    Nd out = *this;
    for (size_t i = 0; i < data.size(); ++i) {
      const size_t c = i / 8 % 4, src_c = c == 1 ? 2 : c == 2 ? 1 : c;
      out.data[i] = data[i - c * 8 + src_c * 8];
    }
    return out;
  }
};

std::vector<uint8_t> Bytes(const Nd& hi, const Nd& lo) {
  std::vector<uint8_t> out(hi.data.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>((hi.data[i] << 4) + lo.data[i]);
  return out;
}

std::vector<uint8_t> ConverterTL1(const std::vector<int8_t>& w, size_t M,
                                  size_t K, size_t BM, size_t BY, size_t bm) {
  const size_t by = 256 / bm;
  Nd x{{M, K / 2}, {}};
  for (size_t i = 0; i < M * K / 2; ++i)
    x.data.push_back(3 * w[2 * i] + w[2 * i + 1] + 4);
  x = x.Reshape({M / BM, BM, K / 2}).Transpose({0, 2, 1});
  x = x.Reshape({M / BM, K / BY, BY / 2, BM}).Transpose({0, 1, 3, 2});
  x = x.Reshape({M / BM, K / BY, BM / bm, bm, BY / 2})
          .Transpose({0, 1, 2, 4, 3});
  x = x.Reshape({M / BM, K / BY, BM / bm, BY / by, by / 2, bm})
          .Transpose({0, 1, 2, 3, 5, 4});
  x = x.Reshape({M / BM, K / BY, BM / bm, BY / by, bm / 16, 16, by / 2})
          .Transpose({0, 1, 2, 3, 4, 6, 5});
  x = x.Reshape({M / BM, K / BY, BM / bm, BY / by, bm / 16, by / 4, 4 / 2, 16})
          .Transpose({0, 1, 2, 3, 4, 5, 7, 6});
  x = x.Reshape({M * K / 16 / 4, 16, 4 / 2});
  return Bytes(x.Last(0), x.Last(1));
}

// preprocess_two_weights_tl2 / the index part of preprocess_three_weights_tl2:
// `codes` is (M, K/g) with g = 2 (pairs) or 3 (triples), by = 4 or 6.
std::vector<uint8_t> ConverterTL2Nibbles(const Nd& codes, size_t M, size_t K,
                                         size_t BM, size_t BY, size_t g,
                                         size_t by) {
  const size_t bm = 32;
  Nd x = codes.Reshape({M / BM, BM, K / g}).Transpose({0, 2, 1});
  x = x.Reshape({M / BM, K / BY, BY / g, BM}).Transpose({0, 1, 3, 2});
  x = x.Reshape({M / BM, K / BY, BM / bm, bm, BY / g})
          .Transpose({0, 1, 2, 4, 3});
  x = x.Reshape({M / BM, K / BY, BM / bm, BY / by, by / g, bm})
          .Transpose({0, 1, 2, 3, 5, 4});
  x = x.Reshape({M / BM, K / BY, BM / bm, BY / by, bm, by / g});
  const auto bytes = Bytes(x.Last(0), x.Last(1));
  Nd b{{M * K / bm / by, bm / 8, 8},
       std::vector<int64_t>(bytes.begin(), bytes.end())};
  b = b.SwapChunks();
  return std::vector<uint8_t>(b.data.begin(), b.data.end());
}

std::vector<uint8_t> ConverterTL2(const std::vector<int8_t>& w, size_t M,
                                  size_t K, size_t BM, size_t BY) {
  const size_t K3 = K / BY * BY, K2 = K - K3, bm = 32, by = 192 / bm;
  Nd three{{M, K3 / 3}, {}}, sign{{M, K3 / 3}, {}}, two{{M, K2 / 2}, {}};
  for (size_t m = 0; m < M; ++m) {
    for (size_t u = 0; u < K3 / 3; ++u) {
      const int v = 9 * w[m * K + 3 * u] + 3 * w[m * K + 3 * u + 1] +
                    w[m * K + 3 * u + 2];
      three.data.push_back(v < 0 ? -v : v);
      sign.data.push_back(v < 0 ? 1 : 0);
    }
    for (size_t t = 0; t < K2 / 2; ++t)
      two.data.push_back(3 * w[m * K + K3 + 2 * t] + w[m * K + K3 + 2 * t + 1] +
                         4);
  }
  std::vector<uint8_t> out = ConverterTL2Nibbles(three, M, K3, BM, BY, 3, by);
  Nd s = sign.Reshape({M / BM, BM, K3 / 3}).Transpose({0, 2, 1});
  s = s.Reshape({M / BM, K3 / BY, BY / 3, BM}).Transpose({0, 1, 3, 2});
  s = s.Reshape({M / BM, K3 / BY, BM / bm, bm, BY / 3})
          .Transpose({0, 1, 2, 4, 3});
  s = s.Reshape({M / BM, K3 / BY, BM / bm, BY / (by * 4), by / 3 * 4, bm})
          .Transpose({0, 1, 2, 3, 5, 4});
  s = s.Reshape({M / BM, K3 / BY, BM / bm, BY / (by * 4), bm, by / 3 * 4})
          .Transpose({0, 1, 2, 3, 5, 4});
  s = s.Reshape({M / BM, K3 / BY, BM / bm, BY / (by * 4), by / 3 * 8, bm / 2});
  // combine_weight += sign_weight[:, :, :, :, i, :] << 15 - i, then
  // view(uint8).
  const size_t groups = s.data.size() / 256;
  for (size_t gi = 0; gi < groups; ++gi) {
    for (size_t j = 0; j < 16; ++j) {
      unsigned word = 0;
      for (size_t i = 0; i < 16; ++i)
        word += unsigned(s.data[gi * 256 + i * 16 + j]) << (15 - i);
      out.push_back(static_cast<uint8_t>(word & 0xFF));
      out.push_back(static_cast<uint8_t>(word >> 8));
    }
  }
  if (K2 > 0) {
    const auto c = ConverterTL2Nibbles(two, M, K2, BM, 32, 2, 4);
    out.insert(out.end(), c.begin(), c.end());
  }
  return out;
}

template <size_t BM, size_t BK, size_t bm>
void CheckTL1Order(size_t M, size_t K, std::mt19937& rng) {
  using F = TL1Layout<BM, BK, bm>;
  INFO("TL1 BM " << BM << " BK " << BK << " bm " << bm << " M " << M << " K "
                 << K);
  const auto w = test::RandomTernary(M * K, rng);
  const auto p = PackVec<F>(w, M, K);
  CHECK(p == SpecTL1(w, M, K, BM, BK, bm));
  CHECK(p == ConverterTL1(w, M, K, BM, BK, bm));
}

template <size_t BM, size_t BK>
void CheckTL2Order(size_t M, size_t K, std::mt19937& rng) {
  using F = TL2Layout<BM, BK>;
  INFO("TL2 BM " << BM << " BK " << BK << " M " << M << " K " << K);
  const auto w = test::RandomTernary(M * K, rng);
  const auto p = PackVec<F>(w, M, K);
  CHECK(p == SpecTL2(w, M, K, BM, BK));
  CHECK(p == ConverterTL2(w, M, K, BM, BK));
}

TEST_CASE("TL1 bytes follow bitnet.cpp's layout (docs/formats.md §5)") {
  std::mt19937 rng(31);
  CheckTL1Order<256, 128, 32>(512, 256, rng);  // bitnet_b1_58-large presets
  CheckTL1Order<128, 64, 64>(256, 192, rng);
  CheckTL1Order<160, 64, 32>(320, 128, rng);   // bitnet_b1_58-3B
  CheckTL1Order<128, 128, 64>(256, 384, rng);  // our default
  CheckTL1Order<32, 8, 32>(64, 16, rng);
}

TEST_CASE("TL2 bytes follow bitnet.cpp's layout (docs/formats.md §6)") {
  std::mt19937 rng(32);
  CheckTL2Order<128, 96>(256, 96 * 2 + 64,
                         rng);               // K2 = 64, as 2560 = 26·96 + 64
  CheckTL2Order<160, 96>(320, 96 * 3, rng);  // bitnet_b1_58-3B, no two part
  CheckTL2Order<256, 192>(256, 192 + 32,
                          rng);  // bitnet_b1_58-large (1536, 1536) BK
  CheckTL2Order<32, 24>(64, 24 * 2 + 96, rng);  // smallest BK; K2 = 96
  CheckTL2Order<64, 48>(64, 32, rng);           // K < BK: two part only
}

TEST_CASE("TL1 codes: all 9 pairs") {
  using F = TL1Layout<32, 8, 32>;
  for (int w0 = -1; w0 <= 1; ++w0) {
    for (int w1 = -1; w1 <= 1; ++w1) {
      // Row 0 holds (w0, w1) at pair 0 and (w1, w0) at pair 1.
      std::vector<int8_t> w(1 * 4);
      w[0] = static_cast<int8_t>(w0), w[1] = static_cast<int8_t>(w1);
      w[2] = static_cast<int8_t>(w1), w[3] = static_cast<int8_t>(w0);
      const auto p = PackVec<F>(w, 1, 4);
      const int n = 3 * w0 + w1 + 4;
      CHECK((p[0] >> 4) == n);
      CHECK((p[0] & 15) == 3 * w1 + w0 + 4);
      CHECK(F::PairNibble(w0, w1) == n);
      CHECK(F::PairW0(n) == w0);
      CHECK(F::PairW1(n) == w1);
      std::vector<int8_t> back(4);
      F::Unpack(p.data(), 1, 4, back.data());
      CHECK(back == w);
    }
  }
  // Padding is the zero pair (nibble 4) everywhere else.
  const std::vector<int8_t> one{1};
  const auto p = PackVec<F>(one, 1, 1);
  CHECK(p[0] == (F::PairNibble(1, 0) << 4 | 4));
  for (size_t i = 1; i < p.size(); ++i) CHECK(p[i] == 0x44);
}

TEST_CASE("TL2 codes: all 27 triples with sign, all 9 pairs of the two part") {
  using F = TL2Small;  // BK = 24: columns 0..23 three part, 24..39 (+16
                       // padding) two part
  const size_t K = 24 + 16;
  for (int code = -13; code <= 13; ++code) {
    const int w0 = (code + 13) / 9 - 1, w1 = (code + 13) / 3 % 3 - 1,
              w2 = (code + 13) % 3 - 1;
    REQUIRE(F::TripleCode(w0, w1, w2) == code);
    // Row 17 (upper half of the chunk: odd sign bits) holds the triple at
    // u = 0 (high nibble) and u = 3 (low nibble, sign bit 15 − (2·3 + 1)).
    std::vector<int8_t> w(32 * K, 0);
    int8_t* row = w.data() + 17 * K;
    row[0] = static_cast<int8_t>(w0), row[1] = static_cast<int8_t>(w1);
    row[2] = static_cast<int8_t>(w2);
    row[9] = static_cast<int8_t>(w0), row[10] = static_cast<int8_t>(w1);
    row[11] = static_cast<int8_t>(w2);
    const auto p = PackVec<F>(w, 32, K);
    const int mag = code < 0 ? -code : code;
    const size_t pos = F::RowOfStepByte(17);  // 17 → byte 9 (chunk swap)
    CHECK(pos == 9);
    CHECK((p[pos] >> 4) == mag);       // step 0: triples 0, 1
    CHECK((p[32 + pos] & 15) == mag);  // step 1: triples 2, 3
    const size_t signs = F::SignsBegin(32, 24);
    const unsigned word = p[signs + 2 * 1] | p[signs + 2 * 1 + 1]
                                                 << 8;  // j = 17 % 16
    CHECK(((word >> 14) & 1) == (code < 0));            // i = 2·0 + 1
    CHECK(((word >> 8) & 1) == (code < 0));             // i = 2·3 + 1
    CHECK((word & ~((1u << 14) | (1u << 8))) == 0);
    const int sign = code < 0 ? -1 : 1;
    CHECK(sign * F::TripleDigit(mag, 0) == w0);
    CHECK(sign * F::TripleDigit(mag, 1) == w1);
    CHECK(sign * F::TripleDigit(mag, 2) == w2);
    std::vector<int8_t> back(w.size());
    F::Unpack(p.data(), 32, K, back.data());
    CHECK(back == w);
  }
  for (int w0 = -1; w0 <= 1; ++w0) {
    for (int w1 = -1; w1 <= 1; ++w1) {
      std::vector<int8_t> w(32 * K, 0);
      w[5 * K + 24 + 2] = static_cast<int8_t>(w0);  // pair 1 of the two part
      w[5 * K + 24 + 3] = static_cast<int8_t>(w1);
      const auto p = PackVec<F>(w, 32, K);
      const size_t two = F::TwoBegin(32, 24);
      CHECK((p[two + F::RowOfStepByte(5)] & 15) == 3 * w0 + w1 + 4);
      CHECK((p[two + F::RowOfStepByte(5)] >> 4) == 4);
      std::vector<int8_t> back(w.size());
      F::Unpack(p.data(), 32, K, back.data());
      CHECK(back == w);
    }
  }
}

}  // namespace
}  // namespace ternary::quant
