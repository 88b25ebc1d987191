// Only head_dim fixed at compile time, and odd: RoPE rotates two halves.
// EXPECT: static.assert.*Dims: head_dim must be even
#include "ternary/model/config.h"

static_assert(ternary::ValidateDims<ternary::Dims{.head_dim = 65}>());

int main() { return 0; }
