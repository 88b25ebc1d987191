#!/usr/bin/env bash
# shellcheck disable=SC2317  # the ways are functions run through "$way"
# Builds and runs tests/consumer/consumer.cc against ternary consumed in each
# supported way: find_package after cmake --install, pkg-config,
# add_subdirectory, FetchContent and a meson subproject. Offline: the
# "download" is an archive of this tree.
#
#   bash scripts/consumers.sh [WORK_DIR]     (default: build-consumers)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${1:-build-consumers}
mkdir -p "$work"
work=$(cd "$work" && pwd)
jobs=${JOBS:-$(nproc)}
cxx=${CXX:-c++}
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache
  cxx="ccache $cxx"
fi
consumer=tests/consumer

find_package() {
  cmake -S "$consumer" -B "$work/find_package" -G Ninja \
    -DCMAKE_PREFIX_PATH="$work/prefix"
  cmake --build "$work/find_package"
  "$work/find_package/consumer"
  "$work/find_package/engine_consumer" "$model" "ROMEO:"
}

pkg_config() {
  local pc="$work/prefix/share/pkgconfig"
  mkdir -p "$work/pkg_config"
  # shellcheck disable=SC2046  # pkg-config prints several words
  $cxx -O1 "$consumer/consumer.cc" \
    $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs ternary) \
    -o "$work/pkg_config/consumer"
  "$work/pkg_config/consumer"
  # The Engine example against the installed library.
  # shellcheck disable=SC2046
  $cxx -O1 examples/readme/generate.cc \
    $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs ternary-runtime) \
    -o "$work/pkg_config/engine_consumer"
  "$work/pkg_config/engine_consumer" "$model" "ROMEO:"
}

# The README's examples built with the plain g++ lines each file states
# (the "//   g++ ..." lines of its header comment), run from a folder that
# sees the repository's include/, src/, examples/ and models/.
readme_gpp() {
  local dir="$work/readme_gpp"
  mkdir -p "$dir"
  for d in include src examples models; do ln -sfn "$root/$d" "$dir/$d"; done
  for f in examples/readme/*.cc; do
    grep -E '^//   g\+\+ ' "$f" | sed 's|^//   ||' | while read -r line; do
      echo "+ $line"
      (cd "$dir" && eval "$line")
    done
  done
  (cd "$dir" && ./generate models/tiny-shakespeare "ROMEO:" &&
    ./model models/tiny-shakespeare "ROMEO:" && ./kernel)
}

add_subdirectory() {
  cmake -S "$consumer/add_subdirectory" -B "$work/add_subdirectory" -G Ninja \
    -DTERNARY_SOURCE_DIR="$root"
  cmake --build "$work/add_subdirectory"
  "$work/add_subdirectory/consumer"
}

fetchcontent() {
  # A source archive holding what a vendored CMake build reads.
  tar -czf "$work/ternary-src.tar.gz" CMakeLists.txt cmake include src
  cmake -S "$consumer/fetchcontent" -B "$work/fetchcontent" -G Ninja \
    -DTERNARY_URL="file://$work/ternary-src.tar.gz"
  cmake --build "$work/fetchcontent"
  "$work/fetchcontent/consumer"
}

meson_subproject() {
  local src="$work/meson_subproject/src"
  mkdir -p "$src/subprojects"
  cp "$consumer/meson/meson.build" "$consumer/consumer.cc" "$src/"
  ln -sfn "$root" "$src/subprojects/ternary"
  # --force-fallback-for: the subproject even if a ternary is installed.
  meson setup "$work/meson_subproject/build" "$src" \
    --force-fallback-for=ternary
  meson compile -C "$work/meson_subproject/build"
  "$work/meson_subproject/build/consumer"
}

model=$root/models/tiny-shakespeare
# readme_gpp compiles the runtime on its own: it starts first, beside the
# package's build, so that the two long compiles overlap.
rm -rf "${work:?}/readme_gpp"
( readme_gpp; echo ok >"$work/readme_gpp.status" ) >"$work/readme_gpp.log" 2>&1 &

# The installed package: the headers and the ternary::runtime library (the
# Engine's definitions, compiled once).
rm -rf "$work/package" "$work/prefix"
cmake -S . -B "$work/package" -G Ninja -DTERNARY_BUILD_TESTS=OFF \
  -DTERNARY_BUILD_BENCH=OFF -DTERNARY_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$work/package" -j1 >/dev/null
cmake --install "$work/package" --prefix "$work/prefix" >/dev/null

# Each other way in its own folder and log, $jobs at a time.
ways=(find_package pkg_config add_subdirectory fetchcontent meson_subproject)
for way in "${ways[@]}"; do
  rm -rf "${work:?}/$way"
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  # Not `"$way" && ...`: errexit is off inside a function run in a && list.
  ( "$way"; echo ok >"$work/$way.status" ) >"$work/$way.log" 2>&1 &
done
wait
failed=0
for way in "${ways[@]}" readme_gpp; do
  if [ -f "$work/$way.status" ]; then
    echo "consumer: $way ok"
  else
    echo "consumer: $way FAILED; log:" >&2
    cat "$work/$way.log" >&2
    failed=1
  fi
  rm -f "$work/$way.status"
done
exit $failed
