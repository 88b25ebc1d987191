#!/bin/bash
# bench.sh — the peers' llama-bench on the synthetic 2B4T files (make_2b4t.sh): pp128 and tg64, 3 repetitions,
# 1 and 2 threads, each tool at its own defaults (bitnet.cpp: no flash attention; ik_llama: flash attention,
# plus -rtr 1 = run-time repack of IQ2_BN into its row-interleaved IQ2_BN_R4 layout, the fast path on AVX-512).
# Prints one table (medians of the repetitions) and writes $JSON (default $P2B/bench.json): a list of
# {tool, weights, head, threads, pp128_tps, tg64_tps} (keys follow P and N). Raw llama-bench JSON: $P2B/raw-*.json.
# ternary rows: for each thread count T runs
#   $TERNARY_CLI bench --shape 2b4t -p $P -n $N -t T --json   and reads it with tps_json.py.
# TERNARY_CLI defaults to the repository's build/examples/ternary when that exists; TERNARY_CLI= (empty)
# leaves ternary out.
# Env: PEERS_WORK (${TMPDIR:-/tmp}/ternary-peers) and BNB IK P2B below it (as build.sh, make_2b4t.sh),
# THREADS (1,2), P (128), N (64), R (3), ONLY (regex on the row label), JSON, PY (python3).
# Takes about 2 minutes on a 2-core machine (4 files x 2 thread counts, 25-36 s per file).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}
BNB=${BNB:-$WORK/bitnet.cpp}; IK=${IK:-$WORK/ik_llama.cpp}; P2B=${P2B:-$WORK/2b4t}; PY=${PY:-python3}
if [ -z "${TERNARY_CLI+set}" ] && [ -x "$REPO/build/examples/ternary" ]; then
  TERNARY_CLI=$REPO/build/examples/ternary
fi
THREADS=${THREADS:-1,2}; P=${P:-128}; N=${N:-64}; R=${R:-3}; JSON=${JSON:-$P2B/bench.json}
# label | binary | file | extra flags
RUNS="bitnet.cpp:I2_S:f16|$BNB/build/bin/llama-bench|bitnet.cpp-i2_s-f16.gguf|
bitnet.cpp:I2_S:q6_k|$BNB/build/bin/llama-bench|bitnet.cpp-i2_s-q6k.gguf|
ik_llama:IQ2_BN:f16|$IK/build/bin/llama-bench|ik-iq2_bn-f16.gguf|-rtr 1
ik_llama:IQ2_BN:q6_k|$IK/build/bin/llama-bench|ik-iq2_bn-q6k.gguf|-rtr 1"
raws=()
while IFS='|' read -r label bin file extra; do
  [[ $label =~ ${ONLY:-.} ]] || continue
  [ -x "$bin" ] || { echo "missing $bin: run $HERE/build.sh"; exit 1; }
  [ -f "$P2B/$file" ] || { echo "missing $P2B/$file: run $HERE/make_2b4t.sh"; exit 1; }
  raw=$P2B/raw-${label//:/-}.json; t0=$SECONDS
  echo "== $label: $(basename "$bin") -m $file -p $P -n $N -r $R -t $THREADS $extra -o json"
  # shellcheck disable=SC2086
  "$bin" -m "$P2B/$file" -p "$P" -n "$N" -r "$R" -t "$THREADS" $extra -o json > "$raw" 2> "${raw%.json}.log" \
    || { echo "   FAILED: $(tail -2 "${raw%.json}.log")"; continue; }
  echo "   ($((SECONDS - t0)) s)"; raws+=("$label=$raw")
done <<< "$RUNS"
if [ -n "${TERNARY_CLI:-}" ] && [[ ternary =~ ${ONLY:-.} ]]; then
  [ -x "$TERNARY_CLI" ] || { echo "TERNARY_CLI=$TERNARY_CLI is not an executable"; exit 1; }
  for t in ${THREADS//,/ }; do
    raw=$P2B/raw-ternary-t$t.json
    echo "== ternary: $TERNARY_CLI bench --shape 2b4t -p $P -n $N -t $t --json"
    "$TERNARY_CLI" bench --shape 2b4t -p "$P" -n "$N" -t "$t" --json > "$raw" || echo "   FAILED (exit $?)"
    raws+=("ternary:ternary:?:$t=$raw")
  done
fi
# table + JSON (medians of samples_ts per test and thread count)
$PY - "$JSON" "$P" "$N" "$HERE/tps_json.py" "${raws[@]}" <<'PY'
import json, statistics, subprocess, sys
out, P, N, tps, rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], []
for arg in sys.argv[5:]:
    label, raw = arg.split("=", 1); tool, weights, head, *t = label.split(":")
    if tool == "ternary":  # schema not fixed: let tps_json.py find the figures
        f = lambda k: subprocess.run([sys.executable, tps, k, raw], capture_output=True, text=True).stdout.strip()
        pp, tg = f("pp"), f("tg")
        num = lambda s: float(s) if s.replace(".", "", 1).isdigit() else None
        rows.append(dict(tool="ternary", weights="ternary", head=head, threads=int(t[0]), **{f"pp{P}_tps": num(pp), f"tg{N}_tps": num(tg)}))
        continue
    by_t = {}
    for r in json.load(open(raw)):
        th = r["n_threads"][0] if isinstance(r["n_threads"], list) else r["n_threads"]
        key = f"pp{P}_tps" if r["n_gen"] == 0 else f"tg{N}_tps"
        by_t.setdefault(th, dict(tool=tool, weights=weights, head=head, threads=th))[key] = round(statistics.median(r["samples_ts"]), 2)
    rows += [by_t[k] for k in sorted(by_t)]
json.dump(rows, open(out, "w"), indent=1)
print(f"\n| tool | weights | head | threads | pp{P} tok/s | tg{N} tok/s |\n|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['tool']} | {r['weights']} | {r['head']} | {r['threads']} | {r.get(f'pp{P}_tps')} | {r.get(f'tg{N}_tps')} |")
print(f"\n(medians of the repetitions; JSON: {out})")
PY
