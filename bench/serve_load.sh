#!/bin/bash
# serve_load.sh — server load comparison on the synthetic 2B4T GGUFs (bench/peers/make_2b4t.sh):
# for each server and each client count N, start the server with N slots, wait for /health, run
# serve_load.py (N concurrent streaming /v1/completions clients, ~128-token prompts, max_tokens 64,
# temperature 0, ignore_eos), stop the server. Servers, each at its own defaults otherwise:
#   ternary     $TERNARY_CLI serve       $P2B/bitnet.cpp-i2_s-f16-ternary.gguf -np N -c SLOT_CTX -t T
#   bitnet.cpp  $BNB/build/bin/llama-server  $P2B/bitnet.cpp-i2_s-f16.gguf  -np N -c N*SLOT_CTX  -t T
#   ik_llama    $IK/build/bin/llama-server   $P2B/ik-iq2_bn-f16.gguf    -np N -c N*SLOT_CTX      -t T -fa on -rtr
# The -ternary.gguf copy: ternary's tokenizer loader rejects the synthetic file's merges ("Ġ t" merges
# into "Ġt", which is not in its vocabulary; llama.cpp never checks), so ternary gets a copy with
# tokens 256/257 ("<tok256>", "<tok257>") renamed "Ġt"/"Ġa": the tensors are the same bytes, only the
# vocabulary in the header differs (made here once, 1.2 GB; TERNARY_MODEL overrides it). The prompts
# of serve_load.py hold no " t"/" a", so they tokenize the same way under both vocabularies.
# (ternary's -c is the context of each sequence; llama-server's -c is the total, split across the
# slots. -rtr repacks IQ2_BN to IQ2_BN_R4 at load and -fa on is ik's flash attention, as bench.sh
# runs ik's llama-bench.) Plus a single-stream reference: ternary bench --shape 2b4t -p 0 -n MAX_TOKENS.
# Writes $OUT/results.jsonl (one line per server x N), $OUT/table.md, $OUT/server-*.log, and
# $OUT/ternary-bench-tg.json.
# Env: TERNARY_CLI (default: the repository's build/examples/ternary; empty: leave ternary out),
#   P2B (/tmp/peers-2b4t), BNB (/tmp/bnb), IK (/tmp/ik), THREADS (2), CLIENTS ("1 2 4 8 16"),
#   MAX_TOKENS (64), PROMPT_CHARS (127), SLOT_CTX (256: >= prompt + max_tokens + 16), PORT (18080; the servers use PORT, PORT+1, PORT+2),
#   TERNARY_MODEL ($P2B/bitnet.cpp-i2_s-f16-ternary.gguf), ONLY (regex on the server label), OUT (default $P2B/serve-load-<date>), PY (/usr/bin/python3),
#   NICE (e.g. "nice -n 15": prefix for every process started).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
if [ -z "${TERNARY_CLI+set}" ] && [ -x "$REPO/build/examples/ternary" ]; then
  TERNARY_CLI=$REPO/build/examples/ternary
fi
P2B=${P2B:-/tmp/peers-2b4t}; BNB=${BNB:-/tmp/bnb}; IK=${IK:-/tmp/ik}; PY=${PY:-/usr/bin/python3}
THREADS=${THREADS:-2}; CLIENTS=${CLIENTS:-1 2 4 8 16}; MAX_TOKENS=${MAX_TOKENS:-64}
PROMPT_CHARS=${PROMPT_CHARS:-127}; SLOT_CTX=${SLOT_CTX:-256}; PORT=${PORT:-18080}
OUT=${OUT:-$P2B/serve-load-$(date +%Y%m%d-%H%M%S)}; NICE=${NICE:-}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd); : > "$OUT/results.jsonl"
[ -d "$P2B" ] && P2B=$(cd "$P2B" && pwd)
TERNARY_MODEL=${TERNARY_MODEL:-$P2B/bitnet.cpp-i2_s-f16-ternary.gguf}

# tokfix SRC DST: copy a synthetic 2B4T GGUF with tokens 256/257 renamed to the merges' results
tokfix() {
  $NICE "$PY" - "$1" "$2.tmp" <<'TOKFIX'
import struct, sys, shutil
src, dst = sys.argv[1], sys.argv[2]
f = open(src, "rb"); head = f.read(64 << 20)  # the header (vocabulary included) is < 64 MiB
o = 0
def rd(fmt):
    global o
    v = struct.unpack_from(fmt, head, o); o += struct.calcsize(fmt); return v[0]
SC = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
def skip(t):
    global o
    if t in SC: o += struct.calcsize(SC[t])
    elif t == 8: n = rd("<Q"); o += n
    elif t == 9:
        et = rd("<I"); n = rd("<Q")
        for _ in range(n): skip(et)
    else: raise ValueError(t)
assert head[:4] == b"GGUF"; o = 4
ver = rd("<I"); nt = rd("<Q"); nkv = rd("<Q")
out = bytearray(head[:o]); align = 32
for _ in range(nkv):
    s = o; n = rd("<Q"); k = head[o:o + n].decode(); o += n; t = rd("<I")
    if k == "tokenizer.ggml.tokens":
        assert rd("<I") == 8; cnt = rd("<Q"); toks = []
        for _ in range(cnt): n = rd("<Q"); toks.append(head[o:o + n]); o += n
        assert toks[256] == b"<tok256>" and toks[257] == b"<tok257>", toks[256:258]
        toks[256], toks[257] = "Ġt".encode(), "Ġa".encode()
        out += head[s:s + 8 + len(k) + 4] + struct.pack("<IQ", 8, cnt)
        for x in toks: out += struct.pack("<Q", len(x)) + x
        continue
    vs = o; skip(t)
    if k == "general.alignment": align = struct.unpack_from("<I", head, vs)[0]
    out += head[s:o]
ts = o
for _ in range(nt):
    n = rd("<Q"); o += n; nd = rd("<I"); o += 8 * nd + 4 + 8
out += head[ts:o]
old_data = -(-o // align) * align
out += b"\0" * (-len(out) % align)
with open(dst, "wb") as g:
    g.write(out); f.seek(old_data); shutil.copyfileobj(f, g, 16 << 20)
print(f"{dst}: header {old_data} -> {len(out)} B, data copied from {old_data}")
TOKFIX
  mv "$2.tmp" "$2"
}
if [ -n "${TERNARY_CLI:-}" ] && [[ ternary =~ ${ONLY:-.} ]] && [ ! -f "$TERNARY_MODEL" ]; then
  [ -f "$P2B/bitnet.cpp-i2_s-f16.gguf" ] || { echo "missing $P2B/bitnet.cpp-i2_s-f16.gguf: run bench/peers/make_2b4t.sh"; exit 1; }
  echo "== $TERNARY_MODEL (ternary's copy: tokens 256/257 renamed)"; tokfix "$P2B/bitnet.cpp-i2_s-f16.gguf" "$TERNARY_MODEL"
fi

# label | binary | subcommand | model | flags (N = slots, C = llama-server's total context)
SERVERS="ternary|${TERNARY_CLI:-}|serve|$TERNARY_MODEL|-np N -c $SLOT_CTX
bitnet.cpp|$BNB/build/bin/llama-server||$P2B/bitnet.cpp-i2_s-f16.gguf|-np N -c C
ik_llama|$IK/build/bin/llama-server||$P2B/ik-iq2_bn-f16.gguf|-np N -c C -fa on -rtr"

spid=
stop_server() {
  [ -n "$spid" ] || return 0
  kill "$spid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; spid=
}
trap stop_server EXIT

# Each server gets its own port (PORT, PORT+1, PORT+2): a llama-server's closed connections leave
# TIME_WAIT sockets made under SO_REUSEPORT, which block a SO_REUSEADDR-only bind (ternary's) on that
# port for about a minute.
k=-1
while IFS='|' read -r label bin sub model flags; do
  k=$((k + 1)); port=$((PORT + k))
  [[ $label =~ ${ONLY:-.} ]] || continue
  [ -n "$bin" ] || { echo "== $label: skipped (TERNARY_CLI empty)"; continue; }
  [ -x "$bin" ] || { echo "missing $bin"; exit 1; }
  [ -f "$model" ] || { echo "missing $model: run bench/peers/make_2b4t.sh"; exit 1; }
  for n in $CLIENTS; do
    f=${flags//-np N/-np $n}; f=${f//-c C/-c $((n * SLOT_CTX))}
    log=$OUT/server-$label-n$n.log
    for _ in $(seq 60); do (: < /dev/tcp/127.0.0.1/"$port") 2> /dev/null || break; sleep 0.5; done
    if (: < /dev/tcp/127.0.0.1/"$port") 2> /dev/null; then echo "port $port is taken by another process: set PORT"; exit 1; fi
    echo "== $label N=$n: $(basename "$bin") $sub -m $(basename "$model") $f -t $THREADS --port $port"
    t0=$SECONDS
    while :; do
      # (run in $OUT: ik's llama-server writes llama.log into its working directory)
      # shellcheck disable=SC2086
      (cd "$OUT" && exec $NICE "$bin" $sub -m "$model" $f -t "$THREADS" --port "$port") > "$log" 2>&1 &
      spid=$!
      until curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1; do
        kill -0 "$spid" 2>/dev/null || break
        [ $((SECONDS - t0)) -lt 600 ] || { echo "   no /health after 600 s"; exit 1; }
        sleep 0.5
      done
      kill -0 "$spid" 2>/dev/null && break
      wait "$spid" 2>/dev/null || true; spid=
      # a port still held by TIME_WAIT sockets of an earlier server: try again for up to 2 minutes
      if grep -qiE "cannot listen|couldn't bind|address already in use" "$log" && [ $((SECONDS - t0)) -lt 120 ]; then
        sleep 5; continue
      fi
      echo "   server exited: $(tail -3 "$log")"; exit 1
    done
    echo "   ready in $((SECONDS - t0)) s"
    $NICE "$PY" "$HERE/serve_load.py" --port "$port" --clients "$n" --max-tokens "$MAX_TOKENS" \
      --prompt-chars "$PROMPT_CHARS" --warmup --label "$label" | tee -a "$OUT/results.jsonl" \
      || echo "   serve_load.py reported errors"
    stop_server
  done
done <<< "$SERVERS"

ref=
if [ -n "${TERNARY_CLI:-}" ] && [[ ternary =~ ${ONLY:-.} ]]; then
  echo "== reference: ternary bench --shape 2b4t -p 0 -n $MAX_TOKENS -t $THREADS --json"
  $NICE "$TERNARY_CLI" bench --shape 2b4t -p 0 -n "$MAX_TOKENS" -t "$THREADS" --json \
    > "$OUT/ternary-bench-tg.json" 2> "$OUT/ternary-bench-tg.log" || echo "   FAILED: $(tail -2 "$OUT/ternary-bench-tg.log")"
  ref=$OUT/ternary-bench-tg.json
fi

"$PY" - "$OUT/results.jsonl" "$ref" "$MAX_TOKENS" "$THREADS" > "$OUT/table.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ref, N, T = sys.argv[2], sys.argv[3], sys.argv[4]
print(f"Streaming /v1/completions, max_tokens {N}, -t {T}; one server start per row (N slots).\n")
print("| server | clients | agg tok/s | TTFT med ms | TTFT p95 ms | ITL med ms | ITL p95 ms | TPOT med ms | prompt tok | errors |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['server']} | {r['clients']} | {r['agg_tok_s']} | {r['ttft_ms_med']} | {r['ttft_ms_p95']} | "
          f"{r['itl_ms_med']} | {r['itl_ms_p95']} | {r['tpot_ms_med']} | {r['prompt_tokens']} | {r['errors']} |")
if ref:
    try:
        recs = json.load(open(ref)); recs = recs if isinstance(recs, list) else [recs]
        vals = [v for r in recs for k, v in r.items() if k.startswith("tg") and k.endswith("_tps")]
        print(f"\nReference, single stream without a server: `ternary bench --shape 2b4t -p 0 -n {N} -t {T}`: "
              f"tg{N} {vals[0] if vals else '?'} tok/s")
    except Exception as e:
        print(f"\nReference: could not read {ref}: {e}")
PY
cat "$OUT/table.md"; echo "(JSON: $OUT/results.jsonl)"
