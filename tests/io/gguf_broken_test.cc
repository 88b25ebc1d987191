// GGUF reader on broken files: bad headers, truncation at every byte, huge
// counts, bad metadata and tensor infos, random corruption.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gguf_test_util.h"
#include "ternary/io/gguf.h"
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
using io::GgufWriter;

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

}  // namespace
}  // namespace ternary
