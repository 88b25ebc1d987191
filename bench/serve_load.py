#!/usr/bin/env python3
"""serve_load.py: streaming load test of an OpenAI-compatible server's POST /v1/completions.

For each N in --clients, N clients start together (a barrier), each streaming (SSE, stream: true)
one completion of --max-tokens tokens (temperature 0, ignore_eos) from its own prompt of
--prompt-chars characters (127: 128 tokens with BOS on a byte-level vocabulary); prints one JSON line per N:

  clients, gen_tokens, wall_s, agg_tok_s     generated tokens / wall time from the first request
                                             sent to the last one finished (prefill included)
  ttft_ms_med/p95    time to first token: until the first SSE chunk with non-empty text
  itl_ms_med/p95     inter-token latency: gaps between consecutive chunks with non-empty text,
                     all clients pooled (a chunk may carry more than one token: see tok_per_chunk)
  tpot_ms_med        per client (total - ttft) / (tokens - 1), robust to chunks of several tokens
  total_ms_med/p95   request time, first byte sent to the end of the stream
  prompt_tokens      from the server's usage (min..max when the clients differ), else null
  tok_per_chunk      generated tokens / non-empty chunks (1.0: one token per chunk)
  errors             failed requests (HTTP error, broken stream, error event); short: requests that
                     ended with fewer than max_tokens tokens

Tokens counted from `usage.completion_tokens` (asked for with stream_options.include_usage) or
llama.cpp's native final chunk (`tokens_predicted`), else the number of non-empty chunks. Reads both
the OpenAI stream format (choices[0].text) and llama.cpp's native one (`content`, `stop`), which
older llama-server builds send on /v1/completions.

Prompts: a unique tag at the *front* ("r<run>q<k> ", distinct for every request of the process,
warm-up included), then filler text without " t" / " a" (the only merges of the peers' synthetic
byte-level vocabulary), so no two requests share more than the BOS token of a prompt prefix and no
server's prompt cache can reuse a previous request; the tag only changes characters, not the length.

Python 3 standard library only.
  serve_load.py --port 8080 --clients 1,2,4,8,16 [--max-tokens 64] [--prompt-chars 127] [--warmup]
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time

FILLER = "Quick brown foxes jump over lazy dogs; wild owls sing in deep green woods by night. "


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list; None when empty."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def ms(x):
    return None if x is None else round(x * 1000.0, 2)


class Prompts:
    def __init__(self, chars):
        self.chars, self.run, self.k, self.lock = chars, random.randrange(1000, 10000), 0, threading.Lock()

    def next(self):
        with self.lock:
            self.k += 1
            tag = f"r{self.run}q{self.k} "
        text = tag + FILLER * (self.chars // len(FILLER) + 2)
        return text[: self.chars]


def stream_one(host, port, prompt, max_tokens, timeout, extra):
    """One streaming request. Returns a dict with t_send, ttft, chunk times, tokens, prompt_tokens, error."""
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
            "stream": True, "stream_options": {"include_usage": True}}
    body.update(extra)
    data = json.dumps(body).encode()
    r = {"chunks": [], "tokens": None, "tokens_from": None, "prompt_tokens": None, "error": None,
         "text_len": 0}
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    r["t_send"] = time.perf_counter()
    try:
        conn.request("POST", "/v1/completions", body=data,
                     headers={"Content-Type": "application/json", "Accept": "text/event-stream"})
        resp = conn.getresponse()
        if resp.status != 200:
            r["error"] = f"HTTP {resp.status}: {resp.read(300)!r}"
            return r
        while True:
            line = resp.readline()
            if not line:
                break  # end of stream (llama.cpp's native format sends no [DONE])
            now = time.perf_counter()
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # blank separators, ": ping" comments, event: lines
            payload = line[5:].strip()
            if payload == b"[DONE]":
                break
            try:
                ev = json.loads(payload)
            except ValueError:
                r["error"] = f"bad SSE data: {payload[:100]!r}"
                break
            if "error" in ev:
                r["error"] = f"error event: {str(ev['error'])[:200]}"
                break
            text = ""
            ch = ev.get("choices")
            if ch:
                text = ch[0].get("text") or (ch[0].get("delta") or {}).get("content") or ""
            elif "content" in ev:
                text = ev.get("content") or ""
            if text:
                r["chunks"].append(now)
                r["text_len"] += len(text)
            u = ev.get("usage")
            if u:
                r["tokens_from"] = "usage"
                r["tokens"] = u.get("completion_tokens", r["tokens"])
                r["prompt_tokens"] = u.get("prompt_tokens", r["prompt_tokens"])
            if "tokens_predicted" in ev and ev.get("stop"):
                r["tokens_from"] = "tokens_predicted"
                r["tokens"] = ev["tokens_predicted"]
                r["prompt_tokens"] = ev.get("tokens_evaluated", r["prompt_tokens"])
            if ev.get("stop") is True and "choices" not in ev:
                break  # native format: the final chunk
    except Exception as e:  # noqa: BLE001 -- a load test reports, it does not stop
        r["error"] = f"{type(e).__name__}: {e}"
    finally:
        r["t_end"] = time.perf_counter()
        conn.close()
    if r["tokens"] is None:
        r["tokens"] = len(r["chunks"])
        r["tokens_from"] = "chunks"
    return r


def run_level(args, prompts, n):
    res = [None] * n
    barrier = threading.Barrier(n)
    texts = [prompts.next() for _ in range(n)]

    def client(i):
        barrier.wait()
        res[i] = stream_one(args.host, args.port, texts[i], args.max_tokens, args.timeout, args.extra)

    ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    t0 = min(r["t_send"] for r in res)
    t1 = max(r["t_end"] for r in res)
    ok = [r for r in res if not r["error"]]
    ttft, itl, tpot, total = [], [], [], []
    nchunks = 0
    for r in ok:
        c = r["chunks"]
        nchunks += len(c)
        total.append(r["t_end"] - r["t_send"])
        if c:
            ttft.append(c[0] - r["t_send"])
            itl += [b - a for a, b in zip(c, c[1:])]
            if r["tokens"] > 1:
                tpot.append((c[-1] - c[0]) / (r["tokens"] - 1))
    gen = sum(r["tokens"] for r in ok)
    pts = sorted({r["prompt_tokens"] for r in ok if r["prompt_tokens"] is not None})
    out = {
        "clients": n, "max_tokens": args.max_tokens, "gen_tokens": gen, "wall_s": round(t1 - t0, 3),
        "agg_tok_s": round(gen / (t1 - t0), 2) if t1 > t0 else None,
        "ttft_ms_med": ms(pct(ttft, 50)), "ttft_ms_p95": ms(pct(ttft, 95)),
        "itl_ms_med": ms(pct(itl, 50)), "itl_ms_p95": ms(pct(itl, 95)),
        "tpot_ms_med": ms(pct(tpot, 50)),
        "total_ms_med": ms(pct(total, 50)), "total_ms_p95": ms(pct(total, 95)),
        "prompt_tokens": (pts[0] if len(pts) == 1 else f"{pts[0]}..{pts[-1]}") if pts else None,
        "prompt_chars": len(texts[0]),
        "tok_per_chunk": round(gen / nchunks, 3) if nchunks else None,
        "tokens_from": ",".join(sorted({r["tokens_from"] for r in ok})) or None,
        "errors": n - len(ok),
        "short": sum(1 for r in ok if r["tokens"] < args.max_tokens),
    }
    errs = sorted({r["error"] for r in res if r["error"]})
    if errs:
        out["error_samples"] = errs[:3]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--clients", default="1,2,4,8,16", help="comma-separated client counts")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--prompt-chars", type=int, default=127,
                    help="prompt length in characters (127: 128 tokens with BOS on a byte-level "
                         "vocabulary)")
    ap.add_argument("--warmup", action="store_true", help="one short request before the first level")
    ap.add_argument("--timeout", type=float, default=900.0, help="socket timeout per request, s")
    ap.add_argument("--extra", type=json.loads, default={},
                    help="JSON object merged into every request body")
    ap.add_argument("--label", default=None, help="added to every JSON line as 'server'")
    args = ap.parse_args()
    prompts = Prompts(args.prompt_chars)
    if args.warmup:
        w = stream_one(args.host, args.port, prompts.next(), 4, args.timeout, args.extra)
        if w["error"]:
            print(json.dumps({"warmup_error": w["error"]}), flush=True)
            sys.exit(1)
    rc = 0
    for n in [int(x) for x in args.clients.split(",") if x.strip()]:
        out = run_level(args, prompts, n)
        if args.label:
            out = {"server": args.label, **out}
        print(json.dumps(out), flush=True)
        rc |= 1 if out["errors"] else 0
    sys.exit(rc)


if __name__ == "__main__":
    main()
