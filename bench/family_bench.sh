#!/bin/bash
# family_bench.sh — decode and prefill speed of every model family size, ternary beside bitnet.cpp (issue #17).
# For each shape of `ternary bench --shape` (large, 3b, 2b4t, llama3-8b, falcon3-1b/3b/7b/10b):
#   1. bench/peers/gen_shape.py SHAPE -> $WORK/SHAPE-f16.gguf (random ternary weights as F16, the family's
#      GGUF arch and tensors), then bitnet.cpp's llama-quantize --output-tensor-type f16 ... I2_S 1
#      (I2_S wants thread count 1: one per-tensor scale) -> $WORK/SHAPE-i2_s.gguf; the F16 file deleted;
#   2. for each thread count T, interleaved (the engine that goes first alternates):
#        $BNB/build/bin/llama-bench -m SHAPE-i2_s.gguf -p $P -n $N -t T -r $R -o jsonl
#        $TERNARY_CLI bench --shape SHAPE --head f16 -p $P -n $N -t T -r $R -o jsonl
#      (same tests, same repetitions, one warm-up each; head F16 in both, as llama-quantize leaves it
#      for I2_S; ternary's weights are generated in memory, bitnet.cpp's read from the file);
#   3. the GGUF deleted.
# Each record (llama-bench's jsonl fields: n_prompt, n_gen, n_threads, avg_ts, stddev_ts, samples_ts, ...)
# gets shape, engine, params (gen_shape.counts: all parameters), bytes_per_token (weights one decoded
# token reads: ternary weights at 2 bits, the F16 head, the F32 norms, one F16 embedding row), file
# sizes, the CPU, others_busy and others_during (other processes' CPU use, in cores, just before and
# during the run); appended to $OUT. Skipped shapes get one {"shape", "engine": "bitnet.cpp", "skipped": why} record.
# bitnet.cpp skips 3b: llama-quantize packs it and llama-bench runs it, but its ffn_down rows (8640
# values) are 67.5 of I2_S's 128-value blocks: ggml_vec_dot_i2_i8_s (src/ggml-bitnet-mad.cpp) reads
# n / 128 = 67 blocks per row from byte row * 2160, so rows start mid-block and each row's last 64
# values are dropped: it runs, but not the model. (3200 = 25 x 128 is fine.)
# llama-bench runs with a 64 MB stack (ulimit -s $STACK_KB; glibc gives new threads the same): bitnet.cpp's
# I2_S GEMM keeps its output tile in a stack array, float tmp[rows per thread * tokens]
# (ggml_compute_forward_mul_mat, 3rdparty/llama.cpp/ggml/src/ggml.c), 11.8 MB for falcon3-7b/10b's
# ffn_gate/up (23040 rows) at pp128 on 1 thread: past the default 8 MB stack it dies with SIGSEGV.
# Before each run the script waits (up to QUIET_WAIT s) until other processes use < QUIET cores, and a
# run during which they used >= QUIET cores is run again (up to RETRY times; the last is kept).
# Env: SHAPES (all eight, smallest first), THREADS (1,2), P (128), N (64), R (3), WORK (/tmp/peers-shapes),
#   BNB (/tmp/bnb), OUT (bench/results/families-<date>.jsonl), PY (/usr/bin/python3), TERNARY_CLI
#   (build/examples/ternary), NICE ("nice -n 15": prefix for generating and quantizing), QUIET (0.3),
#   QUIET_WAIT (120), RETRY (2), STACK_KB (65536), SEED (2025). Disk: the largest F16 file is 21 GB (falcon3-10b).
# Takes ~45 min on 2 Zen 5 cores with the defaults (10b: ~4 min to generate, ~1 min to quantize).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
TERNARY_CLI=${TERNARY_CLI:-$REPO/build/examples/ternary}
SHAPES=${SHAPES:-large falcon3-1b 2b4t 3b falcon3-3b falcon3-7b llama3-8b falcon3-10b}
THREADS=${THREADS:-1,2}; P=${P:-128}; N=${N:-64}; R=${R:-3}; SEED=${SEED:-2025}
WORK=${WORK:-/tmp/peers-shapes}; BNB=${BNB:-/tmp/bnb}; PY=${PY:-/usr/bin/python3}
NICE=${NICE:-nice -n 15}; export QUIET=${QUIET:-0.3}; QUIET_WAIT=${QUIET_WAIT:-120}; RETRY=${RETRY:-2}
STACK_KB=${STACK_KB:-65536}
OUT=${OUT:-$HERE/results/families-$(date +%Y%m%d-%H%M%S).jsonl}
declare -A PEER_SKIP=(
  [3b]="I2_S: ffn_down rows of 8640 values are 67.5 blocks of 128; bitnet.cpp's kernel reads 67 blocks per row from mid-block offsets (runs, computes the wrong thing)"
)
QB=$BNB/build/bin/llama-quantize; LB=$BNB/build/bin/llama-bench
for b in "$QB" "$LB" "$TERNARY_CLI"; do [ -x "$b" ] || { echo "missing $b"; exit 1; }; done
mkdir -p "$WORK" "$(dirname "$OUT")"; touch "$OUT"
CPU=$(lscpu | sed -n 's/^Model name: *//p'); FAM=$(grep -m1 '^cpu family' /proc/cpuinfo | grep -o '[0-9]*$')
MOD=$(grep -m1 '^model\s*:' /proc/cpuinfo | grep -o '[0-9]*$')
echo "== $CPU (family $FAM model $MOD), $(nproc) CPUs; shapes: $SHAPES; -p $P -n $N -t $THREADS -r $R -> $OUT"

# others_busy: CPU use of everything over 2 s while this script idles (cores)
others_busy() {
  local a b; a=($(head -1 /proc/stat)); sleep 2; b=($(head -1 /proc/stat))
  local busy=0 total=0 i
  for i in 1 2 3 6 7 8; do busy=$((busy + b[i] - a[i])); done
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  awk -v b=$busy -v t=$total -v n="$(nproc)" 'BEGIN { printf "%.2f", t ? n * b / t : 0 }'
}
wait_quiet() {
  local t0=$SECONDS o
  while :; do
    o=$(others_busy)
    if awk -v o="$o" -v q="$QUIET" 'BEGIN { exit !(o < q) }' || [ $((SECONDS - t0)) -ge "$QUIET_WAIT" ]; then
      echo "$o"; return
    fi
  done
}
# measure EXTRA_JSON LOG CMD...: runs CMD (llama-bench jsonl on stdout, stderr to LOG) and appends each
# record to $OUT with EXTRA_JSON's fields and others_during: the CPU (cores) that other processes used
# while it ran (all CPU use from /proc/stat minus CMD's own user + system time, over the wall time)
measure() {
  "$PY" - "$OUT" "$@" <<'MEASURE'
import json, os, resource, subprocess, sys, time
out, extra, log, cmd = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4:]
def busy():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")
b0, t0, r0 = busy(), time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
with open(log, "w") as err:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
b1, t1, r1 = busy(), time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
own = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
extra["others_during"] = round(max(0.0, (b1 - b0) - own) / (t1 - t0), 2)
extra["attempt"] = int(os.environ.get("ATTEMPT", "0"))
if extra["others_during"] >= float(os.environ["QUIET"]) and not os.environ.get("FINAL"):
    print("   %-10s t=%s: others used %.2f cores during the run: again" % (extra["engine"], cmd[cmd.index("-t") + 1],
                                                                          extra["others_during"]))
    sys.exit(3)
with open(out, "a") as f:
    for line in p.stdout.splitlines():
        if line.strip().startswith("{"):
            r = json.loads(line)
            f.write(json.dumps(dict(extra, **r)) + "\n")
            test = "pp%d" % r["n_prompt"] if r["n_prompt"] else "tg%d" % r["n_gen"]
            print("   %-10s t=%d %-6s %9.2f +- %5.2f tok/s   (others: %.2f cores before, %.2f during)" % (
                extra["engine"], r["n_threads"], test, r["avg_ts"], r["stddev_ts"], extra["others_busy"],
                extra["others_during"]))
if p.returncode:
    print("   %s FAILED (exit %d): %s" % (extra["engine"], p.returncode, open(log).read()[-300:]))
MEASURE
}

for shape in $SHAPES; do
  t_shape=$SECONDS
  read -r params bpt < <(PYTHONPATH=$HERE/peers "$PY" -c '
import sys, gen_shape as g
t, head, norms, params = g.counts(sys.argv[1]); D = g.SHAPES[sys.argv[1]][1]
print(params, t // 4 + 2 * head + 4 * norms + 2 * D)' "$shape")
  base="{\"shape\": \"$shape\", \"params\": $params, \"bytes_per_token\": $bpt, \"cpu\": \"$CPU\", \"cpu_family\": $FAM, \"cpu_model\": $MOD"
  gguf=$WORK/$shape-i2_s.gguf; skip=${PEER_SKIP[$shape]:-}
  if [ -n "$skip" ]; then
    echo "== $shape: bitnet.cpp skipped: $skip"
    echo "$base, \"engine\": \"bitnet.cpp\", \"skipped\": \"$skip\"}" >> "$OUT"
  elif [ ! -f "$gguf" ]; then
    echo "== $shape: gen_shape.py -> $shape-f16.gguf, llama-quantize I2_S"
    t0=$SECONDS
    PYTHONPATH=$BNB/3rdparty/llama.cpp/gguf-py $NICE "$PY" "$HERE/peers/gen_shape.py" "$shape" "$WORK/$shape-f16.gguf" "$SEED" > "$WORK/gen-$shape.log" 2>&1 \
      || { tail -3 "$WORK/gen-$shape.log"; exit 1; }
    t1=$SECONDS
    $NICE "$QB" --output-tensor-type f16 "$WORK/$shape-f16.gguf" "$gguf.tmp" I2_S 1 > "$WORK/quantize-$shape.log" 2>&1 \
      || { tail -3 "$WORK/quantize-$shape.log"; exit 1; }
    mv "$gguf.tmp" "$gguf"; rm -f "$WORK/$shape-f16.gguf"
    echo "   generated in $((t1 - t0)) s, quantized in $((SECONDS - t1)) s: $(du -h "$gguf" | cut -f1) ($(grep -o 'converting to [a-z0-9_]*' "$WORK/quantize-$shape.log" | sort | uniq -c | tr -s ' \n' ' '))"
  fi
  k=0
  for t in ${THREADS//,/ }; do
    order="bitnet.cpp ternary"; [ $((k % 2)) = 1 ] && order="ternary bitnet.cpp"; k=$((k + 1))
    for engine in $order; do
      [ "$engine" = bitnet.cpp ] && [ -n "$skip" ] && continue
      for attempt in $(seq 0 "$RETRY"); do
        busy=$(wait_quiet); final=; [ "$attempt" = "$RETRY" ] && final=1
        if [ "$engine" = bitnet.cpp ]; then
          ATTEMPT=$attempt FINAL=$final measure "$base, \"engine\": \"bitnet.cpp\", \"file\": \"$(basename "$gguf")\", \"file_bytes\": $(stat -c %s "$gguf"), \"others_busy\": $busy}" \
            "$WORK/llama-bench-$shape-t$t.log" bash -c 'ulimit -s "$0" && exec "$@"' "$STACK_KB" "$LB" -m "$gguf" -p "$P" -n "$N" -t "$t" -r "$R" -o jsonl
        else
          ATTEMPT=$attempt FINAL=$final measure "$base, \"engine\": \"ternary\", \"others_busy\": $busy}" \
            "$WORK/ternary-$shape-t$t.log" "$TERNARY_CLI" bench --shape "$shape" --head f16 -p "$P" -n "$N" -t "$t" -r "$R" -o jsonl
        fi && break || [ $? = 3 ] || break  # 3: others were busy: again
      done
    done
  done
  rm -f "$gguf"
  echo "   ($((SECONDS - t_shape)) s)"
done
echo "== wrote $OUT; plot: $PY $HERE/plot_families.py $OUT"
