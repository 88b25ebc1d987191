#!/bin/bash
# I2_S + TQ1_0 + TQ2_0 GGUFs of an HF bf16 BitNet folder whose projections all have K % 256 == 0,
# written only by bitnet.cpp's tools, plus the logits bitnet.cpp's libllama computes from them.
#   1. bitnet.cpp's 2B4T pipeline, unchanged (utils/convert-helper-bitnet.py = preprocess-huggingface-bitnet.py
#      -> convert-ms-to-gguf-bitnet.py --vocab-type bpe --outtype f32 -> llama-quantize ... I2_S 1)
#   2. the same fork's llama-quantize on the f32 GGUF: TQ1_0 and TQ2_0 (llama.cpp's ternary types)
#   3. peer_logits (PEER_ALL_LOGITS=1, 16 greedy ids, 2 threads) on every file; tq_compare.py writes
#      <file>.peer_logits.json and compares the TQ logits with the I2_S logits
#   4. inspect_tq.py: decodes every ternary tensor of the three files and checks it against the
#      absmean-ternarised bf16 masters
# usage: make_bitnet_cpp_tq.sh HF_BF16_FOLDER NAME OUTDIR PROMPTS.txt
# Env: BNB, GGUF_WORK, PY (common.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$1" && pwd); NAME=$2; OUT=$3; PROMPTS=$(cd "$(dirname "$4")" && pwd)/$(basename "$4")
# shellcheck source=common.sh
. "$HERE/common.sh"
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
copy_hf "$SRC" "$NAME"      # W=$WORK/$NAME; M: the copy (add_bos_token dropped)
rm -f "$M"/README.md "$M"/*.gguf
cd "$BNB"
"$PY" utils/convert-helper-bitnet.py "$M" > "$W/convert-helper.log" 2>&1
cp "$M/ggml-model-i2s-bitnet.gguf" "$OUT/bitnet.cpp-i2_s.gguf"
for T in TQ1_0 TQ2_0; do
  t=${T,,}
  ./build/bin/llama-quantize "$M/ggml-model-f32-bitnet.gguf" "$OUT/llama.cpp-$t.gguf" "$T" 1 > "$W/quantize-$t.log" 2>&1
done
SRCDESC="bitnet.cpp (microsoft/BitNet 01eb415 + llama.cpp fork vendored in ygqdan/BitNet-linux 6d113cd), CPU AVX2, peer_logits.cpp, 2 threads"
for f in bitnet.cpp-i2_s llama.cpp-tq1_0 llama.cpp-tq2_0; do
  PEER_ALL_LOGITS=1 ./build/bin/peer_logits "$OUT/$f.gguf" "$PROMPTS" 16 2 > "$W/$f.jsonl" 2> "$W/$f.peer.log"
  PEER_SOURCE="$SRCDESC, file $f.gguf" "$PY" "$HERE/tq_compare.py" write "$W/$f.jsonl" "$OUT/$f.peer_logits.json"
done
"$PY" "$HERE/tq_compare.py" compare "$W/bitnet.cpp-i2_s.jsonl" "$W/llama.cpp-tq1_0.jsonl" "$W/llama.cpp-tq2_0.jsonl" | tee "$W/compare.txt"
"$PY" "$HERE/tq_compare.py" compare "$W/llama.cpp-tq2_0.jsonl" "$W/llama.cpp-tq1_0.jsonl" | tee -a "$W/compare.txt"
for f in bitnet.cpp-i2_s llama.cpp-tq1_0 llama.cpp-tq2_0; do
  "$PY" "$HERE/inspect_tq.py" "$OUT/$f.gguf" "$SRC" > "$W/$f.inspect.txt"; tail -n 1 "$W/$f.inspect.txt"
done
(cd "$OUT" && sha256sum -- *.gguf && ls -l)
