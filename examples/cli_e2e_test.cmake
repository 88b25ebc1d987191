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

include(${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake)

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

# Perplexity output: the last stdout line is llama-perplexity's
# "Final estimate: PPL = X +/- E", X finite and plausible for a 4096-token
# vocabulary.
function(expect_perplexity_line text what)
  string(STRIP "${text}" text)
  string(REGEX REPLACE "^.*\n" "" last_line "${text}")
  expect_match("${last_line}"
               "^Final estimate: PPL = [0-9]+\\.[0-9]+ \\+/- [0-9]+\\.[0-9]+$"
               "${what}")
  string(REGEX REPLACE "^Final estimate: PPL = ([0-9]+)\\..*$" "\\1" whole
         "${last_line}")
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
  expect_equal("${out}" "${prompt0}${greedy0}\n" "--temp 0 vs reference greedy_text")
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 48 --temp 0 --act a8
          --packing i2s -t 1)
  expect_equal("${out}" "${prompt0}${greedy0}\n" "--temp 0 -t 1")
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
  expect_equal("${out}" "${prompt0}${greedy0}\n" "default model")
  # A full context stops generation with a message, exit 0.
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 100 -c 16 --temp 0 -t 1)
  expect_match("${err}" "context is full" "-c 16")
  # 8 prompt + 8 generated positions fill it; the 9th token is predicted
  # from the full context (printed, never fed).
  expect_match("${err}" "generation 9 tokens" "-c 16 leaves room for 8 + 1")
  # The prompt from a file.
  file(WRITE ${WORK}/prompt.txt "${prompt0}")
  run_cli(0 generate -m ${M} -f ${WORK}/prompt.txt -n 48 --temp 0 -t 1)
  expect_equal("${out}" "${prompt0}${greedy0}\n" "-f prompt file")
  # A4 activations run and produce text.
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 8 --act a4 --seed 1 -t 1)
  # The prompt from a pipe, and from -f - (stdin).
  run_cli(0 INPUT ${WORK}/prompt.txt generate -m ${M} -n 48 --temp 0 -t 1)
  expect_equal("${out}" "${prompt0}${greedy0}\n" "prompt from a pipe")
  run_cli(0 INPUT ${WORK}/prompt.txt generate -m ${M} -f - -n 48 --temp 0)
  expect_equal("${out}" "${prompt0}${greedy0}\n" "-f -")
  file(WRITE ${WORK}/empty.txt "")
  run_cli(2 INPUT ${WORK}/empty.txt generate -m ${M} -n 4)
  # --no-display-prompt: the continuation only.
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 48 --temp 0 -t 1
          --no-display-prompt)
  expect_equal("${out}" "${greedy0}\n" "--no-display-prompt")
  # -p escapes as llama-cli's (on by default): "\n" in the text is a newline.
  string(REPLACE "\n" "\\n" escaped "${prompt0}")
  run_cli(0 generate -m ${M} -p "${escaped}" -n 48 --temp 0 -t 1 -e)
  expect_equal("${out}" "${prompt0}${greedy0}\n" "-e")
  run_cli(0 generate -m ${M} -p "${escaped}" -n 4 --temp 0 -t 1 --no-escape)
  string(FIND "${out}" "${escaped}" at)
  expect_equal("${at}" "0" "--no-escape keeps the backslash")
  # Stop strings (-r, --reverse-prompt, --stop): the text ends before the
  # first one, which is not printed.
  string(FIND "${greedy0}" "sir" at)
  string(SUBSTRING "${greedy0}" 0 ${at} before_sir)
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 48 --temp 0 -t 1 -r sir)
  expect_equal("${out}" "${prompt0}${before_sir}\n" "-r sir")
  expect_match("${err}" "stop: stop string" "-r sir reason")
  run_cli(0 generate -m ${M} -p "${prompt0}" -n 48 --temp 0 -t 1
          --stop "no such text" --reverse-prompt "ROMEO:\nWhat")
  string(FIND "${greedy0}" "ROMEO:\nWhat" at)
  string(SUBSTRING "${greedy0}" 0 ${at} before)
  expect_equal("${out}" "${prompt0}${before}\n" "--reverse-prompt over tokens")
  # --ignore-eos. The tiny model never samples its end-of-text tokens, so a
  # copy declares the first greedy token (" is", 363) its eos_token_id: the
  # text then ends at once, and --ignore-eos never samples that token.
  file(COPY ${M}/ DESTINATION ${WORK}/eos363)
  file(READ ${WORK}/eos363/config.json cfg)
  string(REPLACE "\"eos_token_id\": 4092" "\"eos_token_id\": 363" cfg "${cfg}")
  file(WRITE ${WORK}/eos363/config.json "${cfg}")
  run_cli(0 generate -m ${WORK}/eos363 -p "${prompt0}" -n 20 --temp 0 -t 1
          --no-display-prompt)
  expect_equal("${out}" "\n" "eos 363: nothing generated")
  expect_match("${err}" "generation 0 tokens.*stop: end of text" "eos 363")
  run_cli(0 generate -m ${WORK}/eos363 -p "${prompt0}" -n 20 --temp 0 -t 1
          --no-display-prompt --ignore-eos)
  expect_match("${err}" "generation 20 tokens" "--ignore-eos")
  run_cli(0 tokenize -m ${WORK}/eos363 -p "${out}" --ids-only --no-bos)
  if(out MATCHES "(\\[| )363(,|\\])")
    message(FATAL_ERROR "--ignore-eos sampled the end token: ${out}")
  endif()

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
  # llama-perplexity's method (default): windows of -c tokens, the second
  # half of each scored (-c 128: 63 tokens a window); -b and -ngl accepted.
  run_cli(0 perplexity -m ${MODEL} -f ${WORK}/slice.txt -c 128 -t 2 -b 512
          -ngl 99)
  expect_perplexity_line("${out}" "perplexity a8")
  expect_match("${err}" "chunks of 128, scoring 63 tokens each"
               "perplexity progress")
  expect_match("${err}" "-ngl 99 ignored" "perplexity -ngl note")
  run_cli(0 perplexity -m ${MODEL} -f ${WORK}/slice.txt --ctx 128 --act a4
          -t 2 --json)
  string(JSON ppl GET "${out}" perplexity)
  string(JSON error GET "${out}" error)
  string(JSON tokens GET "${out}" tokens)
  string(JSON chunks GET "${out}" chunks)
  string(JSON method GET "${out}" method)
  math(EXPR want "${chunks} * 63")
  expect_equal("${tokens}" "${want}" "perplexity --json tokens = chunks x 63")
  expect_equal("${method}" "second-half" "perplexity --json method")
  expect_match("${ppl}" "^[0-9]+\\.[0-9]+$" "perplexity --json a4")
  expect_match("${error}" "^[0-9]+\\.[0-9]+$" "perplexity --json error")
  # --score-all: the earlier method, chunks of ctx - 1 after BOS, all scored.
  run_cli(0 perplexity -m ${MODEL} -f ${WORK}/slice.txt -c 128 -t 2
          --score-all --json)
  string(JSON tokens GET "${out}" tokens)
  string(JSON chunks GET "${out}" chunks)
  math(EXPR want "${chunks} * 127")
  expect_equal("${tokens}" "${want}" "--score-all tokens = chunks x 127")
  # A text shorter than one window: a usage error naming -c.
  run_cli(2 perplexity -m ${MODEL} -f ${WORK}/slice.txt --ctx 100000)
  expect_match("${err}" "fewer than one window of 100000 \\(-c 100000\\)"
               "perplexity -c > text")
  # A window past the trained context (1024): a warning, as llama.cpp's.
  run_cli(0 perplexity -m ${MODEL} -f ${MODEL}/heldout.txt -c 1100 --chunks 1
          -t 2)
  expect_match("${err}" "warning: -c 1100 is beyond the model's trained context of 1024"
               "perplexity -c 1100 warns")
  expect_perplexity_line("${out}" "perplexity -c 1100")
  # The numbers, against an independent computation from `ternary logits`
  # (itself checked against transformers' logits in cli_test.cmake): the
  # script cuts the windows as llama-perplexity does, scores them from
  # each window's logits (NLL, NLL^2, the +/- estimate) and compares both
  # methods' JSON. Skipped without python3.
  find_program(PYTHON3 python3 PATHS /usr/bin)
  if(NOT PYTHON3)
    message(STATUS "perplexity: no python3; skipping the logits cross-check")
  else()
    file(WRITE ${WORK}/ppl_check.py [=[
import json, math, subprocess, sys
ternary, model, text, ctx = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def run(*args):
    r = subprocess.run([ternary, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("ternary %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout
# The text's ids with BOS, as llama-perplexity tokenizes it.
ids = json.loads(run("tokenize", "-m", model, "-f", text, "--ids-only"))
bos = ids[0]
def nll(row, target):
    m = max(row)
    return math.log(sum(math.exp(x - m) for x in row)) + m - row[target]
def score(windows, first):
    s = s2 = 0.0
    n = 0
    for win in windows:
        logits = json.loads(run("logits", "-m", model, "--ids",
                                ",".join(map(str, win)), "-t", "1"))["logits"]
        for t in range(first, len(win) - 1):
            v = nll(logits[t], win[t + 1])
            s += v
            s2 += v * v
            n += 1
    mean = s / n
    ppl = math.exp(mean)
    return ppl, math.sqrt((s2 / n - mean * mean) / (n - 1)) * ppl, n
# llama-perplexity: windows of ctx tokens, the first one BOS, the second
# half scored (rows ctx/2 .. ctx-2).
windows = [[bos] + ids[c * ctx + 1:(c + 1) * ctx] for c in range(len(ids) // ctx)]
# --score-all: the text without BOS in chunks of ctx - 1, BOS first.
rest = ids[1:]
chunks = [[bos] + rest[c * (ctx - 1):(c + 1) * (ctx - 1)]
          for c in range(len(rest) // (ctx - 1))]
for method, want, extra in (("second-half", score(windows, ctx // 2), []),
                            ("all", score(chunks, 0), ["--score-all"])):
    got = json.loads(run("perplexity", "-m", model, "-f", text, "-c", str(ctx),
                         "--json", "-t", "2", *extra))
    print("%s: expected PPL %.6f +/- %.6f over %d tokens, got %s"
          % (method, want[0], want[1], want[2], got))
    if (got["method"] != method or got["tokens"] != want[2]
            or abs(got["perplexity"] - want[0]) > 1e-4 * want[0]
            or abs(got["error"] - want[1]) > 1e-3 * want[1]):
        sys.exit("perplexity (%s) does not match the logits" % method)
]=])
    heldout_slice(${WORK}/short.txt 1500)
    execute_process(COMMAND ${PYTHON3} ${WORK}/ppl_check.py "${TERNARY}"
                            "${MODEL}" ${WORK}/short.txt 64
                    RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e
                    TIMEOUT 300)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "perplexity vs logits: ${rc}\n${o}\n${e}")
    endif()
    message(STATUS "${o}")
  endif()

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
          -n 12 --temp 0 -t 1 --no-display-prompt)
  expect_equal("${reply}" "${out}" "chat reply vs generate")
  # A context too small for the conversation starts over, and says so.
  file(WRITE ${WORK}/long.txt "Hello there\nAnd again\nOnce more\n")
  run_cli(0 INPUT ${WORK}/long.txt chat -m ${M} -n 20 -c 40 --temp 0 -t 1)
  expect_match("${err}" "context of 40 tokens is full" "chat -c 40")
  expect_match("${err}" "left out the [0-9]+ oldest messages" "chat -c 40")
  # Turns are kept: the second reply is the model's continuation of the
  # whole conversation, as `generate` computes it from the rendered text
  # (2B4T's template; the reply may hold newlines, so -n 12 in both).
  string(REGEX REPLACE "\n$" "" reply1 "${reply}")
  file(WRITE ${WORK}/two-turns.txt "Hello there\nWho are you?\n")
  run_cli(0 INPUT ${WORK}/two-turns.txt chat -m ${M} -n 12 --temp 0 -t 1)
  set(chat2 "${out}")
  run_cli(0 generate -m ${M} --no-escape --no-display-prompt -n 12 --temp 0
          -t 1 -p "User: Hello there<|eot_id|>Assistant: ${reply1}<|eot_id|>User: Who are you?<|eot_id|>Assistant: ")
  expect_equal("${chat2}" "${reply}${out}" "chat keeps the first turn")
  # /help is a command, not a message; unknown commands are refused.
  file(WRITE ${WORK}/help.txt "/help\n/nonsense\nHello there\n")
  run_cli(0 INPUT ${WORK}/help.txt chat -m ${M} -n 12 --temp 0 -t 1)
  expect_equal("${out}" "${reply}" "chat: /help is not sent to the model")
  expect_match("${err}" "/reset" "chat /help")
  expect_match("${err}" "unknown command /nonsense" "chat /nonsense")
  # Chat templates: by name; a bad name is a usage error.
  run_cli(0 INPUT ${WORK}/one-turn.txt chat -m ${M} -n 4 --temp 0 -t 1
          --chat-template llama3)
  run_cli(2 chat -m ${M} --chat-template jinja)
  # llama-cli's conversation mode: generate -cnv is chat, -p the system
  # message; -sys too.
  run_cli(0 INPUT ${WORK}/one-turn.txt generate -m ${M} -cnv -n 12 --temp 0
          -t 1)
  expect_equal("${out}" "${reply}" "generate -cnv is chat")
  run_cli(0 INPUT ${WORK}/one-turn.txt chat -m ${M} -sys "Be brief." -n 12
          --temp 0 -t 1)
  set(with_sys "${out}")
  run_cli(0 generate -m ${M} --no-display-prompt -n 12 --temp 0 -t 1
          -p "System: Be brief.<|eot_id|>User: Hello there<|eot_id|>Assistant: ")
  expect_equal("${with_sys}" "${out}" "chat -sys")

elseif(PART STREQUAL "bench")
  run_cli(0 bench --shape tiny -p 16 -n 8 -r 1 --json -t 1)
  string(JSON pp GET "${out}" pp16_tps)
  string(JSON tg GET "${out}" tg8_tps)
  string(JSON threads GET "${out}" threads)
  expect_match("${pp}" "^[0-9]+(\\.[0-9]+)?$" "bench pp16_tps")
  expect_match("${tg}" "^[0-9]+(\\.[0-9]+)?$" "bench tg8_tps")
  expect_equal("${threads}" "1" "bench threads")
  # The family shapes: 1bitLLM large has 728,842,752 parameters by its
  # config (embedding 32002 x 1536; 24 layers of 4 x 1536^2 attention,
  # 3 x 1536 x 4096 FFN and 2 x 1536 + 1536 + 4096 norms; the final norm).
  run_cli(0 bench --shape large -p 4 -n 0 -r 1 -o json -t 2)
  string(JSON params GET "${out}" 0 model_n_params)
  expect_equal("${params}" "728842752" "bench --shape large parameters")
  run_cli(2 bench --shape nope)
  expect_match("${err}" "--shape must be one of tiny, large, 2b4t, 3b, llama3-8b, falcon3-1b, "
               "bench --shape names")
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
  # The other families' fixtures say which graph they hold.
  set(families ${MODEL}/../../tests/data/families)
  run_cli(0 info -m ${families}/llama_bitnet -t 1)
  expect_match("${out}" "\narchitecture: LlamaForCausalLM with bitnet quantization"
               "info: Llama family")
  run_cli(0 info -m ${families}/1bitllm -t 1)
  expect_match("${out}" "\narchitecture: 1bitLLM BitnetForCausalLM .*sub-norms"
               "info: 1bitLLM family")
  expect_match("${out}" "master weights quantized at load" "info: 1bitLLM latent weights")
  # A folder that is no model folder says so (not "tokenizer.json: cannot
  # open file").
  file(MAKE_DIRECTORY ${WORK}/not-a-model)
  foreach(cmd "info" "tokenize;-p;x" "perplexity;-f;${MODEL}/heldout.txt")
    run_cli(1 ${cmd} -m ${WORK}/not-a-model)
    expect_match("${err}" "not-a-model: no config.json \\(not a Hugging Face model folder\\)"
                 "${cmd}: folder without config.json")
  endforeach()

elseif(PART STREQUAL "gguf")
  # The same subcommands on a GGUF file (f32 embeddings: the same numbers
  # as the folder, so the same greedy text).
  run_cli(0 convert -m ${MODEL} -o ${WORK}/tiny.gguf --embd f32)
  set(G ${WORK}/tiny.gguf)
  run_cli(0 generate -m ${G} -p "${prompt0}" -n 48 --temp 0 -t 1)
  expect_equal("${out}" "${prompt0}${greedy0}\n" "GGUF --temp 0")
  run_cli(0 tokenize -m ${G} -p "${prompt0}" --ids-only)
  expect_equal("${out}" "[${ids0_text}]\n" "GGUF tokenize")
  run_cli(0 info -m ${G} -t 1)
  expect_match("${out}" "format: GGUF v3, general.file_type 40 \\(I2_S\\)" "GGUF info")
  expect_match("${out}" "projections I2_S x56" "GGUF info types")
  # --type takes --packing's spelling; tl1/tl2 name the right option.
  run_cli(0 convert -m ${MODEL} -o ${WORK}/q8.gguf --type i2s --embd q8_0)
  run_cli(2 convert -m ${MODEL} -o ${WORK}/tl1.gguf --type tl1)
  expect_match("${err}" "--packing tl1" "convert --type tl1")
  # A Q8_0 embedding stays int8 under --head auto (the file's own
  # precision), not expanded to f32; --head f32 still expands it.
  run_cli(0 info -m ${WORK}/q8.gguf -t 1)
  expect_match("${out}" "embedding \\(tied LM head\\) as q8," "info: Q8_0 kept")
  run_cli(0 info -m ${WORK}/q8.gguf -t 1 --head f32)
  expect_match("${out}" "embedding \\(tied LM head\\) as f32," "info --head f32")
  heldout_slice(${WORK}/slice.txt 3000)
  run_cli(0 perplexity -m ${G} -f ${WORK}/slice.txt --ctx 64 -t 1)
  expect_perplexity_line("${out}" "GGUF perplexity")
  file(WRITE ${WORK}/turn.txt "Hello there\n/exit\n")
  run_cli(0 INPUT ${WORK}/turn.txt chat -m ${G} -n 6 --seed 2 -t 1)
  run_cli(0 bench -m ${G} -p 8 -n 4 -r 1 --json -t 1)
  string(JSON tg GET "${out}" tg4_tps)

  # I2_S written by bitnet.cpp built for Arm (64-value blocks, nothing in
  # the file says so): with --i2s-layout arm the same logits as the x86
  # build's file of the same checkpoint; read as x86, other weights.
  set(peers ${MODEL}/../../tests/data/families/llama_peers)
  run_cli(0 logits -m ${peers}/bitnet.cpp-i2_s.gguf --ids 1,20,300 -t 1)
  set(x86_logits "${out}")
  run_cli(0 logits -m ${peers}/bitnet.cpp-arm-i2_s.gguf --ids 1,20,300 -t 1 --i2s-layout arm)
  expect_equal("${out}" "${x86_logits}" "--i2s-layout arm: the x86 file's logits")
  run_cli(0 logits -m ${peers}/bitnet.cpp-arm-i2_s.gguf --ids 1,20,300 -t 1)
  if(out STREQUAL x86_logits)
    message(FATAL_ERROR "the Arm file read as x86 gave the x86 file's logits")
  endif()
  run_cli(2 logits -m ${peers}/bitnet.cpp-arm-i2_s.gguf --ids 1 --i2s-layout mips)
  expect_match("${err}" "--i2s-layout must be one of x86, arm, got 'mips'" "--i2s-layout mips")

elseif(PART STREQUAL "hostile_inputs")
  # Special files, huge or deeply nested inputs, argument-sized allocations.
  # Every file the program reads is a regular file of bounded size
  # (io/read_file.h) with JSON at most 256 levels deep: a FIFO, /dev/zero, a
  # folder, a 3 GiB file or 10^6 '[' exits 1 at once with one line naming
  # the file (a read that blocks or runs away fails run_cli's TIMEOUT).
  set(M "${MODEL}")
  # hostile_copy(name): a copy of the model as ${WORK}/name (the weights a
  # symlink), to break one file of.
  function(hostile_copy name)
    set(d "${WORK}/${name}")
    file(MAKE_DIRECTORY "${d}")
    file(COPY ${M}/config.json ${M}/tokenizer.json ${M}/tokenizer_config.json
         DESTINATION "${d}")
    file(CREATE_LINK "${M}/model.safetensors" "${d}/model.safetensors"
         SYMBOLIC)
  endfunction()
  function(make_fifo path)
    file(REMOVE "${path}")
    execute_process(COMMAND mkfifo "${path}" RESULT_VARIABLE r)
    if(NOT r EQUAL 0)
      message(FATAL_ERROR "mkfifo ${path} failed: ${r}")
    endif()
  endfunction()
  function(make_sparse path size)  # costs no disk
    file(REMOVE "${path}")
    execute_process(COMMAND truncate -s ${size} "${path}" RESULT_VARIABLE r)
    if(NOT r EQUAL 0)
      message(FATAL_ERROR "truncate -s ${size} ${path} failed: ${r}")
    endif()
  endfunction()
  string(REPEAT "[" 1000000 brackets)
  set(fifo_msg "not a regular file \\(a fifo\\)")
  set(dev_msg "not a regular file \\(a character device\\)")
  set(dir_msg "not a regular file \\(a directory\\)")
  set(deep_msg "JSON nested deeper than 256 levels \\(at byte [0-9]+\\)")

  # config.json: a FIFO (used to block info, generate and tokenize forever).
  hostile_copy(fifo-config)
  make_fifo(${WORK}/fifo-config/config.json)
  foreach(cmd "info" "generate;-p;x;-n;1" "tokenize;-p;x")
    run_cli(1 ${cmd} -m ${WORK}/fifo-config)
    expect_match("${err}" "fifo-config/config.json: ${fifo_msg}"
                 "${cmd}: FIFO config.json")
  endforeach()
  # config.json -> /dev/zero (used to read until std::bad_alloc).
  hostile_copy(zero-config)
  file(REMOVE ${WORK}/zero-config/config.json)
  file(CREATE_LINK /dev/zero ${WORK}/zero-config/config.json SYMBOLIC)
  run_cli(1 info -m ${WORK}/zero-config)
  expect_match("${err}" "zero-config/config.json: ${dev_msg}"
               "info: config.json -> /dev/zero")
  run_cli(1 generate -m ${WORK}/zero-config -p x -n 1)
  expect_match("${err}" "zero-config/config.json: ${dev_msg}"
               "generate: config.json -> /dev/zero")
  # config.json of 3 GiB: refused before reading.
  hostile_copy(huge-config)
  make_sparse(${WORK}/huge-config/config.json 3G)
  run_cli(1 info -m ${WORK}/huge-config)
  expect_match("${err}"
               "huge-config/config.json: 3221225472 bytes \\(3 GiB\\) is larger than the 16 MiB a config.json may have"
               "info: 3 GiB config.json")
  # config.json nested a million levels deep: refused before parsing.
  hostile_copy(deep-config)
  file(WRITE ${WORK}/deep-config/config.json "{\"a\": ${brackets}")
  run_cli(1 info -m ${WORK}/deep-config)
  expect_match("${err}" "config.json: ${deep_msg}" "info: deep config.json")
  run_cli(1 generate -m ${WORK}/deep-config -p x -n 1)
  expect_match("${err}" "config.json: ${deep_msg}" "generate: deep config.json")
  # tokenizer_config.json -> /dev/zero, a FIFO, deep.
  hostile_copy(zero-tok-config)
  file(REMOVE ${WORK}/zero-tok-config/tokenizer_config.json)
  file(CREATE_LINK /dev/zero ${WORK}/zero-tok-config/tokenizer_config.json
       SYMBOLIC)
  foreach(cmd "tokenize;-p;x" "generate;-p;x;-n;1")
    run_cli(1 ${cmd} -m ${WORK}/zero-tok-config)
    expect_match("${err}" "zero-tok-config/tokenizer_config.json: ${dev_msg}"
                 "${cmd}: tokenizer_config.json -> /dev/zero")
  endforeach()
  hostile_copy(fifo-tok-config)
  make_fifo(${WORK}/fifo-tok-config/tokenizer_config.json)
  run_cli(1 tokenize -m ${WORK}/fifo-tok-config -p x)
  expect_match("${err}" "fifo-tok-config/tokenizer_config.json: ${fifo_msg}"
               "tokenize: FIFO tokenizer_config.json")
  hostile_copy(deep-tok-config)
  file(WRITE ${WORK}/deep-tok-config/tokenizer_config.json
       "{\"a\": ${brackets}")
  run_cli(1 tokenize -m ${WORK}/deep-tok-config -p x)
  expect_match("${err}" "deep-tok-config/tokenizer_config.json: ${deep_msg}"
               "tokenize: deep tokenizer_config.json")
  # tokenizer.json: a FIFO, /dev/zero, 3 GiB, deep.
  hostile_copy(bad-tok)
  make_fifo(${WORK}/bad-tok/tokenizer.json)
  run_cli(1 tokenize -m ${WORK}/bad-tok -p x)
  expect_match("${err}" "bad-tok/tokenizer.json: ${fifo_msg}"
               "tokenize: FIFO tokenizer.json")
  file(REMOVE ${WORK}/bad-tok/tokenizer.json)
  file(CREATE_LINK /dev/zero ${WORK}/bad-tok/tokenizer.json SYMBOLIC)
  run_cli(1 generate -m ${WORK}/bad-tok -p x -n 1)
  expect_match("${err}" "bad-tok/tokenizer.json: ${dev_msg}"
               "generate: tokenizer.json -> /dev/zero")
  make_sparse(${WORK}/bad-tok/tokenizer.json 3G)
  run_cli(1 tokenize -m ${WORK}/bad-tok -p x)
  expect_match("${err}"
               "bad-tok/tokenizer.json: 3221225472 bytes \\(3 GiB\\) is larger than the 256 MiB a tokenizer.json may have"
               "tokenize: 3 GiB tokenizer.json")
  file(WRITE ${WORK}/bad-tok/tokenizer.json "{\"model\": ${brackets}")
  run_cli(1 tokenize -m ${WORK}/bad-tok -p x)
  expect_match("${err}" "bad-tok/tokenizer.json: ${deep_msg}"
               "tokenize: deep tokenizer.json")
  # model.safetensors a FIFO: refused before the memory map's open.
  hostile_copy(fifo-weights)
  make_fifo(${WORK}/fifo-weights/model.safetensors)
  run_cli(1 generate -m ${WORK}/fifo-weights -p x -n 1)
  expect_match("${err}" "fifo-weights/model.safetensors: ${fifo_msg}"
               "generate: FIFO model.safetensors")

  # -f FILE (prompt, text to tokenize, perplexity text).
  get_filename_component(work_name "${WORK}" NAME)
  make_fifo(${WORK}/text.fifo)
  make_sparse(${WORK}/huge.txt 3G)
  foreach(cmd "generate;-n;1" "tokenize" "perplexity")
    run_cli(1 ${cmd} -m ${M} -f /dev/zero)
    expect_match("${err}" ": /dev/zero: ${dev_msg}" "${cmd} -f /dev/zero")
    run_cli(1 ${cmd} -m ${M} -f ${WORK})
    expect_match("${err}" "/${work_name}: ${dir_msg}" "${cmd} -f FOLDER")
    run_cli(1 ${cmd} -m ${M} -f ${WORK}/text.fifo)
    expect_match("${err}" "text.fifo: ${fifo_msg}" "${cmd} -f FIFO")
    run_cli(1 ${cmd} -m ${M} -f ${WORK}/huge.txt)
    expect_match("${err}"
                 "huge.txt: 3221225472 bytes \\(3 GiB\\) is larger than the 1 GiB a text file may have"
                 "${cmd} -f 3 GiB file")
  endforeach()
  # A normal file still works.
  file(WRITE ${WORK}/prompt.txt "ROMEO:\n")
  run_cli(0 tokenize -m ${M} -f ${WORK}/prompt.txt --ids-only)

elseif(PART STREQUAL "strict_load")
  # Checkpoints whose values or tensors are wrong: exit 1, one line naming
  # the file and the key or tensor, before any text is generated.
  set(M "${MODEL}")
  # strict_copy(name): a full copy of the model as ${WORK}/name.
  function(strict_copy name)
    file(MAKE_DIRECTORY ${WORK}/${name})
    file(COPY ${M}/config.json ${M}/model.safetensors ${M}/tokenizer.json
         ${M}/tokenizer_config.json DESTINATION ${WORK}/${name})
  endfunction()
  # strict_config(name key json_value): a copy with one config.json key set.
  # The text is edited (not string(JSON)), so values such as 1e400 reach
  # the program as written.
  function(strict_config name key value)
    strict_copy(${name})
    file(READ ${WORK}/${name}/config.json j)
    string(REGEX REPLACE "\"${key}\": [^,\n]*" "\"${key}\": ${value}" e "${j}")
    if(e STREQUAL j)
      message(FATAL_ERROR "strict_config: no key ${key} in config.json")
    endif()
    file(WRITE ${WORK}/${name}/config.json "${e}")
  endfunction()
  # strict_fails(regex subcommand args...): exit 1, one line matching regex.
  function(strict_fails regex)
    run_cli(1 ${ARGN})
    expect_match("${err}" "${regex}" "ternary ${ARGN}")
  endfunction()

  # config.json values out of range (1e39 is inf as a float: every logit
  # was 0 and the text random, exit 0).
  strict_config(eps rms_norm_eps 1e39)
  foreach(sub generate logits)
    set(extra -p x -n 2)
    if(sub STREQUAL "logits")
      set(extra --ids 1,2)
    endif()
    strict_fails("config.json: key 'rms_norm_eps' is 1e\\+39, not a finite number"
                 ${sub} -m ${WORK}/eps ${extra} -t 1)
  endforeach()
  # convert refuses it too, and writes nothing.
  strict_fails("config.json: key 'rms_norm_eps'"
               convert -m ${WORK}/eps -o ${WORK}/eps.gguf)
  if(EXISTS ${WORK}/eps.gguf)
    message(FATAL_ERROR "convert wrote ${WORK}/eps.gguf from a bad config")
  endif()
  strict_config(eps2 rms_norm_eps 2)
  strict_fails("config.json: key 'rms_norm_eps' must be >= 0 and < 1, got 2"
               generate -m ${WORK}/eps2 -p x -n 2 -t 1)
  strict_config(theta rope_theta 0)
  strict_fails("config.json: key 'rope_theta' must be positive"
               generate -m ${WORK}/theta -p x -n 2 -t 1)
  strict_config(theta_inf rope_theta 1e400)
  # (JSON numbers beyond double: the parser refuses them.)
  strict_fails("config.json: not valid JSON: .*number overflow parsing '1e400'"
               info -m ${WORK}/theta_inf -t 1)
  strict_config(heads num_attention_heads -6)
  strict_fails("config.json: key 'num_attention_heads' must be positive, got -6"
               generate -m ${WORK}/heads -p x -n 2 -t 1)
  strict_config(ctx max_position_embeddings 100000000)
  strict_fails("config.json: key 'max_position_embeddings' is 100000000, more than the 16777216 supported"
               generate -m ${WORK}/ctx -p x -n 2 -t 1)

  # Special ids and the tokenizer against the embedding's rows: the tokenizer
  # is checked when it is loaded, not when generation reaches a bad id
  # (which used to exit 2, a usage error, midway).
  strict_config(eos eos_token_id 5000)
  strict_fails("config.json: key 'eos_token_id' is 5000, outside the vocabulary \\[0, 4096\\)"
               generate -m ${WORK}/eos -p x -n 2 -t 1)
  strict_fails("config.json: key 'eos_token_id' is 5000, outside the vocabulary"
               logits -m ${WORK}/eos --ids 1,2 -t 1)
  # 4094 rows: BOS 4091 and EOS 4092 fit, <|eot_id|> 4095 does not.
  strict_config(vocab vocab_size 4094)
  foreach(sub generate perplexity tokenize)
    set(extra -p x)
    if(sub STREQUAL "perplexity")
      heldout_slice(${WORK}/slice.txt 500)
      set(extra -f ${WORK}/slice.txt --ctx 32)
    endif()
    strict_fails("tokenizer.json: token id 4095 is outside the model's vocabulary: the tokenizer has 4096 tokens, the embedding 4094 rows \\(config.json vocab_size\\)"
                 ${sub} -m ${WORK}/vocab ${extra})
  endforeach()
  # A padded embedding (more rows than tokens) is fine for the tokenizer;
  # this copy's weights have 4096 rows, so the model load names the tensor.
  strict_config(padded vocab_size 4160)
  strict_fails("model.safetensors: tensor 'model.embed_tokens.weight' has shape \\[4096, 384\\], expected \\[4160, 384\\]"
               generate -m ${WORK}/padded -p x -n 2 -t 1)

  # Weight files: edited with sh, printf, tail and dd (POSIX tools).
  find_program(SH sh)
  find_program(TAIL tail)
  find_program(DD dd)
  if(NOT SH OR NOT TAIL OR NOT DD)
    message(STATUS "strict_load: no sh/tail/dd; skipping the weight-file cases")
    return()
  endif()
  # strict_header(file): sets st_len (the header's length) and st_json.
  function(strict_header f)
    file(READ "${f}" hex LIMIT 8 HEX)
    set(n 0)
    foreach(i RANGE 0 7)
      math(EXPR pos "${i} * 2")
      string(SUBSTRING "${hex}" ${pos} 2 byte)
      math(EXPR n "${n} + (0x${byte} << (8 * ${i}))")
    endforeach()
    file(READ "${f}" json OFFSET 8 LIMIT ${n})
    # file(READ) of a file holding NULs can end the text with a '\n'.
    string(SUBSTRING "${json}" 0 ${n} json)
    set(st_len ${n} PARENT_SCOPE)
    set(st_json "${json}" PARENT_SCOPE)
  endfunction()
  # strict_rewrite(name json tail_printf): the copy's model.safetensors with
  # header `json`, the original data section, then printf's bytes.
  function(strict_rewrite name json extra)
    set(st ${WORK}/${name}/model.safetensors)
    strict_header(${st})
    math(EXPR skip "${st_len} + 9")
    string(LENGTH "${json}" n)
    set(fmt "")
    foreach(i RANGE 0 7)
      math(EXPR b "(${n} >> (8 * ${i})) & 255")
      math(EXPR o1 "${b} / 64")
      math(EXPR o2 "(${b} / 8) % 8")
      math(EXPR o3 "${b} % 8")
      string(APPEND fmt "\\${o1}${o2}${o3}")
    endforeach()
    file(WRITE ${WORK}/${name}/header.json "${json}")
    execute_process(
      COMMAND ${SH} -c "printf '${fmt}' > \"$1.new\" && cat \"$2\" >> \"$1.new\" && ${TAIL} -c +${skip} \"$1\" >> \"$1.new\" && printf '${extra}' >> \"$1.new\" && mv \"$1.new\" \"$1\" && rm \"$2\""
              sh ${st} ${WORK}/${name}/header.json
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "strict_rewrite ${name}: ${rc}")
    endif()
  endfunction()
  # strict_poke(name tensor element printf_bytes): overwrites the bytes of
  # one BF16 element of a tensor in place.
  function(strict_poke name tensor element bytes)
    set(st ${WORK}/${name}/model.safetensors)
    strict_header(${st})
    string(JSON begin GET "${st_json}" ${tensor} data_offsets 0)
    math(EXPR at "8 + ${st_len} + ${begin} + 2 * ${element}")
    execute_process(
      COMMAND ${SH} -c "printf '${bytes}' | ${DD} of=\"$1\" bs=1 seek=${at} conv=notrunc 2>/dev/null"
              sh ${st}
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "strict_poke ${name}: ${rc}")
    endif()
  endfunction()

  # NaN (bf16 0x7fc0) in a norm; inf (0x7f80) in the embedding table; an
  # all-inf output norm. Each used to exit 0 repeating one token.
  strict_copy(nan_norm)
  strict_poke(nan_norm model.layers.3.post_attention_layernorm.weight 7 "\\300\\177")
  strict_fails("model.safetensors: tensor 'model.layers.3.post_attention_layernorm.weight' holds a non-finite value \\(nan\\) at element 7"
               generate -m ${WORK}/nan_norm -p x -n 2 -t 1)
  strict_copy(inf_embed)
  strict_poke(inf_embed model.embed_tokens.weight 770 "\\200\\177")
  strict_fails("model.safetensors: tensor 'model.embed_tokens.weight' holds a non-finite value \\(inf\\) at row 2, column 2"
               perplexity -m ${WORK}/inf_embed -f ${M}/heldout.txt --ctx 32)
  strict_copy(inf_out)
  string(REPEAT "\\200\\177" 384 all_inf)
  strict_poke(inf_out model.norm.weight 0 "${all_inf}")
  strict_fails("model.safetensors: tensor 'model.norm.weight' holds a non-finite value \\(inf\\) at element 0"
               generate -m ${WORK}/inf_out -p x -n 2 -t 1)
  # weight_scale inf.
  strict_copy(inf_scale)
  strict_poke(inf_scale model.layers.0.self_attn.q_proj.weight_scale 0 "\\200\\177")
  strict_fails("model.safetensors: tensor 'model.layers.0.self_attn.q_proj.weight_scale' is inf, expected a positive scale"
               generate -m ${WORK}/inf_scale -p x -n 2 -t 1)

  # An extra tensor (a bias the graph has no place for) at the end.
  strict_copy(bias)
  strict_header(${WORK}/bias/model.safetensors)
  file(SIZE ${WORK}/bias/model.safetensors size)
  math(EXPR end "${size} - 8 - ${st_len}")
  math(EXPR end2 "${end} + 2")
  string(JSON j SET "${st_json}" model.layers.0.self_attn.q_proj.bias
         "{\"dtype\": \"BF16\", \"shape\": [1], \"data_offsets\": [${end}, ${end2}]}")
  strict_rewrite(bias "${j}" "\\000\\000")
  strict_fails("model.safetensors: tensor 'model.layers.0.self_attn.q_proj.bias' is not part of the BitNet graph"
               generate -m ${WORK}/bias -p x -n 2 -t 1)
  strict_fails("model.safetensors: tensor 'model.layers.0.self_attn.q_proj.bias' is not part of the BitNet graph"
               convert -m ${WORK}/bias -o ${WORK}/bias.gguf)
  # The unchanged rewrite loads (the helper itself is sound).
  strict_copy(same)
  strict_header(${WORK}/same/model.safetensors)
  strict_rewrite(same "${st_json}" "")
  run_cli(0 generate -m ${WORK}/same -p "${prompt0}" -n 48 --temp 0 -t 1)
  expect_equal("${out}" "${prompt0}${greedy0}\n" "rewritten copy")

  # data_offsets aliasing another tensor's bytes (same shape and dtype).
  strict_copy(overlap)
  strict_header(${WORK}/overlap/model.safetensors)
  string(JSON offs GET "${st_json}" model.layers.1.input_layernorm.weight data_offsets)
  string(JSON j SET "${st_json}" model.layers.0.input_layernorm.weight data_offsets "${offs}")
  strict_rewrite(overlap "${j}" "")
  strict_fails("model.safetensors: tensor 'model.layers.1.input_layernorm.weight' \\(data_offsets \\[[0-9]+, [0-9]+\\]\\) overlaps tensor 'model.layers.0.input_layernorm.weight' \\(data_offsets \\[[0-9]+, [0-9]+\\]\\)"
               generate -m ${WORK}/overlap -p x -n 2 -t 1)
  # Bytes after the last tensor.
  strict_copy(trailing)
  strict_header(${WORK}/trailing/model.safetensors)
  strict_rewrite(trailing "${st_json}" "xyz")
  strict_fails("model.safetensors: 3 bytes after the last tensor's data"
               info -m ${WORK}/trailing -t 1)

elseif(PART STREQUAL "hostile_outputs")
  # convert never writes or replaces a file the user did not name.
  set(M "${MODEL}")
  # No temporary is ever left next to the output (.NAME.XXXXXX.tmp).
  function(expect_no_temporaries dir what)
    file(GLOB left LIST_DIRECTORIES true RELATIVE "${dir}" "${dir}/.*.tmp")
    if(left)
      message(FATAL_ERROR "${what}: temporaries left in ${dir}: ${left}")
    endif()
  endfunction()
  # An unrelated <out>.tmp is left alone (the old writer truncated it, or
  # followed a link of that name).
  file(WRITE ${WORK}/tiny.gguf.tmp "not ours")
  file(WRITE ${WORK}/victim.txt "victim")
  file(CREATE_LINK ${WORK}/victim.txt ${WORK}/tiny2.gguf.tmp SYMBOLIC)
  run_cli(0 convert -m ${M} -o ${WORK}/tiny.gguf)
  expect_match("${err}" "wrote [^\n]*tiny\\.gguf \\([0-9]+ bytes\\)"
               "convert message")
  string(REGEX MATCH "\\(([0-9]+) bytes\\)" said "${err}")
  set(said "${CMAKE_MATCH_1}")
  file(SIZE ${WORK}/tiny.gguf size)
  expect_equal("${said}" "${size}" "convert: the bytes it says it wrote")
  run_cli(0 convert -m ${M} -o ${WORK}/tiny2.gguf)
  file(READ ${WORK}/tiny.gguf.tmp tmp)
  expect_equal("${tmp}" "not ours" "convert: an unrelated <out>.tmp")
  file(READ ${WORK}/victim.txt victim)
  expect_equal("${victim}" "victim" "convert: a link at <out>.tmp")
  if(NOT IS_SYMLINK ${WORK}/tiny2.gguf.tmp)
    message(FATAL_ERROR "convert: the link at <out>.tmp was replaced")
  endif()
  run_cli(0 info -m ${WORK}/tiny2.gguf -t 1)
  expect_no_temporaries(${WORK} "convert")

  # Not a regular file: refused (2), one line, nothing replaced.
  run_cli(2 convert -m ${M} -o /dev/null)
  expect_match("${err}"
               "refusing to write /dev/null: it is a character device, not a regular file"
               "convert -o /dev/null")
  execute_process(COMMAND test -c /dev/null RESULT_VARIABLE is_char)
  expect_equal("${is_char}" "0" "/dev/null is still a character device")
  file(MAKE_DIRECTORY ${WORK}/adir)
  run_cli(2 convert -m ${M} -o ${WORK}/adir)
  expect_match("${err}" "it is a directory, not a regular file" "convert -o DIR")
  if(NOT IS_DIRECTORY ${WORK}/adir)
    message(FATAL_ERROR "convert -o DIR replaced the folder")
  endif()
  execute_process(COMMAND mkfifo ${WORK}/fifo RESULT_VARIABLE mkfifo_rc)
  if(mkfifo_rc EQUAL 0)
    run_cli(2 convert -m ${M} -o ${WORK}/fifo)
    expect_match("${err}" "it is a FIFO \\(pipe\\), not a regular file"
                 "convert -o FIFO")
  endif()
  # execute_process reads stdout through a pipe: /dev/stdout is that pipe.
  # (The old writer renamed a file over the path and said it wrote it.)
  run_cli(2 convert -m ${M} -o /dev/stdout)
  expect_match("${err}" "refusing to write /dev/stdout: it is a FIFO"
               "convert -o /dev/stdout")
  expect_equal("${out}" "" "convert -o /dev/stdout: stdout")
  # A missing folder: a runtime error (1) naming it.
  run_cli(1 convert -m ${M} -o ${WORK}/no-such-dir/x.gguf)
  expect_match("${err}" "cannot open for writing: folder [^\n]*no-such-dir does not exist"
               "convert into a missing folder")

  # The input checkpoint is never overwritten: by name, through a link.
  file(COPY ${M}/ DESTINATION ${WORK}/model)
  run_cli(2 convert -m ${WORK}/model -o ${WORK}/model/model.safetensors)
  expect_match("${err}"
               "refusing to write [^\n]*/model/model\\.safetensors: it is part of the input checkpoint"
               "convert -o into the input")
  file(CREATE_LINK ${WORK}/model/config.json ${WORK}/config-link.gguf SYMBOLIC)
  run_cli(2 convert -m ${WORK}/model -o ${WORK}/config-link.gguf)
  expect_match("${err}" "it is part of the input checkpoint"
               "convert -o a link to the input")
  run_cli(2 convert -m ${WORK}/model -o ${WORK}/model/../model/config.json)
  run_cli(0 info -m ${WORK}/model -t 1)
  expect_match("${out}" "format: Hugging Face folder, packed ternary"
               "the input still loads")
  file(SHA256 ${M}/model.safetensors want)
  file(SHA256 ${WORK}/model/model.safetensors got)
  expect_equal("${got}" "${want}" "the input weights are unchanged")
  expect_no_temporaries(${WORK}/model "convert into the input")

  # Two converts to the same path at once (different options): both succeed
  # and the file is one of them, complete; no temporaries.
  run_cli(0 convert -m ${M} -o ${WORK}/f32.gguf --embd f32)
  file(SIZE ${WORK}/f32.gguf f32_size)
  run_cli(0 convert -m ${M} -o ${WORK}/q8.gguf --embd q8_0)
  file(SIZE ${WORK}/q8.gguf q8_size)
  foreach(round RANGE 2)
    execute_process(
      COMMAND "${TERNARY}" convert -m ${M} -o ${WORK}/same.gguf --embd f32
      COMMAND "${TERNARY}" convert -m ${M} -o ${WORK}/same.gguf --embd q8_0
      RESULTS_VARIABLE rcs ERROR_VARIABLE e TIMEOUT 120)
    expect_equal("${rcs}" "0;0" "concurrent converts: ${e}")
    file(SIZE ${WORK}/same.gguf size)
    if(NOT size EQUAL f32_size AND NOT size EQUAL q8_size)
      message(FATAL_ERROR "concurrent converts: ${size} bytes, neither "
                          "${f32_size} nor ${q8_size}")
    endif()
    file(SHA256 ${WORK}/same.gguf got)
    if(size EQUAL f32_size)
      file(SHA256 ${WORK}/f32.gguf want)
    else()
      file(SHA256 ${WORK}/q8.gguf want)
    endif()
    expect_equal("${got}" "${want}" "concurrent converts: a complete file")
    run_cli(0 info -m ${WORK}/same.gguf -t 1)
  endforeach()
  expect_no_temporaries(${WORK} "concurrent converts")

  # Argument-sized allocations: refused up front, naming the option.
  run_cli(2 perplexity -m ${M} -f ${M}/heldout.txt --ctx 1048576 -t 1)
  expect_match("${err}" "fewer than one window of 1048576 \\(-c 1048576\\)"
               "perplexity --ctx 1048576")
  run_cli(2 bench --shape tiny -p 1048576 -t 1)
  expect_match("${err}" "-p 1048576: the model's context is 1024 positions"
               "bench -p 1048576")
  run_cli(2 bench --shape tiny -n 1048576 -t 1)
  expect_match("${err}" "-n 1048576: the model's context is 1024 positions"
               "bench -n 1048576")
  # Absurd thread counts: a usage error, not an abort.
  run_cli(2 bench --shape tiny -p 8 -n 2 -r 1 -t 100000)
  expect_match("${err}" "option -t must be in \\[1, [0-9]+\\], got 100000"
               "bench -t 100000")

else()
  message(FATAL_ERROR "unknown PART '${PART}'")
endif()
