#!/usr/bin/env bash
# Measures `ternary bench --shape 2b4t` against threads and prompt length and
# writes one JSON object per run to OUT (default bench/results/speed.jsonl);
# bench/plot_speed.py draws bench/speed.png from it.
#   bash bench/speed.sh [TERNARY_BINARY] [OUT]
# Threads default to 1..nproc; override with THREADS="1 2 4 8 16".
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/examples/ternary}
out=${2:-bench/results/speed.jsonl}
threads=${THREADS:-$(seq 1 "$(nproc)")}
reps=${REPS:-3}
mkdir -p "$(dirname "$out")"
: > "$out"
for t in $threads; do
  # Decode (tg64) with the exact F16 head and with Q8 rows, and pp128.
  "$bin" bench --shape 2b4t -t "$t" -p 128 -n 64 -r "$reps" --json >> "$out"
  "$bin" bench --shape 2b4t -t "$t" -p 0 -n 64 -r "$reps" --head q8 --json >> "$out"
  # Prompt-length sweep (prefill only).
  for p in 16 64 256 512; do
    "$bin" bench --shape 2b4t -t "$t" -p "$p" -n 0 -r "$reps" --json >> "$out"
  done
done
echo "wrote $out"
