#!/bin/bash
# The family fixtures written by the PEERS' OWN tools: tests/data/families/llama_peers (Llama-architecture
# ternary, LlamaForCausalLM + quantization_config bitnet) and tests/data/families/1bitllm_peers
# (1bitLLM's BitnetForCausalLM), each a random HF checkpoint with its numpy reference logits
# (make_llama_bitnet.py / make_1bitllm.py --preset peers) and the GGUFs the peers make of it:
#   bitnet.cpp: utils/convert-hf-to-gguf-bitnet.py --outtype f32 (setup_env.py's I2_S path), then its
#               fork's llama-quantize to I2_S, TQ1_0 and TQ2_0 (1 thread); and the same llama-quantize
#               built for aarch64 (build_peers.sh ARM=1) under qemu-user to I2_S: bitnet.cpp-arm-i2_s.gguf,
#               the Arm layout (64-value blocks, docs/formats.md §4.3)
#   ik_llama.cpp: its own convert_hf_to_gguf.py where it takes the family (1bitllm_peers; torch 1.13
#               patch as in REPRODUCE.md §4), else bitnet.cpp's f32 GGUF (llama_peers: ik's converter
#               refuses the packed checkpoint), then its llama-quantize to IQ1_BN and IQ2_BN
# Every quantize keeps token_embd / output as Q8_0 (--token-embedding-type / --output-tensor-type): the
# checkpoints' embedding and head values are on the Q8_0 grid, so the files hold them exactly at half
# F16's size (the peers' defaults differ: F16 in bitnet.cpp, IQ4_NL / Q6_K in ik_llama.cpp).
# Then each peer's peer_logits (PEER_ALL_LOGITS=1, 2 threads) on every file and a comparison with the
# reference (max |logit - reference| / reference row range over every position, argmax agreement) into
# <fixture>/peer_logits.txt, with the refusals (a peer that cannot load a type); the Arm build's
# peer_logits (under qemu, 1 thread: 2 threads spin for minutes there) on both I2_S files.
# usage: make_family_peer_ggufs.sh [FAMILIES_DIR]   (default tests/data/families)
# Env: BNB, IK, BNB_ARM (peer builds, build_peers.sh; BNB_ARM default $BNB/build-arm), GGUF_WORK (work files; default ${TMPDIR:-/tmp}/gguf-work),
# PY (python3 with numpy, torch, sentencepiece, tqdm, yaml; Debian's /usr/bin/python3 + python3-torch).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
FAM=$(cd "${1:-$REPO/tests/data/families}" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"   # BNB, PY, WORK, PYTHONPATH (bitnet.cpp's gguf-py + safetensors_shim)
IK=${IK:-${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}/ik_llama.cpp}
EMB=(--token-embedding-type q8_0 --output-tensor-type q8_0)
BNB_ARM=${BNB_ARM:-$BNB/build-arm}
[ -x "$BNB_ARM/bin/llama-quantize" ] && [ -x "$BNB_ARM/bin/peer_logits" ] \
  || { echo "no Arm build of bitnet.cpp in $BNB_ARM (build_peers.sh with ARM=1)" >&2; exit 1; }
arm() { qemu-aarch64 -L /usr/aarch64-linux-gnu "$@"; }

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
  arm "$BNB_ARM/bin/llama-quantize" "${EMB[@]}" "$W/f32.gguf" "$OUT/bitnet.cpp-arm-i2_s.gguf" I2_S 1 \
    > "$W/quantize-arm-i2_s.log" 2>&1
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
  for f in bitnet.cpp-arm-i2_s bitnet.cpp-i2_s; do
    rc=0
    (PEER_ALL_LOGITS=1 arm "$BNB_ARM/bin/peer_logits" "$OUT/$f.gguf" "$W/prompts.txt" 1 1 \
      > "$W/$f.bitnet.cpp-arm.jsonl" 2> "$W/$f.bitnet.cpp-arm.log"; exit $?) 2> /dev/null || rc=$?
    echo "$rc" > "$W/$f.bitnet.cpp-arm.rc"
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
print("# bitnet.cpp-arm: bitnet.cpp built for aarch64, under qemu-user (1 thread); a sequence whose")
print("# logits are not all finite is reported as such")
print("%-25s %-14s %-14s %s" % ("file", "runtime", "max|d|/range", "argmax equal"))
runs = [(f, peer) for f in ["bitnet.cpp-i2_s", "bitnet.cpp-tq1_0", "bitnet.cpp-tq2_0", "ik_llama-iq1_bn",
                            "ik_llama-iq2_bn", "bitnet.cpp-arm-i2_s"]
        for peer in ["bitnet.cpp", "ik_llama", "bitnet.cpp-arm"]
        if os.path.exists(os.path.join(work, "%s.%s.rc" % (f, peer)))]
for f, peer in runs:
    base = os.path.join(work, "%s.%s" % (f, peer))
    rc = int(open(base + ".rc").read())
    # ggml's abort also prints a debugger's backtrace to stdout: only the JSON lines count; C's
    # printf writes non-finite values as nan / inf
    got = [json.loads(re.sub(r"-?\b(nan|inf)\b", lambda m: m.group(0).replace("nan", "NaN")
                             .replace("inf", "Infinity"), l))
           for l in open(base + ".jsonl") if l.startswith("{")]
    if rc != 0 or len(got) != len(ref["cases"]):
        log = open(base + ".log", errors="replace").read().replace(bnb + "/", "").replace(ik + "/", "")
        # the first abort message (threads that abort together interleave theirs)
        why = re.search(r"[\w./-]+\.(?:c|cpp):\d+: (?:GGML_ASSERT\(.*?\) failed|fatal error)", log)
        signals = {6: "SIGABRT", 8: "SIGFPE", 11: "SIGSEGV"}
        how = signals.get(rc - 128, "signal %d" % (rc - 128)) if rc > 128 else "exit %d" % rc
        why = why.group(0) if why else "no message"
        print("%-25s %-14s refused (%s): %s" % (f + ".gguf", peer, how, why))
        continue
    worst, same, n, bad = 0.0, 0, 0, []
    for k, (c, g) in enumerate(zip(ref["cases"], got)):
        assert g["ids"] == c["ids"]
        want = rows[c["first_row"]:c["first_row"] + len(c["ids"])]
        have = np.array(g["logits"], dtype=np.float64)
        if not np.isfinite(have).all():
            bad.append(k)
            continue
        worst = max(worst, float((np.abs(have - want).max(1) / np.ptp(want, 1)).max()))
        same += int((have.argmax(1) == want.argmax(1)).sum()); n += len(c["ids"])
    note = "" if not bad else "  (sequence %s: non-finite logits)" % ", ".join(str(k) for k in bad)
    print("%-25s %-14s %-14.3g %d/%d%s" % (f + ".gguf", peer, worst, same, n, note))
PYEOF
  cat "$OUT/peer_logits.txt"
  (cd "$OUT" && sha256sum -- *.gguf)
done
