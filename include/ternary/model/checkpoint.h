// Opens a MODEL path as a weight source: a Hugging Face folder or a .gguf
// file, told apart by what is on disk.
#ifndef TERNARY_MODEL_CHECKPOINT_H_
#define TERNARY_MODEL_CHECKPOINT_H_

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include "ternary/io/read_file.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/options.h"
#include "ternary/util/error.h"

namespace ternary {

enum class CheckpointFormat {
  kHfFolder,  // config.json + model.safetensors (or shards)
  kGguf,      // one .gguf file
};

// A folder is a Hugging Face checkpoint; a file starting with "GGUF" or
// named *.gguf is GGUF (a bad magic is then reported by the GGUF reader).
// Anything else throws FormatError naming the path.
inline CheckpointFormat DetectCheckpointFormat(
    const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) return CheckpointFormat::kHfFolder;
  if (!std::filesystem::exists(status)) {
    throw FormatError(path.string() + ": no such file or folder");
  }
  if (std::filesystem::is_regular_file(status)) {
    if (io::ReadFilePrefix(path, 4) == "GGUF") return CheckpointFormat::kGguf;
    if (path.extension() == ".gguf") return CheckpointFormat::kGguf;
  }
  throw FormatError(path.string() +
                    ": not a model (expected a Hugging Face folder with "
                    "config.json, or a .gguf file)");
}

// Opens `path` in its format and returns fn(source, name): source is an
// HfCheckpoint or a GgufCheckpoint (both WeightSource), name what config
// errors should be prefixed with ("config.json", or the GGUF's path). fn
// must return the same type for both.
// `options.i2s_layout` applies to a GGUF's I2_S tensors.
template <class Fn>
auto WithCheckpoint(const std::filesystem::path& path,
                    const LoadOptions& options, Fn&& fn) {
  if (DetectCheckpointFormat(path) == CheckpointFormat::kGguf) {
    GgufCheckpoint source = GgufCheckpoint::Open(path, options.i2s_layout);
    return std::forward<Fn>(fn)(source, path.string());
  }
  HfCheckpoint source = HfCheckpoint::Open(path);
  return std::forward<Fn>(fn)(source, std::string("config.json"));
}
template <class Fn>
auto WithCheckpoint(const std::filesystem::path& path, Fn&& fn) {
  return WithCheckpoint(path, LoadOptions{}, std::forward<Fn>(fn));
}

}  // namespace ternary

#endif  // TERNARY_MODEL_CHECKPOINT_H_
