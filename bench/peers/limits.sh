#!/bin/bash
# limits.sh — this machine's physical limits for the decode ceiling: memory read bandwidth (membw.c,
# 1 GiB buffer, AVX-512 loads, 1 and 2 threads) and peak int8 dot-product rate (vnni_peak.c, VPDPBUSD zmm).
# Each measurement runs 3 times; run it on an idle machine. Needs gcc with OpenMP and an AVX-512 VNNI CPU.
# Binaries go to $P2B (default $PEERS_WORK/2b4t, PEERS_WORK = ${TMPDIR:-/tmp}/ternary-peers).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
P2B=${P2B:-${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}/2b4t}; mkdir -p "$P2B"
gcc -O2 -mavx512f -fopenmp "$HERE/membw.c" -o "$P2B/membw"
gcc -O2 -mavx512f -mavx512vnni -fopenmp "$HERE/vnni_peak.c" -o "$P2B/vnni_peak"
lscpu | grep -E "Model name|^CPU\(s\)|L2 cache|L3 cache|Flags" | sed 's/Flags:.*\(avx512_vnni\).*/Flags: ... avx512_vnni .../'
for _ in 1 2 3; do for t in 1 2; do "$P2B/membw" $t 20; done; done
for _ in 1 2 3; do for t in 1 2; do "$P2B/vnni_peak" $t 2>/dev/null; done; done
