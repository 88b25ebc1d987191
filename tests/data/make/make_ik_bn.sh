#!/bin/bash
# ik_llama.cpp's documented BitNet path: requantize a bitnet.cpp I2_S GGUF with its own llama-quantize.
# usage: make_ik_bn.sh I2_S.gguf OUTDIR [F32.gguf]   (F32.gguf: optional cross-check, quantizing the f32 GGUF gives identical bytes)
# Env: IK (ik_llama.cpp built by build_peers.sh; default $PEERS_WORK/ik_llama.cpp, PEERS_WORK =
# ${TMPDIR:-/tmp}/ternary-peers), GGUF_WORK (logs in $GGUF_WORK/ik; default ${TMPDIR:-/tmp}/gguf-work).
set -euo pipefail
IN=$1; OUT=$2; F32=${3:-}
IK=${IK:-${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}/ik_llama.cpp}; Q=$IK/build/bin/llama-quantize
WORK=${GGUF_WORK:-${TMPDIR:-/tmp}/gguf-work}/ik; mkdir -p "$WORK" "$OUT"
for T in IQ2_BN IQ1_BN; do
  t=${T,,}
  "$Q" --allow-requantize "$IN" "$OUT/ik_llama-$t.gguf" "$T" 2 > "$WORK/quantize-$t.log" 2>&1
  grep -o "converting to [a-z0-9_]*" "$WORK/quantize-$t.log" | sort | uniq -c
  if [ -n "$F32" ]; then
    "$Q" "$F32" "$WORK/from-f32-$t.gguf" "$T" 2 > "$WORK/quantize-f32-$t.log" 2>&1
    cmp "$WORK/from-f32-$t.gguf" "$OUT/ik_llama-$t.gguf" && echo "$T: f32 path gives identical bytes"
  fi
done
