// Fixture for scripts/check_layers.py: an upward include it must flag.
#include "ternary/util/ok.h"
#include "ternary/nn/attention.h"
