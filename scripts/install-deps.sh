#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages ternary builds with (root or sudo).
set -euo pipefail
pkgs=(g++ cmake ninja-build pkg-config meson ccache libhwy-dev doctest-dev
      libbenchmark-dev nlohmann-json3-dev libpcre2-dev zlib1g-dev
      # `ternary chat`: line editing and history on a terminal.
      libedit-dev
      # scripts/fuzz.sh: libFuzzer (only a Recommends of clang-14) and
      # llvm-symbolizer for readable sanitizer reports.
      clang libclang-rt-dev llvm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
