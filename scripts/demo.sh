#!/usr/bin/env bash
# Installs what ternary needs, builds the `ternary` program and generates
# text with the embedded tiny model (a 14M-parameter BitNet b1.58 trained on
# Shakespeare and Tolstoy).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTERNARY_BUILD_TESTS=OFF -DTERNARY_BUILD_BENCH=OFF
cmake --build build-demo --target ternary_cli -j"$(nproc)"
./build-demo/examples/ternary generate -p "${1:-ROMEO:}" -n "${2:-120}" --seed 42
