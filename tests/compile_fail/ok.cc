// Control: a correct configuration of everything the other files get wrong.
// It must compile with the same command, which proves the harness (compiler,
// flags, include paths) and that each failure comes from its one mistake.
#include "ternary/model/config.h"
#include "ternary/model/policy.h"
#include "ternary/quant/tl2.h"

constexpr ternary::Dims kMyDims{.hidden = 512,
                                .ffn = 1536,
                                .heads = 8,
                                .kv_heads = 2,
                                .head_dim = 64,
                                .layers = 4,
                                .vocab = ternary::kDynamic};
static_assert(ternary::ValidateDims<kMyDims>());
static_assert(ternary::ValidateDims<ternary::Dims{.head_dim = 128}>());
static_assert(ternary::ValidateDims<ternary::kBitNet2B4T>());

using MyPolicy = ternary::Policy<ternary::quant::TL2, ternary::quant::A4>;
static_assert(ternary::ModelPolicy<MyPolicy>);

int main() { return 0; }
