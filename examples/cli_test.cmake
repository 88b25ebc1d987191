# CTest script for the `ternary` CLI: exit codes, one-line errors, JSON shape.
# cmake -DTERNARY=<binary> -DMODEL=<checkpoint folder> -P cli_test.cmake

function(run_cli expected_rc)
  execute_process(COMMAND ${TERNARY} ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL expected_rc)
    message(FATAL_ERROR "ternary ${ARGN}: exit ${rc}, expected ${expected_rc}\n${err}")
  endif()
  if(NOT expected_rc EQUAL 0)
    string(STRIP "${err}" line)
    if(line STREQUAL "" OR line MATCHES "\n")
      message(FATAL_ERROR "ternary ${ARGN}: expected one error line, got '${err}'")
    endif()
  endif()
  set(cli_out "${out}" PARENT_SCOPE)
endfunction()

# Usage errors: 2.
run_cli(2)
run_cli(2 nosuchcommand)
run_cli(2 logits --bogus)
run_cli(2 logits --ids 1)
run_cli(2 logits -m ${MODEL})
run_cli(2 logits -m ${MODEL} --ids 1,x)
run_cli(2 logits -m ${MODEL} --ids 1 --act a3)
run_cli(2 logits -m ${MODEL} --ids 1 --packing q4)
run_cli(2 logits -m ${MODEL} --ids 1 -t 0)
run_cli(2 logits -m ${MODEL} --ids 1,999999)
# Runtime errors: 1.
run_cli(1 logits -m ${MODEL}/no-such-folder --ids 1)
run_cli(1 logits -m ${MODEL}/config.json --ids 1)

# One JSON object: a row of logits per position, then the greedy ids.
run_cli(0 logits -m ${MODEL} --ids 4091,10,20 --generate 3 -t 1)
string(JSON rows LENGTH "${cli_out}" logits)
string(JSON cols LENGTH "${cli_out}" logits 0)
string(JSON generated LENGTH "${cli_out}" generated)
if(NOT rows EQUAL 3 OR NOT cols EQUAL 4096 OR NOT generated EQUAL 3)
  message(FATAL_ERROR "unexpected JSON shape: ${rows} rows, ${cols} cols, ${generated} ids")
endif()
run_cli(0 logits -m ${MODEL} --ids=4091 --act=a4)
string(JSON rows LENGTH "${cli_out}" logits)
string(JSON type ERROR_VARIABLE no_generated TYPE "${cli_out}" generated)
if(NOT rows EQUAL 1 OR no_generated STREQUAL "NOTFOUND")
  message(FATAL_ERROR "unexpected JSON for a single id: ${cli_out}")
endif()
