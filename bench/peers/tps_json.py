#!/usr/bin/env python3
"""tps_json.py KIND [FILE] [--lone] -- read a benchmark's JSON (stdin or FILE) and print one tokens/s figure.
KIND: tg (decode / generation) or pp (prompt processing / prefill).

Understands llama-bench's `-o json` / `-o jsonl` records (n_prompt, n_gen, samples_ts, avg_ts: the
median of samples_ts is printed) and, for tools whose schema is not fixed (the `ternary bench --json`
of the project), any JSON whose key path names the phase and a rate, e.g. {"tg64": {"tok_per_s": 41.2}},
{"decode_tokens_per_second": 41.2}, {"results": [{"test": "tg64", "t/s": 41.2}]}, {"eval": {"ms_per_token":
24.3}} (converted: 1000/ms). --lone: also accept a single rate field that names no phase, e.g.
{"tokens_per_second": 41.2} (for runs that have only one phase, like -p 0 -n 64). Exits 2 and prints what it saw when it finds nothing or conflicting figures.
"""
import json, re, statistics, sys

args = [a for a in sys.argv[1:] if a != "--lone"]
kind, lone = args[0], "--lone" in sys.argv
text = open(args[1]).read() if len(args) > 1 else sys.stdin.read()
PHASE = {"tg": r"(tg\d*|gen|generat\w*|decod\w*|eval|token_gen\w*|tg_tps|output)",
         "pp": r"(pp\d*|prompt\w*|prefill\w*|prompt_eval|encode|input)"}
OTHER = {"tg": "pp", "pp": "tg"}
RATE = r"(tps|t/s|tok/s|ts|toks|throughput|speed|rate)"          # a key segment that is a rate
RATE_KEY = r"(tok\w*_(per_)?s(ec|econd)?|per_s(ec|econd)?)$"     # ...or a key ending like tok_s, tokens_per_second
BAD = r"(std\w*|stdev|min|max|n|num|nb|count|len\w*|ns|us|time\w*|latency|threads?)"


def docs(t):  # whole JSON, else JSON lines, else the first JSON value found in the text (log lines around it)
    for f in (lambda: [json.loads(t)], lambda: [json.loads(l) for l in t.splitlines() if l.strip().startswith(("{", "["))]):
        try:
            d = f()
            if d: return d
        except ValueError: pass
    for m in re.finditer(r"[\[{]", t):
        try: return [json.JSONDecoder().raw_decode(t[m.start():])[0]]
        except ValueError: pass
    raise ValueError("no JSON value in the text")


def seg(k): return [s for s in re.split(r"[^a-z0-9/]+", str(k).lower()) if s]


def walk(o, path, out):
    if isinstance(o, dict):
        # llama-bench record
        if "samples_ts" in o or "avg_ts" in o:
            is_tg = o.get("n_gen", 0) > 0 and o.get("n_prompt", 0) == 0
            is_pp = o.get("n_prompt", 0) > 0 and o.get("n_gen", 0) == 0
            if (kind == "tg" and is_tg) or (kind == "pp" and is_pp):
                v = statistics.median(o["samples_ts"]) if o.get("samples_ts") else o["avg_ts"]
                out.append((10, path + ["llama-bench"], float(v)))
            return
        test = str(o.get("test", o.get("name", o.get("phase", "")))).lower()
        for k, v in o.items():
            walk(v, path + ([test] if test and k not in ("test", "name", "phase") else []) + [str(k)], out)
    elif isinstance(o, list):
        nums = [x for x in o if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if nums and len(nums) == len(o):
            walk(statistics.median(nums), path, out)
        else:
            for i, x in enumerate(o): walk(x, path + [str(i)], out)
    elif isinstance(o, (int, float)) and not isinstance(o, bool):
        s = [x for p in path for x in seg(p)]
        last = seg(path[-1]) if path else []
        if any(re.fullmatch(PHASE[OTHER[kind]], x) for x in s): return
        named = any(re.fullmatch(PHASE[kind], x) for x in s)
        if not named and not lone: return
        if any(re.fullmatch(BAD, x) for x in last): return
        joined = "_".join(last)
        if re.search(r"ms_?(per|/)_?tok", joined) and o > 0:
            out.append((1 if named else 0, path, 1000.0 / o)); return
        if "ms" in last or "s" == joined: return
        if any(re.fullmatch(RATE, x) for x in last) or re.search(RATE_KEY, joined):
            out.append(((5 if ("median" in s or "avg" in s or "mean" in s or len(last) > 1) else 4) if named else 0, path, float(o)))


cands = []
try:
    for d in docs(text): walk(d, [], cands)
except ValueError as e:
    print(f"not JSON ({e}); got: {text.strip()[:300]!r}"); sys.exit(2)
if not cands:
    print(f"no {kind} tokens/s field found; got: {text.strip()[:300]!r}"); sys.exit(2)
best = max(c[0] for c in cands)
top = sorted({round(c[2], 3) for c in cands if c[0] == best})
if len(top) > 1 and (max(top) - min(top)) > 0.01 * max(top):
    print(f"conflicting {kind} tokens/s fields: " + "; ".join(f"{'.'.join(c[1])}={c[2]}" for c in cands if c[0] == best)); sys.exit(2)
print(f"{top[len(top) // 2]:.2f}")
