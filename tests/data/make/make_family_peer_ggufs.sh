#!/bin/bash
# The family fixtures written by the PEERS' OWN tools: tests/data/families/llama_peers (Llama-architecture
# ternary, LlamaForCausalLM + quantization_config bitnet) and tests/data/families/1bitllm_peers
# (1bitLLM's BitnetForCausalLM), each a random HF checkpoint with its numpy reference logits
# (make_llama_bitnet.py / make_1bitllm.py --preset peers) and the GGUFs the peers make of it:
#   bitnet.cpp: utils/convert-hf-to-gguf-bitnet.py --outtype f32 (setup_env.py's I2_S path), then its
#               fork's llama-quantize to I2_S, TQ1_0 and TQ2_0 (1 thread)
#   ik_llama.cpp: its own convert_hf_to_gguf.py where it takes the family (1bitllm_peers; torch 1.13
#               patch as in REPRODUCE.md §4), else bitnet.cpp's f32 GGUF (llama_peers: ik's converter
#               refuses the packed checkpoint), then its llama-quantize to IQ1_BN and IQ2_BN
# Every quantize keeps token_embd / output as Q8_0 (--token-embedding-type / --output-tensor-type): the
# checkpoints' embedding and head values are on the Q8_0 grid, so the files hold them exactly at half
# F16's size (the peers' defaults differ: F16 in bitnet.cpp, IQ4_NL / Q6_K in ik_llama.cpp).
# Then each peer's peer_logits (PEER_ALL_LOGITS=1, 2 threads) on every file and a comparison with the
# reference (max |logit - reference| / reference row range over every position, argmax agreement) into
# <fixture>/peer_logits.txt, with the refusals (a peer that cannot load a type).
# usage: make_family_peer_ggufs.sh [FAMILIES_DIR]   (default tests/data/families)
# Env: BNB, IK (peer builds, build_peers.sh), GGUF_WORK (work files; default ${TMPDIR:-/tmp}/gguf-work),
# PY (python3 with numpy, torch, sentencepiece, tqdm, yaml; Debian's /usr/bin/python3 + python3-torch).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
FAM=$(cd "${1:-$REPO/tests/data/families}" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"   # BNB, PY, WORK, PYTHONPATH (bitnet.cpp's gguf-py + safetensors_shim)
IK=${IK:-${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}/ik_llama.cpp}
EMB=(--token-embedding-type q8_0 --output-tensor-type q8_0)

"$PY" "$HERE/make_llama_bitnet.py" --preset peers "$FAM/1bitllm" "$FAM/llama_peers"
"$PY" "$HERE/make_1bitllm.py" --preset peers "$FAM/1bitllm_peers" "$FAM/1bitllm"

# ik_llama.cpp's converter under torch 1.13 (a copy; the patch only tolerates the missing float8 dtypes)
IKC=$WORK/ik-convert; rm -rf "$IKC"; mkdir -p "$IKC"
cp "$IK/convert_hf_to_gguf.py" "$IKC/"
patch -s "$IKC/convert_hf_to_gguf.py" "$HERE/patches/ik_llama-convert_hf_to_gguf-torch113.patch"
ik_convert() {  # HF OUT.gguf LOG: ik's converter (--outtype f16; --no-lazy: the shim has no get_slice)
  (cd "$IK" && PYTHONPATH=$IK/gguf-py:$HERE/safetensors_shim \
     "$PY" "$IKC/convert_hf_to_gguf.py" "$1" --outtype f16 --no-lazy --outfile "$2" > "$3" 2>&1)
}

for NAME in llama_peers 1bitllm_peers; do
  OUT=$FAM/$NAME; W=$WORK/$NAME; rm -rf "$W"; mkdir -p "$W"
  rm -f "$OUT"/*.gguf
  # bitnet.cpp
  (cd "$BNB" && "$PY" utils/convert-hf-to-gguf-bitnet.py "$OUT" --outtype f32 --outfile "$W/f32.gguf" \
     > "$W/convert-bitnet.cpp.log" 2>&1)
  for T in I2_S TQ1_0 TQ2_0; do
    "$BNB/build/bin/llama-quantize" "${EMB[@]}" "$W/f32.gguf" "$OUT/bitnet.cpp-${T,,}.gguf" "$T" 1 \
      > "$W/quantize-${T,,}.log" 2>&1
  done
  # ik_llama.cpp
  if ik_convert "$OUT" "$W/ik-f16.gguf" "$W/convert-ik_llama.log"; then
    SRC=$W/ik-f16.gguf; SRCDESC="ik_llama.cpp's convert_hf_to_gguf.py (f16)"
  else
    WHY=$(grep -E '^[A-Za-z]*Error' "$W/convert-ik_llama.log" | tail -n 1)
    echo "$NAME: ik_llama.cpp's converter refuses: $WHY"
    SRC=$W/f32.gguf; SRCDESC="bitnet.cpp's f32 GGUF; ik_llama.cpp's convert_hf_to_gguf.py refuses: $WHY"
  fi
  for T in IQ1_BN IQ2_BN; do
    "$IK/build/bin/llama-quantize" "${EMB[@]}" "$SRC" "$OUT/ik_llama-${T,,}.gguf" "$T" 1 \
      > "$W/quantize-${T,,}.log" 2>&1
  done
  # the peers' logits
  "$PY" -c "import json,sys; [print(*c['ids']) for c in json.load(open(sys.argv[1]))['cases']]" \
    "$OUT/reference.json" > "$W/prompts.txt"
  for f in bitnet.cpp-i2_s bitnet.cpp-tq1_0 bitnet.cpp-tq2_0 ik_llama-iq1_bn ik_llama-iq2_bn; do
    for P in bitnet.cpp:$BNB ik_llama:$IK; do
      rc=0
      # (a subshell: the shell's own "Aborted" notice goes to /dev/null, the rc is kept)
      (PEER_ALL_LOGITS=1 "${P#*:}/build/bin/peer_logits" "$OUT/$f.gguf" "$W/prompts.txt" 1 2 \
        > "$W/$f.${P%%:*}.jsonl" 2> "$W/$f.${P%%:*}.log"; exit $?) 2> /dev/null || rc=$?
      echo "$rc" > "$W/$f.${P%%:*}.rc"
    done
  done
  "$PY" - "$OUT" "$W" "$SRCDESC" "$BNB" "$IK" > "$OUT/peer_logits.txt" <<'PYEOF'
import json, os, re, sys
import numpy as np
out, work, ik_source, bnb, ik = sys.argv[1:6]
ref = json.load(open(os.path.join(out, "reference.json")))
V = ref["vocab_size"]
rows = np.fromfile(os.path.join(out, ref["logits_file"]), dtype="<f4").reshape(-1, V).astype(np.float64)
print("# %s: the peers' logits on the peer-written GGUFs vs the numpy reference" % os.path.basename(out))
print("# (tests/data/make/make_family_peer_ggufs.sh; peer_logits, PEER_ALL_LOGITS=1, 2 threads)")
print("# ik_llama's IQ*_BN files from %s" % ik_source)
print("# max|d|/range: max over every position of max|logit - reference| / reference row range")
print("%-22s %-11s %-14s %s" % ("file", "runtime", "max|d|/range", "argmax equal"))
for f in ["bitnet.cpp-i2_s", "bitnet.cpp-tq1_0", "bitnet.cpp-tq2_0", "ik_llama-iq1_bn", "ik_llama-iq2_bn"]:
    for peer in ["bitnet.cpp", "ik_llama"]:
        base = os.path.join(work, "%s.%s" % (f, peer))
        rc = int(open(base + ".rc").read())
        # ggml's abort also prints a debugger's backtrace to stdout: only the JSON lines count
        got = [json.loads(l) for l in open(base + ".jsonl") if l.startswith("{")]
        if rc != 0 or len(got) != len(ref["cases"]):
            log = open(base + ".log", errors="replace").read().replace(bnb + "/", "").replace(ik + "/", "")
            # the first abort message (threads that abort together interleave theirs)
            why = re.search(r"[\w./-]+\.(?:c|cpp):\d+: (?:GGML_ASSERT\(.*?\) failed|fatal error)", log)
            signals = {6: "SIGABRT", 8: "SIGFPE", 11: "SIGSEGV"}
            how = signals.get(rc - 128, "signal %d" % (rc - 128)) if rc > 128 else "exit %d" % rc
            why = why.group(0) if why else "no message"
            print("%-22s %-11s refused (%s): %s" % (f + ".gguf", peer, how, why))
            continue
        worst, same, n = 0.0, 0, 0
        for c, g in zip(ref["cases"], got):
            assert g["ids"] == c["ids"]
            want = rows[c["first_row"]:c["first_row"] + len(c["ids"])]
            have = np.array(g["logits"], dtype=np.float64)
            worst = max(worst, float((np.abs(have - want).max(1) / np.ptp(want, 1)).max()))
            same += int((have.argmax(1) == want.argmax(1)).sum()); n += len(c["ids"])
        print("%-22s %-11s %-14.3g %d/%d" % (f + ".gguf", peer, worst, same, n))
PYEOF
  cat "$OUT/peer_logits.txt"
  (cd "$OUT" && sha256sum -- *.gguf)
done
