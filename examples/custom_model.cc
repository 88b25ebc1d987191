// A BitNet model of a custom size declared at compile time, run on random
// weights: every dimension is a constant the compiler sees, and an invalid
// size (say heads = 7 with kv_heads = 2) fails with a static_assert.
#include <cstdio>
#include <vector>

#include "ternary/model/generate.h"
#include "ternary/model/model.h"
#include "ternary/model/random_weights.h"
#include "ternary/util/thread_pool.h"

// 4 layers, 8 query heads sharing 2 KV heads of 32 dims, a 1024-token vocab.
inline constexpr ternary::Dims kMyDims{.hidden = 256,
                                       .ffn = 768,
                                       .heads = 8,
                                       .kv_heads = 2,
                                       .head_dim = 32,
                                       .layers = 4,
                                       .vocab = 1024};

// Packing, activations and dispatch are a separate policy.
using MyModel =
    ternary::Model<kMyDims,
                   ternary::Policy<ternary::quant::I2S, ternary::quant::A8>>;

int main() {
  ternary::ModelConfig config;
  config.dims = kMyDims;
  config.max_position_embeddings = 256;
  ternary::RandomWeights weights(config, /*seed=*/1234);
  const MyModel model = MyModel::FromSource(weights);

  ternary::ThreadPool pool(2);
  auto state = model.NewState();
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
  const std::vector<int32_t> out =
      ternary::GreedyGenerate(model, state, prompt, 16, &pool);

  std::printf(
      "custom model: hidden %zu, %zu layers, %zu heads (%zu KV), vocab %zu\n",
      model.hidden(), model.layers(), model.heads(), model.kv_heads(),
      model.vocab());
  std::printf("greedy continuation of [1 2 3 4 5]:");
  for (int32_t id : out) std::printf(" %d", id);
  std::printf("\n");
  return 0;
}
