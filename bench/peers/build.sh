#!/bin/bash
# build.sh — builds the two peer engines, CPU only, with llama-bench and llama-quantize:
#   bitnet.cpp   microsoft/BitNet @ 01eb415 + its llama.cpp fork as vendored in
#                ygqdan/BitNet-linux @ 6d113cd (clang, -DBITNET_X86_TL2=OFF)            -> $BNB
#   ik_llama.cpp ikawrakow/ik_llama.cpp @ 8337e4cd (gcc, IQK flash attention on)        -> $IK
# Sources: git repositories (bare or with a work tree) of microsoft/BitNet, ygqdan/BitNet-linux,
# Eddie-Wang1120/llama.cpp (one file of merge-dev 406a5036) and ikawrakow/ik_llama.cpp. Give a
# folder holding them as PEER_SRC (each as owner+name, owner+name/repo, owner/name or, except
# Eddie-Wang1120's llama.cpp, just name), or each repository as BITNET_GIT, YGQ_GIT, EW_GIT, IK_GIT.
# Nothing is fetched from the network; the commits above must be in those repositories.
# Env: PEERS_WORK (${TMPDIR:-/tmp}/ternary-peers) holds BNB ($PEERS_WORK/bitnet.cpp) and
# IK ($PEERS_WORK/ik_llama.cpp); PY (python3, for bitnet.cpp's kernel code generator);
# JOBS (nproc); SERVER=1 also builds each peer's llama-server; REBUILD=1 starts from scratch.
# A peer whose build folder is already configured only gets the missing targets built.
# Time on 2 cores: ~10 min per peer from scratch; adding llama-bench to configured builds ~20 s.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${PEERS_WORK:-${TMPDIR:-/tmp}/ternary-peers}
BNB=${BNB:-$WORK/bitnet.cpp}; IK=${IK:-$WORK/ik_llama.cpp}
PY=${PY:-python3}; JOBS=${JOBS:-$(nproc)}
BITNET_COMMIT=01eb415
YGQ_COMMIT=6d113cd299af7ab14cb1aaf40d2b507c8cdb5402
EW_COMMIT=406a5036
IK_COMMIT=8337e4cd3861406fc04e0854b1409cd1b027fbc9

# find_repo VAR OWNER NAME [NAME_ALONE]: the git repository of OWNER/NAME, from $VAR or under $PEER_SRC.
find_repo() {
  local var=$1 owner=$2 name=$3 alone=${4:-1} d gd
  if [ -n "${!var:-}" ]; then echo "${!var}"; return; fi
  if [ -z "${PEER_SRC:-}" ]; then
    echo "set PEER_SRC (a folder with the peers' git repositories) or $var (see $HERE/build.sh)" >&2
    return 1
  fi
  local cands=("$PEER_SRC/$owner+$name/repo" "$PEER_SRC/$owner+$name" "$PEER_SRC/$owner/$name")
  [ "$alone" = 1 ] && cands+=("$PEER_SRC/$name")
  for d in "${cands[@]}"; do
    [ -d "$d" ] || continue
    d=$(cd "$d" && pwd -P)
    gd=$(git -C "$d" rev-parse --absolute-git-dir 2>/dev/null) || continue
    # the folder itself must be the repository (bare, or the top of a work tree)
    if [ "$gd" = "$d" ] || [ "$gd" = "$d/.git" ]; then echo "$d"; return; fi
  done
  echo "no git repository of $owner/$name under PEER_SRC=$PEER_SRC (tried: ${cands[*]}); or set $var" >&2
  return 1
}

# need_commit REPO COMMIT
need_commit() {
  git -C "$1" cat-file -e "$2^{commit}" 2>/dev/null \
    || { echo "$1 lacks commit $2 (fetch it, e.g. git -C $1 fetch origin)" >&2; return 1; }
}

# extract_tree REPO COMMIT DEST [PATHS...]: writes the tree's files into DEST, skipping blobs the
# repository lacks (LFS files, partial mirrors), which make `git archive` fail.
extract_tree() {
  local g=$1 c=$2 dest=$3 mode type obj path missing=0
  shift 3
  mkdir -p "$dest"
  while read -r mode type obj path; do
    [ "$type" = blob ] || continue
    if git -C "$g" cat-file -e "$obj" 2>/dev/null; then
      mkdir -p "$dest/$(dirname "$path")"
      git -C "$g" cat-file blob "$obj" > "$dest/$path"
      [ "$mode" = 100755 ] && chmod +x "$dest/$path"
    else
      missing=$((missing + 1))
    fi
  done < <(git -C "$g" ls-tree -r --full-tree "$c" -- "$@")
  [ "$missing" = 0 ] || echo "   ($missing files not in the repository, skipped)"
}

# configure_bitnet_cpp: sources, one patch, generated kernel header, CMake (as setup_env.py on x86).
configure_bitnet_cpp() {
  local bitnet ygq ew tree
  bitnet=$(find_repo BITNET_GIT microsoft BitNet)
  ygq=$(find_repo YGQ_GIT ygqdan BitNet-linux)
  ew=$(find_repo EW_GIT Eddie-Wang1120 llama.cpp 0)
  need_commit "$bitnet" $BITNET_COMMIT; need_commit "$ygq" $YGQ_COMMIT; need_commit "$ew" $EW_COMMIT
  rm -rf "$BNB"; mkdir -p "$BNB"
  git -C "$bitnet" archive $BITNET_COMMIT -- . ':(exclude)assets' ':(exclude)media' \
    ':(exclude)src/assets' ':(exclude)gpu' ':(exclude)3rdparty' | tar -x -C "$BNB"
  # The fork: BitNet's submodule commits after 2024-10 are not public; ygqdan/BitNet-linux
  # vendors the fork (406a5036 + the bitnet-25 / I2_S / ACT_PARALLEL commits) as plain files.
  tree=$(mktemp -d "$WORK/ygq-tree.XXXXXX")
  extract_tree "$ygq" $YGQ_COMMIT "$tree" 3rdparty/llama.cpp
  mkdir -p "$BNB/3rdparty"; cp -a "$tree/3rdparty/llama.cpp" "$BNB/3rdparty/"; rm -rf "$tree"
  # The vendored copy lacks common/cmake/build-info-gen-cpp.cmake: the same file from the fork.
  mkdir -p "$BNB/3rdparty/llama.cpp/common/cmake"
  git -C "$ew" show $EW_COMMIT:common/cmake/build-info-gen-cpp.cmake \
    > "$BNB/3rdparty/llama.cpp/common/cmake/build-info-gen-cpp.cmake"
  # clang rejects a const -> non-const pointer initialisation in 01eb415 (fixed upstream in 69bf64d)
  (cd "$BNB" && patch -p1 < "$HERE/patches/bitnet-01eb415-ggml-bitnet-mad-const.patch")
  # setup_env.py's gen_code() for BitNet-b1.58-2B-4T on x86: CMake needs
  # include/bitnet-lut-kernels.h even for I2_S
  (cd "$BNB" && "$PY" utils/codegen_tl2.py --model bitnet_b1_58-3B --BM 160,320,320 --BK 96,96,96 --bm 32,32,32)
  # setup_env.py's compile() flags on x86, CPU only
  cmake -S "$BNB" -B "$BNB/build" -DBITNET_X86_TL2=OFF -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DGGML_NATIVE=ON
}

# configure_ik_llama: sources and CMake. GGML_IQK_FLASH_ATTENTION must stay ON (OFF fails to link:
# undefined iqk_fa_work_buffer_size / iqk_flash_attn_noalibi).
configure_ik_llama() {
  local ik
  ik=$(find_repo IK_GIT ikawrakow ik_llama.cpp)
  need_commit "$ik" $IK_COMMIT
  rm -rf "$IK"
  extract_tree "$ik" $IK_COMMIT "$IK"
  cmake -S "$IK" -B "$IK/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER="$([ -n "${SERVER:-}" ] && echo ON || echo OFF)" \
    -DGGML_IQK_FLASH_ATTENTION=ON -DGGML_IQK_FA_ALL_QUANTS=OFF -DGGML_OPENMP=ON
}

# build_peer NAME DIR CONFIGURE: configure if needed, then build the bench targets.
build_peer() {
  local name=$1 dir=$2 configure=$3 t0=$SECONDS
  if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$dir/build/CMakeCache.txt" ]; then
    echo "== $name: sources and configuration in $dir"
    "$configure"
  fi
  # a build configured without the server gets it when SERVER is set
  if [ -n "${SERVER:-}" ] && grep -q "LLAMA_BUILD_SERVER:BOOL=OFF" "$dir/build/CMakeCache.txt"; then
    cmake -S "$dir" -B "$dir/build" -DLLAMA_BUILD_SERVER=ON > /dev/null
  fi
  echo "== $name: llama-bench llama-quantize ${SERVER:+llama-server }in $dir/build"
  cmake --build "$dir/build" --config Release -j"$JOBS" --target llama-bench llama-quantize ${SERVER:+llama-server}
  echo "== $name: done in $((SECONDS - t0)) s"
}

mkdir -p "$WORK"
build_peer bitnet.cpp   "$BNB" configure_bitnet_cpp
build_peer ik_llama.cpp "$IK"  configure_ik_llama
ls -l "$BNB/build/bin/llama-bench" "$BNB/build/bin/llama-quantize" \
      "$IK/build/bin/llama-bench" "$IK/build/bin/llama-quantize"
