#!/usr/bin/env bash
# Which SIMD target is fastest on this CPU: `ternary bench --shape 2b4t` once
# per target (--simd), the targets interleaved round by round so that drift
# of a noisy machine hits them alike, then the median of each target's rounds.
# Prints the CPU (as `ternary info` reads it) with the table; JSON records go
# to OUT (default bench/results/targets.jsonl).
#   bash bench/targets.sh [TERNARY_BINARY] [OUT]
# TARGETS (default: avx3_dl avx3 avx2 where the CPU runs them), THREADS
# (default "1 2"), ROUNDS (default 3), and ARGS (default "-p 128 -n 64 -r 3").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/examples/ternary}
out=${2:-bench/results/targets.jsonl}
rounds=${ROUNDS:-3}
threads=${THREADS:-1 2}
args=${ARGS:--p 128 -n 64 -r 3}
if [ -z "${TARGETS:-}" ]; then
  runs=$("$bin" info | sed -n 's/^simd: [^(]*(this CPU runs \([^;]*\);.*/\1/p')
  TARGETS=""
  for t in avx3_dl avx3 avx2 sve2 sve neon; do
    [[ ", $runs," == *", $t,"* ]] && TARGETS+="$t "
  done
fi
mkdir -p "$(dirname "$out")"
: > "$out"
"$bin" info | grep -E '^(cpu|simd)'
for r in $(seq 1 "$rounds"); do
  for t in $threads; do
    for target in $TARGETS; do
      # shellcheck disable=SC2086
      "$bin" bench --shape 2b4t -t "$t" $args --json --simd "$target" >> "$out"
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [k for k in rows[0] if k.endswith("_tps")]
groups = {}
for r in rows:
    groups.setdefault((r["threads"], r["simd"]), []).append(r)
print("| threads | target | " + " | ".join(k[:-4] + " tok/s (median)" for k in keys) + " |")
print("|---|---|" + "---|" * len(keys))
for (t, simd), rs in groups.items():
    cells = []
    for k in keys:
        vals = sorted(r[k] for r in rs)
        cells.append("%.1f (%s)" % (statistics.median(vals),
                                     ", ".join("%.1f" % v for v in vals)))
    print("| %d | %s | %s |" % (t, simd, " | ".join(cells)))
PY
