// ggml block formats (ternary/quant/ggml_blocks.h): worked examples,
// exhaustive round trips, and the real files decoded against each other and
// against the bf16 master weights.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gguf_test_util.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_types.h"
#include "ternary/io/gguf_writer.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"

namespace ternary {
namespace {

using gguf_test::DataDir;
using io::GgmlType;
using io::GgufFile;
using io::GgufTensorInfo;

std::vector<int8_t> RandomTernary(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-1, 1);
  std::vector<int8_t> t(n);
  for (int8_t& v : t) v = static_cast<int8_t>(dist(rng));
  return t;
}

// ---------------------------------------------------------------------------
// I2_S

TEST_CASE("I2_S: docs/formats.md §4.2 example 0x1A and the payload layout") {
  std::vector<int8_t> t(256, 0);
  t[0] = -1;
  t[32] = 0;
  t[64] = 1;
  t[96] = 1;
  t[128 + 5] = 1;  // block 1, byte 32 + 5, shift 6
  std::vector<uint8_t> p(quant::I2SPayload::Bytes(t.size()));
  CHECK(p.size() == 256 / 4 + 32);
  quant::EncodeI2S(t, 0.75f, p);
  CHECK(p[0] == 0x1A);
  for (size_t i = 1; i < 64; ++i) CHECK(p[i] == (i == 37 ? 0x95 : 0x55));
  const uint8_t alpha[4] = {0x00, 0x00, 0x40, 0x3f};  // 0.75f little-endian
  CHECK(std::equal(alpha, alpha + 4, &p[64]));
  for (size_t i = 68; i < 96; ++i) CHECK(p[i] == 0);
  std::vector<int8_t> back(256);
  CHECK(quant::DecodeI2S(p, back, "x") == 0.75f);
  CHECK(back == t);

  // Through the writer: the tensor's bytes in the file are exactly these.
  io::GgufWriter w;
  w.AddTensor("blk.0.attn_q.weight", {128, 2}, GgmlType::kI2_S, p);
  const auto bytes = w.Serialize();
  const GgufFile g = GgufFile::Parse(bytes, "i2s.gguf");
  const auto d = g.TensorData(g.tensors()[0]);
  CHECK(std::equal(d.begin(), d.end(), p.begin(), p.end()));
  CHECK(d[0] == 0x1A);
}

// docs/formats.md §4.3, written out here: bitnet.cpp's Arm builds cut the
// flattened tensor into blocks of 64 values; element j of block b is in byte
// 16b + j mod 16 at shift 6 − 2·⌊j / 16⌋ (the x86 layout with 16 for 32).
TEST_CASE("I2_S Arm layout: 64-value blocks decode element by element") {
  const size_t n = 64 * 5;  // not a multiple of 128: Arm-only
  const std::vector<int8_t> t = RandomTernary(n, 41);
  std::vector<uint8_t> p(quant::I2SPayload::Bytes(n), 0xEE);  // stale filler
  std::fill_n(p.begin(), n / 4, 0);
  for (size_t i = 0; i < n; ++i) {
    const size_t b = i / 64, j = i % 64;
    p[16 * b + j % 16] |=
        static_cast<uint8_t>((t[i] + 1) << (6 - 2 * (j / 16)));
  }
  const uint8_t alpha[4] = {0x00, 0x00, 0xc0, 0x3e};  // 0.375f
  std::copy_n(alpha, 4, &p[n / 4]);
  std::vector<int8_t> back(n);
  CHECK(quant::DecodeI2S(p, back, "x", quant::I2SLayout::kArm) == 0.375f);
  CHECK(back == t);
  // Read as the x86 layout it needs whole 128-blocks: a shape error names it.
  CHECK_THROWS_WITH_AS(quant::DecodeI2S(p, back, "blk.0.attn_q.weight"),
                       "blk.0.attn_q.weight: I2_S (x86 layout) needs a "
                       "multiple of 128 values, got 320",
                       ShapeError);
  // With 128-multiples both layouts read, as different weights: nothing in
  // the data tells them apart.
  const std::vector<int8_t> t2 = RandomTernary(256, 42);
  std::vector<uint8_t> p2(quant::I2SPayload::Bytes(256));
  quant::EncodeI2S(t2, 1.0f, p2);
  std::vector<int8_t> arm(256);
  quant::DecodeI2S(p2, arm, "x", quant::I2SLayout::kArm);
  CHECK(arm != t2);
  // Code 3 is named at its element in the Arm order: byte 16 + 3 at shift
  // 4 is element 64 + 16 + 3 (block 1, plane 1).
  p[16 + 3] |= 0x30;
  CHECK_THROWS_WITH_AS(
      quant::DecodeI2S(p, back, "blk.1.ffn_down.weight",
                       quant::I2SLayout::kArm),
      doctest::Contains("blk.1.ffn_down.weight: corrupt I2_S data: code 3 "
                        "(not ternary) at element 83"),
      FormatError);
}

TEST_CASE("I2_S: every code quadruple round trips, code 3 is corrupt") {
  // 81 quadruples, one per byte position across blocks.
  std::vector<int8_t> t(128 * 3, 0);
  for (int q = 0; q < 81; ++q) {
    const size_t b = q / 32, p = q % 32;
    int v = q;
    for (int j = 3; j >= 0; --j) {
      t[128 * b + 32 * j + p] = static_cast<int8_t>(v % 3 - 1);
      v /= 3;
    }
  }
  std::vector<uint8_t> p(quant::I2SPayload::Bytes(t.size()));
  quant::EncodeI2S(t, 1.0f, p);
  for (int q = 0; q < 81; ++q) {
    const size_t b = q / 32, pos = q % 32;
    // Codes are the base-3 digits of q (first element most significant),
    // each in its own 2-bit field: c0 << 6 | c1 << 4 | c2 << 2 | c3.
    const uint8_t expect = static_cast<uint8_t>(
        (q / 27) << 6 | (q / 9 % 3) << 4 | (q / 3 % 3) << 2 | (q % 3));
    CHECK(p[32 * b + pos] == expect);
  }
  std::vector<int8_t> back(t.size());
  quant::DecodeI2S(p, back, "x");
  CHECK(back == t);

  p[7] = 0xC0 | p[7];  // element 7 (shift 6) := code 3
  CHECK_THROWS_WITH_AS(
      quant::DecodeI2S(p, back, "blk.3.ffn_up.weight"),
      doctest::Contains("blk.3.ffn_up.weight: corrupt I2_S data: code 3 "
                        "(not ternary) at element 7"),
      FormatError);
  CHECK_THROWS_AS(quant::DecodeI2S(p, std::span<int8_t>(back.data(), 100), "x"),
                  ShapeError);
  std::vector<uint8_t> small(quant::I2SPayload::Bytes(128));
  CHECK_THROWS_AS(quant::EncodeI2S(std::vector<int8_t>(128, 2), 1.0f, small),
                  UsageError);
}

// ---------------------------------------------------------------------------
// TQ1_0 / TQ2_0

TEST_CASE("TQ1_0: trits (1,-1,0,1,1) pack to 189 (docs/formats.md §7)") {
  std::vector<int8_t> t(256, 0);
  const int8_t w[5] = {1, -1, 0, 1, 1};
  for (int n = 0; n < 5; ++n) t[32 * n] = w[n];  // qs[0] holds 0, 32, ..., 128
  std::vector<uint8_t> b(54);
  const float d = 0.5f;
  quant::EncodeTQ1_0(t, std::span<const float>(&d, 1), b);
  CHECK(b[0] == 189);
  CHECK(b[1] ==
        quant::ggml_detail::PackTrits(121));  // all zeros: trits 1,1,1,1,1
  CHECK(b[52] == 0x00);                       // fp16 0.5 = 0x3800
  CHECK(b[53] == 0x38);
  std::vector<int8_t> back(256);
  float d_back = 0;
  quant::DecodeTQ1_0(b, back, std::span<float>(&d_back, 1));
  CHECK(back == t);
  CHECK(d_back == 0.5f);
}

TEST_CASE(
    "TQ1_0 / TQ2_0: random blocks round trip and match the float quantizer") {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto t = RandomTernary(256 * 5, seed);
    const std::vector<float> d = {0.25f, 1e-3f, 0.0f, 3.0f, 0.0400390625f};
    std::vector<uint8_t> b1(5 * 54), b2(5 * 66);
    quant::EncodeTQ1_0(t, d, b1);
    quant::EncodeTQ2_0(t, d, b2);
    std::vector<int8_t> t1(t.size()), t2(t.size());
    std::vector<float> d1(5), d2(5);
    quant::DecodeTQ1_0(b1, t1, d1);
    quant::DecodeTQ2_0(b2, t2, d2, "x");
    CHECK(t1 == t);
    CHECK(t2 == t);
    for (size_t i = 0; i < 5; ++i) {
      CHECK(d1[i] == F16ToFloat(FloatToF16(d[i])));
      CHECK(d2[i] == d1[i]);
    }
    // From floats t·α, as llama.cpp sees fake-ternarised weights.
    const float alpha = 0.0398902409f;
    std::vector<float> x(t.size());
    for (size_t i = 0; i < t.size(); ++i)
      x[i] = static_cast<float>(t[i]) * alpha;
    std::vector<uint8_t> q1(b1.size()), q2(b2.size()), e1(b1.size()),
        e2(b2.size());
    quant::QuantizeRowTQ1_0(x, q1);
    quant::QuantizeRowTQ2_0(x, q2);
    quant::EncodeTQ1_0(t, alpha, e1);
    quant::EncodeTQ2_0(t, alpha, e2);
    CHECK(q1 == e1);
    CHECK(q2 == e2);
    quant::DecodeTQ2_0(q2, t2, d2, "x");
    CHECK(t2 == t);
    CHECK(d2[0] == F16ToFloat(FloatToF16(alpha)));
  }
  // llama.cpp on general floats: codes from the float32 block max, rounded
  // half away from zero; an all-zero block stores d = 0 and codes 1.
  std::vector<float> x(512, 0.0f);
  x[0] = 2.0f;
  x[1] = 1.0f;    // exactly 0.5 · max → +1 (lroundf rounds half away)
  x[2] = -1.0f;   // → −1
  x[3] = 0.999f;  // → 0
  std::vector<uint8_t> q(2 * 66);
  quant::QuantizeRowTQ2_0(x, q);
  std::vector<int8_t> t(512);
  std::vector<float> d(2);
  quant::DecodeTQ2_0(q, t, d, "x");
  CHECK(t[0] == 1);
  CHECK(t[1] == 1);
  CHECK(t[2] == -1);
  CHECK(t[3] == 0);
  CHECK(d[0] == 2.0f);
  CHECK(d[1] == 0.0f);
  for (size_t i = 256; i < 512; ++i) CHECK(t[i] == 0);
  CHECK_THROWS_AS(quant::QuantizeRowTQ2_0(std::vector<float>(512, NAN), q),
                  UsageError);
  // A subnormal block max makes 1/d infinite: codes stay ternary.
  std::vector<float> tiny(512, 0.0f);
  tiny[0] = 1e-45f;
  tiny[300] = -1e-45f;
  quant::QuantizeRowTQ2_0(tiny, q);
  quant::DecodeTQ2_0(q, t, d, "x");
  CHECK(t[0] == 1);
  CHECK(t[300] == -1);
  CHECK(t[1] == 0);
  std::vector<uint8_t> q8(34 * 16);
  quant::QuantizeRowQ8_0(tiny, q8);
  CHECK(q8[2] == 0);  // d = 1e-45/127 underflows to 0: all codes 0
}

TEST_CASE("TQ2_0: code 3 is corrupt, wrong sizes are ShapeErrors") {
  std::vector<uint8_t> b(66, 0x55);
  b[33] = 0x55 | 0x30;  // byte 32+1, l = 2 → element 128 + 64 + 1
  std::vector<int8_t> t(256);
  float d;
  CHECK_THROWS_WITH_AS(
      quant::DecodeTQ2_0(b, t, std::span<float>(&d, 1), "w"),
      doctest::Contains("w: corrupt TQ2_0 data: code 3 (not ternary) at "
                        "element 193"),
      FormatError);
  CHECK_THROWS_AS(quant::DecodeTQ2_0(std::span<const uint8_t>(b.data(), 65), t,
                                     std::span<float>(&d, 1), "w"),
                  ShapeError);
  CHECK_THROWS_AS(quant::DecodeTQ1_0(b, t, std::span<float>(&d, 1)),
                  ShapeError);
}

// ---------------------------------------------------------------------------
// IQ1_BN / IQ2_BN

TEST_CASE("IQ1_BN: trits least significant first → 240 (docs/formats.md §8)") {
  // Row of 64: fp16 d, then ql[12] and extra. Group 0, k = 0 holds values
  // 0..4 = (1,−1,0,1,1) → trits (2,0,1,2,2) → I = 227 → byte 240.
  std::vector<uint8_t> row(2 + 13, 0);
  row[0] = 0x00;
  row[1] = 0x3c;                                              // fp16 1.0
  const uint8_t zeros5 = quant::ggml_detail::PackTrits(121);  // five 0 values
  for (size_t i = 0; i < 12; ++i) row[2 + i] = zeros5;
  row[2] = 240;
  // extra: value 16g+15 is trit g; make value 31 (g = 1) = −1 → trit 0.
  row[14] = quant::ggml_detail::PackTrits(40 - 3);
  std::vector<int8_t> t(64);
  CHECK(quant::DecodeIQ1_BNRow(row, t) == 1.0f);
  const int8_t head[5] = {1, -1, 0, 1, 1};
  for (size_t i = 0; i < 64; ++i) {
    CAPTURE(i);
    CHECK(t[i] == (i < 5 ? head[i] : i == 31 ? -1 : 0));
  }
}

TEST_CASE("IQ2_BN: byte j holds values j, j+16, j+32, j+48") {
  std::vector<uint8_t> row(4 + 16, 0x55);
  const float d = 0.125f;
  std::memcpy(row.data(), &d, 4);
  row[4 + 3] = 0x55 ^ 0x01 ^ 0x80;  // value 3: code 0 (−1); value 51: code 3
  std::vector<int8_t> t(64);
  CHECK_THROWS_WITH_AS(
      quant::DecodeIQ2_BNRow(row, t, "w"),
      doctest::Contains("w: corrupt IQ2_BN data: code 3 (not ternary) at "
                        "element 51"),
      FormatError);
  row[4 + 3] = 0x55 ^ 0x01 ^ 0xC0;  // value 51: code 2 (+1)
  CHECK(quant::DecodeIQ2_BNRow(row, t, "w") == 0.125f);
  for (size_t i = 0; i < 64; ++i)
    CHECK(t[i] == (i == 3 ? -1 : i == 51 ? 1 : 0));
}

// ---------------------------------------------------------------------------
// Float formats, against an element-wise oracle written from
// docs/formats.md §9.

TEST_CASE("Q8_0 / Q4_0 / Q6_K / F16 / BF16 / F32 decoders") {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255);
  const float d = 0.0625f;  // exact in fp16 (0x2c00)

  std::vector<uint8_t> q8(2 * 34);
  for (auto& b : q8) b = static_cast<uint8_t>(byte(rng));
  q8[0] = q8[34] = 0x00;
  q8[1] = q8[35] = 0x2c;
  std::vector<float> y(64);
  quant::DequantizeRowQ8_0(q8, y);
  for (size_t i = 0; i < 64; ++i) {
    CHECK(y[i] == d * static_cast<int8_t>(q8[34 * (i / 32) + 2 + i % 32]));
  }

  std::vector<uint8_t> q4(18);
  for (auto& b : q4) b = static_cast<uint8_t>(byte(rng));
  q4[0] = 0x00;
  q4[1] = 0x2c;
  std::vector<float> y4(32);
  quant::DequantizeRow(GgmlType::kQ4_0, q4, y4);
  for (size_t i = 0; i < 32; ++i) {
    const int nib = i < 16 ? q4[2 + i] & 15 : q4[2 + i - 16] >> 4;
    CHECK(y4[i] == d * static_cast<float>(nib - 8));
  }

  // Q6_K: choose every 6-bit value and scale, pack them by the diagram,
  // decode, compare.
  std::vector<int> q6(256), sc(16);
  for (int& v : q6) v = byte(rng) % 64;
  for (int& s : sc) s = byte(rng) - 128;
  std::vector<uint8_t> k6(210, 0);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, r = e % 128, l = r % 32, quarter = r / 32;
    const int ql =
        64 * h + l + (quarter % 2) * 32;  // quarters 1, 3 use ql[l+32]
    const int nib_shift =
        quarter >= 2 ? 4 : 0;  // quarters 2, 3 use high nibbles
    k6[ql] |= static_cast<uint8_t>((q6[e] & 15) << nib_shift);
    k6[128 + 32 * h + l] |= static_cast<uint8_t>((q6[e] >> 4) << (2 * quarter));
  }
  for (int s = 0; s < 16; ++s)
    k6[192 + s] = static_cast<uint8_t>(static_cast<int8_t>(sc[s]));
  k6[208] = 0x00;
  k6[209] = 0x2c;
  std::vector<float> y6(256);
  quant::DequantizeRow(GgmlType::kQ6_K, k6, y6);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, r = e % 128, l = r % 32, quarter = r / 32;
    const int scale = sc[8 * h + l / 16 + 2 * quarter];
    CHECK(y6[e] ==
          d * static_cast<float>(scale) * static_cast<float>(q6[e] - 32));
  }

  const std::vector<float> x = {1.0f, -2.5f, 65504.0f, 1e-8f,
                                0.0f, -0.0f, 3.14159f};
  std::vector<uint8_t> f16(2 * x.size()), f32(4 * x.size());
  quant::EncodeF16(x, f16);
  quant::EncodeF32(x, f32);
  std::vector<float> y16(x.size()), y32(x.size()), ybf(x.size());
  quant::DequantizeRow(GgmlType::kF16, f16, y16);
  quant::DequantizeRow(GgmlType::kF32, f32, y32);
  CHECK(y32 == x);
  for (size_t i = 0; i < x.size(); ++i)
    CHECK(y16[i] == F16ToFloat(FloatToF16(x[i])));
  std::vector<uint8_t> bf(2 * x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const uint16_t h = FloatToBf16(x[i]);
    bf[2 * i] = static_cast<uint8_t>(h);
    bf[2 * i + 1] = static_cast<uint8_t>(h >> 8);
  }
  quant::DequantizeRow(GgmlType::kBF16, bf, ybf);
  for (size_t i = 0; i < x.size(); ++i)
    CHECK(ybf[i] == Bf16ToFloat(FloatToBf16(x[i])));

  CHECK_THROWS_AS(quant::DequantizeRow(GgmlType::kI2_S, f32, y32), UsageError);
  CHECK_THROWS_AS(
      quant::DequantizeRowQ8_0(std::span<const uint8_t>(q8.data(), 33), y),
      ShapeError);
}

TEST_CASE("Q8_0 quantizer: d = max/127, round half away") {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.49f;
  std::vector<uint8_t> q(34);
  quant::QuantizeRowQ8_0(x, q);
  CHECK(q[0] == 0x00);
  CHECK(q[1] == 0x3c);  // d = 1.0
  CHECK(static_cast<int8_t>(q[2]) == 127);
  CHECK(static_cast<int8_t>(q[3]) == 3);
  CHECK(static_cast<int8_t>(q[4]) == -3);
  CHECK(static_cast<int8_t>(q[5]) == 0);
}

// ---------------------------------------------------------------------------
// Real files

// The ternary values and scales of every BitLinear weight of a file.
struct TernaryTensor {
  std::vector<int8_t> t;      // M·K, row-major [M][K]
  std::vector<float> scales;  // I2_S: {α}; TQ: per 256-block d; BN: per-row d
  int64_t k = 0, m = 0;
};

std::map<std::string, TernaryTensor> DecodeTernary(const GgufFile& g) {
  std::map<std::string, TernaryTensor> out;
  for (const GgufTensorInfo& info : g.tensors()) {
    if (info.type == GgmlType::kF32 || info.name == "token_embd.weight")
      continue;
    TernaryTensor& tt = out[std::string(info.name)];
    tt.k = info.ne[0];
    tt.m = info.ne[1];
    const size_t n = static_cast<size_t>(tt.k * tt.m);
    tt.t.resize(n);
    const auto data = g.TensorData(info);
    const std::string name(info.name);
    switch (info.type) {
      case GgmlType::kI2_S:
        tt.scales = {quant::DecodeI2S(data, tt.t, name)};
        break;
      case GgmlType::kTQ2_0:
        tt.scales.resize(n / 256);
        quant::DecodeTQ2_0(data, tt.t, tt.scales, name);
        break;
      case GgmlType::kTQ1_0:
        tt.scales.resize(n / 256);
        quant::DecodeTQ1_0(data, tt.t, tt.scales);
        break;
      case GgmlType::kIQ2_BN:
        tt.scales.resize(static_cast<size_t>(tt.m));
        quant::DecodeIQ2_BN(data, static_cast<size_t>(tt.m), tt.t, tt.scales,
                            name);
        break;
      case GgmlType::kIQ1_BN:
        tt.scales.resize(static_cast<size_t>(tt.m));
        quant::DecodeIQ1_BN(data, static_cast<size_t>(tt.m), tt.t, tt.scales);
        break;
      default:
        FAIL("unexpected type for " << name);
    }
  }
  return out;
}

TEST_CASE("I2_S of bitnet.cpp = absmean ternarisation of the bf16 masters") {
  struct Case {
    const char* gguf;
    const char* hf;
  };
  for (const Case& c :
       {Case{"random-256/bitnet.cpp-i2_s.gguf", "random-256-bf16"},
        Case{"gguf/bitnet.cpp-i2_s.gguf", "tiny-shakespeare-bf16"},
        Case{"gguf/bitnet.cpp-i2_s-f16embd.gguf", "tiny-shakespeare-bf16"}}) {
    const std::string gguf_name = c.gguf;
    CAPTURE(gguf_name);
    const GgufFile g = GgufFile::Open(DataDir() / c.gguf);
    const gguf_test::Bf16Checkpoint hf(DataDir() / c.hf / "model.safetensors");
    const auto tensors = DecodeTernary(g);
    CHECK(tensors.size() == 7 * g.GetU32("bitnet-25.block_count"));
    size_t borderline = 0, flips = 0;
    for (const auto& entry : tensors) {       // no [name, tt]: clang 14 cannot
      const std::string& name = entry.first;  // CAPTURE structured bindings
      const TernaryTensor& tt = entry.second;
      CAPTURE(name);
      std::vector<int64_t> shape;
      const auto w = hf.Get(gguf_test::HfName(name), &shape);
      REQUIRE(shape ==
              std::vector<int64_t>{tt.m, tt.k});  // [out, in] = ne reversed
      const auto ref = gguf_test::Ternarize(w);
      for (size_t i = 0; i < w.size(); ++i) {
        borderline += ref.borderline[i];
        if (tt.t[i] != ref.t[i]) {
          ++flips;
          CHECK_MESSAGE(ref.borderline[i],
                        "element " << i << " differs and is not at .5");
        }
      }
      // α = fl32(1/s); our double-accumulated mean may differ by an ulp.
      CHECK(tt.scales[0] == doctest::Approx(ref.alpha).epsilon(1e-6));

      // Re-encoding reproduces the code bytes and α; the filler is ours (0).
      const auto data = g.TensorData(*g.FindTensor(name));
      std::vector<uint8_t> re(data.size());
      quant::EncodeI2S(tt.t, tt.scales[0], re);
      CHECK(std::equal(re.begin(), re.end() - 28, data.begin()));
    }
    MESSAGE(gguf_name << ": " << flips << " flips, " << borderline
                      << " borderline elements");
    CHECK(flips == 0);

    // F32 norms are the bf16 values, exactly.
    for (const GgufTensorInfo& info : g.tensors()) {
      if (info.type != GgmlType::kF32 || info.name == "output_norm.weight")
        continue;
      std::vector<float> y(static_cast<size_t>(info.ne[0]));
      quant::DequantizeRow(GgmlType::kF32, g.TensorData(info), y);
      CHECK(y == hf.Get(gguf_test::HfName(info.name)));
    }
    std::vector<float> norm(
        static_cast<size_t>(g.FindTensor("output_norm.weight")->ne[0]));
    quant::DequantizeRow(GgmlType::kF32,
                         g.TensorData(*g.FindTensor("output_norm.weight")),
                         norm);
    CHECK(norm == hf.Get("model.norm.weight"));
  }
}

TEST_CASE(
    "TQ1_0 / TQ2_0 of llama.cpp hold the I2_S file's weights, d = fp16(α)") {
  const GgufFile i2s =
      GgufFile::Open(DataDir() / "random-256/bitnet.cpp-i2_s.gguf");
  const auto ref = DecodeTernary(i2s);
  for (const std::string path :
       {"random-256/llama.cpp-tq1_0.gguf", "random-256/llama.cpp-tq2_0.gguf"}) {
    CAPTURE(path);
    const GgufFile g = GgufFile::Open(DataDir() / path);
    const auto tensors = DecodeTernary(g);
    REQUIRE(tensors.size() == ref.size());
    size_t blocks = 0;
    for (const auto& entry : tensors) {       // no [name, tt]: clang 14 cannot
      const std::string& name = entry.first;  // CAPTURE structured bindings
      const TernaryTensor& tt = entry.second;
      CAPTURE(name);
      const TernaryTensor& r = ref.at(name);
      CHECK(tt.t == r.t);
      const float alpha = r.scales[0];
      for (float d : tt.scales) CHECK(d == F16ToFloat(FloatToF16(alpha)));
      blocks += tt.scales.size();

      // encode(decode(block)) == block, three ways: per-block d, per-tensor
      // α (llama.cpp semantics), and llama.cpp's float quantizer on t·α.
      const GgufTensorInfo& info = *g.FindTensor(name);
      const auto data = g.TensorData(info);
      std::vector<uint8_t> a(data.size()), b(data.size()), c(data.size());
      std::vector<float> x(tt.t.size());
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = static_cast<float>(tt.t[i]) * alpha;
      if (info.type == GgmlType::kTQ1_0) {
        quant::EncodeTQ1_0(tt.t, tt.scales, a);
        quant::EncodeTQ1_0(tt.t, alpha, b);
        quant::QuantizeRowTQ1_0(x, c);
      } else {
        quant::EncodeTQ2_0(tt.t, tt.scales, a);
        quant::EncodeTQ2_0(tt.t, alpha, b);
        quant::QuantizeRowTQ2_0(x, c);
      }
      CHECK(std::equal(a.begin(), a.end(), data.begin(), data.end()));
      CHECK(std::equal(b.begin(), b.end(), data.begin(), data.end()));
      CHECK(std::equal(c.begin(), c.end(), data.begin(), data.end()));
    }
    CHECK(blocks > 0);
  }
}

TEST_CASE("IQ2_BN / IQ1_BN of ik_llama.cpp hold the I2_S file's weights") {
  const GgufFile i2s =
      GgufFile::Open(DataDir() / "gguf/bitnet.cpp-i2_s-f16embd.gguf");
  const auto ref = DecodeTernary(i2s);
  for (const std::string path :
       {"gguf/ik_llama-iq2_bn.gguf", "gguf/ik_llama-iq1_bn.gguf"}) {
    CAPTURE(path);
    const GgufFile g = GgufFile::Open(DataDir() / path);
    const auto tensors = DecodeTernary(g);
    REQUIRE(tensors.size() == ref.size());
    const bool iq1 = g.tensors()[2].type == GgmlType::kIQ1_BN;
    for (const auto& entry : tensors) {       // no [name, tt]: clang 14 cannot
      const std::string& name = entry.first;  // CAPTURE structured bindings
      const TernaryTensor& tt = entry.second;
      CAPTURE(name);
      const TernaryTensor& r = ref.at(name);
      CHECK(tt.t == r.t);
      // Row scale: max|x| of the dequantized I2_S row = α (fp16 for IQ1_BN).
      const float alpha =
          iq1 ? F16ToFloat(FloatToF16(r.scales[0])) : r.scales[0];
      for (float d : tt.scales) CHECK(d == alpha);
    }
  }
}

TEST_CASE("embeddings: Q8_0 vs F16 vs the bf16 master") {
  const GgufFile q8f = GgufFile::Open(DataDir() / "gguf/bitnet.cpp-i2_s.gguf");
  const GgufFile f16f =
      GgufFile::Open(DataDir() / "gguf/bitnet.cpp-i2_s-f16embd.gguf");
  const GgufTensorInfo& q8 = *q8f.FindTensor("token_embd.weight");
  const GgufTensorInfo& f16 = *f16f.FindTensor("token_embd.weight");
  REQUIRE(q8.type == GgmlType::kQ8_0);
  REQUIRE(f16.type == GgmlType::kF16);
  const size_t n = static_cast<size_t>(q8.elements());
  std::vector<float> a(n), b(n);
  quant::DequantizeRow(q8.type, q8f.TensorData(q8), a);
  quant::DequantizeRow(f16.type, f16f.TensorData(f16), b);
  // Within half a Q8_0 step d of its block, plus the fp16 rounding of d
  // (127·d·2^-11) and of the F16 value.
  const auto raw = q8f.TensorData(q8);
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = F16ToFloat(static_cast<uint16_t>(
        raw[34 * (i / 32)] | raw[34 * (i / 32) + 1] << 8));
    const float tol = 0.57f * d + std::fabs(b[i]) * 1e-3f;
    bad += std::fabs(a[i] - b[i]) > tol;
  }
  CHECK(bad == 0);

  // And both are exactly what our encoders make from the bf16 master.
  const gguf_test::Bf16Checkpoint hf(DataDir() /
                                     "tiny-shakespeare-bf16/model.safetensors");
  const auto w = hf.Get("model.embed_tokens.weight");
  REQUIRE(w.size() == n);
  std::vector<uint8_t> eq8(q8.size), ef16(f16.size);
  quant::QuantizeRowQ8_0(w, eq8);
  quant::EncodeF16(w, ef16);
  const auto rq8 = q8f.TensorData(q8), rf16 = f16f.TensorData(f16);
  CHECK(std::equal(eq8.begin(), eq8.end(), rq8.begin(), rq8.end()));
  CHECK(std::equal(ef16.begin(), ef16.end(), rf16.begin(), rf16.end()));

  // random-256: F16 embedding, same rule.
  const GgufFile r =
      GgufFile::Open(DataDir() / "random-256/bitnet.cpp-i2_s.gguf");
  const gguf_test::Bf16Checkpoint rhf(DataDir() /
                                      "random-256-bf16/model.safetensors");
  const auto rw = rhf.Get("model.embed_tokens.weight");
  const GgufTensorInfo& re = *r.FindTensor("token_embd.weight");
  std::vector<uint8_t> rf(re.size);
  quant::EncodeF16(rw, rf);
  const auto rd = r.TensorData(re);
  CHECK(std::equal(rf.begin(), rf.end(), rd.begin(), rd.end()));
}

}  // namespace
}  // namespace ternary
