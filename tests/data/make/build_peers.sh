#!/bin/bash
# build_peers.sh — the peer builds the fixture scripts need: bitnet.cpp (microsoft/BitNet @ 01eb415 +
# its llama.cpp fork as vendored in ygqdan/BitNet-linux @ 6d113cd, clang, -DBITNET_X86_TL2=OFF) and
# ik_llama.cpp (@ 8337e4cd, gcc), CPU only, each with llama-quantize, libllama and peer_logits.
# The sources, commits, patch and CMake flags are those of bench/peers/build.sh, which this runs
# first (same environment: PEER_SRC or BITNET_GIT / YGQ_GIT / EW_GIT / IK_GIT for the peers' git
# repositories, PEERS_WORK, BNB, IK, JOBS, REBUILD; see docs/peers.md §3 and §5). It then compiles
# peer_logits.cpp against each peer's llama.h / libllama into $BNB/build/bin and $IK/build/bin.
# Time on 2 cores: ~10 min per peer from scratch.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
WORK=${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}
export BNB=${BNB:-$WORK/bitnet.cpp} IK=${IK:-$WORK/ik_llama.cpp}
bash "$REPO/bench/peers/build.sh"

# bitnet.cpp: clang, as the peer itself
L=$BNB/3rdparty/llama.cpp; B=$BNB/build/3rdparty/llama.cpp
clang++ -O2 -std=c++17 -I"$L/include" -I"$L/ggml/include" "$HERE/peer_logits.cpp" \
  -o "$BNB/build/bin/peer_logits" -L"$B/src" -L"$B/ggml/src" -lllama -lggml \
  -Wl,-rpath,"$B/src:$B/ggml/src"
# ik_llama.cpp: gcc; its llama.h renamed the model/context constructors (-DPEER_IK)
g++ -O2 -std=c++17 -I"$IK/include" -I"$IK/ggml/include" -DPEER_IK "$HERE/peer_logits.cpp" \
  -o "$IK/build/bin/peer_logits" -L"$IK/build/src" -L"$IK/build/ggml/src" -lllama -lggml \
  -Wl,-rpath,"$IK/build/src:$IK/build/ggml/src"
ls -l "$BNB/build/bin/peer_logits" "$IK/build/bin/peer_logits"
