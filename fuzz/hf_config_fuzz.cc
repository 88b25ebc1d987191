// libFuzzer target: config.json parsing (io::HfConfig::Parse).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "ternary/io/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ternary::fuzz::ExpectingErrors([&] {
    const auto c = ternary::io::HfConfig::Parse(
        std::string_view(reinterpret_cast<const char*>(data), size));
    (void)c.ScaleMultiplies();
  });
  return 0;
}
