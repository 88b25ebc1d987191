// libFuzzer target: the GGUF container reader (io::GgufFile::Parse) and every
// accessor on the files it accepts.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_util.h"
#include "ternary/io/gguf.h"

namespace {

using ternary::fuzz::ExpectingErrors;
using ternary::fuzz::ReadAll;
using ternary::io::GgufFile;
using ternary::io::GgufType;
using ternary::io::GgufValue;

// `mismatches`: also call the getters of other types (each throws, which is
// slow under ASan: done for the first keys only).
void ExerciseValue(const GgufFile& file, std::string_view key,
                   const GgufValue& v, bool mismatches) {
  (void)v.TypeString();
  (void)v.ToInteger<int64_t>();
  (void)v.ToInteger<uint8_t>();
  (void)v.ToFloat<double>();
  (void)v.ToBool();
  if (const auto s = v.ToString()) ReadAll(std::span(s->data(), s->size()));
  if (const auto a = v.ToStrings()) {
    for (const std::string_view s : *a) ReadAll(std::span(s.data(), s.size()));
  }
  (void)v.ToArray<int32_t>();
  (void)v.ToArray<uint64_t>();
  (void)v.ToArray<float>();
  (void)v.ToArray<bool>();
  ReadAll(v.raw());
  // The typed getters throw FormatError on a type mismatch.
  const auto t = v.is_array() ? GgufType::kArray : v.type();
  const auto et = v.is_array() ? v.element_type() : GgufType::kArray;
  const auto call = [&](bool match, auto get) {
    if (match || mismatches) ExpectingErrors([&] { (void)get(); });
  };
  call(ternary::io::GgufIsInteger(t), [&] { return file.GetU32(key); });
  call(ternary::io::GgufIsInteger(t), [&] { return file.GetI64(key); });
  call(t == GgufType::kF32 || t == GgufType::kF64,
       [&] { return file.GetF32(key); });
  call(t == GgufType::kBool, [&] { return file.GetBool(key); });
  call(t == GgufType::kString, [&] { return file.GetString(key); });
  call(et == GgufType::kString, [&] { return file.GetStringArray(key); });
  call(et == GgufType::kF32 || et == GgufType::kF64,
       [&] { return file.GetF32Array(key); });
  call(ternary::io::GgufIsInteger(et), [&] { return file.GetI32Array(key); });
  call(ternary::io::GgufIsInteger(et), [&] { return file.GetU32Array(key); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ExpectingErrors([&] {
    const GgufFile file = GgufFile::Parse({data, size}, "fuzz.gguf");
    for (const auto& kv : file.metadata()) {
      if (file.Find(kv.key) != &kv.value) __builtin_trap();
      ExerciseValue(file, kv.key, kv.value, &kv == file.metadata().data());
    }
    for (const auto& t : file.tensors()) {
      if (file.FindTensor(t.name) != &t) __builtin_trap();
      const auto payload = file.TensorData(t);
      if (payload.size() != t.size) __builtin_trap();
      ReadAll(payload);
    }
    ExpectingErrors([&] { (void)file.architecture(); });
  });
  return 0;
}
