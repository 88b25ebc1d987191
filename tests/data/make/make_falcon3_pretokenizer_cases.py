#!/usr/bin/env python3
"""make_falcon3_pretokenizer_cases.py [OUT_JSON]

Writes tests/data/families/falcon3/pretokenizer_cases.json: texts and the pieces Falcon3's pre-tokenizer
(tiiuae/Falcon3-*: tokenizer.json pre_tokenizer Sequence[Punctuation(behavior Contiguous), ByteLevel
(add_prefix_space false, use_regex true), Digits(individual_digits true)]) cuts them into, from an
independent implementation of the Hugging Face tokenizers rules written with unicodedata (no regex
engine, no ternary code):
  Punctuation  char is punctuation when it is ASCII punctuation (Rust char::is_ascii_punctuation) or of a
               Unicode P* category; each maximal run of punctuation is a piece, and so is each run between.
  ByteLevel    the GPT-2 regex 's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
               run by hand: at each position the first alternative that matches, greedy.
  Digits       each numeric character (Rust char::is_numeric: Unicode N*) is a piece of its own.
Needs only the Python standard library."""
import json
import os
import sys
import unicodedata

ASCII_PUNCT = set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')


def is_punct(c):
    return c in ASCII_PUNCT or unicodedata.category(c).startswith("P")


def is_letter(c):
    return unicodedata.category(c).startswith("L")


def is_number(c):
    return unicodedata.category(c).startswith("N")


def is_space(c):
    # PCRE2 \s with Unicode properties: White_Space characters; the texts below use only these.
    return c in " \t\n\r\x0b\x0c\u00a0\u3000\u2009"


def runs(s, pred):
    out, i = [], 0
    while i < len(s):
        j = i
        kind = pred(s[i])
        while j < len(s) and pred(s[j]) == kind:
            j += 1
        out.append(s[i:j])
        i = j
    return out


def gpt2(s):
    out, i, n = [], 0, len(s)
    while i < n:
        m = None
        for c in ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
            if s.startswith(c, i):
                m = i + len(c)
                break
        if m is None:
            for pred in (is_letter, is_number,
                         lambda c: not is_space(c) and not is_letter(c) and not is_number(c)):
                j = i + 1 if s[i] == " " and i + 1 < n and pred(s[i + 1]) else i
                k = j
                while k < n and pred(s[k]):
                    k += 1
                if k > j:
                    m = k
                    break
        if m is None and is_space(s[i]):
            k = i
            while k < n and is_space(s[k]):
                k += 1
            if k == n:
                m = k  # \s+(?!\S) at the end
            elif k - i > 1:
                m = k - 1  # \s+(?!\S) gives back one before a non-space
            else:
                m = k  # \s+
        assert m is not None, (s, i)
        out.append(s[i:m])
        i = m
    return out


def digits(s):
    out, cur = [], ""
    for c in s:
        if is_number(c):
            if cur:
                out.append(cur)
                cur = ""
            out.append(c)
        else:
            cur += c
    if cur:
        out.append(cur)
    return out


def falcon3(text):
    pieces = []
    for p0 in runs(text, is_punct):
        for p1 in gpt2(p0):
            pieces += digits(p1)
    return pieces


TEXTS = [
    "Hello, world!",
    "The year 2024 had 366 days.",
    "3.14159 and 1,000,000",
    "don't won't it's",
    "a  b   c    d",
    "trailing spaces   ",
    "   leading",
    "line\nbreak\n\nand\ttab",
    "x+y=z; a<b>c ^ ~ | `code`",
    "$100 #tag @user 50%",
    "caf\u00e9 na\u00efve \u00fcber",
    "\u4f60\u597d\uff0c\u4e16\u754c\u3002",
    "emoji \U0001F600\U0001F44D!!",
    "<|user|>\nHi<|assistant|>\n",
    "Roman \u2163 and superscript \u00b2 and \u0663\u0664",
    "...!?",
    " !",
    "a\u00a0b",
]

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "families", "falcon3", "pretokenizer_cases.json")
    cases = [{"text": t, "pieces": falcon3(t)} for t in TEXTS]
    for c in cases:
        assert "".join(c["pieces"]) == c["text"]
    with open(out, "w") as f:
        json.dump({"source": "tests/data/make/make_falcon3_pretokenizer_cases.py (unicodedata "
                             "%s)" % unicodedata.unidata_version, "cases": cases},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("%d cases" % len(cases))
