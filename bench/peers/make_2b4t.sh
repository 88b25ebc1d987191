#!/bin/bash
# make_2b4t.sh — synthetic bitnet-b1.58-2B-4T GGUFs (random ternary weights, exact shapes) for the peers.
# Writes into $P2B (default $PEERS_WORK/2b4t, PEERS_WORK = ${TMPDIR:-/tmp}/ternary-peers; keep it out of any
# source tree, ~12 GB in all):
#   2b4t-f16.gguf               gen_2b4t.py output: ternary weights as F16, F16 tied embedding  (4.9 GB, deleted unless KEEP_F16=1)
#   bitnet.cpp-i2_s-f16.gguf    bitnet.cpp llama-quantize ... I2_S 1, head (= tied token_embd) F16  (1.18 GB)
#   bitnet.cpp-i2_s-q6k.gguf    same, --output-tensor-type q6_k                                     (0.74 GB)
#   ik-iq2_bn-f16.gguf          ik_llama llama-quantize --allow-requantize <I2_S f16> IQ2_BN, --output-tensor-type f16
#   ik-iq2_bn-q6k.gguf          same, --output-tensor-type q6_K
# For a tied model (no output.weight) both quantizers take token_embd's type from --output-tensor-type,
# not --token-embedding-type (llama_tensor_get_type: `!qs.has_output && name == token_embd`).
# bitnet.cpp's I2_S needs thread count 1 (one per-tensor scale per tensor). Needs build.sh first, and
# numpy for $PY (Debian: python3-numpy); the GGUF writer is the bitnet.cpp fork's gguf-py.
# Env: SEED (2025), KEEP_F16=1 keeps the F16 intermediate. Takes ~1.5 min on 2 cores, peak RAM ~3 GB.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}
BNB=${BNB:-$WORK/bitnet.cpp}; IK=${IK:-$WORK/ik_llama.cpp}; P2B=${P2B:-$WORK/2b4t}; PY=${PY:-python3}
QB=$BNB/build/bin/llama-quantize; QI=$IK/build/bin/llama-quantize
for q in "$QB" "$QI"; do [ -x "$q" ] || { echo "missing $q: run $HERE/build.sh"; exit 1; }; done
mkdir -p "$P2B"; cd "$P2B"
# step LOG CMD...: run CMD with its output in LOG, print the time taken
step() { local log=$1 t0=$SECONDS; shift; "$@" > "$log" 2>&1 || { tail -5 "$log"; exit 1; }; echo "   ($((SECONDS - t0)) s)"; }

if [ ! -f 2b4t-f16.gguf ] && ! { [ -f bitnet.cpp-i2_s-f16.gguf ] && [ -f bitnet.cpp-i2_s-q6k.gguf ]; }; then
  echo "== gen_2b4t.py -> 2b4t-f16.gguf"
  step gen_2b4t.log env PYTHONPATH="$BNB/3rdparty/llama.cpp/gguf-py" "$PY" "$HERE/gen_2b4t.py" 2b4t-f16.gguf.tmp "${SEED:-2025}"
  mv 2b4t-f16.gguf.tmp 2b4t-f16.gguf
fi
for h in f16 q6k; do
  o=bitnet.cpp-i2_s-$h.gguf; [ -f $o ] && continue
  echo "== bitnet.cpp I2_S, head $h -> $o"
  step quantize-$o.log "$QB" --output-tensor-type ${h/q6k/q6_k} 2b4t-f16.gguf $o.tmp I2_S 1
  mv $o.tmp $o
done
for h in f16 q6k; do
  o=ik-iq2_bn-$h.gguf; [ -f $o ] && continue
  echo "== ik_llama IQ2_BN, head $h -> $o"
  step quantize-$o.log "$QI" --allow-requantize --output-tensor-type ${h/q6k/q6_K} bitnet.cpp-i2_s-f16.gguf $o.tmp IQ2_BN "$(nproc)"
  mv $o.tmp $o
done
[ "${KEEP_F16:-0}" = 1 ] || rm -f 2b4t-f16.gguf
for f in quantize-*.log; do echo "$f: $(grep -o 'converting to [a-z0-9_]*' "$f" | sort | uniq -c | tr -s ' \n' ' ')"; done
ls -l "$P2B"/*.gguf
