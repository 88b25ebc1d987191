// The `ternary::runtime` library: ternary::Engine's definitions, compiled
// once, so that programs using ternary/runtime/engine.h compile in seconds.
// A program that does not link this library includes the same header in
// one of its own .cc files instead.
#include "ternary/runtime/batch_generator_impl.h"
#include "ternary/runtime/engine_impl.h"
