// A packing format passed where Model wants a Policy<Format, Act, Simd>.
// EXPECT: ModelPolicy.+TL2Layout<128, 96>|TL2Layout<128, 96>.+ModelPolicy
#include "ternary/model/model.h"

using Tiny = ternary::Model<ternary::kTinyShakespeare, ternary::quant::TL2>;

int main() {
  auto model = Tiny::Load("models/tiny-shakespeare");
  return model.vocab() > 0 ? 0 : 1;
}
