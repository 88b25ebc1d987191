#!/usr/bin/env bash
# Cross-builds the kernel and quant tests for aarch64 with Debian's cross
# toolchain and arm64 Highway, and runs them under qemu-user, so the NEON,
# SVE and SVE2 targets are tested on an x86 machine (root or sudo; apt only).
#   bash scripts/cross-aarch64.sh [BUILD_DIR]     (default build-aarch64)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
pkgs=(g++-aarch64-linux-gnu qemu-user cmake ninja-build pkg-config ccache
      doctest-dev nlohmann-json3-dev libhwy-dev:arm64 libpcre2-dev:arm64)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 ||
    $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Only the areas whose code runs the SIMD kernels; no CLI, benchmarks or
# install rules.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
  -DTERNARY_TEST_AREAS="kernels;quant" -DTERNARY_BUILD_BENCH=OFF \
  -DTERNARY_BUILD_EXAMPLES=OFF -DTERNARY_INSTALL=OFF
cmake --build "$build" -j"$(nproc)"

# qemu's default `max` CPU has NEON, SVE and SVE2 with 512-bit vectors; the
# targets test fails unless each of these ran. A second pass at 256 bits
# adds Highway's SVE_256 target (and another vector length for SVE/SVE2).
TERNARY_EXPECT_TARGETS="NEON,SVE,SVE2" \
  ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
QEMU_CPU=max,sve-default-vector-length=32 TERNARY_EXPECT_TARGETS="NEON,SVE,SVE2,SVE_256" \
  ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -L kernels
