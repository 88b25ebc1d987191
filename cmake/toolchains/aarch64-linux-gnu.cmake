# Cross-compiles for aarch64 with Debian's cross toolchain (g++-aarch64-linux-gnu)
# against multiarch arm64 packages (libhwy-dev:arm64, libpcre2-dev:arm64 in
# /usr/lib/aarch64-linux-gnu); tests run under qemu-user. See
# scripts/cross-aarch64.sh.
#   cmake -S . -B build-aarch64 \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Multiarch: config packages and libraries live in /usr/lib/aarch64-linux-gnu
# (CMake searches lib/<arch> first); the cross compiler's own libc and
# libstdc++ live in /usr/aarch64-linux-gnu and need no search.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# pkg-config (PCRE2): the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR}
    "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
# ctest and doctest_discover_tests run the test programs through qemu-user.
# They load the multiarch runtime (libc6:arm64, libstdc++6:arm64, pulled in
# by libhwy1:arm64) from /lib/ld-linux-aarch64.so.1, as on an arm64 Debian
# system. Not `-L /usr/aarch64-linux-gnu`: that loader (libc6-arm64-cross)
# then meets the multiarch libc.so.6 of another build, and pthread_create
# hangs. The CPU defaults to qemu's `max` (NEON, SVE, SVE2; 512-bit SVE);
# set QEMU_CPU to change it, e.g. QEMU_CPU=max,sve-default-vector-length=32.
find_program(TERNARY_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${TERNARY_QEMU_AARCH64})
