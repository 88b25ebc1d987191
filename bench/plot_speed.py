#!/usr/bin/env python3
"""Draws bench/speed.png from bench/speed.sh's JSON lines.

    python3 bench/plot_speed.py [bench/results/speed.jsonl] [bench/speed.png]

Left: decode (tg64) and prefill (pp128) tokens/s against threads, with the
peers' figures measured on this machine kind (issue #7's table,
bench/peers/RESULTS.md). Right: prefill tokens/s against prompt
length, one line per thread count. Needs python3-matplotlib.
"""
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Medians of 3 runs of the peers' llama-bench, 2B4T shape, this machine kind.
PEERS = {
    "tg64 F16 head": {"bitnet.cpp I2_S": {1: 15.54, 2: 27.87},
                      "ik_llama IQ2_BN": {1: 17.34, 2: 26.52}},
    "tg64 Q6_K head": {"bitnet.cpp I2_S": {1: 19.16, 2: 34.70},
                       "ik_llama IQ2_BN": {1: 22.16, 2: 36.95}},
    "pp128": {"bitnet.cpp I2_S": {1: 58.4, 2: 93.5},
              "ik_llama IQ2_BN": {1: 101.2, 2: 165.3}},
}


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "bench/results/speed.jsonl"
    dst = sys.argv[2] if len(sys.argv) > 2 else "bench/speed.png"
    runs = [json.loads(line) for line in open(src) if line.strip()]
    by_threads = defaultdict(dict)  # series -> threads -> tok/s
    by_prompt = defaultdict(dict)   # threads -> prompt length -> tok/s
    for r in runs:
        t = r["threads"]
        for key, value in r.items():
            if not key.endswith("_tps") or key.endswith("runs_tps"):
                continue
            test = key[:-4]
            if test.startswith("tg"):
                head = "Q8 head" if r["head"] == "q8" else "F16 head"
                by_threads[f"{test} {head}"][t] = value
            else:
                by_prompt[t][int(test[2:])] = value
                if test == "pp128":
                    by_threads["pp128"][t] = value

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, pts in sorted(by_threads.items()):
        xs = sorted(pts)
        a.plot(xs, [pts[x] for x in xs], marker="o", label=f"ternary {name}")
    markers = iter("sDv^<>phX")
    for test, peers in PEERS.items():
        for peer, pts in peers.items():
            xs = sorted(pts)
            a.plot(xs, [pts[x] for x in xs], linestyle="none",
                   marker=next(markers), label=f"{peer} {test}")
    a.set_xlabel("threads")
    a.set_ylabel("tokens/s")
    a.set_title("2B4T shape: decode and prefill vs threads")
    a.set_yscale("log")
    a.legend(fontsize=7)
    a.grid(True, alpha=0.3)
    for t, pts in sorted(by_prompt.items()):
        xs = sorted(pts)
        b.plot(xs, [pts[x] for x in xs], marker="o", label=f"{t} threads")
    b.set_xscale("log", base=2)
    b.set_xlabel("prompt tokens")
    b.set_ylabel("prefill tokens/s")
    b.set_title("2B4T shape: prefill vs prompt length")
    b.legend()
    b.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print("wrote", dst)


if __name__ == "__main__":
    main()
