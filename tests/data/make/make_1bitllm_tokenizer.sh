#!/usr/bin/env bash
# make_1bitllm_tokenizer.sh [OUT_FOLDER]
#
# Writes the tokenizer part of tests/data/families/1bitllm: a small SentencePiece BPE model trained
# with LLaMA / LLaMA-2's trainer settings (what 1bitLLM's tokenizer.model is: BPE, byte_fallback,
# split_digits, identity normalization, whitespace kept, unk/bos/eos 0/1/2, no pad piece) on
# models/tiny-shakespeare/heldout.txt, vocab 510 (= 3 specials + 256 byte pieces + 251 learned), plus
# 1bitLLM's added tokens <pad> and </line> at 510 and 511 (as at 32000 and 32001 in the real model,
# added_tokens.json), its tokenizer_config.json / special_tokens_map.json style, and
# tokenizer_cases.json: texts and the ids the SentencePiece library (Debian python3-sentencepiece,
# the maintained implementation) gives them, the reference tests/tokenizer/sentencepiece_test.cc
# checks ternary's own SentencePiece BPE against.
#
# Needs Debian's sentencepiece (spm_train) and python3-sentencepiece. spm_train with one thread is
# deterministic; the committed model is what the tests use either way.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT=${1:-$ROOT/tests/data/families/1bitllm}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
# Trained inside $WORK from a copy, so that the file names the model records
# (trainer_spec input and model_prefix) are "heldout.txt" and "tok", not paths
# of this machine.
cp "$ROOT/models/tiny-shakespeare/heldout.txt" "$WORK/heldout.txt"
(cd "$WORK" && spm_train --input=heldout.txt --model_prefix=tok \
  --model_type=bpe --vocab_size=510 --byte_fallback=true --split_digits=true \
  --add_dummy_prefix=true --remove_extra_whitespaces=false --normalization_rule_name=identity \
  --allow_whitespace_only_pieces=true --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 \
  --character_coverage=0.99995 --max_sentence_length=4192 --num_threads=1 >log 2>&1)
cp "$WORK/tok.model" "$OUT/tokenizer.model"
/usr/bin/python3 - "$OUT" <<'PYEOF'
import json, os, sys
import sentencepiece as spm

out = sys.argv[1]
sp = spm.SentencePieceProcessor(model_file=os.path.join(out, "tokenizer.model"))
assert sp.vocab_size() == 510
added = {"<pad>": 510, "</line>": 511}

def dump(name, obj):
    with open(os.path.join(out, name), "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")

dump("added_tokens.json", added)
dump("special_tokens_map.json", {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
                                 "unk_token": "<unk>"})
dump("tokenizer_config.json", {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>",
                               "clean_up_tokenization_spaces": False, "eos_token": "</s>",
                               "model_max_length": 2048, "pad_token": "<pad>", "sp_model_kwargs": {},
                               "tokenizer_class": "BitnetTokenizer", "unk_token": "<unk>"})
texts = [
    "ROMEO:\nBut soft, what light",
    "Prince Andrew looked",
    "",
    " ",
    "   leading and trailing spaces   ",
    "two  spaces,\tand a tab",
    "line one\nline two\n\n",
    "digits 0123456789 and 1,234.5",
    "caf\u00e9 na\u00efve \u00fcber",
    "\u4f60\u597d\u4e16\u754c",
    "emoji \U0001F600\U0001F44D!",
    "KING HENRY VI:\nWhat, will the aspiring blood of Lancaster\nSink in the ground?",
    "<s> is text to SentencePiece itself",
    "\u2581already escaped\u2581",
]
# The SentencePiece library on each text (no BOS), and transformers'
# LlamaTokenizer (legacy) on texts with added tokens: each segment between
# them encoded on its own.
cases = [{"text": t, "ids": sp.encode(t)} for t in texts]
def with_added(parts):
    ids, text = [], ""
    for p in parts:
        if p in added:
            ids.append(added[p])
        else:
            ids += sp.encode(p)
        text += p
    return {"text": text, "ids": ids}
added_cases = [with_added(["hello", "</line>", "world"]),
               with_added(["<pad>", "<pad>", " x"]),
               with_added(["a line", "</line>", "\n", "</line>", "next"])]
dump("tokenizer_cases.json", {
    "source": "tests/data/make/make_1bitllm_tokenizer.sh: sentencepiece %s (Python binding of the "
              "library) on tokenizer.model; added_cases: segments between added tokens encoded on their "
              "own (transformers LlamaTokenizer, legacy)" % spm.__version__,
    "cases": cases, "added_cases": added_cases})
print("%d cases, %d added cases" % (len(cases), len(added_cases)))
PYEOF
