# llama.cpp users' usual command lines, with the program name swapped:
# llama-bench → `ternary bench`, llama-perplexity → `ternary perplexity`,
# llama-cli → `ternary generate`, and `--version`. Each runs the real binary
# and checks the exit status and the shape of the output (llama-bench's JSON
# records, table and CSV; llama-perplexity's last line).
#   cmake -DTERNARY=<binary> -DMODEL=<models/tiny-shakespeare> -DWORK=<dir>
#         -P cli_llama_compat_test.cmake

cmake_minimum_required(VERSION 3.21)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(M "${MODEL}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)

# run(args...): runs ternary, which must exit 0; sets `out` and `err`.
macro(run)
  run_cli(0 ${ARGN})
endmacro()

# The model's file size, as llama-bench's model_size (the safetensors).
file(SIZE "${M}/model.safetensors" model_bytes)

# --- llama-bench -----------------------------------------------------------
# llama-bench -m M -p 16,32 -n 8 -t 1,2 -r 1 -o json: an array of records,
# threads outer, then the tests in -p, -n order; stable keys.
run(bench -m ${M} -p 16,32 -n 8 -t 1,2 -r 1 -o json)
string(JSON n LENGTH "${out}")
expect_equal("${n}" "6" "bench -o json: 2 thread counts x 3 tests")
set(want_threads 1 1 1 2 2 2)
set(want_prompt 16 32 0 16 32 0)
set(want_gen 0 0 8 0 0 8)
foreach(i RANGE 5)
  list(GET want_threads ${i} t)
  list(GET want_prompt ${i} p)
  list(GET want_gen ${i} g)
  foreach(key model_filename model_type model_size model_n_params n_threads
              n_prompt n_gen avg_ts stddev_ts avg_ns samples_ts samples_ns
              test_time backends build_commit)
    string(JSON type ERROR_VARIABLE missing TYPE "${out}" ${i} ${key})
    if(NOT missing STREQUAL "NOTFOUND")
      message(FATAL_ERROR "bench -o json record ${i}: no key ${key}: ${out}")
    endif()
  endforeach()
  string(JSON v GET "${out}" ${i} model_filename)
  expect_equal("${v}" "${M}" "record ${i} model_filename (not truncated)")
  string(JSON v GET "${out}" ${i} model_size)
  expect_equal("${v}" "${model_bytes}" "record ${i} model_size (file bytes)")
  string(JSON v GET "${out}" ${i} model_n_params)
  expect_equal("${v}" "14173568" "record ${i} model_n_params")
  string(JSON v GET "${out}" ${i} n_threads)
  expect_equal("${v}" "${t}" "record ${i} n_threads")
  string(JSON v GET "${out}" ${i} n_prompt)
  expect_equal("${v}" "${p}" "record ${i} n_prompt")
  string(JSON v GET "${out}" ${i} n_gen)
  expect_equal("${v}" "${g}" "record ${i} n_gen")
  string(JSON v GET "${out}" ${i} backends)
  expect_equal("${v}" "CPU" "record ${i} backends")
  string(JSON v GET "${out}" ${i} avg_ts)
  expect_match("${v}" "^[0-9]+\\.[0-9]+$" "record ${i} avg_ts")
  if(v LESS_EQUAL 0)
    message(FATAL_ERROR "record ${i}: avg_ts ${v}")
  endif()
  string(JSON k LENGTH "${out}" ${i} samples_ts)
  expect_equal("${k}" "1" "record ${i} samples_ts: -r 1")
endforeach()
# -o jsonl: the same records, one a line.
run(bench -m ${M} -p 16 -n 8 -t 1 -r 2 -o jsonl)
string(STRIP "${out}" lines)
string(REPLACE "\n" ";" lines "${lines}")
list(LENGTH lines n)
expect_equal("${n}" "2" "bench -o jsonl: two lines")
foreach(line IN LISTS lines)
  string(JSON k LENGTH "${line}" samples_ts)
  expect_equal("${k}" "2" "bench -o jsonl samples_ts: -r 2")
endforeach()

# -o md (llama-bench's default): its columns, the full model path, a row
# per test.
run(bench -m ${M} -p 16,32 -n 8 -t 1,2 -r 1 -o md)
expect_match("${out}"
             "^\\| model +\\| +size \\| +params \\| backend +\\| threads \\| +test \\| +t/s \\|\n\\| -+ \\| -+: \\| -+: \\| -+ \\| -+: \\| -+: \\| -+: \\|\n"
             "bench -o md header")
string(REGEX MATCHALL "\n\\| [^\n]*CPU[^\n]*" rows "${out}")
list(LENGTH rows n)
expect_equal("${n}" "6" "bench -o md rows")
string(REGEX REPLACE "([][.+*?^$()|\\\\])" "\\\\\\1" path_re "${M}")
expect_match("${out}"
             "\n\\| ${path_re} +\\| +[0-9.]+ MiB \\| +14\\.17 M \\| CPU +\\| +2 \\| +pp32 \\| +[0-9.]+ ± [0-9.]+ \\|\n"
             "bench -o md row")
# The default output is md.
run(bench -m ${M} -p 16 -n 0 -t 1 -r 1)
expect_match("${out}" "^\\| model " "bench: md by default")

# -o csv: llama-bench's header and a quoted row per test.
run(bench -m ${M} -p 16,32 -n 8 -t 1 -r 1 -o csv)
string(STRIP "${out}" csv)
string(REPLACE "\n" ";" csv "${csv}")
list(LENGTH csv n)
expect_equal("${n}" "4" "bench -o csv: header + 3 rows")
list(GET csv 0 header)
expect_match("${header}" "^\"build_commit\",\"build_number\",\"cpu_info\",.*\"model_filename\",.*\"n_prompt\",\"n_gen\",.*\"avg_ts\",\"stddev_ts\""
             "bench -o csv header")
list(GET csv 3 row)
expect_match("${row}" ",\"0\",\"8\"," "bench -o csv tg8 row")

# -pg 16,8: a prompt then generation, timed together ("pp16+tg8").
run(bench -m ${M} -p 0 -n 0 -pg 16,8 -t 1 -r 1)
expect_match("${out}" "\\| +pp16\\+tg8 \\|" "bench -pg table")
run(bench -m ${M} -p 0 -n 0 -pg 16,8 -t 1 -r 1 -o json)
string(JSON n LENGTH "${out}")
expect_equal("${n}" "1" "bench -pg: one record")
string(JSON p GET "${out}" 0 n_prompt)
string(JSON g GET "${out}" 0 n_gen)
expect_equal("${p}/${g}" "16/8" "bench -pg n_prompt/n_gen")
# llama-bench's GPU and batch options: accepted, noted, ignored.
run(bench -m ${M} -p 16 -n 4 -t 1 -r 1 -ngl 99 -fa 1 -b 512 -ub 512 -mmp 0
    -o json)
expect_match("${err}" "-ngl 99 ignored" "bench -ngl note")
string(JSON mmap GET "${out}" 0 use_mmap)
expect_equal("${mmap}" "OFF" "bench -mmp 0: use_mmap false")
run(bench -m ${M} -p 0 -n 2 -t 1 -r 1 -mmp 1 -o json)
string(JSON mmap GET "${out}" 0 use_mmap)
expect_equal("${mmap}" "ON" "bench -mmp 1: use_mmap true")

# --- llama-perplexity ------------------------------------------------------
file(READ "${M}/heldout.txt" text LIMIT 6000)
file(WRITE "${WORK}/text.txt" "${text}")
run(perplexity -m ${M} -f ${WORK}/text.txt -c 128)
string(STRIP "${out}" last)
string(REGEX REPLACE "^.*\n" "" last "${last}")
expect_match("${last}" "^Final estimate: PPL = [0-9]+\\.[0-9]+ \\+/- [0-9]+\\.[0-9]+$"
             "perplexity -c 128")
set(ppl "${last}")
run(perplexity -m ${M} -f ${WORK}/text.txt -c 128 -b 512 -ngl 99)
string(STRIP "${out}" last)
string(REGEX REPLACE "^.*\n" "" last "${last}")
expect_equal("${last}" "${ppl}" "perplexity -b 512 -ngl 99: the same figure")

# --- llama-cli ---------------------------------------------------------------
# Only that the flags are taken (generation itself is tested elsewhere).
run(generate -m ${M} -p "ROMEO:" -n 8 -ngl 99 -fa --no-mmap -b 512
    --log-disable)
if(out STREQUAL "")
  message(FATAL_ERROR "generate with llama-cli's flags: no text")
endif()
run(generate -m ${M} -p "ROMEO:" -n 8 -c 256 -t 2 --temp 0 --seed 1
    --top-k 40 --top-p 0.95 --repeat-penalty 1.1 -fa on -ub 256 --mlock
    --numa distribute -v)
if(out STREQUAL "")
  message(FATAL_ERROR "generate with llama-cli's sampling flags: no text")
endif()

# --- --version ---------------------------------------------------------------
foreach(cmd "--version" "bench;--version" "generate;--version")
  run(${cmd})
  expect_match("${out}"
               "^ternary [0-9]+\\.[0-9]+\\.[0-9]+ \\([^)]+\\)\nbuilt with [^\n]+; SIMD targets: [a-z0-9_, ]+\n$"
               "ternary ${cmd}")
endforeach()
