// safetensors reader: validated header, zero-copy tensor views, sharded
// folders.
//
// Layout (https://github.com/huggingface/safetensors): u64 LE header length N,
// N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]},
// "__metadata__": {...}}, then raw little-endian data; offsets are relative
// to the first byte after the header.
#ifndef TERNARY_IO_SAFETENSORS_H_
#define TERNARY_IO_SAFETENSORS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ternary/io/mapped_file.h"
#include "ternary/io/read_file.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"
#include "ternary/util/math.h"

namespace ternary::io {

// Element types of safetensors. Only kBF16/kF16/kF32/kU8/kI8 can be read;
// the rest are recognised so that files holding them still parse.
enum class SafetensorsDtype : uint8_t {
  kBF16,
  kF16,
  kF32,
  kU8,
  kI8,
  kOther,  // F64, I16, I32, I64, U16, U32, U64, BOOL, F8_*: sized, not readable
};

inline std::string_view SafetensorsDtypeName(SafetensorsDtype t) noexcept {
  switch (t) {
    case SafetensorsDtype::kBF16:
      return "BF16";
    case SafetensorsDtype::kF16:
      return "F16";
    case SafetensorsDtype::kF32:
      return "F32";
    case SafetensorsDtype::kU8:
      return "U8";
    case SafetensorsDtype::kI8:
      return "I8";
    case SafetensorsDtype::kOther:
      break;
  }
  return "other";
}

// One tensor of a parsed file. `data` points into the file's bytes.
struct SafetensorsTensor {
  std::string name;
  std::string dtype_name;  // as written in the header, e.g. "BF16"
  SafetensorsDtype dtype = SafetensorsDtype::kOther;
  std::vector<uint64_t> shape;
  std::span<const uint8_t> data;

  uint64_t numel() const noexcept {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;  // checked at parse time
    return n;
  }
  std::string ShapeString() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
      if (i) s += ", ";
      s += std::to_string(shape[i]);
    }
    return s + "]";
  }
};

namespace detail {

// Bytes per element of every safetensors dtype; 0 for unknown names.
inline size_t SafetensorsDtypeSize(std::string_view name,
                                   SafetensorsDtype* dtype) noexcept {
  struct Entry {
    std::string_view name;
    size_t size;
    SafetensorsDtype dtype;
  };
  static constexpr Entry kTable[] = {
      {"BF16", 2, SafetensorsDtype::kBF16},
      {"F16", 2, SafetensorsDtype::kF16},
      {"F32", 4, SafetensorsDtype::kF32},
      {"U8", 1, SafetensorsDtype::kU8},
      {"I8", 1, SafetensorsDtype::kI8},
      {"F64", 8, SafetensorsDtype::kOther},
      {"I16", 2, SafetensorsDtype::kOther},
      {"U16", 2, SafetensorsDtype::kOther},
      {"I32", 4, SafetensorsDtype::kOther},
      {"U32", 4, SafetensorsDtype::kOther},
      {"I64", 8, SafetensorsDtype::kOther},
      {"U64", 8, SafetensorsDtype::kOther},
      {"BOOL", 1, SafetensorsDtype::kOther},
      {"F8_E4M3", 1, SafetensorsDtype::kOther},
      {"F8_E5M2", 1, SafetensorsDtype::kOther},
  };
  for (const Entry& e : kTable) {
    if (e.name == name) {
      *dtype = e.dtype;
      return e.size;
    }
  }
  return 0;
}

}  // namespace detail

// A parsed safetensors file. Tensors are views into the file's bytes, which
// the object keeps alive (a memory map when opened from a path).
class SafetensorsFile {
 public:
  // The safetensors reference implementation refuses headers above 100 MB.
  static constexpr uint64_t kMaxHeaderBytes = 100u << 20;

  // Memory-maps and parses `path`. Throws FormatError naming the file.
  static SafetensorsFile Open(const std::filesystem::path& path) {
    auto file = std::make_shared<MappedFile>(MappedFile::Open(path));
    SafetensorsFile f = Parse(file->bytes(), path.filename().string());
    f.keep_alive_ = std::move(file);
    return f;
  }

  // Parses bytes owned by the caller (they must outlive the object); `name`
  // is used in error messages.
  static SafetensorsFile Parse(std::span<const uint8_t> bytes,
                               std::string name) {
    SafetensorsFile f;
    f.name_ = std::move(name);
    f.ParseImpl(bytes);
    return f;
  }

  const std::string& name() const noexcept { return name_; }
  const std::vector<SafetensorsTensor>& tensors() const noexcept {
    return tensors_;
  }
  const std::map<std::string, std::string>& metadata() const noexcept {
    return metadata_;
  }

  const SafetensorsTensor* Find(std::string_view tensor) const noexcept {
    auto it = index_.find(std::string(tensor));
    return it == index_.end() ? nullptr : &tensors_[it->second];
  }

  // Throws FormatError "<file>: missing tensor '<name>'".
  const SafetensorsTensor& Get(std::string_view tensor) const {
    const SafetensorsTensor* t = Find(tensor);
    if (t == nullptr) {
      throw FormatError(name_ + ": missing tensor '" + std::string(tensor) +
                        "'");
    }
    return *t;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw FormatError(name_ + ": " + what);
  }

  void ParseImpl(std::span<const uint8_t> bytes) {
    if (bytes.size() < 8) {
      Fail("truncated: " + std::to_string(bytes.size()) +
           " bytes, too short for the 8-byte header length");
    }
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
    if (header_len > kMaxHeaderBytes) {
      Fail("header length " + std::to_string(header_len) +
           " exceeds the 100 MB limit (corrupt or not safetensors)");
    }
    if (header_len > bytes.size() - 8) {
      Fail("truncated: header length " + std::to_string(header_len) +
           " exceeds the " + std::to_string(bytes.size() - 8) +
           " bytes that follow it");
    }
    const auto* text = reinterpret_cast<const char*>(bytes.data() + 8);
    CheckJsonDepth(std::string_view(text, header_len), name_ + " header");
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(text, text + header_len);
    } catch (const nlohmann::json::exception& e) {
      Fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) Fail("header is not a JSON object");
    const std::span<const uint8_t> data = bytes.subspan(8 + header_len);

    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__") {
        if (value.is_object()) {
          for (const auto& [mk, mv] : value.items()) {
            if (mv.is_string()) metadata_[mk] = mv.get<std::string>();
          }
        }
        continue;
      }
      tensors_.push_back(ParseTensor(key, value, data));
    }
    CheckCoverage(data);
    for (size_t i = 0; i < tensors_.size(); ++i) {
      index_.emplace(tensors_[i].name, i);
    }
  }

  // As the reference implementation's validate(): sorted by offsets, the
  // tensors must tile the data section exactly, each starting where the
  // previous one ends, the last ending at the end of the file. Overlapping
  // tensors (two names aliasing the same bytes), gaps and trailing bytes
  // are refused.
  void CheckCoverage(std::span<const uint8_t> data) const {
    struct Range {
      uint64_t begin, end;
      const SafetensorsTensor* t;
    };
    std::vector<Range> ranges;
    ranges.reserve(tensors_.size());
    for (const SafetensorsTensor& t : tensors_) {
      const auto begin = static_cast<uint64_t>(t.data.data() - data.data());
      ranges.push_back({begin, begin + t.data.size(), &t});
    }
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
      if (a.begin != b.begin) return a.begin < b.begin;
      if (a.end != b.end) return a.end < b.end;
      return a.t->name < b.t->name;
    });
    auto offsets = [](const Range& r) {
      return "tensor '" + r.t->name + "' (data_offsets [" +
             std::to_string(r.begin) + ", " + std::to_string(r.end) + "])";
    };
    // Overlaps first: an aliased tensor also leaves a gap where its own
    // bytes were, and the overlap is the better message.
    const Range* last = nullptr;  // the range reaching furthest so far
    for (const Range& r : ranges) {
      if (last != nullptr && r.begin < last->end) {
        Fail(offsets(r) + " overlaps " + offsets(*last));
      }
      if (last == nullptr || r.end > last->end) last = &r;
    }
    uint64_t expected = 0;
    const Range* prev = nullptr;
    for (const Range& r : ranges) {
      if (r.begin > expected) {
        Fail(offsets(r) + " leaves a gap of " +
             std::to_string(r.begin - expected) + " bytes after " +
             (prev ? offsets(*prev) : std::string("the header")) +
             "; tensors must cover the data section contiguously");
      }
      expected = r.end;
      prev = &r;
    }
    if (expected != data.size()) {
      Fail(std::to_string(data.size() - expected) +
           " bytes after the last tensor's data (the data section has " +
           std::to_string(data.size()) + " bytes, tensors cover " +
           std::to_string(expected) + ")");
    }
  }

  SafetensorsTensor ParseTensor(const std::string& key, const nlohmann::json& v,
                                std::span<const uint8_t> data) const {
    const std::string where = "tensor '" + key + "': ";
    if (!v.is_object()) Fail(where + "header entry is not an object");
    SafetensorsTensor t;
    t.name = key;
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) Fail(where + "missing dtype");
    t.dtype_name = dt->get<std::string>();
    const size_t elem = detail::SafetensorsDtypeSize(t.dtype_name, &t.dtype);
    if (elem == 0) Fail(where + "unknown dtype '" + t.dtype_name + "'");

    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array()) Fail(where + "missing shape");
    uint64_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d >= 0)) {
        Fail(where + "shape has a non-integer or negative dimension");
      }
      const uint64_t dim = d.get<uint64_t>();
      const std::optional<uint64_t> prod = CheckedMul(numel, dim);
      if (!prod) Fail(where + "shape overflows");
      numel = *prod;
      t.shape.push_back(dim);
    }
    const std::optional<uint64_t> nbytes_or = CheckedMul(numel, elem);
    if (!nbytes_or) Fail(where + "shape overflows");
    const uint64_t nbytes = *nbytes_or;

    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 ||
        !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned()) {
      Fail(where + "data_offsets must be two non-negative integers");
    }
    const uint64_t begin = (*off)[0].get<uint64_t>();
    const uint64_t end = (*off)[1].get<uint64_t>();
    if (end < begin) Fail(where + "data_offsets end < begin");
    if (end > data.size()) {
      Fail("truncated: " + where + "data ends at byte " + std::to_string(end) +
           " of the data section, which has " + std::to_string(data.size()));
    }
    if (end - begin != nbytes) {
      Fail(where + "data_offsets span " + std::to_string(end - begin) +
           " bytes, but " + t.dtype_name + " " + t.ShapeString() + " needs " +
           std::to_string(nbytes));
    }
    t.data = data.subspan(begin, end - begin);
    return t;
  }

  std::string name_;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::shared_ptr<const MappedFile> keep_alive_;
};

// Converts a BF16/F16/F32 tensor to float32 into `out`. Throws FormatError
// naming `file` and the tensor for any other dtype, ShapeError when `out`
// does not hold numel() floats.
inline void ReadFloats(const SafetensorsTensor& t, const std::string& file,
                       std::span<float> out) {
  if (t.dtype != SafetensorsDtype::kF32 && t.dtype != SafetensorsDtype::kBF16 &&
      t.dtype != SafetensorsDtype::kF16) {
    throw FormatError(file + ": tensor '" + t.name + "' has dtype " +
                      t.dtype_name + ", expected BF16, F16 or F32");
  }
  if (out.size() != t.numel()) {
    throw ShapeError(
        file + ": tensor '" + t.name + "' has " + std::to_string(t.numel()) +
        " values, the caller expects " + std::to_string(out.size()));
  }
  const uint8_t* p = t.data.data();
  const size_t n = out.size();
  if (t.dtype == SafetensorsDtype::kF32) {
    if (n != 0) std::memcpy(out.data(), p, n * 4);
    return;
  }
  const bool bf16 = t.dtype == SafetensorsDtype::kBF16;
  for (size_t i = 0; i < n; ++i) {
    const uint16_t h = static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
    out[i] = bf16 ? Bf16ToFloat(h) : F16ToFloat(h);
  }
}

// The weights of a Hugging Face folder: `model.safetensors`, or the shards
// listed in `model.safetensors.index.json` ("weight_map": name -> file).
class SafetensorsCheckpoint {
 public:
  static constexpr std::string_view kSingleFile = "model.safetensors";
  static constexpr std::string_view kIndexFile = "model.safetensors.index.json";

  static SafetensorsCheckpoint Open(const std::filesystem::path& dir) {
    SafetensorsCheckpoint c;
    const std::filesystem::path index = dir / kIndexFile;
    const std::filesystem::path single = dir / kSingleFile;
    if (std::filesystem::exists(index)) {
      c.OpenSharded(dir, index);
    } else if (std::filesystem::exists(single)) {
      c.files_.push_back(SafetensorsFile::Open(single));
    } else {
      throw FormatError(dir.string() + ": no " + std::string(kSingleFile) +
                        " or " + std::string(kIndexFile));
    }
    for (size_t f = 0; f < c.files_.size(); ++f) {
      for (const SafetensorsTensor& t : c.files_[f].tensors()) {
        c.where_.emplace(t.name, f);  // first shard wins on duplicates
      }
    }
    return c;
  }

  // Builds a checkpoint from already parsed files (tests, in-memory data).
  static SafetensorsCheckpoint FromFiles(std::vector<SafetensorsFile> files) {
    SafetensorsCheckpoint c;
    c.files_ = std::move(files);
    for (size_t f = 0; f < c.files_.size(); ++f) {
      for (const SafetensorsTensor& t : c.files_[f].tensors()) {
        c.where_.emplace(t.name, f);
      }
    }
    return c;
  }

  // A tensor together with the name of the file holding it.
  struct Ref {
    const SafetensorsTensor* tensor;
    const std::string* file;
  };

  std::optional<Ref> Find(std::string_view tensor) const {
    auto it = where_.find(std::string(tensor));
    if (it == where_.end()) return std::nullopt;
    const SafetensorsFile& f = files_[it->second];
    return Ref{f.Find(tensor), &f.name()};
  }

  // Throws FormatError "<file(s)>: missing tensor '<name>'".
  Ref Get(std::string_view tensor) const {
    if (auto r = Find(tensor)) return *r;
    throw FormatError(FileNames() + ": missing tensor '" + std::string(tensor) +
                      "'");
  }

  const std::vector<SafetensorsFile>& files() const noexcept { return files_; }

  std::string FileNames() const {
    std::string s;
    for (const SafetensorsFile& f : files_) {
      if (!s.empty()) s += ", ";
      s += f.name();
    }
    return s.empty() ? std::string(kSingleFile) : s;
  }

 private:
  void OpenSharded(const std::filesystem::path& dir,
                   const std::filesystem::path& index) {
    const std::string index_name(kIndexFile);
    const std::string text = ReadFile(index, kSafetensorsIndexLimit);
    CheckJsonDepth(text, index_name);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(index_name + ": not valid JSON: " + e.what());
    }
    auto wm = j.find("weight_map");
    if (!j.is_object() || wm == j.end() || !wm->is_object()) {
      throw FormatError(index_name + ": missing key 'weight_map'");
    }
    std::vector<std::string> shards;
    for (const auto& [name, file] : wm->items()) {
      if (!file.is_string()) {
        throw FormatError(index_name + ": weight_map entry '" + name +
                          "' is not a file name");
      }
      const std::string s = file.get<std::string>();
      // Shards are plain names next to the index; refuse paths.
      if (s.empty() || s.find('/') != std::string::npos ||
          s.find('\\') != std::string::npos || s == "." || s == "..") {
        throw FormatError(index_name + ": weight_map entry '" + name +
                          "' names an invalid shard '" + s + "'");
      }
      bool seen = false;
      for (const auto& x : shards) seen = seen || x == s;
      if (!seen) shards.push_back(s);
    }
    for (const std::string& s : shards) {
      if (!std::filesystem::exists(dir / s)) {
        throw FormatError(index_name + ": shard '" + s + "' does not exist");
      }
      files_.push_back(SafetensorsFile::Open(dir / s));
    }
    // Every name in the index must be in the shard it names.
    for (const auto& [name, file] : wm->items()) {
      const std::string s = file.get<std::string>();
      for (const SafetensorsFile& f : files_) {
        if (f.name() == s && f.Find(name) == nullptr) {
          throw FormatError(s + ": missing tensor '" + name + "' (listed in " +
                            index_name + ")");
        }
      }
    }
  }

  std::vector<SafetensorsFile> files_;
  std::unordered_map<std::string, size_t> where_;
};

}  // namespace ternary::io

#endif  // TERNARY_IO_SAFETENSORS_H_
