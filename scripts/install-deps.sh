#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages ternary builds with (root or sudo).
set -euo pipefail
pkgs=(g++ cmake ninja-build pkg-config meson ccache libhwy-dev doctest-dev
      libbenchmark-dev nlohmann-json3-dev libpcre2-dev zlib1g-dev
      # `ternary chat`: line editing and history on a terminal.
      libedit-dev
      libsentencepiece-dev  # tests: the oracle of ternary's own SentencePiece BPE
      # `ternary serve`: the HTTP server library; its tests (tests/server)
      # drive it with Node (the openai and puppeteer-core npm packages) and
      # headless Chromium.
      libcpp-httplib-dev chromium
      # scripts/fuzz.sh: libFuzzer (only a Recommends of clang-14) and
      # llvm-symbolizer for readable sanitizer reports.
      clang libclang-rt-dev llvm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm from Debian, unless the machine has them already (a
# NodeSource nodejs, which bundles npm and conflicts with Debian's npm).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
