// GGUF container: real files from bitnet.cpp / llama.cpp / ik_llama.cpp,
// writer round trips, and broken files.
#include "ternary/io/gguf.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gguf_test_util.h"
#include "ternary/io/gguf_types.h"
#include "ternary/io/gguf_writer.h"
#include "ternary/io/mapped_file.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

using gguf_test::Bytes;
using gguf_test::DataDir;
using io::GgmlType;
using io::GgufFile;
using io::GgufType;
using io::GgufWriter;

// ---------------------------------------------------------------------------
// Real files

struct RealFile {
  const char* path;    // under tests/data
  uint32_t file_type;  // general.file_type (llama ftype)
  GgmlType ternary;    // type of the BitLinear weights
  GgmlType embedding;  // type of token_embd.weight
  const char* name;    // general.name
  int64_t hidden, ffn, layers, heads, kv_heads;
  uint64_t data_offset;
  uint64_t file_size;
};

constexpr RealFile kRealFiles[] = {
    {"gguf/bitnet.cpp-i2_s.gguf", 40, GgmlType::kI2_S, GgmlType::kQ8_0,
     "tiny-shakespeare", 384, 1024, 8, 6, 2, 150880, 5040736},
    {"gguf/bitnet.cpp-i2_s-f16embd.gguf", 40, GgmlType::kI2_S, GgmlType::kF16,
     "tiny-shakespeare", 384, 1024, 8, 6, 2, 150880, 6515296},
    {"gguf/ik_llama-iq2_bn.gguf", 137, GgmlType::kIQ2_BN, GgmlType::kQ8_0,
     "tiny-shakespeare", 384, 1024, 8, 6, 2, 150880, 5149536},
    {"gguf/ik_llama-iq1_bn.gguf", 136, GgmlType::kIQ1_BN, GgmlType::kQ8_0,
     "tiny-shakespeare", 384, 1024, 8, 6, 2, 150880, 4504416},
    {"random-256/bitnet.cpp-i2_s.gguf", 40, GgmlType::kI2_S, GgmlType::kF16,
     "random-256", 256, 768, 2, 4, 2, 147008, 2651136},
    {"random-256/llama.cpp-tq1_0.gguf", 36, GgmlType::kTQ1_0, GgmlType::kF16,
     "random-256", 256, 768, 2, 4, 2, 147008, 2589248},
    {"random-256/llama.cpp-tq2_0.gguf", 37, GgmlType::kTQ2_0, GgmlType::kF16,
     "random-256", 256, 768, 2, 4, 2, 147008, 2662976},
};

TEST_CASE("real GGUF files: header, every metadata key, every tensor") {
  for (const RealFile& rf : kRealFiles) {
    const std::string path = rf.path;
    CAPTURE(path);
    const GgufFile g = GgufFile::Open(DataDir() / rf.path);
    CHECK(g.bytes().size() == rf.file_size);
    CHECK(g.version() == 3);
    CHECK(g.alignment() == 32);
    CHECK(g.Find("general.alignment") == nullptr);
    CHECK(g.data_offset() == rf.data_offset);
    CHECK(g.metadata().size() == 23);
    CHECK(g.architecture() == "bitnet-25");

    // Every key of the README, with its GGUF type.
    auto type_of = [&](const char* k) {
      const io::GgufValue* v = g.Find(k);
      REQUIRE_MESSAGE(v != nullptr, k);
      return v->type();
    };
    CHECK(type_of("general.architecture") == GgufType::kString);
    CHECK(g.GetString("general.name") == rf.name);
    CHECK(type_of("general.file_type") == GgufType::kU32);
    CHECK(g.GetU32("general.file_type") == rf.file_type);
    CHECK(g.GetU32("general.quantization_version") == 2);
    CHECK(g.GetU32("bitnet-25.vocab_size") == 4096);
    CHECK(g.GetU32("bitnet-25.context_length") == 1024);
    CHECK(g.GetU32("bitnet-25.embedding_length") == rf.hidden);
    CHECK(g.GetU32("bitnet-25.block_count") == rf.layers);
    CHECK(g.GetU32("bitnet-25.feed_forward_length") == rf.ffn);
    CHECK(g.GetU32("bitnet-25.rope.dimension_count") == 64);
    CHECK(g.GetU32("bitnet-25.attention.head_count") == rf.heads);
    CHECK(g.GetU32("bitnet-25.attention.head_count_kv") == rf.kv_heads);
    CHECK(type_of("bitnet-25.attention.layer_norm_rms_epsilon") ==
          GgufType::kF32);
    CHECK(g.GetF32("bitnet-25.attention.layer_norm_rms_epsilon") == 1e-5f);
    CHECK(g.GetF32("bitnet-25.rope.freq_base") == 500000.0f);
    CHECK(g.GetBool("tokenizer.ggml.add_bos_token") == true);
    CHECK(g.GetString("tokenizer.ggml.model") == "gpt2");
    CHECK(g.Find("tokenizer.ggml.pre") == nullptr);
    CHECK_FALSE(g.GetOptionalString("tokenizer.ggml.pre").has_value());
    CHECK(g.GetU32("tokenizer.ggml.bos_token_id") == 4091);
    CHECK(g.GetU32("tokenizer.ggml.eos_token_id") == 4092);
    CHECK(g.GetString("tokenizer.chat_template").find("BITNETAssistant: ") !=
          std::string_view::npos);

    const auto tokens = g.GetStringArray("tokenizer.ggml.tokens");
    REQUIRE(tokens.size() == 4096);
    CHECK(tokens[0] == "!");
    CHECK(tokens[4090] ==
          "\xC4\xA0"
          "Aug");  // "ĠAug"
    CHECK(tokens[4091] == "<|begin_of_text|>");
    CHECK(tokens[4095] == "<|eot_id|>");
    CHECK(g.Find("tokenizer.ggml.tokens")->TypeString() ==
          "array<string>[4096]");
    const auto scores = g.GetF32Array("tokenizer.ggml.scores");
    const auto token_type = g.GetI32Array("tokenizer.ggml.token_type");
    REQUIRE(scores.size() == 4096);
    REQUIRE(token_type.size() == 4096);
    for (size_t i = 0; i < 4096; ++i) {
      CHECK(scores[i] == (i >= 4091 ? -1000.0f : 0.0f));
      CHECK(token_type[i] == (i >= 4091 ? 3 : 1));
    }
    const auto merges = g.GetStringArray("tokenizer.ggml.merges");
    REQUIRE(merges.size() == 3835);
    CHECK(merges[0] == "\xC4\xA0 t");
    CHECK(merges[1] == "h e");

    // Tensors: token_embd, 4 norms + 7 projections per layer, output_norm.
    const auto tensors = g.tensors();
    REQUIRE(tensors.size() == static_cast<size_t>(2 + 11 * rf.layers));
    CHECK(tensors.front().name == "token_embd.weight");
    CHECK(tensors.back().name == "output_norm.weight");
    CHECK(tensors.front().type == rf.embedding);
    CHECK(tensors.front().n_dims == 2);
    CHECK(tensors.front().ne[0] == rf.hidden);
    CHECK(tensors.front().ne[1] == 4096);
    CHECK(g.FindTensor("output.weight") == nullptr);
    int n_ternary = 0, n_f32 = 0;
    uint64_t expect_offset = 0;
    for (const io::GgufTensorInfo& t : tensors) {
      CAPTURE(t.name);
      // Payloads are contiguous: every span is a multiple of 32 bytes.
      CHECK(t.offset == expect_offset);
      CHECK(t.size % 32 == 0);
      expect_offset = t.offset + t.size;
      CHECK(g.TensorData(t).size() == t.size);
      CHECK(g.FindTensor(t.name) == &t);
      if (t.type == GgmlType::kF32) {
        ++n_f32;
        CHECK(t.n_dims == 1);
        CHECK(t.name.ends_with("norm.weight"));
        CHECK(t.ne[0] ==
              (t.name.ends_with("ffn_sub_norm.weight") ? rf.ffn : rf.hidden));
      } else if (t.type == rf.ternary) {
        ++n_ternary;
        CHECK(t.n_dims == 2);
        const int64_t kv = rf.hidden / rf.heads * rf.kv_heads;
        int64_t k = rf.hidden, m = rf.hidden;
        if (t.name.ends_with("attn_k.weight") ||
            t.name.ends_with("attn_v.weight"))
          m = kv;
        if (t.name.ends_with("ffn_gate.weight") ||
            t.name.ends_with("ffn_up.weight"))
          m = rf.ffn;
        if (t.name.ends_with("ffn_down.weight")) k = rf.ffn;
        CHECK(t.ne[0] == k);
        CHECK(t.ne[1] == m);
        const uint64_t n = static_cast<uint64_t>(k * m);
        switch (rf.ternary) {
          case GgmlType::kI2_S:
            CHECK(t.size == n / 4 + 32);
            break;
          case GgmlType::kTQ2_0:
            CHECK(t.size == n / 256 * 66);
            break;
          case GgmlType::kTQ1_0:
            CHECK(t.size == n / 256 * 54);
            break;
          case GgmlType::kIQ2_BN:
            CHECK(t.size == static_cast<uint64_t>(m * (4 + k / 64 * 16)));
            break;
          case GgmlType::kIQ1_BN:
            CHECK(t.size == static_cast<uint64_t>(m * (2 + k / 64 * 13)));
            break;
          default:
            FAIL("unexpected type");
        }
      } else {
        CHECK(t.name == "token_embd.weight");
      }
    }
    CHECK(n_ternary == 7 * rf.layers);
    CHECK(n_f32 == 4 * rf.layers + 1);
    CHECK(rf.data_offset + expect_offset == rf.file_size);
  }
}

TEST_CASE("real GGUF files: spot values from the READMEs") {
  // random-256 TQ1_0: blk.0.ffn_down span 41,472 bytes, every d = fp16(α).
  const GgufFile tq1 =
      GgufFile::Open(DataDir() / "random-256/llama.cpp-tq1_0.gguf");
  const io::GgufTensorInfo* down = tq1.FindTensor("blk.0.ffn_down.weight");
  REQUIRE(down != nullptr);
  CHECK(down->size == 41472);
  const auto d = tq1.TensorData(*down);
  CHECK(F16ToFloat(static_cast<uint16_t>(d[52] | d[53] << 8)) ==
        0.039886474609375f);
  const GgufFile tq2 =
      GgufFile::Open(DataDir() / "random-256/llama.cpp-tq2_0.gguf");
  CHECK(tq2.FindTensor("blk.0.ffn_down.weight")->size == 50688);

  // tiny I2_S: α of blk.0.ffn_gate at byte N/4, then the stale (non-zero)
  // filler, as the README quotes them.
  const GgufFile i2s = GgufFile::Open(DataDir() / "gguf/bitnet.cpp-i2_s.gguf");
  const io::GgufTensorInfo* gate = i2s.FindTensor("blk.0.ffn_gate.weight");
  REQUIRE(gate != nullptr);
  const auto g = i2s.TensorData(*gate);
  const size_t n4 = 384 * 1024 / 4;
  const uint8_t alpha[4] = {0x0b, 0xa1, 0xaa, 0x3c};  // 0.0208287...f
  CHECK(std::equal(alpha, alpha + 4, &g[n4]));
  const uint8_t filler[4] = {0x49, 0xa0, 0x9e, 0x3c};
  CHECK(std::equal(filler, filler + 4, &g[n4 + 4]));
}

TEST_CASE("Open and Parse agree, Parse names the buffer in errors") {
  const auto path = DataDir() / "random-256/llama.cpp-tq2_0.gguf";
  const auto bytes = gguf_test::ReadBytes(path);
  const GgufFile a = GgufFile::Open(path);
  const GgufFile b = GgufFile::Parse(bytes, "in-memory");
  CHECK(b.name() == "in-memory");
  CHECK(a.name() == path.string());
  REQUIRE(a.tensors().size() == b.tensors().size());
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    CHECK(a.tensors()[i].name == b.tensors()[i].name);
    const auto da = a.TensorData(a.tensors()[i]);
    const auto db = b.TensorData(b.tensors()[i]);
    CHECK(std::equal(da.begin(), da.end(), db.begin(), db.end()));
  }
  // Moving keeps every view valid.
  GgufFile moved = GgufFile::Open(path);
  const std::string_view arch = moved.architecture();
  GgufFile other = std::move(moved);
  CHECK(other.architecture() == arch);
  CHECK(other.GetStringArray("tokenizer.ggml.tokens")[0] == "!");
}

// ---------------------------------------------------------------------------
// Typed getters

TEST_CASE("getters name the key and the type found") {
  const GgufFile g =
      GgufFile::Open(DataDir() / "random-256/bitnet.cpp-i2_s.gguf");
  CHECK_THROWS_WITH_AS(
      g.GetU32("general.name"),
      doctest::Contains("'general.name' has type string, expected u32"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      g.GetString("bitnet-25.block_count"),
      doctest::Contains(
          "'bitnet-25.block_count' has type u32, expected string"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      g.GetF32("tokenizer.ggml.tokens"),
      doctest::Contains("has type array<string>[4096], expected f32"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      g.GetStringArray("tokenizer.ggml.scores"),
      doctest::Contains("has type array<f32>[4096], expected array<string>"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      g.GetU32("bitnet-25.nope"),
      doctest::Contains("missing metadata key 'bitnet-25.nope'"), FormatError);
  CHECK_THROWS_WITH_AS(g.GetU32("nope"),
                       doctest::Contains("bitnet.cpp-i2_s.gguf"), FormatError);
  CHECK_FALSE(g.GetOptionalU32("nope").has_value());
  CHECK(g.GetOptionalU32("bitnet-25.block_count") == 2u);
  CHECK_THROWS_AS(g.GetOptionalU32("general.name"), FormatError);
  // Integer getters convert when the value fits.
  CHECK(g.GetU64("bitnet-25.block_count") == 2);
  CHECK(g.GetI32("bitnet-25.block_count") == 2);
  CHECK(g.GetF64("bitnet-25.rope.freq_base") == 500000.0);
  CHECK_THROWS_WITH_AS(g.GetF32Array("tokenizer.ggml.token_type"),
                       doctest::Contains("expected array<f32>"), FormatError);
  CHECK(g.GetU32Array("tokenizer.ggml.token_type")[4095] == 3u);
}

// ---------------------------------------------------------------------------
// Writer

TEST_CASE("writer: every value type and tensors read back equal") {
  for (uint32_t align : {32u, 64u, 1u}) {
    CAPTURE(align);
    GgufWriter w(align);
    w.AddString("general.architecture", "bitnet-b1.58");
    w.AddU8("t.u8", 250);
    w.AddI8("t.i8", -120);
    w.AddU16("t.u16", 65000);
    w.AddI16("t.i16", -32000);
    w.AddU32("t.u32", 4000000000u);
    w.AddI32("t.i32", -2000000000);
    w.AddF32("t.f32", 1e-5f);
    w.AddBool("t.bool", true);
    w.AddBool("t.false", false);
    w.AddString("t.string", std::string("with\0nul", 8));
    w.AddString("t.empty", "");
    w.AddU64("t.u64", 18000000000000000000ull);
    w.AddI64("t.i64", -9000000000000000000ll);
    w.AddF64("t.f64", 0.1);
    w.AddArray("a.u8", std::vector<uint8_t>{1, 2, 255});
    w.AddArray("a.i8", std::vector<int8_t>{-1, 2});
    w.AddArray("a.u16", std::vector<uint16_t>{7});
    w.AddArray("a.i16", std::vector<int16_t>{-7, 7});
    w.AddArray("a.u32", std::vector<uint32_t>{1, 4000000000u});
    w.AddArray("a.i32", std::vector<int32_t>{1, -1, 3});
    w.AddArray("a.f32", std::vector<float>{0.5f, -1000.0f});
    w.AddArray("a.bool", std::vector<bool>{true, false, true});
    w.AddArray("a.u64", std::vector<uint64_t>{1ull << 40});
    w.AddArray("a.i64", std::vector<int64_t>{-(1ll << 40)});
    w.AddArray("a.f64", std::vector<double>{1.5, -2.25});
    w.AddArray("a.empty", std::vector<float>{});
    w.AddStringArray("a.string", std::vector<std::string>{"Ġ t", "", "h e"});
    w.AddStringArray("a.sv", std::vector<std::string_view>{"x"});

    std::vector<uint8_t> f32(4 * 3 * 2), q8(34 * 2), i2s(64 * 2 / 4 + 32),
        iq2(2 * (4 + 16));
    for (size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<uint8_t>(i);
    for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(3 * i);
    for (size_t i = 0; i < i2s.size(); ++i)
      i2s[i] = static_cast<uint8_t>(0x55 + i);
    w.AddTensor("f32", {3, 2}, GgmlType::kF32, f32);
    w.AddTensor("q8", {32, 1, 2}, GgmlType::kQ8_0, q8);
    const std::vector<int64_t> i2s_ne = {64, 2};
    w.AddTensorView("i2s", i2s_ne, GgmlType::kI2_S, i2s);
    w.AddTensor("iq2", {64, 2}, GgmlType::kIQ2_BN, iq2);
    w.AddTensor("scalar", std::span<const int64_t>(), GgmlType::kF32,
                {1, 2, 3, 4});

    const std::vector<uint8_t> bytes = w.Serialize();
    const GgufFile g = GgufFile::Parse(bytes, "written.gguf");
    CHECK(g.version() == 3);
    CHECK(g.alignment() == align);
    CHECK((g.Find("general.alignment") != nullptr) == (align != 32));
    CHECK(g.data_offset() % align == 0);
    CHECK(g.architecture() == "bitnet-b1.58");
    CHECK(g.GetU32("t.u32") == 4000000000u);
    CHECK(g.Find("t.u8")->type() == GgufType::kU8);
    CHECK(g.Find("t.u8")->ToInteger<int>() == 250);
    CHECK(g.Find("t.i8")->ToInteger<int>() == -120);
    CHECK(g.Find("t.u16")->ToInteger<int>() == 65000);
    CHECK(g.Find("t.i16")->ToInteger<int>() == -32000);
    CHECK(g.GetI32("t.i32") == -2000000000);
    CHECK(g.GetF32("t.f32") == 1e-5f);
    CHECK(g.GetBool("t.bool"));
    CHECK_FALSE(g.GetBool("t.false"));
    CHECK(g.GetString("t.string") == std::string_view("with\0nul", 8));
    CHECK(g.GetString("t.empty").empty());
    CHECK(g.GetU64("t.u64") == 18000000000000000000ull);
    CHECK(g.GetI64("t.i64") == -9000000000000000000ll);
    CHECK(g.GetF64("t.f64") == 0.1);
    CHECK_THROWS_WITH_AS(g.GetI32("t.u32"),
                         doctest::Contains("out of range for i32"),
                         FormatError);
    CHECK(*g.Find("a.u8")->ToArray<int>() == std::vector<int>{1, 2, 255});
    CHECK(*g.Find("a.i8")->ToArray<int>() == std::vector<int>{-1, 2});
    CHECK(*g.Find("a.u16")->ToArray<int>() == std::vector<int>{7});
    CHECK(*g.Find("a.i16")->ToArray<int>() == std::vector<int>{-7, 7});
    CHECK(g.GetU32Array("a.u32") == std::vector<uint32_t>{1, 4000000000u});
    CHECK_THROWS_WITH_AS(g.GetI32Array("a.u32"),
                         doctest::Contains("out of range"), FormatError);
    CHECK(g.GetI32Array("a.i32") == std::vector<int32_t>{1, -1, 3});
    CHECK(g.GetF32Array("a.f32") == std::vector<float>{0.5f, -1000.0f});
    CHECK(*g.Find("a.bool")->ToArray<bool>() ==
          std::vector<bool>{true, false, true});
    CHECK(*g.Find("a.u64")->ToArray<uint64_t>() ==
          std::vector<uint64_t>{1ull << 40});
    CHECK(*g.Find("a.i64")->ToArray<int64_t>() ==
          std::vector<int64_t>{-(1ll << 40)});
    CHECK(*g.Find("a.f64")->ToArray<double>() ==
          std::vector<double>{1.5, -2.25});
    CHECK(g.Find("a.empty")->count() == 0);
    CHECK(g.Find("a.empty")->element_type() == GgufType::kF32);
    const auto strs = g.GetStringArray("a.string");
    REQUIRE(strs.size() == 3);
    CHECK(strs[0] == "Ġ t");
    CHECK(strs[1].empty());
    CHECK(strs[2] == "h e");
    CHECK(g.GetStringArray("a.sv")[0] == "x");
    // Metadata keeps insertion order.
    CHECK(g.metadata()[align == 32 ? 0 : 1].key == "general.architecture");

    REQUIRE(g.tensors().size() == 5);
    auto check_tensor = [&](const char* name, GgmlType type,
                            std::vector<int64_t> ne,
                            const std::vector<uint8_t>& data) {
      CAPTURE(name);
      const io::GgufTensorInfo* t = g.FindTensor(name);
      REQUIRE(t != nullptr);
      CHECK(t->type == type);
      CHECK(std::vector<int64_t>(t->dims().begin(), t->dims().end()) == ne);
      CHECK(t->offset % align == 0);
      const auto d = g.TensorData(*t);
      CHECK(std::equal(d.begin(), d.end(), data.begin(), data.end()));
    };
    check_tensor("f32", GgmlType::kF32, {3, 2}, f32);
    check_tensor("q8", GgmlType::kQ8_0, {32, 1, 2}, q8);
    check_tensor("i2s", GgmlType::kI2_S, {64, 2}, i2s);
    check_tensor("iq2", GgmlType::kIQ2_BN, {64, 2}, iq2);
    check_tensor("scalar", GgmlType::kF32, {}, {1, 2, 3, 4});
    CHECK(g.FindTensor("scalar")->elements() == 1);

    // Streaming to a file gives the same bytes.
    const auto path =
        std::filesystem::temp_directory_path() /
        ("ternary_gguf_writer_" + std::to_string(align) + ".gguf");
    w.WriteFile(path);
    CHECK(gguf_test::ReadBytes(path) == bytes);
    const GgufFile opened = GgufFile::Open(path);
    CHECK(opened.tensors().size() == 5);
    std::filesystem::remove(path);
  }
}

TEST_CASE("writer: the real file's metadata and tensors survive a rewrite") {
  const GgufFile src =
      GgufFile::Open(DataDir() / "random-256/bitnet.cpp-i2_s.gguf");
  GgufWriter w;
  for (const io::GgufKeyValue& kv : src.metadata()) {
    const io::GgufValue& v = kv.value;
    switch (v.type()) {
      case GgufType::kString:
        w.AddString(kv.key, *v.ToString());
        break;
      case GgufType::kU32:
        w.AddU32(kv.key, *v.ToInteger<uint32_t>());
        break;
      case GgufType::kF32:
        w.AddF32(kv.key, *v.ToFloat<float>());
        break;
      case GgufType::kBool:
        w.AddBool(kv.key, *v.ToBool());
        break;
      case GgufType::kArray:
        if (v.element_type() == GgufType::kString) {
          w.AddStringArray(kv.key, *v.ToStrings());
        } else if (v.element_type() == GgufType::kF32) {
          w.AddArray(kv.key, *v.ToArray<float>());
        } else {
          REQUIRE(v.element_type() == GgufType::kI32);
          w.AddArray(kv.key, *v.ToArray<int32_t>());
        }
        break;
      default:
        FAIL("unexpected type " << v.TypeString());
    }
  }
  for (const io::GgufTensorInfo& t : src.tensors()) {
    w.AddTensorView(t.name, t.dims(), t.type, src.TensorData(t));
  }
  // Same layout as bitnet.cpp's writer: the rewrite is byte-identical, except
  // the I2_S filler, which is copied verbatim here.
  const std::vector<uint8_t> out = w.Serialize();
  const auto in = src.bytes();
  CHECK(out.size() == in.size());
  CHECK(std::equal(out.begin(), out.end(), in.begin(), in.end()));
}

TEST_CASE("writer: misuse throws UsageError") {
  GgufWriter w;
  w.AddU32("k", 1);
  CHECK_THROWS_WITH_AS(w.AddU32("k", 2),
                       doctest::Contains("duplicate metadata key 'k'"),
                       UsageError);
  CHECK_THROWS_AS(w.AddU32("general.alignment", 64), UsageError);
  CHECK_THROWS_AS(GgufWriter(48), UsageError);
  CHECK_THROWS_WITH_AS(
      w.AddTensor("t", {32}, GgmlType::kQ8_0, std::vector<uint8_t>(33)),
      doctest::Contains("needs 34 bytes, got 33"), UsageError);
  CHECK_THROWS_WITH_AS(
      w.AddTensor("t", {33}, GgmlType::kQ8_0, std::vector<uint8_t>(34)),
      doctest::Contains("not a multiple of the Q8_0 block size 32"),
      UsageError);
  CHECK_THROWS_AS(
      w.AddTensor("t", {1}, GgmlType::kI8_S, std::vector<uint8_t>(1)),
      UsageError);
  CHECK_THROWS_AS(
      w.AddTensor("t", {1}, static_cast<GgmlType>(3), std::vector<uint8_t>(1)),
      UsageError);
  CHECK_THROWS_AS(w.AddTensor(std::string(64, 'x'), {1}, GgmlType::kF32,
                              std::vector<uint8_t>(4)),
                  UsageError);
  w.AddTensor("t", {1}, GgmlType::kF32, std::vector<uint8_t>(4));
  CHECK_THROWS_WITH_AS(
      w.AddTensor("t", {1}, GgmlType::kF32, std::vector<uint8_t>(4)),
      doctest::Contains("added twice"), UsageError);
  CHECK_THROWS_WITH_AS(w.WriteFile("/nonexistent-dir/x.gguf"),
                       doctest::Contains("/nonexistent-dir/x.gguf"), Error);
}

// ---------------------------------------------------------------------------
// Payload sizes

TEST_CASE("GgmlTensorBytes follows ggml_nbytes") {
  using io::GgmlTensorBytes;
  const std::vector<int64_t> kq = {2560, 2560}, kv = {2560, 640},
                             up = {2560, 6912};
  CHECK(GgmlTensorBytes(GgmlType::kI2_S, kq) == 1638432);  // SPEC §3.8.1
  CHECK(GgmlTensorBytes(GgmlType::kI2_S, kv) == 409632);
  CHECK(GgmlTensorBytes(GgmlType::kI2_S, up) == 4423712);
  CHECK(GgmlTensorBytes(GgmlType::kTL1, up) == 4423712);
  const std::vector<int64_t> tl2 = {3200, 8640};
  CHECK(GgmlTensorBytes(GgmlType::kTL2, tl2) == 5852192);
  const std::vector<int64_t> tl2b = {1536, 4096};  // P = 1,354,410 (not /32)
  CHECK(GgmlTensorBytes(GgmlType::kTL2, tl2b) == 1354432 + 32);
  CHECK(GgmlTensorBytes(GgmlType::kF16, std::vector<int64_t>{2560, 128256}) ==
        656670720);
  CHECK(GgmlTensorBytes(GgmlType::kQ6_K, std::vector<int64_t>{512, 3}) ==
        3 * 2 * 210);
  CHECK(GgmlTensorBytes(GgmlType::kQ4_0, std::vector<int64_t>{64}) == 36);
  CHECK(GgmlTensorBytes(GgmlType::kQ8_K, std::vector<int64_t>{256}) == 292);
  CHECK(GgmlTensorBytes(GgmlType::kBF16, std::vector<int64_t>{3, 5}) == 30);
  CHECK(GgmlTensorBytes(GgmlType::kIQ1_BN, std::vector<int64_t>{1024, 384}) ==
        384 * 210);
  CHECK(GgmlTensorBytes(GgmlType::kIQ2_BN, std::vector<int64_t>{384, 128}) ==
        128 * 100);
  CHECK_THROWS_AS(GgmlTensorBytes(GgmlType::kTL2, std::vector<int64_t>{128, 4}),
                  ShapeError);
  CHECK_THROWS_AS(GgmlTensorBytes(GgmlType::kF32,
                                  std::vector<int64_t>{1ll << 40, 1ll << 40}),
                  ShapeError);
  CHECK_THROWS_AS(GgmlTensorBytes(GgmlType::kF32, std::vector<int64_t>{-1}),
                  ShapeError);
  CHECK(io::FindGgmlType(3) == nullptr);
  CHECK(io::GgmlTypeName(GgmlType::kIQ1_BN) == "IQ1_BN");
}

// ---------------------------------------------------------------------------
// TL1/TL2: bitnet.cpp stores α as a separate '<name>_scale' tensor inside the
// 32-byte tail that ggml_nbytes counts.

TEST_CASE("TL1 tensors with a '_scale' tensor in their tail parse") {
  const uint64_t tl1 = 128 * 64 / 4 + 32;  // ne {128, 64}
  Bytes b;
  b.Header(3, 0)
      .Info("w", {128, 64}, 38, 0)
      .Info("w_scale", {1}, 0, tl1 - 32)
      .Info("n", {8}, 0, tl1);
  b.PadTo(32).Zeros(tl1 + 32);
  const GgufFile g = GgufFile::Parse(b.b, "tl1.gguf");
  CHECK(g.FindTensor("w")->size == tl1);
  CHECK(g.FindTensor("w")->type == GgmlType::kTL1);

  Bytes bad;  // a scale of another name overlaps
  bad.Header(2, 0)
      .Info("w", {128, 64}, 38, 0)
      .Info("v_scale", {1}, 0, tl1 - 32);
  bad.PadTo(32).Zeros(tl1);
  CHECK_THROWS_WITH_AS(GgufFile::Parse(bad.b, "tl1.gguf"),
                       doctest::Contains("overlap"), FormatError);
}

// ---------------------------------------------------------------------------
// Broken files

std::vector<uint8_t> SmallValidFile() {
  GgufWriter w;
  w.AddString("general.architecture", "bitnet-25");
  w.AddU32("bitnet-25.block_count", 2);
  w.AddStringArray("tokenizer.ggml.tokens",
                   std::vector<std::string>{"a", "bc"});
  w.AddArray("tokenizer.ggml.scores", std::vector<float>{0.0f, -1.0f});
  w.AddTensor("a", {8}, GgmlType::kF32, std::vector<uint8_t>(32, 1));
  w.AddTensor("b", {128, 2}, GgmlType::kI2_S,
              std::vector<uint8_t>(128 * 2 / 4 + 32, 0x55));
  return w.Serialize();
}

TEST_CASE("broken: empty, magic, version, endianness") {
  CHECK_THROWS_WITH_AS(GgufFile::Parse({}, "empty.gguf"),
                       doctest::Contains("empty.gguf: empty file"),
                       FormatError);
  const auto empty_path =
      std::filesystem::temp_directory_path() / "ternary_gguf_empty.gguf";
  { std::ofstream(empty_path).flush(); }
  CHECK(io::MappedFile::Open(empty_path).bytes().empty());
  CHECK_THROWS_WITH_AS(GgufFile::Open(empty_path),
                       doctest::Contains("empty file"), FormatError);
  std::filesystem::remove(empty_path);
  CHECK_THROWS_WITH_AS(GgufFile::Open(DataDir() / "no-such-file.gguf"),
                       doctest::Contains("no-such-file.gguf: cannot open"),
                       FormatError);
  CHECK_THROWS_WITH_AS(GgufFile::Open(DataDir()),
                       doctest::Contains("not a regular file"), FormatError);

  auto file = SmallValidFile();
  auto bad = file;
  bad[0] = 'X';
  CHECK_THROWS_WITH_AS(
      GgufFile::Parse(bad, "m.gguf"),
      doctest::Contains("m.gguf: not a GGUF file (magic bytes 58 47 55 46"),
      FormatError);
  const std::vector<uint8_t> safetensors = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
  CHECK_THROWS_WITH_AS(GgufFile::Parse(safetensors, "m.gguf"),
                       doctest::Contains("not a GGUF file"), FormatError);
  bad = file;
  bad[4] = 1;
  CHECK_THROWS_WITH_AS(
      GgufFile::Parse(bad, "v1.gguf"),
      doctest::Contains("v1.gguf: GGUF version 1 is not supported"),
      FormatError);
  bad[4] = 4;
  CHECK_THROWS_WITH_AS(GgufFile::Parse(bad, "v4.gguf"),
                       doctest::Contains("unsupported GGUF version 4"),
                       FormatError);
  bad[4] = 0;
  bad[7] = 3;
  CHECK_THROWS_WITH_AS(GgufFile::Parse(bad, "be.gguf"),
                       doctest::Contains("big-endian"), FormatError);
  bad = file;
  bad[4] = 2;  // version 2 has the same layout
  CHECK(GgufFile::Parse(bad, "v2.gguf").version() == 2);
}

TEST_CASE("broken: truncated at every byte") {
  const auto file = SmallValidFile();
  const GgufFile ok = GgufFile::Parse(file, "ok.gguf");
  const uint64_t data = ok.data_offset();
  const uint64_t end_a = data + ok.FindTensor("a")->size;
  for (size_t len = 1; len < file.size(); ++len) {
    CAPTURE(len);
    const std::span<const uint8_t> prefix(file.data(), len);
    std::string msg;
    try {
      GgufFile::Parse(prefix, "cut.gguf");
      FAIL("a truncated file parsed");
    } catch (const FormatError& e) {
      msg = e.what();
    }
    CHECK(msg.starts_with("cut.gguf: "));
    if (len < 24) {
      CHECK(msg.find("truncated: header") != std::string::npos);
    } else if (len < data) {
      // Inside metadata, tensor infos or the padding before the data.
      CHECK(msg.find("truncated") != std::string::npos);
    } else {
      CHECK(msg.find(len < end_a ? "tensor 'a'" : "tensor 'b'") !=
            std::string::npos);
      CHECK(msg.find("extends past the end of the file") != std::string::npos);
    }
  }
  // Section boundaries name the part that is missing.
  auto cut = [&](size_t len) {
    try {
      GgufFile::Parse(std::span<const uint8_t>(file.data(), len), "cut.gguf");
    } catch (const FormatError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(cut(4).find("header (version)") != std::string::npos);
  CHECK(cut(8).find("header (tensor count)") != std::string::npos);
  CHECK(cut(16).find("header (metadata count)") != std::string::npos);
  CHECK(cut(24).find("metadata entry #0 (of 4) key") != std::string::npos);
  CHECK(cut(24 + 8 + 20)
            .find("metadata key 'general.architecture' (value type)") !=
        std::string::npos);
  CHECK(cut(24 + 8 + 20 + 4)
            .find("metadata key 'general.architecture' (string length)") !=
        std::string::npos);
}

TEST_CASE("broken: huge counts and lengths fail fast without allocating") {
  const uint64_t kHuge = std::numeric_limits<uint64_t>::max();
  auto parse = [](const Bytes& b) { return GgufFile::Parse(b.b, "huge.gguf"); };
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, kHuge)),
      doctest::Contains(
          "truncated: metadata entry #0 (of 18446744073709551615)"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(1ull << 62, 0)),
      doctest::Contains("truncated: tensor info #0 (of 4611686018427387904)"),
      FormatError);
  CHECK_THROWS_WITH_AS(parse(Bytes().Header(0, 1).U64(kHuge).Raw("a-long-key")),
                       doctest::Contains("18446744073709551615-byte string"),
                       FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("k").U32(8).U64(kHuge - 3)),
      doctest::Contains("truncated"), FormatError);
  // Arrays: element counts × sizes that overflow or exceed the file.
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("k").U32(9).U32(12).U64(kHuge / 4)),
      doctest::Contains("claims 4611686018427387903 f64 elements"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("k").U32(9).U32(8).U64(kHuge)),
      doctest::Contains("element 0 of 18446744073709551615 (string length)"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("k").U32(9).U32(8).U64(2).Str("a").U64(
          kHuge)),
      doctest::Contains("metadata key 'k' element 1 of 2"), FormatError);
  // Tensor dims whose product overflows.
  Bytes dims;
  dims.Header(1, 0).Info("t", {1ull << 32, 1ull << 32}, 0, 0).PadTo(32);
  CHECK_THROWS_WITH_AS(parse(dims),
                       doctest::Contains("tensor 't' of type F32 (0)"),
                       FormatError);
  CHECK_THROWS_WITH_AS(parse(dims), doctest::Contains("overflows"),
                       FormatError);
  Bytes neg;
  neg.Header(1, 0).Info("t", {kHuge}, 0, 0).PadTo(32);
  CHECK_THROWS_WITH_AS(parse(neg), doctest::Contains("over 2^63 - 1"),
                       FormatError);
}

TEST_CASE("broken: metadata") {
  auto parse = [](const Bytes& b) { return GgufFile::Parse(b.b, "kv.gguf"); };
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("k").U32(13).U32(0)),
      doctest::Contains("kv.gguf: metadata key 'k' has unknown value type 13"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("k").U32(9).U32(9).U64(1).U32(0).U64(0)),
      doctest::Contains("metadata key 'k' is a nested array"), FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("k").U32(9).U32(77).U64(0)),
      doctest::Contains("array of unknown value type 77"), FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 2).Str("k").U32(4).U32(1).Str("k").U32(4).U32(2)),
      doctest::Contains("duplicate metadata key 'k'"), FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("general.alignment").U32(4).U32(48)),
      doctest::Contains("general.alignment must be a power of two"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("general.alignment").U32(4).U32(0)),
      doctest::Contains("power of two"), FormatError);
  CHECK_THROWS_WITH_AS(
      parse(Bytes().Header(0, 1).Str("general.alignment").U32(8).Str("32")),
      doctest::Contains("got string"), FormatError);
  // A file with metadata only and no data section is fine.
  const GgufFile g =
      parse(Bytes().Header(0, 1).Str("general.alignment").U32(4).U32(64));
  CHECK(g.alignment() == 64);
  CHECK(g.tensors().empty());
}

TEST_CASE("broken: tensor infos and placement") {
  auto parse = [](const Bytes& b) { return GgufFile::Parse(b.b, "t.gguf"); };
  auto one = [](std::vector<uint64_t> ne, uint32_t type, uint64_t offset,
                size_t data) {
    Bytes b;
    b.Header(1, 0)
        .Info("blk.0.w", std::move(ne), type, offset)
        .PadTo(32)
        .Zeros(data);
    return b;
  };
  CHECK(parse(one({8}, 0, 0, 32)).tensors().size() == 1);
  CHECK_THROWS_WITH_AS(
      parse(one({8}, 3, 0, 32)),
      doctest::Contains("t.gguf: tensor 'blk.0.w' has unknown ggml type id 3"),
      FormatError);
  CHECK_THROWS_WITH_AS(parse(one({8}, 1000, 0, 32)),
                       doctest::Contains("unknown ggml type id 1000"),
                       FormatError);
  CHECK_THROWS_WITH_AS(
      parse(one({8}, 37, 0, 32)),
      doctest::Contains("I8_S (37): I8_S is an activation scratch type"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      parse(one({1, 1, 1, 1, 1}, 0, 0, 32)),
      doctest::Contains("tensor 'blk.0.w' has 5 dimensions (at most 4)"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      parse(one({8}, 0, 16, 64)),
      doctest::Contains("offset 16, not a multiple of the alignment 32"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      parse(one({8}, 0, 32, 32)),
      doctest::Contains("tensor 'blk.0.w' (F32, 32 bytes at data offset 32) "
                        "extends past the end of the file"),
      FormatError);
  CHECK_THROWS_WITH_AS(parse(one({8}, 0, 0xFFFFFFFFFFFFFFE0ull, 32)),
                       doctest::Contains("extends past the end"), FormatError);
  CHECK_THROWS_WITH_AS(
      parse(one({33}, 8, 0, 64)),
      doctest::Contains("not a multiple of the Q8_0 block size 32"),
      FormatError);
  CHECK_THROWS_WITH_AS(parse(one({100, 2}, 135, 0, 512)),
                       doctest::Contains("IQ2_BN block size 64"), FormatError);

  // Type id 36 only means I2_S when the span matches N/4 + 32; upstream
  // llama.cpp's IQ4_NL_4_4 (also 36) would need 18 bytes per 32 values.
  const uint64_t n = 256 * 4, iq4 = n / 32 * 18;
  Bytes up;
  up.Header(2, 0)
      .Info("w", {256, 4}, 36, 0)
      .Info("x", {8}, 0, iq4)
      .PadTo(32)
      .Zeros(iq4 + 32);
  CHECK_THROWS_WITH_AS(
      parse(up),
      doctest::Contains("tensor 'w' has type id 36, which is "
                        "bitnet.cpp's I2_S only if its payload "
                        "is 288 bytes, but it spans 576 bytes"),
      FormatError);
  CHECK(parse(one({256, 4}, 36, 0, n / 4 + 32)).tensors()[0].size == 288);
  CHECK_THROWS_WITH_AS(parse(one({256, 4}, 36, 0, iq4)),
                       doctest::Contains("spans 576"), FormatError);

  Bytes overlap;
  overlap.Header(2, 0)
      .Info("a", {16}, 0, 0)
      .Info("b", {8}, 0, 32)
      .PadTo(32)
      .Zeros(64);
  CHECK_THROWS_WITH_AS(
      parse(overlap),
      doctest::Contains("tensors 'a' and 'b' overlap (data offsets 0 + 64 "
                        "bytes and 32)"),
      FormatError);
  Bytes reversed;  // order in the file does not matter, only in the data
  reversed.Header(2, 0)
      .Info("b", {8}, 0, 32)
      .Info("a", {16}, 0, 0)
      .PadTo(32)
      .Zeros(64);
  CHECK_THROWS_WITH_AS(parse(reversed),
                       doctest::Contains("tensors 'a' and 'b' overlap"),
                       FormatError);
  Bytes dup;
  dup.Header(2, 0)
      .Info("a", {8}, 0, 0)
      .Info("a", {8}, 0, 32)
      .PadTo(32)
      .Zeros(64);
  CHECK_THROWS_WITH_AS(
      parse(dup), doctest::Contains("duplicate tensor name 'a'"), FormatError);
  Bytes zero_dims;  // n_dims 0 is a 1-element tensor
  zero_dims.Header(1, 0).Info("s", {}, 0, 0).PadTo(32).Zeros(32);
  CHECK(parse(zero_dims).tensors()[0].elements() == 1);
  // The data section must start inside the file.
  Bytes no_data;
  no_data.Header(1, 0).Info("s", {1}, 0, 0);
  CHECK_THROWS_WITH_AS(parse(no_data),
                       doctest::Contains("data section would start"),
                       FormatError);
}

TEST_CASE("broken: random byte corruption never crashes") {
  // Every outcome is a parsed file or a FormatError; run under ASan/UBSan.
  const auto file = SmallValidFile();
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> pos(0, file.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255), count(1, 4);
  size_t parsed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    auto bad = file;
    for (int i = count(rng); i > 0; --i)
      bad[pos(rng)] = static_cast<uint8_t>(byte(rng));
    if (iter % 3 == 0) bad.resize(pos(rng));
    try {
      const GgufFile g = GgufFile::Parse(bad, "fuzz.gguf");
      ++parsed;
      for (const io::GgufKeyValue& kv : g.metadata()) {
        (void)kv.value.TypeString();
        (void)kv.value.ToInteger<int64_t>();
        (void)kv.value.ToFloat<double>();
        (void)kv.value.ToArray<int64_t>();
        (void)kv.value.ToArray<double>();
        (void)kv.value.ToStrings();
      }
      for (const io::GgufTensorInfo& t : g.tensors()) {
        const auto d = g.TensorData(t);
        CHECK(d.size() == t.size);
        CHECK(d.data() + d.size() <= bad.data() + bad.size());
      }
    } catch (const FormatError& e) {
      CHECK(std::string(e.what()).starts_with("fuzz.gguf: "));
    }
  }
  MESSAGE(parsed << " of 20000 corrupted files still parsed");
}

TEST_CASE("MappedFile: move-only view of the whole file") {
  const auto path = DataDir() / "random-256/llama.cpp-tq2_0.gguf";
  io::MappedFile a = io::MappedFile::Open(path);
  const uint8_t* p = a.bytes().data();
  CHECK(a.bytes().size() == 2662976);
  CHECK(a.path() == path);
  io::MappedFile b = std::move(a);
  CHECK(b.bytes().data() == p);
  CHECK(
      a.bytes().empty());  // NOLINT(bugprone-use-after-move): documented state
  a = std::move(b);
  CHECK(a.bytes().data() == p);
  static_assert(!std::is_copy_constructible_v<io::MappedFile>);
}

}  // namespace
}  // namespace ternary
