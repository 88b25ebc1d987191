// GGUF writer: round trips of every value type, a real file rewritten byte
// for byte, and misuse.
#include "ternary/io/gguf_writer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf_test_util.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_types.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

using gguf_test::DataDir;
using io::GgmlType;
using io::GgufFile;
using io::GgufType;
using io::GgufWriter;

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

}  // namespace
}  // namespace ternary
