// A custom size whose hidden is not heads * head_dim (512 != 6 * 64), used
// as a Model: the Model type itself must refuse it.
// EXPECT: static.assert.*Dims: hidden must equal heads \* head_dim
#include "ternary/model/model.h"

constexpr ternary::Dims kMyDims{.hidden = 512,
                                .ffn = 1536,
                                .heads = 6,
                                .kv_heads = 2,
                                .head_dim = 64,
                                .layers = 4,
                                .vocab = 4096};

int main() {
  auto model = ternary::Model<kMyDims>::Load("my-model");
  return model.vocab() > 0 ? 0 : 1;
}
