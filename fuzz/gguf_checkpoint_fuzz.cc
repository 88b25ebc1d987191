// libFuzzer target: a GGUF as a weight source (GgufCheckpoint): metadata to
// ModelConfig, tensor names, and every tensor decoder (I2_S, TQ1_0, TQ2_0,
// IQ1_BN, IQ2_BN, fake-ternary floats, F16/BF16/Q8_0/Q6_K/Q4_0) on the
// fuzzed payloads, each asked for with the tensor's own dimensions.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "ternary/io/gguf.h"
#include "ternary/model/gguf_checkpoint.h"

namespace {

using ternary::GgufCheckpoint;
using ternary::TensorId;
using ternary::fuzz::ExpectingErrors;
using ternary::fuzz::ReadAll;

// The TensorId whose GGUF name is `name`, if any.
std::optional<TensorId> IdOf(std::string_view name) {
  for (const auto k :
       {TensorId::kEmbed, TensorId::kOutputNorm, TensorId::kLmHead}) {
    if (ternary::GgufTensorName({k}) == name) return TensorId{k};
  }
  if (!name.starts_with("blk.")) return std::nullopt;
  int layer = -1;
  const char* first = name.data() + 4;
  const auto [end, ec] =
      std::from_chars(first, name.data() + name.size(), layer);
  if (ec != std::errc() || layer < 0) return std::nullopt;
  for (const auto k : ternary::kGgufLayerTensors) {
    if (ternary::GgufTensorName({k, layer}) == name) return TensorId{k, layer};
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ExpectingErrors([&] {
    const GgufCheckpoint ckpt(
        ternary::io::GgufFile::Parse({data, size}, "fuzz.gguf"));
    const ternary::ModelConfig config = ckpt.config();
    ExpectingErrors([&] { config.Validate(ckpt.name()); });
    for (const auto& t : ckpt.file().tensors()) {
      const std::optional<TensorId> id = IdOf(t.name);
      if (!id) continue;
      // Sizes come from the validated tensor info: the payload bounds them.
      const size_t rows = static_cast<size_t>(t.ne[1]);
      const size_t cols = static_cast<size_t>(t.ne[0]);
      ExpectingErrors([&] {
        const auto m = ckpt.Ternary(*id, rows, cols);
        ReadAll(std::span<const int8_t>(m.values));
      });
      ExpectingErrors([&] {
        const auto f = ckpt.Floats(*id, rows, cols);
        ReadAll(std::span<const float>(f.span()));
      });
    }
  });
  return 0;
}
