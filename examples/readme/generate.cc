// Text in, text out with ternary::Engine. Build it without CMake, from the
// repository root (the first line once, about 90 s; the second in seconds):
//
// clang-format off
//   g++ -std=c++20 -O2 -DHWY_WANT_AVX3_DL -Iinclude -c src/ternary_runtime.cc -o ternary_runtime.o
//   g++ -std=c++20 -O2 -Iinclude examples/readme/generate.cc ternary_runtime.o -lhwy -lpcre2-8 -pthread -o generate
// clang-format on
//
// Run: ./generate models/tiny-shakespeare "ROMEO:"
#include <iostream>
#include <string_view>

#include "ternary/runtime/engine.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: generate MODEL PROMPT\n";
    return 2;
  }
  try {
    // A Hugging Face folder or a .gguf file; every core, the file's chat
    // template, BOS as the tokenizer says.
    auto engine = ternary::Engine::Load(argv[1]);

    ternary::GenerateOptions options;
    options.max_tokens = 48;
    options.sampling.temperature = 0;  // greedy; > 0 samples (seeded)
    options.stop = {"\n\n"};           // stop strings end the text early
    std::cout << argv[2];
    engine->Generate(argv[2], options, [](std::string_view text) {
      std::cout << text << std::flush;  // streamed as it is decoded
      return true;                      // false stops the generation
    });
    std::cout << "\n";

    // A conversation in the model's chat template; each turn reuses the
    // KV cache of the turns before it.
    std::vector<ternary::ChatMessage> chat = {{"user", "Who art thou?"}};
    ternary::GenerateResult reply = engine->Chat(chat, options);
    std::cout << "assistant: " << reply.text << "\n";
  } catch (const std::exception& e) {  // one line naming the file and problem
    std::cerr << e.what() << "\n";
    return 1;
  }
}
