// Test helper: serializes tensors into safetensors bytes (and lets tests
// corrupt them), so bad-input tests need no fixture files.
#ifndef TERNARY_TESTS_IO_SAFETENSORS_WRITER_H_
#define TERNARY_TESTS_IO_SAFETENSORS_WRITER_H_

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ternary/util/half.h"

namespace ternary::test {

struct TensorBytes {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> data;
};

inline TensorBytes Bf16Tensor(std::string name, std::vector<uint64_t> shape,
                              const std::vector<float>& v) {
  TensorBytes t{std::move(name), "BF16", std::move(shape), {}};
  for (float f : v) {
    const uint16_t b = FloatToBf16(f);
    t.data.push_back(static_cast<uint8_t>(b & 0xff));
    t.data.push_back(static_cast<uint8_t>(b >> 8));
  }
  return t;
}

inline TensorBytes F32Tensor(std::string name, std::vector<uint64_t> shape,
                             const std::vector<float>& v) {
  TensorBytes t{std::move(name), "F32", std::move(shape), {}};
  t.data.resize(v.size() * 4);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

// The header safetensors would write for `tensors`, laid out back to back.
inline nlohmann::json HeaderJson(const std::vector<TensorBytes>& tensors) {
  nlohmann::json h = nlohmann::json::object();
  h["__metadata__"] = {{"format", "pt"}};
  uint64_t off = 0;
  for (const auto& t : tensors) {
    h[t.name] = {{"dtype", t.dtype},
                 {"shape", t.shape},
                 {"data_offsets", {off, off + t.data.size()}}};
    off += t.data.size();
  }
  return h;
}

// 8-byte length + `header` + every tensor's data (callers may pass an edited
// header to build corrupt files).
inline std::vector<uint8_t> SerializeWithHeader(
    const std::string& header, const std::vector<TensorBytes>& tensors) {
  size_t total = 8 + header.size();
  for (const auto& t : tensors) total += t.data.size();
  std::vector<uint8_t> out(total);
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  size_t pos = 8;
  std::memcpy(out.data() + pos, header.data(), header.size());
  pos += header.size();
  for (const auto& t : tensors) {
    if (!t.data.empty())
      std::memcpy(out.data() + pos, t.data.data(), t.data.size());
    pos += t.data.size();
  }
  return out;
}

inline std::vector<uint8_t> SerializeTensors(
    const std::vector<TensorBytes>& tensors) {
  return SerializeWithHeader(HeaderJson(tensors).dump(), tensors);
}

inline void WriteFile(const std::filesystem::path& p,
                      const std::vector<uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()),
          static_cast<std::streamsize>(bytes.size()));
}

inline void WriteText(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

// A fresh, empty folder under the system temp dir.
inline std::filesystem::path TempDir(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() /
                 ("ternary_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace ternary::test

#endif  // TERNARY_TESTS_IO_SAFETENSORS_WRITER_H_
