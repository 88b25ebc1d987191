#!/bin/bash
# build_peers.sh — the peer builds the fixture scripts need: bitnet.cpp (microsoft/BitNet @ 01eb415 +
# its llama.cpp fork as vendored in ygqdan/BitNet-linux @ 6d113cd, clang, -DBITNET_X86_TL2=OFF) and
# ik_llama.cpp (@ 8337e4cd, gcc), CPU only, each with llama-quantize, libllama and peer_logits.
# The sources, commits, patch and CMake flags are those of bench/peers/build.sh, which this runs
# first (same environment: PEER_SRC or BITNET_GIT / YGQ_GIT / EW_GIT / IK_GIT for the peers' git
# repositories, PEERS_WORK, BNB, IK, JOBS, REBUILD; see docs/peers.md §3 and §5). It then compiles
# peer_logits.cpp against each peer's llama.h / libllama into $BNB/build/bin and $IK/build/bin.
# With ARM=1 it also cross-builds bitnet.cpp's sources for aarch64 into BNB_ARM ($BNB/build-arm;
# llama-quantize, libllama, peer_logits; Debian's g++-aarch64-linux-gnu, run under qemu-user): its
# llama-quantize writes I2_S in the Arm layout (64-value blocks, docs/formats.md §4.3).
# Time on 2 cores: ~10 min per peer from scratch, ~8 min more for ARM=1.
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

if [ "${ARM:-0}" = 1 ]; then
  # Baseline armv8.2-a with the dot product (what bitnet.cpp's Arm kernels are written for).
  # -fno-tree-vectorize: Debian's aarch64 GCC 12 stops with an internal compiler error
  # (vect_transform_reduction) on src/ggml-bitnet-mad.cpp otherwise; it changes no result.
  BNB_ARM=${BNB_ARM:-$BNB/build-arm}
  FLAGS="-march=armv8.2-a+dotprod -fno-tree-vectorize"
  cmake -S "$BNB" -B "$BNB_ARM" -DCMAKE_BUILD_TYPE=Release -DCMAKE_SYSTEM_NAME=Linux \
    -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc \
    -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
    -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF > /dev/null
  cmake --build "$BNB_ARM" -j"${JOBS:-$(nproc)}" --target llama-quantize llama
  A=$BNB_ARM/3rdparty/llama.cpp
  aarch64-linux-gnu-g++ -O2 -std=c++17 -I"$L/include" -I"$L/ggml/include" "$HERE/peer_logits.cpp" \
    -o "$BNB_ARM/bin/peer_logits" -L"$A/src" -L"$A/ggml/src" -lllama -lggml \
    -Wl,-rpath,"$A/src:$A/ggml/src"
  ls -l "$BNB_ARM/bin/llama-quantize" "$BNB_ARM/bin/peer_logits"
fi
