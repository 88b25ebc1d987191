// libFuzzer target: the safetensors reader (io::SafetensorsFile::Parse), the
// tensor views it returns and ReadFloats on them.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "ternary/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ternary::fuzz::ExpectingErrors;
  using ternary::io::SafetensorsFile;
  ExpectingErrors([&] {
    std::vector<SafetensorsFile> files;
    files.push_back(SafetensorsFile::Parse({data, size}, "fuzz.safetensors"));
    const SafetensorsFile& f = files.back();
    for (const auto& t : f.tensors()) {
      if (f.Find(t.name) != &t) __builtin_trap();
      (void)t.ShapeString();
      ternary::fuzz::ReadAll(t.data);
      // The span was checked against the shape, so numel() is bounded by it.
      std::vector<float> out(t.numel());
      ExpectingErrors([&] { ternary::io::ReadFloats(t, f.name(), out); });
    }
    const auto ckpt =
        ternary::io::SafetensorsCheckpoint::FromFiles(std::move(files));
    for (const auto& t : ckpt.files()[0].tensors()) {
      if (!ckpt.Find(t.name)) __builtin_trap();
    }
  });
  return 0;
}
