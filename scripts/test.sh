#!/usr/bin/env bash
# Builds everything and runs every test: the CMake build with CTest, every
# way to consume the library (scripts/consumers.sh), and the meson build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build-test -j"$jobs"
ctest --test-dir build-test --output-on-failure -j"$jobs"

# Every way to consume the library: find_package after cmake --install,
# pkg-config, add_subdirectory, FetchContent, a meson subproject.
bash scripts/consumers.sh build-test/consumers

# meson builds the quick test programs with its own flags (the CMake build
# above runs them all; this checks meson.build, within CI's time budget).
meson setup build-test/meson . --buildtype=release --reconfigure >/dev/null 2>&1 ||
  meson setup build-test/meson . --buildtype=release
meson_tests=(ternary_quant_test ternary_gguf_test ternary_safetensors_test
             ternary_bad_files_test ternary_fuzz_regressions_test
             ternary_tokenizer_test)
meson compile -C build-test/meson "${meson_tests[@]}"
meson test -C build-test/meson --no-rebuild --num-processes "$jobs" \
  --print-errorlogs "${meson_tests[@]}"

