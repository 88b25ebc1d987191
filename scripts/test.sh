#!/usr/bin/env bash
# Builds everything and runs every test: the CMake build with CTest, the
# installed package through find_package and pkg-config, and the meson build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build-test -j"$jobs"
ctest --test-dir build-test --output-on-failure -j"$jobs"

# The installed package: find_package(ternary) and pkg-config.
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build-test --prefix "$prefix" >/dev/null
cmake -S tests/consumer -B build-test/consumer -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
cmake --build build-test/consumer
./build-test/consumer/consumer
PKG_CONFIG_PATH="$prefix/share/pkgconfig" c++ -O1 tests/consumer/consumer.cc \
  $(PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --cflags --libs ternary) \
  -o build-test/consumer/consumer_pc
./build-test/consumer/consumer_pc

# meson builds the library's tests a second time with its own flags.
meson setup build-test/meson . --buildtype=release --reconfigure >/dev/null 2>&1 ||
  meson setup build-test/meson . --buildtype=release
meson test -C build-test/meson --num-processes "$jobs" --print-errorlogs
