#!/usr/bin/env bash
# Instruction audit of every program a build folder holds: each function of
# each ELF executable must keep to its Highway target's ISA, and code outside
# the target namespaces to the baseline (scripts/isa_audit.py says how).
# scripts/test.sh runs it on every folder CI builds; a CPU that lacks an
# instruction some target uses would crash there, and on a CPU that has it
# no test can see it.
#   bash scripts/audit.sh BUILD_DIR [isa_audit.py options...]
# The audit's own wrong-on-purpose fixtures (tests/audit) are left out: their
# CTest cases check that the audit flags them.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
mapfile -t programs < <(
  find "$dir" -type f -perm -u+x ! -path '*/CMakeFiles/*' \
    ! -path '*/tests/audit/*' ! -name '*.so*' ! -name '*.sh' ! -name '*.py' \
    -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print | sort)
if [ ${#programs[@]} -eq 0 ]; then
  echo "audit.sh: no programs under $dir" >&2
  exit 1
fi
# Not ours: sanitizer runtimes that compiler-rt links into the sanitizer
# and fuzz builds, compiled for newer CPUs by design (libFuzzer's comparison
# hooks with target("popcnt"), the TSan runtime with SSE4.2); those
# programs only run on the machine that builds them.
ignore=(--ignore '^__sanitizer_cov_trace_'
        --ignore '(^|[ *&<])__(tsan|sanitizer)(_|::)')
rc=0
out=$(/usr/bin/python3 scripts/isa_audit.py "${ignore[@]}" "$@" \
  "${programs[@]}" 2>&1) || rc=$?
# Programs without SIMD code (tokenizer tests...) are expected here.
grep -v ': warning: no functions in any SIMD target namespace$' <<<"$out" || true
exit $rc
