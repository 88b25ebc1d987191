// libFuzzer target: the tokenizer of a GGUF (TokenizerFromGguf: the
// tokenizer.ggml.* keys to Tokenizer::FromVocab), then encode and decode.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "ternary/io/gguf.h"
#include "ternary/model/load_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ternary::fuzz::ExpectingErrors;
  ExpectingErrors([&] {
    const auto file = ternary::io::GgufFile::Parse({data, size}, "fuzz.gguf");
    const ternary::ModelTokenizer mt = ternary::TokenizerFromGguf(file);
    ternary::fuzz::ExerciseTokenizer(mt.tokenizer);
  });
  return 0;
}
