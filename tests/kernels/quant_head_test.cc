// ggml Q6_K / Q4_0 LM head: the quantizers against ggml's reference
// quantizers (hand-checked blocks and bytes ggml wrote), BlockMatrix views,
// and BlockMatMul on every target against the scalar reference (bit for
// bit) and against a float64 dot product (within the activation rounding).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "ternary/kernels/dense.h"
#include "ternary/kernels/matmul.h"
#include "ternary/nn/embedding.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/util/half.h"
#include "test_util.h"

namespace ternary {
namespace {

std::vector<uint8_t> Hex(std::string_view s) {
  std::vector<uint8_t> v(s.size() / 2);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<uint8_t>(
        std::stoi(std::string(s.substr(2 * i, 2)), nullptr, 16));
  return v;
}

uint64_t Fnv1a(std::span<const uint8_t> b) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t c : b) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The two inputs the expected bytes below were made from (exact floats).
float SmallInput(int i) {
  return static_cast<float>((i * 37 + 11) % 61 - 30) *
         (1.0f + static_cast<float>((i / 16) % 4)) / 256.0f;
}
std::vector<float> LargeInput(size_t n) {
  std::vector<float> v(n);
  uint32_t s = 12345;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    const int32_t q = static_cast<int32_t>(s) >> 8;
    v[i] =
        std::ldexp(static_cast<float>(q), -30 - static_cast<int>(i / 16 % 8));
    if (i / 7 % 13 == 0) v[i] = 0.0f;
  }
  return v;
}

// Uniform in [-2, 2) (see dense_test.cc), times a per-row spread so that the
// Q6_K groups and Q4_0 blocks get different scales.
std::vector<float> RandomFloats(size_t n, std::mt19937& rng) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] =
        static_cast<float>(static_cast<int64_t>(rng()) - (int64_t{1} << 31)) *
        0x1p-30f * (1.0f + static_cast<float>(i / 16 % 5));
  }
  return v;
}

TEST_CASE("QuantizeRowQ4_0: hand-checked blocks") {
  // d = max / -8 with max the value of largest magnitude (first on ties).
  std::vector<float> x(96, 0.0f);
  for (size_t j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16) * 0.25f - 2;
  x[32 + 5] = 3.0f;  // block 1: positive max, negative d; block 2: zeros
  std::vector<uint8_t> q(3 * 18);
  quant::QuantizeRowQ4_0(x, q);
  CHECK(q[0] == 0x00);  // fp16 0.25 = 0x3400
  CHECK(q[1] == 0x34);
  for (size_t j = 0; j < 16; ++j) CHECK(q[2 + j] == (j | j << 4));
  CHECK(q[18] == 0x00);  // fp16 -0.375 = 0xB600
  CHECK(q[19] == 0xB6);
  for (size_t j = 0; j < 16; ++j) CHECK(q[20 + j] == (j == 5 ? 0x80 : 0x88));
  CHECK(q[36] == 0x00);  // d = 0 / -8 = -0 (fp16 0x8000), every code 8
  CHECK(q[37] == 0x80);
  for (size_t j = 0; j < 16; ++j) CHECK(q[38 + j] == 0x88);
  std::vector<float> y(96);
  quant::DequantizeRowQ4_0(q, y);
  CHECK(y == x);  // every value is d times an integer in [-8, 7]
}

TEST_CASE("QuantizeRowQ6_K: hand-checked blocks") {
  std::vector<float> x(512, 0.0f);
  x[0] = 1.0f;  // block 0: one value; block 1: all zero
  std::vector<uint8_t> q(2 * 210);
  quant::QuantizeRowQ6_K(x, q);
  // Group 0: make_qx_quants keeps scale -1/32 (level -32 for the 1); the
  // other groups are zero (scale 0, levels 0). max_scale = -1/32, so
  // iscale = 4096, d = fp16(2^-12) = 0x0C00, scales[0] = -128, others 0.
  // Requantized with d·(-128) = -1/32, group 0 is level 0 for the 1 and 32
  // (the zero level) for the rest; groups 1-15 keep level 0 (scale 0).
  // ql = 0 everywhere; qh[l] = level[l] >> 4 = 2 for l in 1..15.
  std::vector<uint8_t> want(210, 0);
  for (size_t l = 1; l < 16; ++l) want[128 + l] = 2;
  want[192] = 0x80;
  want[208] = 0x00;
  want[209] = 0x0C;
  CHECK(std::vector<uint8_t>(q.begin(), q.begin() + 210) == want);
  CHECK(std::vector<uint8_t>(q.begin() + 210, q.end()) ==
        std::vector<uint8_t>(210, 0));
  std::vector<float> y(512);
  quant::DequantizeRowQ6_K(q, y);
  CHECK(y == x);
}

// Bytes of ggml-org/llama.cpp's quantize_row_q6_K_ref / quantize_row_q4_0_ref
// (ggml/src/ggml-quants.c, compiled verbatim by gcc -O2 -ffp-contract=off,
// fp16 by F16C as ggml's x86 builds do) for SmallInput / LargeInput.
TEST_CASE("ggml's reference quantizers: same bytes") {
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = SmallInput(i);
  std::vector<uint8_t> q6(210), q4(8 * 18);
  quant::QuantizeRowQ6_K(x, q6);
  quant::QuantizeRowQ4_0(x, q4);
  CHECK(q6 ==
        Hex("1c73ea51c73e950c73e950b72e950b7227b059e27b059e37c059e37c15ae37"
            "c1b71c95fa70d93eb71d92fb50d93fb41d8df46fc930ab128de75ec930aa"
            "157ce7b7eba0ea1fd91ec20d41fc30f42f632eae27c059e38c05ae37c15a"
            "f37c159e381dc90cb0fc3feb2fd21e520e41f531841c73fa51c83ea50c73"
            "ea51c72ea50c7348238d34d248239d74d249279d74e28918a247ddb618e1"
            "47ddb208e1471cb208238d74d248239d74e28927de78e28d37ed4bd1be04"
            "ed4b10be04e17b10be47e1e040a678e040a380e340ac80e43eaa83b487"));
  CHECK(std::vector<uint8_t>(q4.begin(), q4.begin() + 36) ==
        Hex("80a72b86e95cb71a75e94ca71a75d83ba70a40abb71c84e94eb61b74e94ea60b"
            "73d83da6"));
  const auto big = LargeInput(256 * 64);
  std::vector<uint8_t> b6(64 * 210), b4(64 * 8 * 18);
  quant::QuantizeRowQ6_K(big, b6);
  quant::QuantizeRowQ4_0(big, b4);
  CHECK(Fnv1a(b6) == 0x2c7b9469f570aa1bull);
  CHECK(Fnv1a(b4) == 0x2bbe78931384d851ull);
}

TEST_CASE("quantizers refuse non-finite values and partial blocks") {
  std::vector<float> x(256, 0.0f);
  std::vector<uint8_t> q6(210), q4(8 * 18);
  x[3] = NAN;
  CHECK_THROWS_AS(quant::QuantizeRowQ6_K(x, q6), UsageError);
  CHECK_THROWS_AS(quant::QuantizeRowQ4_0(x, q4), UsageError);
  x[3] = 0.0f;
  CHECK_THROWS_AS(quant::QuantizeRowQ6_K(std::span(x).first(128), q6),
                  ShapeError);
  CHECK_THROWS_AS(quant::QuantizeRowQ4_0(x, std::span(q4).first(18)),
                  ShapeError);
}

TEST_CASE_TEMPLATE("BlockMatrix: rows, padding and views", B, quant::BlockQ6_K,
                   quant::BlockQ4_0) {
  std::mt19937 rng(21);
  for (size_t cols : {32, 96, 256, 384, 512}) {
    const size_t rows = 5;
    INFO("cols " << cols);
    const auto wf = RandomFloats(rows * cols, rng);
    const auto m =
        BlockMatrix<B>::Quantize(rows, cols, [&](size_t r, float* o) {
          std::copy_n(wf.data() + r * cols, cols, o);
        });
    const size_t padded =
        (cols + B::kElements - 1) / B::kElements * B::kElements;
    CHECK(m.padded_cols() == padded);
    CHECK(m.row_bytes() == padded / B::kElements * B::kBytes);
    CHECK(m.bytes() == rows * m.row_bytes());
    double err2 = 0, val2 = 0;
    for (size_t r = 0; r < rows; ++r) {
      // A row is ggml's quantizer on the zero-padded row.
      std::vector<float> in(padded, 0.0f), dq(cols);
      std::copy_n(wf.data() + r * cols, cols, in.data());
      std::vector<uint8_t> want(m.row_bytes());
      BlockFormat<B>::Quantize(in, want);
      CHECK(std::vector<uint8_t>(m.row(r), m.row(r) + m.row_bytes()) == want);
      m.RowToFloat(r, dq.data());
      std::vector<float> full(padded);
      BlockFormat<B>::Dequantize(want, full);
      for (size_t i = 0; i < cols; ++i) {
        CHECK(dq[i] == full[i]);
        err2 += (double{dq[i]} - wf[r * cols + i]) * (dq[i] - wf[r * cols + i]);
        val2 += double{wf[r * cols + i]} * wf[r * cols + i];
      }
    }
    // Relative RMS error of a uniform distribution: about step/√12 over
    // max/√3, step = 2·max/levels: 1/levels (64 for Q6_K, 16 for Q4_0);
    // twice that as the bound.
    const double levels = std::is_same_v<B, quant::BlockQ6_K> ? 64 : 16;
    CHECK(std::sqrt(err2 / val2) < 2.0 / levels);
    if (cols % B::kElements == 0) {
      const auto v = BlockMatrix<B>::View(
          std::span<const uint8_t>(m.data(), m.bytes()), rows, cols);
      CHECK(v.data() == m.data());
      CHECK(v.row(rows - 1) == m.row(rows - 1));
      const auto c = BlockMatrix<B>::FromBytes(
          std::span<const uint8_t>(m.data(), m.bytes()), rows, cols);
      CHECK(c.data() != m.data());
      CHECK(std::equal(c.data(), c.data() + c.bytes(), m.data()));
      CHECK_THROWS_AS(
          BlockMatrix<B>::View(
              std::span<const uint8_t>(m.data(), m.bytes() - 1), rows, cols),
          ShapeError);
    } else {
      CHECK_THROWS_AS(
          BlockMatrix<B>::View(std::span<const uint8_t>(m.data(), m.bytes()),
                               rows, cols),
          ShapeError);
    }
  }
}

TEST_CASE_TEMPLATE("BlockMatMul equals the scalar reference on every target", B,
                   quant::BlockQ6_K, quant::BlockQ4_0) {
  std::mt19937 rng(22);
  for (size_t cols : {32, 96, 256, 384, 512, 2560}) {
    for (size_t rows : {1, 3, 4, 5, 9, 67}) {
      for (size_t n : {1, 2, 5}) {
        INFO("rows " << rows << " cols " << cols << " tokens " << n);
        const auto wf = RandomFloats(rows * cols, rng);
        const auto w =
            BlockMatrix<B>::Quantize(rows, cols, [&](size_t r, float* o) {
              std::copy_n(wf.data() + r * cols, cols, o);
            });
        auto xf = RandomFloats(n * cols, rng);
        // Extreme codes too: a token of ±max (codes ±127).
        if (n > 1)
          for (size_t i = 0; i < cols; ++i) xf[cols + i] = i % 2 ? 3.0f : -3.0f;
        QuantizedActs x;
        QuantizeActs<quant::Int8AbsMax>(xf.data(), n, cols, cols, x);
        const size_t ldy = rows + 3;
        std::vector<float> want(n * ldy, -1.0f);
        BlockMatMul<B, simd::Reference>(w, x, want.data(), ldy);
        // The reference against a float64 dot with the float activations:
        // x = q / s within 0.5/s per value (plus float rounding of x·s), the
        // sum in double, one rounding to float at the end.
        for (size_t t = 0; t < n; ++t) {
          const double s = x.scale(t).scale;
          std::vector<float> row(cols);
          for (size_t o = 0; o < rows; ++o) {
            w.RowToFloat(o, row.data());
            double dot = 0, sum_abs = 0;
            for (size_t i = 0; i < cols; ++i) {
              dot += double{row[i]} * xf[t * cols + i];
              sum_abs += std::fabs(double{row[i]});
            }
            const double got = want[t * ldy + o];
            REQUIRE(std::fabs(got - dot) <=
                    0.5001 / s * sum_abs + 0x1p-23 * std::fabs(dot) + 1e-30);
          }
          for (size_t o = rows; o < ldy; ++o) CHECK(want[t * ldy + o] == -1.0f);
        }
        test::ForEachTarget([&](int64_t) {
          std::vector<float> y(n * ldy, -1.0f);
          BlockMatMul(w, x, y.data(), ldy);
          CHECK(y == want);
        });
      }
    }
  }
}

// Arbitrary Q6_K bytes: every level 0..63 and every int8 group scale
// (-128 and 127 included) in every group position, against int8 codes up
// to the extremes -128 and 127, where a kernel's i16 pair sums and scale
// products are closest to overflow. The all-63 block with scale -128
// against codes of -128 is the largest product a block can hold.
TEST_CASE("BlockMatMul<Q6_K> on arbitrary blocks: every level and scale") {
  using B = quant::BlockQ6_K;
  std::mt19937 rng(25);
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t cols : {256, 512, 2560}) {
    const size_t rows = 9, n = 3, blocks = cols / B::kElements;
    std::vector<uint8_t> bytes(rows * blocks * B::kBytes);
    for (auto& b : bytes) b = static_cast<uint8_t>(byte(rng));
    for (size_t blk = 0; blk < rows * blocks; ++blk) {
      uint8_t* p = bytes.data() + blk * B::kBytes;
      if (blk % 5 == 0) {  // all levels 63, every scale -128 or 127
        std::fill_n(p, 192, uint8_t{0xFF});
        std::fill_n(p + 192, 16, static_cast<uint8_t>(blk % 2 ? 0x80 : 0x7F));
      }
      // A finite fp16 d in [2^-10, 2): exponent 5..15, random mantissa.
      const uint16_t d = static_cast<uint16_t>(
          (5 + blk % 11) << 10 | (byte(rng) << 2 | byte(rng) >> 6));
      p[208] = static_cast<uint8_t>(d & 0xFF);
      p[209] = static_cast<uint8_t>(d >> 8);
    }
    const auto w = BlockMatrix<B>::FromBytes(bytes, rows, cols);
    QuantizedActs x;
    x.Resize(n, cols, 128);
    for (size_t i = 0; i < cols; ++i) {
      x.row(0)[i] = static_cast<int8_t>(byte(rng) - 128);
      x.row(1)[i] = -128;
      x.row(2)[i] = static_cast<int8_t>(i % 2 ? 127 : -128);
    }
    for (size_t t = 0; t < n; ++t) x.SetScale(t, {0.75f + t, 0});
    x.RecomputeSums();
    INFO("cols " << cols);
    std::vector<float> want(n * rows);
    BlockMatMul<B, simd::Reference>(w, x, want.data(), rows);
    // The reference itself against the block sums in exact integers.
    for (size_t t = 0; t < n; ++t) {
      for (size_t r = 0; r < rows; ++r) {
        double acc = 0;
        for (size_t b = 0; b < blocks; ++b) {
          const uint8_t* p = bytes.data() + (r * blocks + b) * B::kBytes;
          int64_t sum = 0;
          for (size_t v = 0; v < B::kElements; ++v) {
            const size_t h = v / 128, k = v % 128 / 32, i = v % 32;
            const uint8_t ql = p[64 * h + 32 * (k & 1) + i];
            const int lo = k < 2 ? ql & 15 : ql >> 4;
            const int hi = p[128 + 32 * h + i] >> (2 * k) & 3;
            const int scale = static_cast<int8_t>(p[192 + v / 16]);
            sum += int64_t{scale} * ((lo | hi << 4) - 32) *
                   x.row(t)[b * B::kElements + v];
          }
          acc +=
              double{F16ToFloat(static_cast<uint16_t>(p[208] | p[209] << 8))} *
              static_cast<double>(sum);
        }
        CHECK(want[t * rows + r] ==
              static_cast<float>(acc / double{x.scale(t).scale}));
      }
    }
    test::ForEachTarget([&](int64_t) {
      std::vector<float> y(n * rows, -1.0f);
      BlockMatMul(w, x, y.data(), rows);
      CHECK(y == want);
    });
  }
}

TEST_CASE_TEMPLATE("BlockMatMul splits rows across threads", B,
                   quant::BlockQ6_K, quant::BlockQ4_0) {
  std::mt19937 rng(23);
  const size_t rows = 4099, cols = 512;
  const auto wf = RandomFloats(rows * cols, rng);
  const auto w = BlockMatrix<B>::Quantize(rows, cols, [&](size_t r, float* o) {
    std::copy_n(wf.data() + r * cols, cols, o);
  });
  const auto xf = RandomFloats(2 * cols, rng);
  QuantizedActs x;
  QuantizeActs<quant::Int8AbsMax>(xf.data(), 2, cols, cols, x);
  std::vector<float> one(2 * rows), many(2 * rows), ref(2 * rows);
  BlockMatMul<B, simd::Reference>(w, x, ref.data(), rows);
  BlockMatMul(w, x, one.data(), rows);
  ThreadPool pool(3);
  BlockMatMul(w, x, many.data(), rows, &pool);
  CHECK(one == ref);
  CHECK(many == ref);
}

// The tied table: Lookup decodes rows as ggml does, Project is BlockMatMul
// on the int8 absmax codes of h, and a View of the same bytes is the same
// table.
TEST_CASE("Embedding with q6_k / q4_0 tables") {
  std::mt19937 rng(24);
  const size_t vocab = 37, dim = 384;
  const auto wf = RandomFloats(vocab * dim, rng);
  for (auto p : {nn::HeadPrecision::kQ6K, nn::HeadPrecision::kQ4_0}) {
    INFO(nn::HeadPrecisionName(p));
    AlignedBuffer<float> table(vocab * dim);
    std::copy(wf.begin(), wf.end(), table.begin());
    const nn::Embedding<> emb(std::move(table), vocab, dim, p);
    CHECK(emb.precision() == p);
    CHECK(nn::ParseHeadPrecision(nn::HeadPrecisionName(p)) == p);
    const std::vector<int32_t> ids = {0, 36, 5};
    std::vector<float> rows(ids.size() * dim);
    emb.Lookup(ids, rows.data(), dim);
    const auto h = RandomFloats(2 * dim, rng);
    std::vector<float> logits(2 * vocab), want(2 * vocab);
    emb.Project(h.data(), 2, dim, logits.data(), vocab);
    QuantizedActs x;
    QuantizeActs<quant::Int8AbsMax>(h.data(), 2, dim, dim, x);
    auto check = [&](const auto& m) {
      CHECK(emb.bytes() == m.bytes());
      std::vector<float> row(dim);
      for (size_t t = 0; t < ids.size(); ++t) {
        m.RowToFloat(static_cast<size_t>(ids[t]), row.data());
        CHECK(std::equal(row.begin(), row.end(), rows.begin() + t * dim));
      }
      BlockMatMul<typename std::decay_t<decltype(m)>::Block, simd::Reference>(
          m, x, want.data(), vocab);
      CHECK(logits == want);
    };
    if (p == nn::HeadPrecision::kQ6K) {
      check(Q6KMatrix::Quantize(vocab, dim, [&](size_t r, float* o) {
        std::copy_n(wf.data() + r * dim, dim, o);
      }));
    } else {
      const auto m = Q4_0Matrix::Quantize(vocab, dim, [&](size_t r, float* o) {
        std::copy_n(wf.data() + r * dim, dim, o);
      });
      check(m);
      const nn::Embedding<> view(Q4_0Matrix::View(
          std::span<const uint8_t>(m.data(), m.bytes()), vocab, dim));
      CHECK(view.precision() == nn::HeadPrecision::kQ4_0);
      std::vector<float> again(2 * vocab);
      view.Project(h.data(), 2, dim, again.data(), vocab);
      CHECK(again == logits);
    }
  }
}

TEST_CASE("BlockMatMul refuses mismatched shapes") {
  const auto w = Q6KMatrix::Quantize(
      4, 256, [](size_t, float* o) { std::fill_n(o, 256, 1.0f); });
  QuantizedActs x;
  x.Resize(1, 255);
  std::vector<float> y(4);
  CHECK_THROWS_AS(BlockMatMul(w, x, y.data(), 4), ShapeError);
  x.Resize(1, 256);
  CHECK_THROWS_AS(BlockMatMul(w, x, y.data(), 3), ShapeError);
}

}  // namespace
}  // namespace ternary
