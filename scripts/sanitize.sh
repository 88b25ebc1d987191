#!/usr/bin/env bash
# Builds the test suite with clang 14 under AddressSanitizer +
# UndefinedBehaviorSanitizer (every report fatal) and runs it; then the
# thread pool's test under ThreadSanitizer.
#   bash scripts/sanitize.sh [BUILD_DIR]     (default build-asan)
#
# Left out to fit CI's time budget: the CLI end-to-end tests (examples/,
# whose code the model and io tests already run in-process) and the
# compile-fail tests (no code runs). The kernels are compiled for the
# portable baseline and AVX2 only: SSSE3, SSE4, AVX3 and AVX3_DL run the same
# source with other vector widths and are covered by the plain build (and
# every target's instructions by the audit), which keeps CI within its time.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
bash scripts/install-deps.sh

# Highway's target bits (hwy/detect_targets.h, 1.0.3): SSSE3 1<<12,
# SSE4 1<<11, AVX3 1<<8, AVX3_DL 1<<7; a number, as a macro value must not
# hold ( or |.
disabled=$(( (1 << 12) | (1 << 11) | (1 << 8) | (1 << 7) ))
cxx=$(command -v clang++ || command -v clang++-14)
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" \
  -DCMAKE_CXX_FLAGS="-DHWY_DISABLED_TARGETS=$disabled -D_GLIBCXX_ASSERTIONS" \
  -DTERNARY_SANITIZE=address,undefined -DTERNARY_WERROR=ON \
  -DTERNARY_BUILD_BENCH=OFF -DTERNARY_BUILD_EXAMPLES=OFF -DTERNARY_BUILD_RUNTIME=OFF \
  -DTERNARY_INSTALL=OFF -DTERNARY_TEST_AREAS="quant;kernels;io;tokenizer;model"
cmake --build "$build" -j"$(nproc)"

symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
[ -z "$symbolizer" ] || export ASAN_SYMBOLIZER_PATH="$symbolizer"
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"

# The thread pool's lock-free handshake under ThreadSanitizer.
cmake -S . -B "$build-tsan" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" \
  -DTERNARY_SANITIZE=thread -DTERNARY_WERROR=ON -DTERNARY_BUILD_BENCH=OFF \
  -DTERNARY_BUILD_EXAMPLES=OFF -DTERNARY_BUILD_RUNTIME=OFF -DTERNARY_INSTALL=OFF \
  -DTERNARY_TEST_AREAS=kernels
cmake --build "$build-tsan" -j"$(nproc)" --target ternary_thread_pool_test
TSAN_OPTIONS=halt_on_error=1 "$build-tsan/tests/kernels/ternary_thread_pool_test"
