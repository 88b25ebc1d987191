#!/bin/bash
# Run bitnet.cpp's own 2B4T pipeline (utils/convert-helper-bitnet.py = preprocess-huggingface-bitnet.py
# -> convert-ms-to-gguf-bitnet.py --outtype f32 -> llama-quantize ... I2_S 1) on a COPY of an HF bf16
# folder, then evaluate the result with bitnet.cpp's libllama (peer_logits) and compare.
# usage: make_bitnet_cpp_i2s.sh HF_BF16_FOLDER NAME OUTDIR [REFERENCE.json]
# Env: BNB, GGUF_WORK, PY (common.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$1" && pwd); NAME=$2; REF=${4:-$SRC/reference.json}
REF=$(cd "$(dirname "$REF")" && pwd)/$(basename "$REF")
mkdir -p "$3"; OUT=$(cd "$3" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
copy_hf "$SRC" "$NAME"      # M: the copy (add_bos_token dropped) in $WORK/$NAME
cd "$BNB"
"$PY" utils/convert-helper-bitnet.py "$M" 2>&1 | tee "$WORK/$NAME/convert-helper.log" | grep -v "Quantizing model\|Writing tensor\|converting to i2_s\|type =    f32, size"
cp "$M/ggml-model-i2s-bitnet.gguf" "$OUT/bitnet.cpp-i2_s.gguf"
# variant: same f32 GGUF, embedding/output kept F16 (as in Microsoft's 2B4T file). For a tied model
# llama-quantize takes the token_embd type from --output-tensor-type, not --token-embedding-type.
./build/bin/llama-quantize --output-tensor-type f16 "$M/ggml-model-f32-bitnet.gguf" "$OUT/bitnet.cpp-i2_s-f16embd.gguf" I2_S 1 > "$WORK/$NAME/quantize-f16embd.log" 2>&1
# prompt ids of the reference; a reference with "cases" (tiny-shakespeare form) gives the greedy
# length, a full-logits reference gets 16 greedy ids and PEER_ALL_LOGITS=1
"$PY" - "$REF" > "$WORK/$NAME/prompts.txt" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
for c in (r["cases"] if "cases" in r else [r]): print(" ".join(map(str, c["ids"])))
PYEOF
NG=$("$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print(len(r['cases'][0]['greedy_ids']) if 'cases' in r else 16)" "$REF")
ALL=$("$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print('' if 'cases' in r else '1')" "$REF")
for f in bitnet.cpp-i2_s bitnet.cpp-i2_s-f16embd; do
  PEER_ALL_LOGITS=$ALL ./build/bin/peer_logits "$OUT/$f.gguf" "$WORK/$NAME/prompts.txt" "$NG" 2 > "$WORK/$NAME/$f.jsonl" 2> "$WORK/$NAME/$f.peer.log"
  echo "== $f vs $REF"
  TOKENIZER_JSON=$SRC/tokenizer.json PEER_SOURCE="bitnet.cpp (microsoft/BitNet 01eb415 + llama.cpp fork vendored in ygqdan/BitNet-linux 6d113cd), CPU AVX2, peer_logits.cpp, 2 threads, file $f.gguf" "$PY" "$HERE/compare.py" "$WORK/$NAME/$f.jsonl" "$REF" "$OUT/$f.peer_logits.json"
done
