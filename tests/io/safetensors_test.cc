// safetensors reader: parsing, dtype conversion, sharding, and bad input.
#include "ternary/io/safetensors.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/safetensors_writer.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

using io::SafetensorsCheckpoint;
using io::SafetensorsDtype;
using io::SafetensorsFile;
using test::Bf16Tensor;
using test::F32Tensor;
using test::SerializeTensors;
using test::SerializeWithHeader;
using test::TensorBytes;

std::vector<TensorBytes> Sample() {
  TensorBytes u8{"packed", "U8", {2, 3}, {1, 2, 3, 4, 5, 6}};
  TensorBytes i8{"signed", "I8", {2}, {0xff, 0x01}};
  TensorBytes f16{"half", "F16", {2}, {0x00, 0x3c, 0x00, 0xc0}};  // 1, -2
  return {Bf16Tensor("norm", {3}, {1.0f, -2.5f, 0.15625f}),
          F32Tensor("scale", {1}, {0.75f}), u8, i8, f16};
}

TEST_CASE("safetensors: parses names, dtypes, shapes and data") {
  const std::vector<uint8_t> bytes = SerializeTensors(Sample());
  const SafetensorsFile f = SafetensorsFile::Parse(bytes, "mem.safetensors");
  CHECK(f.tensors().size() == 5);
  CHECK(f.metadata().at("format") == "pt");
  const io::SafetensorsTensor& p = f.Get("packed");
  CHECK(p.dtype == SafetensorsDtype::kU8);
  CHECK(p.shape == std::vector<uint64_t>{2, 3});
  CHECK(p.numel() == 6);
  CHECK(p.data[5] == 6);
  CHECK(f.Get("signed").dtype == SafetensorsDtype::kI8);
  CHECK(static_cast<int8_t>(f.Get("signed").data[0]) == -1);

  std::vector<float> v(3);
  io::ReadFloats(f.Get("norm"), f.name(), v);
  CHECK(v == std::vector<float>{1.0f, -2.5f, 0.15625f});
  float s = 0;
  io::ReadFloats(f.Get("scale"), f.name(), std::span<float>(&s, 1));
  CHECK(s == 0.75f);
  std::vector<float> h(2);
  io::ReadFloats(f.Get("half"), f.name(), h);
  CHECK(h == std::vector<float>{1.0f, -2.0f});
  CHECK_THROWS_WITH_AS(io::ReadFloats(f.Get("packed"), f.name(), v),
                       doctest::Contains("'packed' has dtype U8"), FormatError);
  std::vector<float> wrong(2);
  CHECK_THROWS_AS(io::ReadFloats(f.Get("norm"), f.name(), wrong), ShapeError);
  CHECK(f.Find("nope") == nullptr);
  CHECK_THROWS_WITH_AS(f.Get("nope"), "mem.safetensors: missing tensor 'nope'",
                       FormatError);
}

TEST_CASE("safetensors: scalars and empty tensors") {
  TensorBytes scalar{"s", "F32", {}, {0, 0, 0x80, 0x3f}};
  TensorBytes empty{"e", "BF16", {0, 4}, {}};
  const auto bytes = SerializeTensors({scalar, empty});
  const SafetensorsFile f = SafetensorsFile::Parse(bytes, "x");
  CHECK(f.Get("s").numel() == 1);
  CHECK(f.Get("e").numel() == 0);
  CHECK(f.Get("e").data.empty());
}

// Parses `header` over `data_bytes` zero bytes, expecting FormatError.
void ExpectBad(const std::string& header, size_t data_bytes,
               const std::string& needle) {
  TensorBytes pad{"", "U8", {}, std::vector<uint8_t>(data_bytes)};
  const auto bytes = SerializeWithHeader(header, {pad});
  CAPTURE(header);
  CHECK_THROWS_WITH_AS(SafetensorsFile::Parse(bytes, "bad.safetensors"),
                       doctest::Contains(needle.c_str()), FormatError);
}

TEST_CASE("safetensors: rejects bad headers and offsets") {
  // Shorter than the length prefix.
  const std::vector<uint8_t> tiny = {1, 0, 0};
  CHECK_THROWS_WITH_AS(SafetensorsFile::Parse(tiny, "bad.safetensors"),
                       doctest::Contains("bad.safetensors: truncated"),
                       FormatError);
  // Header length past the end of the file, and absurdly large.
  std::vector<uint8_t> b = SerializeTensors(Sample());
  b[0] = 0xff;
  b[1] = 0xff;
  CHECK_THROWS_WITH_AS(SafetensorsFile::Parse(b, "bad.safetensors"),
                       doctest::Contains("truncated"), FormatError);
  std::vector<uint8_t> huge(16, 0);
  huge[7] = 0x7f;
  CHECK_THROWS_WITH_AS(SafetensorsFile::Parse(huge, "bad.safetensors"),
                       doctest::Contains("100 MB"), FormatError);

  ExpectBad("{not json", 0, "not valid JSON");
  ExpectBad("[1,2]", 0, "not a JSON object");
  ExpectBad(R"({"t": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}})",
            1, "tensor 't': unknown dtype 'Q7'");
  ExpectBad(R"({"t": {"shape": [1], "data_offsets": [0, 1]}})", 1,
            "missing dtype");
  ExpectBad(R"({"t": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}})",
            1, "negative");
  ExpectBad(R"({"t": {"dtype": "U8", "shape": [1], "data_offsets": [0]}})", 1,
            "data_offsets");
  ExpectBad(R"({"t": {"dtype": "U8", "shape": [1], "data_offsets": [2, 1]}})",
            2, "end < begin");
  ExpectBad(R"({"t": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})",
            3, "truncated: tensor 't'");
  ExpectBad(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})",
            4, "needs 8");
  ExpectBad(R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296],
                "data_offsets": [0, 4]}})",
            4, "overflows");
  ExpectBad(R"({"t": {"dtype": "U8", "shape": [1],
                "data_offsets": [18446744073709551615, 18446744073709551615]}})",
            4, "truncated");
}

TEST_CASE("safetensors: truncated file on disk names the file") {
  const auto dir = test::TempDir("st_trunc");
  std::vector<uint8_t> b = SerializeTensors(Sample());
  b.erase(b.end() - 3, b.end());
  test::WriteFile(dir / "model.safetensors", b);
  CHECK_THROWS_WITH_AS(SafetensorsFile::Open(dir / "model.safetensors"),
                       doctest::Contains("model.safetensors: truncated"),
                       FormatError);
  CHECK_THROWS_AS(SafetensorsFile::Open(dir / "absent.safetensors"),
                  FormatError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("safetensors: sharded checkpoints") {
  const auto dir = test::TempDir("st_shards");
  test::WriteFile(dir / "model-00001-of-00002.safetensors",
                  SerializeTensors({F32Tensor("a", {1}, {1.0f})}));
  test::WriteFile(dir / "model-00002-of-00002.safetensors",
                  SerializeTensors({F32Tensor("b", {2}, {2.0f, 3.0f})}));
  nlohmann::json index = {{"metadata", {{"total_size", 12}}},
                          {"weight_map",
                           {{"a", "model-00001-of-00002.safetensors"},
                            {"b", "model-00002-of-00002.safetensors"}}}};
  test::WriteText(dir / "model.safetensors.index.json", index.dump());
  {
    const SafetensorsCheckpoint c = SafetensorsCheckpoint::Open(dir);
    CHECK(c.files().size() == 2);
    const auto b = c.Get("b");
    CHECK(*b.file == "model-00002-of-00002.safetensors");
    CHECK(b.tensor->numel() == 2);
    CHECK(!c.Find("c"));
    CHECK_THROWS_WITH_AS(c.Get("c"), doctest::Contains("missing tensor 'c'"),
                         FormatError);
  }
  // The index lists a tensor its shard does not hold.
  index["weight_map"]["c"] = "model-00001-of-00002.safetensors";
  test::WriteText(dir / "model.safetensors.index.json", index.dump());
  CHECK_THROWS_WITH_AS(
      SafetensorsCheckpoint::Open(dir),
      doctest::Contains("model-00001-of-00002.safetensors: missing tensor 'c'"),
      FormatError);
  // A shard name that escapes the folder.
  index["weight_map"]["c"] = "../evil.safetensors";
  test::WriteText(dir / "model.safetensors.index.json", index.dump());
  CHECK_THROWS_WITH_AS(SafetensorsCheckpoint::Open(dir),
                       doctest::Contains("invalid shard"), FormatError);
  std::filesystem::remove_all(dir);
  // Neither a single file nor an index.
  const auto empty = test::TempDir("st_empty");
  CHECK_THROWS_WITH_AS(SafetensorsCheckpoint::Open(empty),
                       doctest::Contains("no model.safetensors"), FormatError);
  std::filesystem::remove_all(empty);
}

TEST_CASE("safetensors: the tiny-shakespeare checkpoint") {
  const auto f =
      SafetensorsFile::Open(std::filesystem::path(TERNARY_MODELS_DIR) /
                            "tiny-shakespeare" / "model.safetensors");
  const auto& q = f.Get("model.layers.0.self_attn.q_proj.weight");
  CHECK(q.dtype == SafetensorsDtype::kU8);
  CHECK(q.shape == std::vector<uint64_t>{96, 384});
  CHECK(f.Get("model.embed_tokens.weight").shape ==
        std::vector<uint64_t>{4096, 384});
  CHECK(f.Get("model.layers.7.mlp.down_proj.weight_scale").dtype ==
        SafetensorsDtype::kBF16);
}

}  // namespace
}  // namespace ternary
