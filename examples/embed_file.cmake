# Writes a C++ header holding a file's bytes (the chat page of `ternary
# serve`), so that the binary serves it without reading files at run time:
#   cmake -DINPUT=<file> -DOUTPUT=<header> -DNAME=<identifier> -P embed_file.cmake
# Only CMake: no xxd or other tools.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
# "3c21..." -> "0x3c,0x21,...", 16 bytes a line.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" body "${body}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_file.cmake; do not edit.\n"
  "#pragma once\n"
  "inline constexpr unsigned char ${NAME}[${bytes}] = {\n${body}\n};\n")
# Only touch the header when it changes (no needless rebuilds).
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different
                        "${OUTPUT}.tmp" "${OUTPUT}")
file(REMOVE "${OUTPUT}.tmp")
