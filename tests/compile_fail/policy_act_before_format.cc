// Policy's arguments in the wrong order: the activation policy where the
// packing format goes.
// EXPECT: PackingFormat.+quant::A8|quant::A8.+PackingFormat
#include "ternary/model/policy.h"

using MyPolicy = ternary::Policy<ternary::quant::A8, ternary::quant::I2S>;
MyPolicy policy;

int main() { return 0; }
