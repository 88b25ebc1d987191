// Inputs the libFuzzer targets in fuzz/ found, reduced to what triggered
// them (fuzz/README.md). Each must now load, or fail with a FormatError
// naming the file, quickly and in little memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "io/safetensors_writer.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_writer.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/tokenizer/tokenizer.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

// The keys GgufCheckpoint requires, with block_count `layers`, and one F32
// norm tensor per name in `tensors`.
std::vector<uint8_t> CheckpointWithLayers(
    uint32_t layers, const std::vector<std::string>& tensors) {
  io::GgufWriter w;
  w.AddString("general.architecture", "bitnet-b1.58");
  w.AddU32("bitnet-b1.58.embedding_length", 4);
  w.AddU32("bitnet-b1.58.feed_forward_length", 4);
  w.AddU32("bitnet-b1.58.block_count", layers);
  w.AddU32("bitnet-b1.58.attention.head_count", 1);
  w.AddU32("bitnet-b1.58.vocab_size", 1);
  w.AddF32("bitnet-b1.58.attention.layer_norm_rms_epsilon", 1e-5f);
  for (const std::string& name : tensors) {
    w.AddTensor(name, {4}, io::GgmlType::kF32, std::vector<uint8_t>(16));
  }
  return w.Serialize();
}

// Sets ne[0] of tensor `name` in serialized GGUF bytes (a shape the writer
// refuses to produce).
void PatchNe0(std::vector<uint8_t>& file, const std::string& name,
              uint64_t ne0) {
  std::vector<uint8_t> needle(8);
  const uint64_t len = name.size();
  std::memcpy(needle.data(), &len, 8);
  needle.insert(needle.end(), name.begin(), name.end());
  const auto it =
      std::search(file.begin(), file.end(), needle.begin(), needle.end());
  REQUIRE(it != file.end());
  const size_t at = size_t(it - file.begin()) + needle.size() + 4;  // n_dims
  std::memcpy(&file[at], &ne0, 8);
}

// gguf_checkpoint_fuzz, allocation-size-too-big: the byte size of a block
// type was ne0 / block · block_bytes unchecked, so an F32 row of 2^62 + 16
// values wrapped to a 64-byte payload that fit the file; decoding it then
// asked for 2^62 bytes.
TEST_CASE("GGUF tensor byte sizes that wrap 64 bits are refused") {
  // Only F32 can wrap (4 bytes a value; ne0 < 2^63 is checked first).
  io::GgufWriter w;
  w.AddTensor("blk.0.attn_norm.weight", {16}, io::GgmlType::kF32,
              std::vector<uint8_t>(64));
  std::vector<uint8_t> bytes = w.Serialize();
  PatchNe0(bytes, "blk.0.attn_norm.weight", (uint64_t{1} << 62) + 16);
  CHECK_THROWS_WITH_AS(
      io::GgufFile::Parse(bytes, "wrap.gguf"),
      doctest::Contains("wrap.gguf: tensor 'blk.0.attn_norm.weight' of type "
                        "F32 (0): element count or byte size overflows"),
      FormatError);
}

// gguf_checkpoint_fuzz, timeout: block_count 0x80001 made the tensor-name
// check list 11 names per layer before looking at a single tensor (36 s and
// gigabytes under ASan; 2^31 - 1 never finished).
TEST_CASE("GGUF block_count near 2^31 costs nothing until tensors are read") {
  const auto bytes = CheckpointWithLayers(
      0x7fffffff, {"blk.0.attn_norm.weight", "blk.2147483646.ffn_norm.weight"});
  const GgufCheckpoint c(io::GgufFile::Parse(bytes, "layers.gguf"));
  CHECK(c.config().dims.layers == 0x7fffffff);

  // Names outside the graph are still refused, exactly as before.
  for (const char* bad :
       {"blk.2147483647.attn_norm.weight", "blk.01.attn_norm.weight",
        "blk.-0.attn_norm.weight", "blk.+1.attn_norm.weight",
        "blk.0.attn_norm.weightx", "blk.99999999999.attn_norm.weight"}) {
    INFO(bad);
    const auto b = CheckpointWithLayers(0x7fffffff, {bad});
    const std::string want =
        "layers.gguf: unexpected tensor '" + std::string(bad) + "'";
    CHECK_THROWS_WITH_AS(GgufCheckpoint(io::GgufFile::Parse(b, "layers.gguf")),
                         doctest::Contains(want.c_str()), FormatError);
  }
}

// tiktoken_fuzz / tokenizer_json_fuzz, huge allocation: one token with id
// 2^24 - 1 sized the id tables for 16.7M tokens (a 15-byte file took 0.6 GB
// and 100 s under ASan). Ids may now pass the number of tokens the file
// lists by at most 2^16.
TEST_CASE("tokenizer ids far beyond the listed tokens are refused") {
  const auto dir = test::TempDir("fuzz_regressions");
  test::WriteText(dir / "big.tiktoken", "IQ== 16777215\n");
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromTiktoken(dir / "big.tiktoken"),
      doctest::Contains("big.tiktoken: line 1: id 16777215 out of range"),
      FormatError);
  test::WriteText(dir / "gap.tiktoken", "IQ== 65536\n");
  CHECK(Tokenizer::FromTiktoken(dir / "gap.tiktoken").vocab_size() == 65537);

  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJsonText(
          R"({"model": {"vocab": {"a": 16777215}, "merges": []}})",
          "tokenizer.json"),
      doctest::Contains(
          "tokenizer.json: model.vocab['a']: id 16777215 out of range"),
      FormatError);
  CHECK_THROWS_WITH_AS(
      Tokenizer::FromHfJsonText(
          R"({"model": {"vocab": {"a": 0}, "merges": []},
              "added_tokens": [{"id": 9000000, "content": "<s>"}]})",
          "tokenizer.json"),
      doctest::Contains("tokenizer.json: added_tokens[0]: id 9000000 out of "
                        "range [0, 65538) (ids are dense"),
      FormatError);
  CHECK(Tokenizer::FromHfJsonText(
            R"({"model": {"vocab": {"a": 0}, "merges": []},
                "added_tokens": [{"id": 65537, "content": "<s>"}]})",
            "tokenizer.json")
            .vocab_size() == 65538);
}

}  // namespace
}  // namespace ternary
