# shellcheck shell=bash
# Setup shared by make_bitnet_cpp_i2s.sh and make_bitnet_cpp_tq.sh; sourced
# after `set -euo pipefail` with HERE set to this folder.
# Env: BNB (bitnet.cpp built by build_peers.sh; default $PEERS_WORK/bitnet.cpp, PEERS_WORK =
# ${TMPDIR:-/tmp}/ternary-peers), GGUF_WORK (work files; default ${TMPDIR:-/tmp}/gguf-work),
# PY (python3 with numpy and torch).
BNB=${BNB:-${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}/bitnet.cpp}; PY=${PY:-python3}
WORK=${GGUF_WORK:-${TMPDIR:-/tmp}/gguf-work}
export PYTHONPATH=$BNB/3rdparty/llama.cpp/gguf-py:$HERE/safetensors_shim

# copy_hf SRC NAME: sets W=$WORK/NAME (emptied) and M=$W/hf, a copy of the HF
# bf16 folder SRC (general.name is taken from the parent folder name ->
# NAME). Input-side workaround (no peer code change): convert-ms-to-gguf-bitnet.py
# always writes tokenizer.ggml.add_bos_token itself, and gguf-py's SpecialVocab
# writes it again when tokenizer_config.json has "add_bos_token" -> "Duplicated
# key name 'tokenizer.ggml.add_bos_token'". Drop the key from the copy (the
# value written is the same: true).
copy_hf() {
  W=$WORK/$2; M=$W/hf
  rm -rf "${W:?}"; mkdir -p "$W"; cp -r "$1" "$M"
  "$PY" - "$M" <<'PYEOF'
import json, sys, os
p = os.path.join(sys.argv[1], "tokenizer_config.json")
if os.path.exists(p):
    d = json.load(open(p)); d.pop("add_bos_token", None); json.dump(d, open(p, "w"), indent=2)
PYEOF
}
