// GGUF v3 writer: metadata and tensors in, a file (or buffer) out.
#ifndef TERNARY_IO_GGUF_WRITER_H_
#define TERNARY_IO_GGUF_WRITER_H_

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ternary/io/atomic_file.h"
#include "ternary/io/gguf.h"
#include "ternary/io/gguf_types.h"
#include "ternary/util/error.h"
#include "ternary/util/math.h"

namespace ternary::io {

// Collects metadata (serialized immediately) and tensors (bytes owned or
// borrowed), then writes the layout of gguf.h: header, metadata in the order
// added, tensor infos in the order added, padding, payloads each padded to
// the alignment with zeros. Alignment 32 is the GGUF default and is not
// written as a key; any other power of two adds `general.alignment` first.
// Misuse (duplicate key or tensor, wrong payload size) throws UsageError.
class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = 32) : alignment_(alignment) {
    if (alignment == 0 || !std::has_single_bit(alignment)) {
      throw UsageError("GgufWriter: alignment " + std::to_string(alignment) +
                       " is not a power of two");
    }
    if (alignment != 32)
      AddScalar("general.alignment", GgufType::kU32, alignment, true);
  }

  void AddU8(std::string_view key, uint8_t v) {
    AddScalar(key, GgufType::kU8, v);
  }
  void AddI8(std::string_view key, int8_t v) {
    AddScalar(key, GgufType::kI8, v);
  }
  void AddU16(std::string_view key, uint16_t v) {
    AddScalar(key, GgufType::kU16, v);
  }
  void AddI16(std::string_view key, int16_t v) {
    AddScalar(key, GgufType::kI16, v);
  }
  void AddU32(std::string_view key, uint32_t v) {
    AddScalar(key, GgufType::kU32, v);
  }
  void AddI32(std::string_view key, int32_t v) {
    AddScalar(key, GgufType::kI32, v);
  }
  void AddU64(std::string_view key, uint64_t v) {
    AddScalar(key, GgufType::kU64, v);
  }
  void AddI64(std::string_view key, int64_t v) {
    AddScalar(key, GgufType::kI64, v);
  }
  void AddF32(std::string_view key, float v) {
    AddScalar(key, GgufType::kF32, v);
  }
  void AddF64(std::string_view key, double v) {
    AddScalar(key, GgufType::kF64, v);
  }
  void AddBool(std::string_view key, bool v) {
    AddScalar(key, GgufType::kBool, static_cast<uint8_t>(v ? 1 : 0));
  }
  void AddString(std::string_view key, std::string_view v) {
    BeginKey(key, GgufType::kString);
    PutString(kv_, v);
  }

  // Arrays of u8..f64 or bool; the element type follows T.
  template <class T>
  void AddArray(std::string_view key, std::span<const T> v) {
    const GgufType et = ElementType<T>();
    BeginKey(key, GgufType::kArray);
    Put<uint32_t>(kv_, static_cast<uint32_t>(et));
    Put<uint64_t>(kv_, v.size());
    for (const T& x : v) {
      if constexpr (std::is_same_v<T, bool>) {
        Put<uint8_t>(kv_, x ? 1 : 0);
      } else {
        Put<T>(kv_, x);
      }
    }
  }
  template <class T>
  void AddArray(std::string_view key, const std::vector<T>& v) {
    if constexpr (std::is_same_v<T, bool>) {
      const std::vector<uint8_t> b(v.begin(), v.end());
      AddBoolBytes(key, b);
    } else {
      AddArray(key, std::span<const T>(v));
    }
  }
  template <class S>
  void AddStringArray(std::string_view key, std::span<const S> v) {
    static_assert(std::is_convertible_v<const S&, std::string_view>,
                  "AddStringArray: elements must convert to std::string_view");
    BeginKey(key, GgufType::kArray);
    Put<uint32_t>(kv_, static_cast<uint32_t>(GgufType::kString));
    Put<uint64_t>(kv_, v.size());
    for (const S& s : v) PutString(kv_, std::string_view(s));
  }
  void AddStringArray(std::string_view key, const std::vector<std::string>& v) {
    AddStringArray(key, std::span<const std::string>(v));
  }
  void AddStringArray(std::string_view key,
                      const std::vector<std::string_view>& v) {
    AddStringArray(key, std::span<const std::string_view>(v));
  }

  // `data` must be exactly GgmlTensorBytes(type, ne) bytes. The writer keeps
  // a copy-free view: the caller keeps `data` alive until the last Write.
  void AddTensorView(std::string_view name, std::span<const int64_t> ne,
                     GgmlType type, std::span<const uint8_t> data) {
    AddTensorImpl(name, ne, type, data, {});
  }
  // Same, taking ownership of the bytes.
  void AddTensor(std::string_view name, std::span<const int64_t> ne,
                 GgmlType type, std::vector<uint8_t> data) {
    const std::span<const uint8_t> view(data);
    AddTensorImpl(name, ne, type, view, std::move(data));
  }
  void AddTensor(std::string_view name, std::initializer_list<int64_t> ne,
                 GgmlType type, std::vector<uint8_t> data) {
    AddTensor(name, std::span<const int64_t>(ne.begin(), ne.size()), type,
              std::move(data));
  }

  // The whole file in memory (for tests and small files).
  std::vector<uint8_t> Serialize() const {
    std::vector<uint8_t> out;
    Emit([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
    return out;
  }

  // Streams the file to `path` (payloads are not gathered in memory),
  // atomically: through a fresh temporary next to it, renamed over `path`
  // once complete (io/atomic_file.h: an existing `path` must be a regular
  // file, links are followed). Returns the bytes written. Throws
  // ternary::Error naming the file on I/O failure, leaving no temporary.
  uint64_t WriteFile(const std::filesystem::path& path) const {
    AtomicFile f(path);
    Emit([&](const uint8_t* p, size_t n) {
      if (n != 0) f.Write(p, n);
    });
    f.Commit();
    return f.bytes_written();
  }

 private:
  struct Tensor {
    std::string name;
    std::array<int64_t, 4> ne;
    uint32_t n_dims;
    GgmlType type;
    uint64_t offset;
    std::span<const uint8_t> data;
    std::vector<uint8_t> owned;  // backs `data` when the writer owns it
  };

  template <class T>
  static constexpr GgufType ElementType() {
    if constexpr (std::is_same_v<T, bool>)
      return GgufType::kBool;
    else if constexpr (std::is_same_v<T, uint8_t>)
      return GgufType::kU8;
    else if constexpr (std::is_same_v<T, int8_t>)
      return GgufType::kI8;
    else if constexpr (std::is_same_v<T, uint16_t>)
      return GgufType::kU16;
    else if constexpr (std::is_same_v<T, int16_t>)
      return GgufType::kI16;
    else if constexpr (std::is_same_v<T, uint32_t>)
      return GgufType::kU32;
    else if constexpr (std::is_same_v<T, int32_t>)
      return GgufType::kI32;
    else if constexpr (std::is_same_v<T, uint64_t>)
      return GgufType::kU64;
    else if constexpr (std::is_same_v<T, int64_t>)
      return GgufType::kI64;
    else if constexpr (std::is_same_v<T, float>)
      return GgufType::kF32;
    else if constexpr (std::is_same_v<T, double>)
      return GgufType::kF64;
    else
      static_assert(sizeof(T) == 0,
                    "AddArray: element type has no GGUF equivalent");
  }

  template <class T>
  static void Put(std::vector<uint8_t>& out, T v) {
    using U = std::conditional_t<
        sizeof(T) == 8, uint64_t,
        std::conditional_t<
            sizeof(T) == 4, uint32_t,
            std::conditional_t<sizeof(T) == 2, uint16_t, uint8_t>>>;
    const U u = std::bit_cast<U>(v);
    for (size_t i = 0; i < sizeof(T); ++i)
      out.push_back(static_cast<uint8_t>(u >> (8 * i)));
  }
  static void PutString(std::vector<uint8_t>& out, std::string_view s) {
    Put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
  }

  void BeginKey(std::string_view key, GgufType type, bool internal = false) {
    if (!internal && key == "general.alignment") {
      throw UsageError(
          "GgufWriter: set general.alignment through the constructor");
    }
    if (!keys_.emplace(key).second) {
      throw UsageError("GgufWriter: duplicate metadata key '" +
                       std::string(key) + "'");
    }
    ++n_kv_;
    PutString(kv_, key);
    Put<uint32_t>(kv_, static_cast<uint32_t>(type));
  }
  template <class T>
  void AddScalar(std::string_view key, GgufType type, T v,
                 bool internal = false) {
    BeginKey(key, type, internal);
    Put<T>(kv_, v);
  }
  void AddBoolBytes(std::string_view key, const std::vector<uint8_t>& b) {
    BeginKey(key, GgufType::kArray);
    Put<uint32_t>(kv_, static_cast<uint32_t>(GgufType::kBool));
    Put<uint64_t>(kv_, b.size());
    for (uint8_t x : b) Put<uint8_t>(kv_, x ? 1 : 0);
  }

  void AddTensorImpl(std::string_view name, std::span<const int64_t> ne,
                     GgmlType type, std::span<const uint8_t> data,
                     std::vector<uint8_t> owned) {
    const std::string where = "GgufWriter: tensor '" + std::string(name) + "'";
    // llama.cpp rejects names of 64 bytes or more (GGML_MAX_NAME).
    if (name.empty() || name.size() >= 64) {
      throw UsageError(where + ": name must have 1 to 63 bytes");
    }
    if (ne.size() > 4) throw UsageError(where + ": more than 4 dimensions");
    uint64_t bytes = 0;
    try {
      bytes = GgmlTensorBytes(type, ne);
    } catch (const ShapeError& e) {
      throw UsageError(where + " of type " + std::string(GgmlTypeName(type)) +
                       ": " + e.what());
    } catch (const UsageError& e) {
      throw UsageError(where + ": " + e.what());
    }
    if (data.size() != bytes) {
      throw UsageError(where + " of type " + std::string(GgmlTypeName(type)) +
                       " needs " + std::to_string(bytes) + " bytes, got " +
                       std::to_string(data.size()));
    }
    if (!tensor_names_.emplace(name).second)
      throw UsageError(where + " added twice");
    Tensor t;
    t.name = std::string(name);
    t.ne = {1, 1, 1, 1};
    for (size_t i = 0; i < ne.size(); ++i) t.ne[i] = ne[i];
    t.n_dims = static_cast<uint32_t>(ne.size());
    t.type = type;
    t.offset = data_size_;
    t.data = data;
    t.owned =
        std::move(owned);  // moving keeps the buffer, so `data` stays valid
    data_size_ = RoundUp(data_size_ + bytes, alignment_);
    tensors_.push_back(std::move(t));
  }

  template <class Sink>
  void Emit(Sink&& sink) const {
    std::vector<uint8_t> head;
    head.insert(head.end(), {'G', 'G', 'U', 'F'});
    Put<uint32_t>(head, 3);
    Put<uint64_t>(head, tensors_.size());
    Put<uint64_t>(head, n_kv_);
    head.insert(head.end(), kv_.begin(), kv_.end());
    for (const Tensor& t : tensors_) {
      PutString(head, t.name);
      Put<uint32_t>(head, t.n_dims);
      for (uint32_t d = 0; d < t.n_dims; ++d)
        Put<uint64_t>(head, static_cast<uint64_t>(t.ne[d]));
      Put<uint32_t>(head, static_cast<uint32_t>(t.type));
      Put<uint64_t>(head, t.offset);
    }
    head.resize(RoundUp(head.size(), alignment_), 0);
    sink(head.data(), head.size());
    const std::vector<uint8_t> zeros(alignment_, 0);
    for (const Tensor& t : tensors_) {
      sink(t.data.data(), t.data.size());
      const size_t pad = RoundUp(t.data.size(), alignment_) - t.data.size();
      sink(zeros.data(), pad);
    }
  }

  uint32_t alignment_;
  uint64_t n_kv_ = 0;
  std::vector<uint8_t> kv_;  // serialized metadata entries
  std::unordered_set<std::string> keys_;
  std::unordered_set<std::string> tensor_names_;
  std::vector<Tensor> tensors_;
  uint64_t data_size_ = 0;
};

}  // namespace ternary::io

#endif  // TERNARY_IO_GGUF_WRITER_H_
