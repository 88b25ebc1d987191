// Fixture for scripts/check_layers.py: a legal header.
#include <cstddef>
