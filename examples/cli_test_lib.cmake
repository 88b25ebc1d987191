# What the CLI's end-to-end test scripts share (cli_e2e_test.cmake,
# cli_llama_compat_test.cmake): running the binary ${TERNARY} and checks.

# run_cli(<rc> [INPUT <file>] args...): runs ternary; sets `out` and `err`.
function(run_cli expected_rc)
  set(input_args)
  if(ARGV1 STREQUAL "INPUT")
    set(input_args INPUT_FILE "${ARGV2}")
    list(REMOVE_AT ARGN 0 1)
  endif()
  execute_process(COMMAND "${TERNARY}" ${ARGN} ${input_args}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e
                  TIMEOUT 120)
  if(NOT rc STREQUAL expected_rc)
    message(FATAL_ERROR
            "ternary ${ARGN}: exit ${rc}, expected ${expected_rc}\n"
            "stdout: ${o}\nstderr: ${e}")
  endif()
  if(NOT expected_rc EQUAL 0)
    string(STRIP "${e}" line)
    if(line STREQUAL "" OR line MATCHES "\n")
      message(FATAL_ERROR "ternary ${ARGN}: expected one error line, got '${e}'")
    endif()
  endif()
  set(out "${o}" PARENT_SCOPE)
  set(err "${e}" PARENT_SCOPE)
endfunction()

function(expect_match text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: '${text}' does not match '${regex}'")
  endif()
endfunction()

function(expect_equal a b what)
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "${what}:\n'${a}'\n!=\n'${b}'")
  endif()
endfunction()
