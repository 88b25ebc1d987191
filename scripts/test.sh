#!/usr/bin/env bash
# Builds everything and runs every test (CI calls this through .ci/run):
#  1. the CMake build with g++ (-Werror) and CTest;
#  2. every way to consume the library (scripts/consumers.sh);
#  3. the meson build of the quick test programs;
#  4. the suite under ASan + UBSan with clang (scripts/sanitize.sh);
#  5. every libFuzzer target for 20 s (scripts/fuzz.sh);
#  6. the kernel tests cross-built for aarch64 and run under qemu
#     (scripts/cross-aarch64.sh);
#  7. the instruction audit of every program stages 1-6 built
#     (scripts/audit.sh): each per-target function keeps to its target's
#     ISA, everything else to the baseline (so a Zen 5 CI run catches what
#     would crash on Zen 4).
# Measured cold on a 2-core VM: about 27 minutes in all (29 before the
# meson and fuzzing stages were trimmed); each stage prints its time. TERNARY_CI_STAGES picks stages, e.g. "1 2" (default all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
stages=${TERNARY_CI_STAGES:-1 2 3 4 5 6 7}
want() { [[ " $stages " == *" $1 "* ]]; }
stage_start=$SECONDS
done_stage() {
  echo "== stage $1 ($2) passed in $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}

if want 1; then
  cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTERNARY_WERROR=ON
  cmake --build build-test -j"$jobs"
  ctest --test-dir build-test --output-on-failure -j"$jobs"
  done_stage 1 "g++ build, CTest"
fi

# find_package after cmake --install, pkg-config, add_subdirectory,
# FetchContent, a meson subproject.
if want 2; then
  bash scripts/consumers.sh build-test/consumers
  done_stage 2 "five consumers"
fi

# meson builds the quick test programs with its own flags (stage 1 runs
# them all; this checks meson.build, within CI's time budget).
if want 3; then
  meson setup build-test/meson . --buildtype=release --reconfigure \
    >/dev/null 2>&1 || meson setup build-test/meson . --buildtype=release
  # The lighter programs (stage 1 runs them all; the bad-file and tokenizer
  # suites took 90 s more here and check nothing about meson.build).
  meson_tests=(ternary_quant_test ternary_gguf_test ternary_safetensors_test
               ternary_fuzz_regressions_test ternary_thread_pool_test)
  meson compile -C build-test/meson "${meson_tests[@]}"
  meson test -C build-test/meson --no-rebuild --num-processes "$jobs" \
    --print-errorlogs "${meson_tests[@]}"
  done_stage 3 "meson"
fi

if want 4; then
  bash scripts/sanitize.sh build-test/asan
  done_stage 4 "ASan + UBSan suite"
fi

if want 5; then
  TERNARY_FUZZ_BUILD=build-test/fuzz bash scripts/fuzz.sh 20
  done_stage 5 "fuzzing, 20 s per target"
fi

if want 6; then
  bash scripts/cross-aarch64.sh build-test/aarch64
  done_stage 6 "aarch64 under qemu"
fi

if want 7; then
  bash scripts/audit.sh build-test
  done_stage 7 "instruction audit"
fi
