// GGUF container reader (versions 2 and 3, little-endian), validated once.
#ifndef TERNARY_IO_GGUF_H_
#define TERNARY_IO_GGUF_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ternary/io/gguf_types.h"
#include "ternary/io/mapped_file.h"
#include "ternary/util/error.h"
#include "ternary/util/math.h"

namespace ternary::io {

// File layout (docs/formats.md §2), all little-endian:
//
//   0   "GGUF"                     magic 47 47 55 46
//   4   u32 version                2 or 3
//   8   u64 n_tensors
//   16  u64 n_kv
//   24  n_kv × { string key | u32 value type | value }
//       n_tensors × { string name | u32 n_dims | u64 ne[n_dims] |
//                     u32 ggml type | u64 offset (relative to data) }
//       zero padding to `general.alignment` (default 32)
//   data: tensor payloads at their offsets, each padded to the alignment
//
//   string = u64 length | bytes (UTF-8, no NUL);
//   array  = u32 element type | u64 count | elements.
// Nested arrays (arrays of arrays) are rejected: no GGUF writer we know of
// produces them and no BitNet key needs them.
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

inline std::string_view GgufTypeName(GgufType t) noexcept {
  static constexpr std::string_view kNames[] = {
      "u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
      "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < std::size(kNames) ? kNames[i] : std::string_view("unknown");
}

// Bytes of one scalar element; 0 for string and array.
inline size_t GgufScalarBytes(GgufType t) noexcept {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    default:
      return 0;
  }
}

inline bool GgufIsInteger(GgufType t) noexcept {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

// One metadata value. Views into the file's bytes: valid while the
// GgufFile (or, for Parse, the caller's buffer) lives.
class GgufValue {
 public:
  GgufType type() const noexcept { return type_; }
  bool is_array() const noexcept { return type_ == GgufType::kArray; }
  // For arrays the element type and count; for scalars type() and 1.
  GgufType element_type() const noexcept { return element_type_; }
  uint64_t count() const noexcept { return count_; }

  // "u32", "string", "array<string>[4096]": for error messages.
  std::string TypeString() const {
    if (!is_array()) return std::string(GgufTypeName(type_));
    return "array<" + std::string(GgufTypeName(element_type_)) + ">[" +
           std::to_string(count_) + "]";
  }

  // Integer scalar (any of u8..i64) converted to T if it fits.
  template <class T>
  std::optional<T> ToInteger() const noexcept {
    if (is_array() || !GgufIsInteger(type_)) return std::nullopt;
    return IntegerAt<T>(0);
  }
  // f32 or f64 scalar, converted to T (float or double).
  template <class T>
  std::optional<T> ToFloat() const noexcept {
    if (type_ == GgufType::kF32)
      return static_cast<T>(LoadAs<float>(raw_.data()));
    if (type_ == GgufType::kF64)
      return static_cast<T>(LoadAs<double>(raw_.data()));
    return std::nullopt;
  }
  std::optional<bool> ToBool() const noexcept {
    if (type_ != GgufType::kBool) return std::nullopt;
    return raw_[0] != 0;
  }
  std::optional<std::string_view> ToString() const noexcept {
    if (type_ != GgufType::kString) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(raw_.data()),
                            raw_.size());
  }
  // Array of strings: views into the file, in order.
  std::optional<std::span<const std::string_view>> ToStrings() const noexcept {
    if (!is_array() || element_type_ != GgufType::kString) return std::nullopt;
    return std::span<const std::string_view>(strings_);
  }
  // Array of numbers converted element-wise to T: integer arrays to an
  // integer T when every element fits, f32/f64 arrays to a floating T,
  // bool arrays to bool.
  template <class T>
  std::optional<std::vector<T>> ToArray() const {
    if (!is_array() || element_type_ == GgufType::kString) return std::nullopt;
    std::vector<T> out;
    if constexpr (std::is_same_v<T, bool>) {
      if (element_type_ != GgufType::kBool) return std::nullopt;
      out.resize(count_);
      for (size_t i = 0; i < count_; ++i) out[i] = raw_[i] != 0;
    } else if constexpr (std::is_floating_point_v<T>) {
      const size_t w = GgufScalarBytes(element_type_);
      if (element_type_ != GgufType::kF32 && element_type_ != GgufType::kF64) {
        return std::nullopt;
      }
      out.resize(count_);
      for (size_t i = 0; i < count_; ++i) {
        out[i] = w == 4 ? static_cast<T>(LoadAs<float>(&raw_[4 * i]))
                        : static_cast<T>(LoadAs<double>(&raw_[8 * i]));
      }
    } else {
      static_assert(std::is_integral_v<T>, "ToArray<T>: T must be arithmetic");
      if (!GgufIsInteger(element_type_)) return std::nullopt;
      out.resize(count_);
      for (size_t i = 0; i < count_; ++i) {
        const auto v = IntegerAt<T>(i);
        if (!v) return std::nullopt;
        out[i] = *v;
      }
    }
    return out;
  }
  // The value's bytes as stored (little-endian scalars, the string's bytes,
  // or the packed elements of a numeric array).
  std::span<const uint8_t> raw() const noexcept { return raw_; }

 private:
  friend class GgufFile;

  template <class T>
  static T LoadAs(const uint8_t* p) noexcept {
    using U = std::conditional_t<
        sizeof(T) == 8, uint64_t,
        std::conditional_t<
            sizeof(T) == 4, uint32_t,
            std::conditional_t<sizeof(T) == 2, uint16_t, uint8_t>>>;
    U u = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      u |= static_cast<U>(static_cast<U>(p[i]) << (8 * i));
    return std::bit_cast<T>(u);
  }

  // Element i of an integer scalar/array as T, nullopt if out of range.
  template <class T>
  std::optional<T> IntegerAt(size_t i) const noexcept {
    const GgufType t = is_array() ? element_type_ : type_;
    const uint8_t* p = &raw_[i * GgufScalarBytes(t)];
    switch (t) {
      case GgufType::kU8:
        return Fit<T>(LoadAs<uint8_t>(p));
      case GgufType::kI8:
        return Fit<T>(LoadAs<int8_t>(p));
      case GgufType::kU16:
        return Fit<T>(LoadAs<uint16_t>(p));
      case GgufType::kI16:
        return Fit<T>(LoadAs<int16_t>(p));
      case GgufType::kU32:
        return Fit<T>(LoadAs<uint32_t>(p));
      case GgufType::kI32:
        return Fit<T>(LoadAs<int32_t>(p));
      case GgufType::kU64:
        return Fit<T>(LoadAs<uint64_t>(p));
      case GgufType::kI64:
        return Fit<T>(LoadAs<int64_t>(p));
      default:
        return std::nullopt;
    }
  }
  template <class T, class V>
  static std::optional<T> Fit(V v) noexcept {
    if (!std::in_range<T>(v)) return std::nullopt;
    return static_cast<T>(v);
  }

  GgufType type_ = GgufType::kU8;
  GgufType element_type_ = GgufType::kU8;
  uint64_t count_ = 1;
  std::span<const uint8_t> raw_;
  std::vector<std::string_view> strings_;  // arrays of strings only
};

struct GgufKeyValue {
  std::string_view key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string_view name;
  uint32_t n_dims = 0;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};  // innermost first; unused dims 1
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;  // relative to the data section
  uint64_t size = 0;    // payload bytes (ggml_nbytes)

  std::span<const int64_t> dims() const noexcept { return {ne.data(), n_dims}; }
  int64_t elements() const noexcept { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  // Maps the file and parses it; throws FormatError naming the file.
  static GgufFile Open(const std::filesystem::path& path) {
    MappedFile file = MappedFile::Open(path);
    const std::span<const uint8_t> bytes = file.bytes();
    GgufFile g(bytes, path.string());
    g.file_ = std::move(file);
    return g;
  }
  // Parses bytes owned by the caller, who keeps them alive as long as the
  // returned object (values and tensor data are views into them).
  static GgufFile Parse(std::span<const uint8_t> bytes,
                        std::string name_for_errors) {
    return GgufFile(bytes, std::move(name_for_errors));
  }

  GgufFile(GgufFile&&) noexcept = default;
  GgufFile& operator=(GgufFile&&) noexcept = default;

  const std::string& name() const noexcept { return name_; }
  uint32_t version() const noexcept { return version_; }
  uint32_t alignment() const noexcept { return alignment_; }
  uint64_t data_offset() const noexcept { return data_offset_; }  // absolute
  std::span<const uint8_t> bytes() const noexcept { return bytes_; }

  // Metadata in file order.
  std::span<const GgufKeyValue> metadata() const noexcept { return kv_; }
  const GgufValue* Find(std::string_view key) const noexcept {
    const auto it = kv_index_.find(key);
    return it == kv_index_.end() ? nullptr : &kv_[it->second].value;
  }

  // Typed getters. Integer getters accept any integer type whose value fits;
  // float getters accept f32 and f64. A missing key or another type throws
  // FormatError naming the file, the key and the type found.
  uint32_t GetU32(std::string_view key) const {
    return GetInteger<uint32_t>(key, "u32");
  }
  int32_t GetI32(std::string_view key) const {
    return GetInteger<int32_t>(key, "i32");
  }
  uint64_t GetU64(std::string_view key) const {
    return GetInteger<uint64_t>(key, "u64");
  }
  int64_t GetI64(std::string_view key) const {
    return GetInteger<int64_t>(key, "i64");
  }
  float GetF32(std::string_view key) const {
    return Get<float>(key, "f32",
                      [](const GgufValue& v) { return v.ToFloat<float>(); });
  }
  double GetF64(std::string_view key) const {
    return Get<double>(key, "f64",
                       [](const GgufValue& v) { return v.ToFloat<double>(); });
  }
  bool GetBool(std::string_view key) const {
    return Get<bool>(key, "bool",
                     [](const GgufValue& v) { return v.ToBool(); });
  }
  std::string_view GetString(std::string_view key) const {
    return Get<std::string_view>(
        key, "string", [](const GgufValue& v) { return v.ToString(); });
  }
  std::span<const std::string_view> GetStringArray(std::string_view key) const {
    return Get<std::span<const std::string_view>>(
        key, "array<string>", [](const GgufValue& v) { return v.ToStrings(); });
  }
  std::vector<float> GetF32Array(std::string_view key) const {
    return GetArray<float>(key, "array<f32>");
  }
  std::vector<int32_t> GetI32Array(std::string_view key) const {
    return GetArray<int32_t>(key, "array<i32>");
  }
  std::vector<uint32_t> GetU32Array(std::string_view key) const {
    return GetArray<uint32_t>(key, "array<u32>");
  }

  // nullopt when the key is absent; throws like the getters on a wrong type.
  std::optional<uint32_t> GetOptionalU32(std::string_view key) const {
    return Optional(key, [&] { return GetU32(key); });
  }
  std::optional<int32_t> GetOptionalI32(std::string_view key) const {
    return Optional(key, [&] { return GetI32(key); });
  }
  std::optional<uint64_t> GetOptionalU64(std::string_view key) const {
    return Optional(key, [&] { return GetU64(key); });
  }
  std::optional<float> GetOptionalF32(std::string_view key) const {
    return Optional(key, [&] { return GetF32(key); });
  }
  std::optional<bool> GetOptionalBool(std::string_view key) const {
    return Optional(key, [&] { return GetBool(key); });
  }
  std::optional<std::string_view> GetOptionalString(
      std::string_view key) const {
    return Optional(key, [&] { return GetString(key); });
  }
  std::optional<std::span<const std::string_view>> GetOptionalStringArray(
      std::string_view key) const {
    return Optional(key, [&] { return GetStringArray(key); });
  }

  // general.architecture (e.g. "bitnet-25", "bitnet-b1.58"); throws if absent.
  std::string_view architecture() const {
    return GetString("general.architecture");
  }

  // Tensors in file order; sizes and offsets already validated.
  std::span<const GgufTensorInfo> tensors() const noexcept { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const noexcept {
    const auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
  }
  // The tensor's payload (exactly info.size bytes).
  std::span<const uint8_t> TensorData(
      const GgufTensorInfo& info) const noexcept {
    return bytes_.subspan(data_offset_ + info.offset, info.size);
  }
  // Drops the mapped pages of a tensor that has been copied or decoded
  // (MappedFile::Release); a no-op for Parse()d buffers.
  void ReleaseTensorData(const GgufTensorInfo& info) const noexcept {
    file_.Release(TensorData(info));
  }

 private:
  GgufFile(std::span<const uint8_t> bytes, std::string name)
      : bytes_(bytes), name_(std::move(name)) {
    ParseAll();
  }

  [[noreturn]] void Fail(const std::string& what) const {
    throw FormatError(name_ + ": " + what);
  }

  // ---- byte cursor ------------------------------------------------------
  // `what` is a callable producing a description, so the happy path builds
  // no strings.
  template <class What>
  void Need(uint64_t n, What&& what) const {
    if (n > bytes_.size() - pos_) {
      Fail("truncated: " + what() + " needs " + std::to_string(n) +
           " bytes at offset " + std::to_string(pos_) + " but the file has " +
           std::to_string(bytes_.size()) + " bytes");
    }
  }
  template <class What>
  std::span<const uint8_t> Take(uint64_t n, What&& what) {
    Need(n, what);
    const auto s = bytes_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  template <class What>
  uint32_t ReadU32(What&& what) {
    return GgufValue::LoadAs<uint32_t>(Take(4, what).data());
  }
  template <class What>
  uint64_t ReadU64(What&& what) {
    return GgufValue::LoadAs<uint64_t>(Take(8, what).data());
  }
  template <class What>
  std::string_view ReadString(What&& what) {
    const uint64_t len = ReadU64([&] { return what() + " (string length)"; });
    const auto s = Take(len, [&] {
      return what() + " (" + std::to_string(len) + "-byte string)";
    });
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }
  uint64_t Remaining() const noexcept { return bytes_.size() - pos_; }

  static std::string Quote(std::string_view s) {
    constexpr size_t kMax = 80;
    std::string q = "'";
    q += s.substr(0, kMax);
    if (s.size() > kMax) q += "...";
    return q + "'";
  }

  // ---- parsing ------------------------------------------------------------
  void ParseAll() {
    if (bytes_.empty()) Fail("empty file (0 bytes), not a GGUF file");
    Need(4, [] { return std::string("header (magic)"); });
    if (std::memcmp(bytes_.data(), "GGUF", 4) != 0) {
      std::string got;
      for (size_t i = 0; i < 4; ++i) {
        const unsigned char c = bytes_[i];
        static constexpr char kHex[] = "0123456789abcdef";
        got += (i ? " " : "");
        got += kHex[c >> 4];
        got += kHex[c & 15];
      }
      Fail("not a GGUF file (magic bytes " + got +
           ", expected 47 47 55 46 \"GGUF\")");
    }
    pos_ = 4;
    version_ = ReadU32([] { return std::string("header (version)"); });
    if (version_ == 1)
      Fail("GGUF version 1 is not supported (only versions 2 and 3)");
    if (version_ == 0x02000000u || version_ == 0x03000000u) {
      Fail("big-endian GGUF (version " + std::to_string(version_ >> 24) +
           ") is not supported");
    }
    if (version_ != 2 && version_ != 3) {
      Fail("unsupported GGUF version " + std::to_string(version_) +
           " (only 2 and 3)");
    }
    const uint64_t n_tensors =
        ReadU64([] { return std::string("header (tensor count)"); });
    const uint64_t n_kv =
        ReadU64([] { return std::string("header (metadata count)"); });

    // Counts come from the file: reserve at most a little, so a corrupt count
    // costs nothing; the entries themselves run into the end of the file.
    kv_.reserve(static_cast<size_t>(std::min<uint64_t>(n_kv, kMaxReserve)));
    for (uint64_t i = 0; i < n_kv; ++i) ParseKeyValue(i, n_kv);

    alignment_ = 32;
    if (const GgufValue* a = Find("general.alignment")) {
      const auto v = a->ToInteger<uint32_t>();
      if (!v || *v == 0 || !std::has_single_bit(*v)) {
        Fail("general.alignment must be a power of two (u32), got " +
             (v ? std::to_string(*v) : a->TypeString()));
      }
      alignment_ = *v;
    }

    tensors_.reserve(
        static_cast<size_t>(std::min<uint64_t>(n_tensors, kMaxReserve)));
    for (uint64_t i = 0; i < n_tensors; ++i) ParseTensorInfo(i, n_tensors);

    const auto data = CheckedAdd(pos_, alignment_ - 1);
    data_offset_ = data ? *data / alignment_ * alignment_ : UINT64_MAX;
    if (!tensors_.empty() && data_offset_ > bytes_.size()) {
      Fail("truncated: data section would start at offset " +
           std::to_string(data_offset_) + " but the file has " +
           std::to_string(bytes_.size()) + " bytes");
    }
    if (tensors_.empty())
      data_offset_ = std::min<uint64_t>(data_offset_, bytes_.size());
    ValidateTensorPlacement();
  }

  void ParseKeyValue(uint64_t index, uint64_t count) {
    const auto where = [&] {
      return "metadata entry #" + std::to_string(index) + " (of " +
             std::to_string(count) + ")";
    };
    const std::string_view key = ReadString([&] { return where() + " key"; });
    const auto where_key = [&] { return "metadata key " + Quote(key); };
    const uint32_t type =
        ReadU32([&] { return where_key() + " (value type)"; });
    GgufValue v = ParseValue(type, where_key);
    if (!kv_index_.emplace(key, kv_.size()).second)
      Fail("duplicate metadata key " + Quote(key));
    kv_.push_back({key, std::move(v)});
  }

  template <class What>
  GgufValue ParseValue(uint32_t type_id, What&& where) {
    GgufValue v;
    if (type_id > static_cast<uint32_t>(GgufType::kF64)) {
      Fail(where() + " has unknown value type " + std::to_string(type_id));
    }
    v.type_ = v.element_type_ = static_cast<GgufType>(type_id);
    if (v.type_ == GgufType::kString) {
      const std::string_view s = ReadString(where);
      v.raw_ = {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
      return v;
    }
    if (v.type_ != GgufType::kArray) {
      v.raw_ = Take(GgufScalarBytes(v.type_), [&] {
        return where() + " (" + std::string(GgufTypeName(v.type_)) + " value)";
      });
      return v;
    }
    const uint32_t et =
        ReadU32([&] { return where() + " (array element type)"; });
    if (et > static_cast<uint32_t>(GgufType::kF64)) {
      Fail(where() + " is an array of unknown value type " +
           std::to_string(et));
    }
    v.element_type_ = static_cast<GgufType>(et);
    if (v.element_type_ == GgufType::kArray)
      Fail(where() + " is a nested array (not supported)");
    v.count_ = ReadU64([&] { return where() + " (array length)"; });
    if (v.element_type_ == GgufType::kString) {
      v.strings_.reserve(
          static_cast<size_t>(std::min<uint64_t>(v.count_, kMaxReserve)));
      for (uint64_t i = 0; i < v.count_; ++i) {
        v.strings_.push_back(ReadString([&] {
          return where() + " element " + std::to_string(i) + " of " +
                 std::to_string(v.count_);
        }));
      }
      return v;
    }
    const size_t w = GgufScalarBytes(v.element_type_);
    if (v.count_ > Remaining() / w) {
      Fail("truncated: " + where() + " claims " + std::to_string(v.count_) +
           " " + std::string(GgufTypeName(v.element_type_)) +
           " elements but only " + std::to_string(Remaining()) +
           " bytes follow");
    }
    v.raw_ = Take(v.count_ * w, where);
    return v;
  }

  void ParseTensorInfo(uint64_t index, uint64_t count) {
    GgufTensorInfo t;
    t.name = ReadString([&] {
      return "tensor info #" + std::to_string(index) + " (of " +
             std::to_string(count) + ") name";
    });
    const auto where = [&] { return "tensor " + Quote(t.name); };
    t.n_dims = ReadU32([&] { return where() + " (n_dims)"; });
    if (t.n_dims > 4) {
      Fail(where() + " has " + std::to_string(t.n_dims) +
           " dimensions (at most 4)");
    }
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      const uint64_t ne =
          ReadU64([&] { return where() + " (ne[" + std::to_string(d) + "])"; });
      if (ne > static_cast<uint64_t>(INT64_MAX)) {
        Fail(where() + " has dimension ne[" + std::to_string(d) +
             "] = " + std::to_string(ne) + " (over 2^63 - 1)");
      }
      t.ne[d] = static_cast<int64_t>(ne);
    }
    const uint32_t type_id = ReadU32([&] { return where() + " (type)"; });
    t.offset = ReadU64([&] { return where() + " (offset)"; });
    const GgmlTypeInfo* info = FindGgmlType(type_id);
    if (info == nullptr) {
      Fail(where() + " has unknown ggml type id " + std::to_string(type_id));
    }
    t.type = info->type;
    try {
      t.size = GgmlTensorBytes(t.type,
                               std::span<const int64_t>(t.ne.data(), t.n_dims));
    } catch (const ShapeError& e) {
      Fail(where() + " of type " + std::string(info->name) + " (" +
           std::to_string(type_id) + "): " + e.what());
    }
    if (t.offset % alignment_ != 0) {
      Fail(where() + " has offset " + std::to_string(t.offset) +
           ", not a multiple of the alignment " + std::to_string(alignment_));
    }
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) {
      Fail("duplicate tensor name " + Quote(t.name));
    }
    tensors_.push_back(t);
  }

  // Bounds, overlaps and the bitnet.cpp size relations, in offset order.
  void ValidateTensorPlacement() const {
    const uint64_t data_size = bytes_.size() - data_offset_;
    std::vector<size_t> order(tensors_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return tensors_[a].offset < tensors_[b].offset;
    });
    for (const GgufTensorInfo& t : tensors_) {
      const auto end = CheckedAdd(t.offset, t.size);
      if (!end || *end > data_size) {
        Fail("tensor " + Quote(t.name) + " (" +
             std::string(GgmlTypeName(t.type)) + ", " + std::to_string(t.size) +
             " bytes at data offset " + std::to_string(t.offset) +
             ") extends past the end of the file (data section holds " +
             std::to_string(data_size) + " bytes)");
      }
    }
    // Sorted by offset, each payload must start at or after the end of the
    // previous one (`owner`), except a TL scale inside its tensor's tail.
    const GgufTensorInfo* owner = nullptr;
    for (size_t k : order) {
      const GgufTensorInfo& t = tensors_[k];
      if (owner != nullptr && t.offset < owner->offset + owner->size) {
        if (IsTlScaleTail(*owner, t)) continue;
        Fail("tensors " + Quote(owner->name) + " and " + Quote(t.name) +
             " overlap (data offsets " + std::to_string(owner->offset) + " + " +
             std::to_string(owner->size) + " bytes and " +
             std::to_string(t.offset) + ")");
      }
      owner = &t;
    }
    for (size_t k = 0; k < order.size(); ++k) {
      const GgufTensorInfo& t = tensors_[order[k]];
      if (t.type != GgmlType::kI2_S && t.type != GgmlType::kTL1 &&
          t.type != GgmlType::kTL2) {
        continue;
      }
      // The span up to the next payload that starts at or after this one's end
      // (a TL scale tensor inside the tail does not count).
      uint64_t next = data_size;
      for (size_t j = k + 1; j < order.size(); ++j) {
        const GgufTensorInfo& u = tensors_[order[j]];
        if (u.offset >= t.offset + t.size) {
          next = u.offset;
          break;
        }
      }
      const uint64_t span = next - t.offset;
      const uint64_t padded = RoundUp(t.size, alignment_);
      if (span > padded) {
        Fail("tensor " + Quote(t.name) + " has type id " +
             std::to_string(static_cast<uint32_t>(t.type)) +
             ", which is bitnet.cpp's " + std::string(GgmlTypeName(t.type)) +
             " only if its payload is " + std::to_string(t.size) +
             " bytes, but it spans " + std::to_string(span) +
             " bytes (a file from upstream llama.cpp, where id " +
             std::to_string(static_cast<uint32_t>(t.type)) +
             " is another type?)");
      }
    }
  }

  // bitnet.cpp's converter stores a TL1/TL2 tensor's scale as a separate F32
  // tensor '<name>_scale' inside the 32-byte tail that ggml_nbytes counts.
  static bool IsTlScaleTail(const GgufTensorInfo& tl,
                            const GgufTensorInfo& s) noexcept {
    if (tl.type != GgmlType::kTL1 && tl.type != GgmlType::kTL2) return false;
    if (s.type != GgmlType::kF32 || s.elements() != 1) return false;
    if (s.name.size() != tl.name.size() + 6 || !s.name.starts_with(tl.name) ||
        !s.name.ends_with("_scale")) {
      return false;
    }
    return s.offset >= tl.offset + tl.size - 32 &&
           s.offset + s.size <= tl.offset + tl.size;
  }

  template <class T>
  T GetInteger(std::string_view key, const char* expected) const {
    const GgufValue& v = Require(key);
    if (v.is_array() || !GgufIsInteger(v.type())) WrongType(key, expected, v);
    const auto r = v.ToInteger<T>();
    if (!r) {
      Fail("metadata key " + Quote(key) + " (" + v.TypeString() +
           ") has a value out of range for " + expected);
    }
    return *r;
  }
  template <class T, class Conv>
  T Get(std::string_view key, const char* expected, Conv conv) const {
    const GgufValue& v = Require(key);
    const auto r = conv(v);
    if (!r) WrongType(key, expected, v);
    return *r;
  }
  template <class T>
  std::vector<T> GetArray(std::string_view key, const char* expected) const {
    const GgufValue& v = Require(key);
    auto r = v.ToArray<T>();
    if (!r) {
      if (v.is_array() && GgufIsInteger(v.element_type()) &&
          std::is_integral_v<T>) {
        Fail("metadata key " + Quote(key) + " (" + v.TypeString() +
             ") has an element out of range for " + expected);
      }
      WrongType(key, expected, v);
    }
    return std::move(*r);
  }
  template <class F>
  auto Optional(std::string_view key, F get) const
      -> std::optional<decltype(get())> {
    if (Find(key) == nullptr) return std::nullopt;
    return get();
  }
  const GgufValue& Require(std::string_view key) const {
    const GgufValue* v = Find(key);
    if (v == nullptr) Fail("missing metadata key " + Quote(key));
    return *v;
  }
  [[noreturn]] void WrongType(std::string_view key, const char* expected,
                              const GgufValue& v) const {
    Fail("metadata key " + Quote(key) + " has type " + v.TypeString() +
         ", expected " + expected);
  }

  static constexpr uint64_t kMaxReserve = 1 << 16;

  MappedFile file_;  // empty for Parse()
  std::span<const uint8_t> bytes_;
  std::string name_;
  size_t pos_ = 0;  // parse cursor
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> kv_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace ternary::io

#endif  // TERNARY_IO_GGUF_H_
