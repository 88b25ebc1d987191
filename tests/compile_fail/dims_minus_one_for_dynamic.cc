// Eigen spells "dynamic" -1; ternary spells it kDynamic (0).
// EXPECT: static.assert.*Dims: every field must be positive or kDynamic
#include "ternary/model/config.h"

constexpr ternary::Dims kMyDims{.hidden = 2560, .vocab = -1};
static_assert(ternary::ValidateDims<kMyDims>());

int main() { return 0; }
