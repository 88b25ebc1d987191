// Fixture for scripts/check_layers.py: an upward include it must flag.
#include "ternary/nn/attention.h"
#include "ternary/util/ok.h"
