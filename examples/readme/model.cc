// The low-level API: a model type whose dimensions are compile-time
// constants, its tokenizer, a KV-cache state and a sampler. Compiles the
// kernels for every SIMD target in this translation unit (about a minute).
// Build it without CMake, from the repository root:
//
// clang-format off
//   g++ -std=c++20 -O2 -DHWY_WANT_AVX3_DL -Iinclude examples/readme/model.cc -lhwy -lpcre2-8 -pthread -o model
// clang-format on
//
// Run: ./model models/tiny-shakespeare "ROMEO:"
#include "ternary/model/model.h"

#include <iostream>
#include <span>
#include <thread>
#include <vector>

#include "ternary/model/load_tokenizer.h"
#include "ternary/model/sampling.h"
#include "ternary/tokenizer/stream_decoder.h"

// The tiny model's dimensions fixed at compile time (any field may be
// ternary::kDynamic instead), I2_S weights, 8-bit activations.
using Tiny =
    ternary::Model<ternary::kTinyShakespeare,
                   ternary::Policy<ternary::quant::I2S, ternary::quant::A8>>;

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const Tiny model = Tiny::Load(argv[1]);
  const ternary::ModelTokenizer tok = ternary::LoadTokenizer(argv[1]);
  ternary::ThreadPool pool(std::thread::hardware_concurrency());

  std::vector<int32_t> ids = tok.tokenizer.Encode(
      argv[2], {.add_bos = tok.add_bos, .parse_special = true});
  Tiny::State state = model.NewState();
  ternary::Sampler sampler({.temperature = 0});  // greedy
  ternary::StreamDecoder decoder(tok.tokenizer, {.skip_special = true});

  // The prompt in one batch, then one token at a time through the KV cache;
  // only the last position's logits are computed.
  std::vector<float> logits =
      model.Forward(ids, state, ternary::Logits::kLast, &pool);
  for (int i = 0; i < 32; ++i) {
    const int32_t next = sampler.Sample(logits);
    if (tok.tokenizer.IsEndOfGeneration(next)) break;
    std::cout << decoder.Feed(next) << std::flush;
    model.Forward(std::span<const int32_t>(&next, 1), state, logits.data(),
                  ternary::Logits::kLast, &pool);
  }
  std::cout << decoder.Flush() << "\n";
}
