# Runs one README example and checks its output against transformers'
# greedy continuation (models/tiny-shakespeare/reference.json) or, for the
# kernel, the arithmetic its comment works out.
#   cmake -DEXAMPLE=generate|model|kernel -DPROGRAM=<binary> -DMODEL=<dir>
#         -P readme_test.cmake
cmake_minimum_required(VERSION 3.21)
file(READ "${MODEL}/reference.json" reference)
string(JSON prompt GET "${reference}" cases 0 prompt)
string(JSON greedy GET "${reference}" cases 0 greedy_text)

function(run)
  execute_process(COMMAND "${PROGRAM}" ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE o ERROR_VARIABLE e TIMEOUT 120)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${ARGN}: exit ${rc}\n${o}\n${e}")
  endif()
  set(out "${o}" PARENT_SCOPE)
endfunction()

if(EXAMPLE STREQUAL "generate")
  # Greedy with the stop string "\n\n": the reference text up to it.
  run("${MODEL}" "${prompt}")
  string(FIND "${greedy}" "\n\n" stop)
  string(SUBSTRING "${greedy}" 0 ${stop} before)
  string(FIND "${out}" "${prompt}${before}\nassistant: " at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "generate example: '${out}' does not start with "
                        "'${prompt}${before}\\nassistant: '")
  endif()
elseif(EXAMPLE STREQUAL "model")
  # 32 greedy tokens: the start of the reference's 48-token continuation.
  run("${MODEL}" "${prompt}")
  string(REGEX REPLACE "\n$" "" text "${out}")
  string(LENGTH "${text}" n)
  string(FIND "${greedy}" "${text}" at)
  if(NOT at EQUAL 0 OR n LESS 40)
    message(FATAL_ERROR "model example: '${text}' is not the start of "
                        "'${greedy}'")
  endif()
elseif(EXAMPLE STREQUAL "kernel")
  run()
  set(want "-0.5 0 0.5 -0.5 \n-0.5 0 0.5 -0.5 \n")
  if(NOT out STREQUAL want)
    message(FATAL_ERROR "kernel example: '${out}' != '${want}'")
  endif()
endif()
