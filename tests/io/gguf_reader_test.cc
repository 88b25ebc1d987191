// GGUF reader: real files from bitnet.cpp / llama.cpp / ik_llama.cpp, typed
// getters, payload sizes, and MappedFile.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "gguf_test_util.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_types.h"
#include "ternary/io/mapped_file.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

using gguf_test::Bytes;
using gguf_test::DataDir;
using io::GgmlType;
using io::GgufFile;
using io::GgufType;

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
// Payload sizes

TEST_CASE("GgmlTensorBytes follows ggml_nbytes") {
  using io::GgmlTensorBytes;
  const std::vector<int64_t> kq = {2560, 2560}, kv = {2560, 640},
                             up = {2560, 6912};
  // I2_S payload sizes: docs/formats.md §10.1
  CHECK(GgmlTensorBytes(GgmlType::kI2_S, kq) == 1638432);
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

// Resident pages of this process (/proc/self/statm's second field).
long ResidentPages() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident;
}

TEST_CASE("MappedFile::Release drops the pages, the bytes read back") {
  const auto path = DataDir() / "random-256/llama.cpp-tq2_0.gguf";
  const std::vector<uint8_t> want = [&] {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
  }();
  const io::MappedFile m = io::MappedFile::Open(path);
  const std::span<const uint8_t> all = m.bytes();
  REQUIRE(all.size() == want.size());
  uint64_t sum = 0;
  for (size_t i = 0; i < all.size(); i += 512) sum += all[i];  // touch all
  const long page = ::sysconf(_SC_PAGESIZE);
  const long before = ResidentPages();
  // An unaligned part: only whole pages inside it go.
  m.Release(all.subspan(100, all.size() - 200));
  const long dropped = before - ResidentPages();
  CHECK(dropped >= static_cast<long>(all.size()) / page / 2);
  CHECK(std::ranges::equal(all, want));  // read again from the file
  // Ranges outside the mapping are ignored.
  const uint8_t other[8] = {};
  m.Release(std::span<const uint8_t>(other, 8));
  CHECK(sum > 0);
}

}  // namespace
}  // namespace ternary
