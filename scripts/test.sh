#!/usr/bin/env bash
# Builds everything and runs every test: the CMake build with CTest, an
# installed-package consumer (find_package), and the meson build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build-test -j"$jobs"
ctest --test-dir build-test --output-on-failure -j"$jobs"

# The installed package works with find_package(ternary) and pkg-config.
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build-test --prefix "$prefix" >/dev/null
cmake -S tests/consumer -B build-test/consumer -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
cmake --build build-test/consumer
./build-test/consumer/consumer
