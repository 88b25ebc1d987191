# End-to-end tests of the `ternary` program: each part runs the real binary
# and checks its output and exit status (0 ok, 1 runtime error, 2 usage
# error, errors on one line).
#   cmake -DTERNARY=<binary> -DMODEL=<models/tiny-shakespeare> -DWORK=<dir>
#         -DPART=<errors|help|generate|tokenize|perplexity|chat|bench|info|gguf|
#                 hostile_inputs|strict_load|hostile_outputs>
#         -P cli_e2e_test.cmake

cmake_minimum_required(VERSION 3.21)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

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

file(READ "${MODEL}/reference.json" reference)
string(JSON prompt0 GET "${reference}" cases 0 prompt)
string(JSON greedy0 GET "${reference}" cases 0 greedy_text)
string(JSON n_ids LENGTH "${reference}" cases 0 ids)
math(EXPR last "${n_ids} - 1")
set(ids0 "")
foreach(i RANGE ${last})
  string(JSON id GET "${reference}" cases 0 ids ${i})
  list(APPEND ids0 ${id})
endforeach()
list(JOIN ids0 ", " ids0_text)  # "4091, 1948, ..."

# The first `bytes` bytes of heldout.txt, for a quick perplexity run.
function(heldout_slice path bytes)
  file(READ "${MODEL}/heldout.txt" text LIMIT ${bytes})
  file(WRITE "${path}" "${text}")
endfunction()

# Perplexity output: the last stdout line is "perplexity: X", X finite and
# plausible for a 4096-token vocabulary.
function(expect_perplexity_line text what)
  string(STRIP "${text}" text)
  string(REGEX REPLACE "^.*\n" "" last_line "${text}")
  expect_match("${last_line}" "^perplexity: [0-9]+\\.[0-9]+$" "${what}")
  string(REGEX REPLACE "^perplexity: ([0-9]+)\\..*$" "\\1" whole "${last_line}")
  if(whole LESS 1 OR whole GREATER 4096)
    message(FATAL_ERROR "${what}: implausible ${last_line}")
  endif()
endfunction()

if(PART STREQUAL "errors")
  set(M "${MODEL}")
  # Usage errors: 2, one line.
  run_cli(2)
  run_cli(2 nosuchcommand)
  run_cli(2 generate --bogus)
  run_cli(2 generate -m ${M} -p)                     # missing value
  run_cli(2 generate -m)                             # missing model path
  run_cli(2 generate -m ${M} -p x -n abc)            # non-numeric
  run_cli(2 generate -m ${M} -p x --temp warm)
  run_cli(2 generate -m ${M} -p x --temp -1)
  run_cli(2 generate -m ${M} -p x --top-p 0)
  run_cli(2 generate -m ${M} -p x --top-p 1.5)
  run_cli(2 generate -m ${M} -p x --min-p 2)
  run_cli(2 generate -m ${M} -p x --seed -3)
  run_cli(2 generate -m ${M} -p x --packing q4)
  run_cli(2 generate -m ${M} -p x --act a3)
  run_cli(2 generate -m ${M} -p x -t 0)
  run_cli(2 generate -m ${M} -p x --head f8)
  run_cli(2 generate -m ${M} -p x -c 1)              # prompt longer than -c
  run_cli(2 generate -m ${M})                        # no prompt
  run_cli(2 chat -m ${M} --bogus)
  run_cli(2 chat -m ${M} --top-k x)
  run_cli(2 tokenize -p x)                           # no model
  run_cli(2 tokenize -m ${M})                        # no text
  run_cli(2 tokenize -m ${M} -p x --pretokenizer gpt2)
  run_cli(2 perplexity -f ${M}/heldout.txt)          # no model
  run_cli(2 perplexity -m ${M})                      # no file
  run_cli(2 perplexity -m ${M} -f ${M}/heldout.txt --ctx 1)
  run_cli(2 bench)
  run_cli(2 bench --shape 7b)
  run_cli(2 bench -m ${M} --shape tiny)
  run_cli(2 bench --shape tiny -r 0)
  run_cli(2 info -m ${M} extra)
  # The SIMD switch: names this build lacks are usage errors, from the flag
  # or from the environment, on every subcommand.
  run_cli(2 info --simd avx9000)
  expect_match("${err}" "'avx9000': unknown SIMD target; this build has .*scalar"
               "--simd unknown")
  run_cli(2 generate -m ${M} -p x --simd ppc8)
  expect_match("${err}" "'ppc8': that SIMD target is not compiled into this build"
               "--simd not compiled")
  run_cli(2 bench --shape tiny --simd)
  set(ENV{TERNARY_SIMD} bogus)
  run_cli(2 info)
  expect_match("${err}" "TERNARY_SIMD=bogus" "bad TERNARY_SIMD")
  run_cli(2 tokenize -m ${M} -p x)
  unset(ENV{TERNARY_SIMD})
  # Runtime errors: 1, one line.
  run_cli(1 generate -m ${WORK}/no-such-model -p x)
  run_cli(1 generate -m ${M}/config.json -p x)       # a file, not a model
  run_cli(1 tokenize -m ${WORK}/no-such-model -p x)
  run_cli(1 info -m ${WORK}/no-such-model)
  run_cli(1 bench -m ${WORK}/no-such-model)
  run_cli(1 perplexity -m ${M} -f ${WORK}/no-such-file.txt)
  run_cli(1 generate -m ${M} -f ${WORK}/no-such-file.txt --temp 0)
  # Corrupt models: bad weights, bad config.json, a truncated GGUF.
  file(MAKE_DIRECTORY ${WORK}/bad-weights ${WORK}/bad-config)
  file(COPY ${M}/config.json ${M}/tokenizer.json ${M}/tokenizer_config.json
       DESTINATION ${WORK}/bad-weights)
  file(WRITE ${WORK}/bad-weights/model.safetensors "not a safetensors file")
  run_cli(1 generate -m ${WORK}/bad-weights -p x)
  run_cli(1 info -m ${WORK}/bad-weights)
  file(COPY ${M}/model.safetensors ${M}/tokenizer.json
       DESTINATION ${WORK}/bad-config)
  file(WRITE ${WORK}/bad-config/config.json "{\"model_type\": \"bitnet\", ")
  run_cli(1 generate -m ${WORK}/bad-config -p x)
  file(WRITE ${WORK}/bad.gguf "GGUF\\3\\0\\0\\0 truncated")
  run_cli(1 generate -m ${WORK}/bad.gguf -p x)
  run_cli(1 info -m ${WORK}/bad.gguf)

elseif(PART STREQUAL "help")
  run_cli(0 --help)
  foreach(sub generate chat tokenize perplexity bench info logits convert)
    expect_match("${out}" "ternary ${sub} " "ternary --help lists ${sub}")
  endforeach()
  foreach(sub generate chat tokenize perplexity bench info)
    run_cli(0 ${sub} --help)
    expect_match("${out}" "^usage: ternary ${sub} " "${sub} --help")
    string(LENGTH "${out}" n)
    if(n LESS 200)
      message(FATAL_ERROR "${sub} --help is too short: ${out}")
    endif()
  endforeach()

elseif(PART STREQUAL "generate")
  set(M "${MODEL}")
  set(p "KING HENRY:\n")
  # Deterministic with a seed; another seed, another text (temperature 1).
  run_cli(0 generate -m ${M} -p "${p}" -n 24 --temp 1 --seed 7 -t 1)
  set(a "${out}")
  expect_match("${err}" "generation 24 tokens, .* tok/s" "generate timings")
  expect_match("${err}" "prompt [0-9]+ tokens, .* tok/s" "generate timings")
  run_cli(0 generate -m ${M} -p "${p}" -n 24 --temp 1 --seed 7 -t 2)
  expect_equal("${a}" "${out}" "same seed, same output")
  run_cli(0 generate -m ${M} -p "${p}" -n 24 --temp 1 --seed 8 -t 1)
  if(a STREQUAL out OR a STREQUAL "")
    message(FATAL_ERROR "seeds 7 and 8 gave the same text: '${a}'")
  endif()
  # Filters on: still deterministic.
  run_cli(0 generate -m ${M} -p "${p}" -n 16 --temp 0.7 --top-k 20
          --top-p 0.9 --min-p 0.02 --repeat-penalty 1.1 --seed 3 -t 1)
  set(b "${out}")
  run_cli(0 generate -m ${M} -p "${p}" -n 16 --temp 0.7 --top-k 20
          --top-p 0.9 --min-p 0.02 --repeat-penalty 1.1 --seed 3 -t 1)
  expect_equal("${b}" "${out}" "same seed with filters")
  # --temp 0 is greedy: transformers' greedy continuation (reference.json),
  # which `ternary logits --generate` also reproduces (cli_test.cmake).
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 48 --temp 0 -t 2)
  expect_equal("${out}" "${greedy0}" "--temp 0 vs reference greedy_text")
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 48 --temp 0 --act a8
          --packing i2s -t 1)
  expect_equal("${out}" "${greedy0}" "--temp 0 -t 1")
  # ... and `ternary logits --generate` gives the same greedy ids.
  list(JOIN ids0 "," ids0_csv)
  run_cli(0 logits -m ${M} --ids ${ids0_csv} --generate 48 -t 1)
  string(JSON n_gen LENGTH "${out}" generated)
  expect_equal("${n_gen}" "48" "logits --generate 48")
  math(EXPR last_gen "${n_gen} - 1")
  foreach(i RANGE ${last_gen})
    string(JSON got GET "${out}" generated ${i})
    string(JSON want GET "${reference}" cases 0 greedy_ids ${i})
    expect_equal("${got}" "${want}" "logits --generate id ${i}")
  endforeach()
  # Without -m: the embedded default model.
  run_cli(0 generate -p "${prompt0}" -n 48 --temp 0 -t 1)
  expect_equal("${out}" "${greedy0}" "default model")
  # A full context stops generation with a message, exit 0.
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 100 -c 16 --temp 0 -t 1)
  expect_match("${err}" "context is full" "-c 16")
  # 8 prompt + 8 generated positions fill it; the 9th token is predicted
  # from the full context (printed, never fed).
  expect_match("${err}" "generation 9 tokens" "-c 16 leaves room for 8 + 1")
  # The prompt from a file.
  file(WRITE ${WORK}/prompt.txt "${prompt0}")
  run_cli(0 generate -m ${M} -f ${WORK}/prompt.txt -n 48 --temp 0 -t 1)
  expect_equal("${out}" "${greedy0}" "-f prompt file")
  # A4 activations run and produce text.
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 8 --act a4 --seed 1 -t 1)

elseif(PART STREQUAL "tokenize")
  set(M "${MODEL}")
  run_cli(0 tokenize -m ${M} -p "${prompt0}" --ids-only)
  expect_equal("${out}" "[${ids0_text}]\n" "tokenize --ids-only")
  run_cli(0 tokenize -m ${M} -p "${prompt0}" --json)
  string(JSON n LENGTH "${out}" ids)
  expect_equal("${n}" "${n_ids}" "tokenize --json ids")
  string(JSON first GET "${out}" tokens 0)
  expect_equal("${first}" "<|begin_of_text|>" "tokenize --json tokens")
  run_cli(0 tokenize -m ${M} -p "${prompt0}")
  expect_match("${out}" "^4091 '<\\|begin_of_text\\|>'\n1948 'ROMEO'\n328 ':\\\\n'\n"
               "tokenize listing")
  run_cli(0 tokenize -m ${M} -p "${prompt0}" --ids-only --no-bos)
  list(REMOVE_AT ids0 0)
  list(JOIN ids0 ", " rest)
  expect_equal("${out}" "[${rest}]\n" "tokenize --no-bos")
  # Special-token text is parsed unless --no-special.
  run_cli(0 tokenize -m ${M} -p "<|eot_id|>" --ids-only --no-bos)
  expect_equal("${out}" "[4095]\n" "special token")
  run_cli(0 tokenize -m ${M} -p "<|eot_id|>" --ids-only --no-bos --no-special)
  if(out STREQUAL "[4095]\n")
    message(FATAL_ERROR "--no-special still parsed <|eot_id|>")
  endif()
  file(WRITE ${WORK}/text.txt "${prompt0}")
  run_cli(0 tokenize -m ${M} -f ${WORK}/text.txt --ids-only
          --pretokenizer llama3)
  expect_equal("${out}" "[${ids0_text}]\n" "tokenize -f")

elseif(PART STREQUAL "perplexity")
  heldout_slice(${WORK}/slice.txt 6000)
  run_cli(0 perplexity -m ${MODEL} -f ${WORK}/slice.txt --ctx 128 -t 2)
  expect_perplexity_line("${out}" "perplexity a8")
  expect_match("${err}" "chunks of 127" "perplexity progress")
  run_cli(0 perplexity -m ${MODEL} -f ${WORK}/slice.txt --ctx 128 --act a4
          -t 2 --json)
  string(JSON ppl GET "${out}" perplexity)
  string(JSON tokens GET "${out}" tokens)
  string(JSON chunks GET "${out}" chunks)
  math(EXPR want "${chunks} * 127")
  expect_equal("${tokens}" "${want}" "perplexity --json tokens = chunks x 127")
  expect_match("${ppl}" "^[0-9]+\\.[0-9]+$" "perplexity --json a4")
  run_cli(2 perplexity -m ${MODEL} -f ${WORK}/slice.txt --ctx 100000)

elseif(PART STREQUAL "chat")
  set(M "${MODEL}")
  # Two turns through a pipe, then /exit (the line after it is never read).
  # Replies may hold newlines, so compare with one turn: the same first
  # reply, then more.
  file(WRITE ${WORK}/one.txt "Hello there\n/exit\n")
  run_cli(0 INPUT ${WORK}/one.txt chat -m ${M} -n 12 --temp 0 -t 1)
  set(one "${out}")
  file(WRITE ${WORK}/two.txt "Hello there\nWho are you?\n/exit\nnot read\n")
  run_cli(0 INPUT ${WORK}/two.txt chat -m ${M} -n 12 --temp 0 -t 1)
  string(LENGTH "${one}" n1)
  string(SUBSTRING "${out}" 0 ${n1} head)
  expect_equal("${head}" "${one}" "chat: the first reply of two turns")
  string(LENGTH "${out}" n2)
  if(n2 LESS_EQUAL n1 OR n1 LESS 2)
    message(FATAL_ERROR "chat: no second reply: '${out}'")
  endif()
  file(WRITE ${WORK}/exit-first.txt "/exit\nHello there\n")
  run_cli(0 INPUT ${WORK}/exit-first.txt chat -m ${M} -n 12 -t 1)
  expect_equal("${out}" "" "chat: /exit first")
  # Sampled (seeded) chat through a pipe.
  run_cli(0 INPUT ${WORK}/two.txt chat -m ${M} -n 12 --seed 1 -t 1)
  # End of input without /exit also ends cleanly.
  file(WRITE ${WORK}/eof.txt "Hello there")
  run_cli(0 INPUT ${WORK}/eof.txt chat -m ${M} -n 6 --seed 1 -t 1
          --system "You are a poet.")
  # The first reply is the continuation of the chat template (HF template:
  # "User: ...<|eot_id|>Assistant: "), as `generate` gives it.
  file(WRITE ${WORK}/one-turn.txt "  Hello there \n")
  run_cli(0 INPUT ${WORK}/one-turn.txt chat -m ${M} -n 12 --temp 0 -t 1)
  set(reply "${out}")
  run_cli(0 generate -m ${M} -p "User: Hello there<|eot_id|>Assistant: "
          -n 12 --temp 0 -t 1)
  expect_equal("${reply}" "${out}\n" "chat reply vs generate")
  # A context too small for the conversation starts over, and says so.
  file(WRITE ${WORK}/long.txt "Hello there\nAnd again\nOnce more\n")
  run_cli(0 INPUT ${WORK}/long.txt chat -m ${M} -n 20 -c 40 --temp 0 -t 1)
  expect_match("${err}" "context of 40 tokens is full" "chat -c 40")

elseif(PART STREQUAL "bench")
  run_cli(0 bench --shape tiny -p 16 -n 8 -r 1 --json -t 1)
  string(JSON pp GET "${out}" pp16_tps)
  string(JSON tg GET "${out}" tg8_tps)
  string(JSON threads GET "${out}" threads)
  expect_match("${pp}" "^[0-9]+(\\.[0-9]+)?$" "bench pp16_tps")
  expect_match("${tg}" "^[0-9]+(\\.[0-9]+)?$" "bench tg8_tps")
  expect_equal("${threads}" "1" "bench threads")
  run_cli(0 bench -m ${MODEL} -p 8 -n 4 -r 2 -t 1)
  expect_match("${out}" "\\| +pp8 \\|" "bench table pp8")
  expect_match("${out}" "\\| +tg4 \\|" "bench table tg4")
  run_cli(0 bench --shape tiny -p 0 -n 4 -r 1 --json --act a4 --head q8 -t 1)
  string(JSON head GET "${out}" head)
  expect_equal("${head}" "q8" "bench --head q8")
  string(JSON type ERROR_VARIABLE no_pp TYPE "${out}" pp0_tps)
  string(JSON tg GET "${out}" tg4_tps)
  if(no_pp STREQUAL "NOTFOUND")
    message(FATAL_ERROR "bench -p 0 still reports pp: ${out}")
  endif()

elseif(PART STREQUAL "info")
  # Without a model: the CPU and the SIMD target.
  run_cli(0 info)
  expect_match("${out}" "^cpu: [^\n]+\n" "info cpu")
  expect_match("${out}" "\nsimd: [a-z0-9_]+ \\(this CPU runs [a-z0-9_, ]+scalar; the build has "
               "info simd")
  run_cli(0 info --simd scalar)
  expect_match("${out}" "\nsimd: scalar " "info --simd scalar")
  set(ENV{TERNARY_SIMD} SCALAR)
  run_cli(0 info)
  expect_match("${out}" "\nsimd: scalar " "TERNARY_SIMD=SCALAR")
  # --simd overrides the environment.
  run_cli(0 bench --shape tiny -p 8 -n 2 -r 1 --json -t 1 --simd ssse3)
  string(JSON simd GET "${out}" simd)
  expect_equal("${simd}" "ssse3" "bench --json records the target")
  unset(ENV{TERNARY_SIMD})
  string(JSON cpu GET "${out}" cpu)
  run_cli(0 info -m ${MODEL} -t 1)
  expect_match("${out}" "format: Hugging Face folder, packed ternary" "info format")
  expect_match("${out}" "hidden 384, ffn 1024, layers 8, heads 6, kv heads 2, head_dim 64, vocab 4096"
               "info dimensions")
  expect_match("${out}" "parameters: 14\\.2 M" "info parameters")
  expect_match("${out}" "tensor types: BF16 x[0-9]+, U8 x56" "info tensor types")
  expect_match("${out}" "loaded: [0-9.]+ MiB in memory as i2s/a8" "info memory")

elseif(PART STREQUAL "gguf")
  # The same subcommands on a GGUF file (f32 embeddings: the same numbers
  # as the folder, so the same greedy text).
  run_cli(0 convert -m ${MODEL} -o ${WORK}/tiny.gguf --embd f32)
  set(G ${WORK}/tiny.gguf)
  run_cli(0 generate -m ${G} -p "${prompt0}" -n 48 --temp 0 -t 1)
  expect_equal("${out}" "${greedy0}" "GGUF --temp 0")
  run_cli(0 tokenize -m ${G} -p "${prompt0}" --ids-only)
  expect_equal("${out}" "[${ids0_text}]\n" "GGUF tokenize")
  run_cli(0 info -m ${G} -t 1)
  expect_match("${out}" "format: GGUF v3, general.file_type 40 \\(I2_S\\)" "GGUF info")
  expect_match("${out}" "projections I2_S x56" "GGUF info types")
  heldout_slice(${WORK}/slice.txt 3000)
  run_cli(0 perplexity -m ${G} -f ${WORK}/slice.txt --ctx 64 -t 1)
  expect_perplexity_line("${out}" "GGUF perplexity")
  file(WRITE ${WORK}/turn.txt "Hello there\n/exit\n")
  run_cli(0 INPUT ${WORK}/turn.txt chat -m ${G} -n 6 --seed 2 -t 1)
  run_cli(0 bench -m ${G} -p 8 -n 4 -r 1 --json -t 1)
  string(JSON tg GET "${out}" tg4_tps)

elseif(PART STREQUAL "hostile_inputs")
  # Special files, huge or deeply nested inputs, argument-sized allocations.
  run_cli(0 --help)

elseif(PART STREQUAL "strict_load")
  # Checkpoints whose values or tensors are wrong: exit 1, one line.
  run_cli(0 --help)

elseif(PART STREQUAL "hostile_outputs")
  # convert never writes or replaces a file the user did not name.
  run_cli(0 --help)

else()
  message(FATAL_ERROR "unknown PART '${PART}'")
endif()
