// libFuzzer target: Hugging Face tokenizer.json loading
// (Tokenizer::FromHfJsonText: the SAX reader, vocabulary, merges, added
// tokens), then encode and decode.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "ternary/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ternary::fuzz::ExpectingErrors([&] {
    const auto tok = ternary::Tokenizer::FromHfJsonText(
        std::string_view(reinterpret_cast<const char*>(data), size),
        "tokenizer.json");
    ternary::fuzz::ExerciseTokenizer(tok);
  });
  return 0;
}
