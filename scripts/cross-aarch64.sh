#!/usr/bin/env bash
# Cross-builds the kernel and quant tests for aarch64 with Debian's cross
# toolchain and arm64 Highway, and runs them under qemu-user, so the NEON,
# SVE, SVE2, SVE_256 and SVE2_128 targets are tested on an x86 machine
# (root or sudo; Debian's apt only).
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
jobs=$(nproc)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
  -DTERNARY_TEST_AREAS="kernels;quant" -DTERNARY_BUILD_BENCH=OFF \
  -DTERNARY_BUILD_EXAMPLES=OFF -DTERNARY_BUILD_RUNTIME=OFF -DTERNARY_INSTALL=OFF -DTERNARY_WERROR=ON
cmake --build "$build" -j"$jobs"

# Pass 1: qemu's default `max` CPU, NEON + SVE + SVE2 with 512-bit vectors,
# every test; the targets test fails unless each of those targets ran.
# Passes 2 and 3 rerun the kernel tests (less the slow 2B4T shapes) at 256
# and 128 bits, which add Highway's SVE_256 and SVE2_128 targets.
kernel_tests=(-R "matmul|MatMul|kernels|TL lookup|Highway targets" -E "2B4T")
run_pass() {  # QEMU_CPU, targets that must run, ctest arguments
  echo "== qemu-aarch64 -cpu $1"
  QEMU_CPU=$1 qemu-aarch64 "$build/tests/kernels/ternary_kernels_test" \
    -tc="Highway targets under test" | grep -o "targets: .*"
  QEMU_CPU=$1 TERNARY_EXPECT_TARGETS=$2 ctest --test-dir "$build" \
    --output-on-failure --timeout 600 -j"$jobs" "${@:3}"
}
run_pass max NEON,SVE,SVE2
run_pass max,sve-default-vector-length=32 NEON,SVE,SVE2,SVE_256 \
  "${kernel_tests[@]}"
run_pass max,sve-default-vector-length=16 NEON,SVE,SVE2,SVE2_128 \
  "${kernel_tests[@]}"
