// Grouped-query attention needs heads to be a multiple of kv_heads (20 % 6).
// EXPECT: static.assert.*Dims: heads must be a multiple of kv_heads
#include "ternary/model/config.h"

constexpr ternary::Dims kMyDims{.hidden = 2560,
                                .ffn = 6912,
                                .heads = 20,
                                .kv_heads = 6,
                                .head_dim = 128,
                                .layers = 30,
                                .vocab = 128256};
static_assert(ternary::ValidateDims<kMyDims>());

int main() { return 0; }
