#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan), writes
# their seed corpora from the test data, and runs every target for
# SECONDS_PER_TARGET (default 60), two at a time (in the run of all targets,
# the two text-encoding ones get half each and share one slot, so nine
# targets take as long as eight did). Exits non-zero, printing the
# reproducer, if any target finds a crash, leak, UB or timeout.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Environment: TERNARY_FUZZ_ARGS adds libFuzzer flags to every run (e.g.
# "-jobs=4 -workers=4"); TERNARY_FUZZ_PARALLEL targets at a time (2).
# The corpus grows in build-fuzz/fuzz-corpus/<target> across runs
# (TERNARY_FUZZ_BUILD names another build folder).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
bash scripts/install-deps.sh

build=${TERNARY_FUZZ_BUILD:-build-fuzz}
cxx=$(command -v clang++ || command -v clang++-14)
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Debug -DTERNARY_BUILD_FUZZERS=ON \
  -DTERNARY_BUILD_TESTS=OFF -DTERNARY_BUILD_BENCH=OFF \
  -DTERNARY_BUILD_EXAMPLES=OFF -DTERNARY_BUILD_RUNTIME=OFF -DTERNARY_INSTALL=OFF >/dev/null
cmake --build "$build" -j"$(nproc)"

# Per target: the longest input to try, and its dictionary.
declare -A max_len=(
  [gguf_fuzz]=32768 [gguf_checkpoint_fuzz]=32768 [gguf_tokenizer_fuzz]=16384
  [safetensors_fuzz]=8192 [hf_config_fuzz]=4096 [tokenizer_json_fuzz]=16384
  [tiktoken_fuzz]=8192 [tokenizer_encode_fuzz]=4096
  [tokenizer_added_tokens_fuzz]=4096)
declare -A dict=(
  [gguf_fuzz]=gguf [gguf_checkpoint_fuzz]=gguf [gguf_tokenizer_fuzz]=gguf
  [safetensors_fuzz]=json [hf_config_fuzz]=json [tokenizer_json_fuzz]=json
  [tiktoken_fuzz]="" [tokenizer_encode_fuzz]=text
  [tokenizer_added_tokens_fuzz]=text)
# Per target: it runs SECONDS_PER_TARGET / time_div (default 1).
declare -A time_div=()
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(gguf_fuzz gguf_checkpoint_fuzz gguf_tokenizer_fuzz
    safetensors_fuzz hf_config_fuzz tokenizer_json_fuzz tiktoken_fuzz
    tokenizer_encode_fuzz tokenizer_added_tokens_fuzz)
  # Listed last, the two halves follow each other in the last slot.
  time_div=([tokenizer_encode_fuzz]=2 [tokenizer_added_tokens_fuzz]=2)
fi

rm -rf "$build/fuzz-seeds"
"$build/fuzz/make_fuzz_seeds" . "$build/fuzz-seeds"

symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
[ -z "$symbolizer" ] || export ASAN_SYMBOLIZER_PATH="$symbolizer"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
logs="$build/fuzz-logs"
mkdir -p "$logs"

run() {  # run TARGET: one libFuzzer session; $logs/TARGET.{log,rc}
  local t=$1 artifacts="$build/fuzz-artifacts/$1/" rc=0
  local secs=$(( seconds / ${time_div[$t]:-1} ))
  [ "$secs" -ge 1 ] || secs=1
  local d=${dict[$t]:+-dict=fuzz/${dict[$t]}.dict}
  mkdir -p "$build/fuzz-corpus/$t" "$artifacts"
  touch "$logs/$t.start"  # artifacts newer than this are this run's
  # shellcheck disable=SC2086  # TERNARY_FUZZ_ARGS is a list of flags
  "$build/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
    -max_len="${max_len[$t]}" -timeout=25 $d -artifact_prefix="$artifacts" \
    -print_final_stats=1 ${TERNARY_FUZZ_ARGS:-} \
    "$build/fuzz-corpus/$t" "$build/fuzz-seeds/$t" >"$logs/$t.log" 2>&1 ||
    rc=$?
  echo "$rc" >"$logs/$t.rc"
}

running=()
failed=()
finish() {  # finish TARGET: report its outcome
  local t=$1 rc
  rc=$(cat "$logs/$t.rc")
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: $t: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' \
      "$logs/$t.log" | grep -o '[0-9]*$') runs)"
    return
  fi
  failed+=("$t")
  echo "fuzz: $t: FAILED (exit $rc); log $logs/$t.log" >&2
  grep -E 'ERROR:|SUMMARY:|runtime error:|ALARM|out-of-memory' \
    "$logs/$t.log" | head -5 >&2 || true
  local a
  find "$build/fuzz-artifacts/$t" -type f -newer "$logs/$t.start" |
    while read -r a; do echo "fuzz: reproduce: $build/fuzz/$t $a" >&2; done
}
# Two at a time by default: a 2-core CI runner, one core per target.
parallel=${TERNARY_FUZZ_PARALLEL:-2}
reap() {  # reap: finish the targets whose run has ended
  local t still=()
  for t in "${running[@]}"; do
    if [ -e "$logs/$t.rc" ]; then finish "$t"; else still+=("$t"); fi
  done
  running=("${still[@]}")
}
for t in "${targets[@]}"; do
  [ -x "$build/fuzz/$t" ] || { echo "fuzz: no target $t" >&2; exit 2; }
  while [ ${#running[@]} -ge "$parallel" ]; do
    wait -n || true
    reap
  done
  echo "fuzz: $t for $(( seconds / ${time_div[$t]:-1} ))s"
  rm -f "$logs/$t.rc"
  run "$t" &
  running+=("$t")
done
wait
reap

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without findings"
