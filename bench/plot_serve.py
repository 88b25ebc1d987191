#!/usr/bin/env python3
"""Draws bench/serve.png from bench/serve_load.sh's results.jsonl.

    python3 bench/plot_serve.py [bench/results/serve-load.jsonl] [bench/serve.png]

Left: aggregate generated tokens/s against concurrent clients, one line per
server. Right: p95 inter-token latency and median time to first token against
clients. Needs python3-matplotlib.
"""
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "bench/results/serve-load.jsonl"
    dst = sys.argv[2] if len(sys.argv) > 2 else "bench/serve.png"
    rows = defaultdict(list)
    with open(src) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if "server" in r and "clients" in r and r.get("agg_tok_s"):
                rows[r["server"]].append(r)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for server, rs in rows.items():
        rs.sort(key=lambda r: r["clients"])
        n = [r["clients"] for r in rs]
        left.plot(n, [r["agg_tok_s"] for r in rs], marker="o", label=server)
        line, = right.plot(n, [r["itl_ms_p95"] for r in rs], marker="o",
                           label=f"{server}: inter-token p95")
        right.plot(n, [r["ttft_ms_med"] for r in rs], marker="s",
                   linestyle="--", color=line.get_color(),
                   label=f"{server}: first token, median")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent streaming clients")
        ax.grid(True, alpha=0.3)
    left.set_ylabel("generated tokens/s, all clients")
    left.set_title("Throughput (128-token prompts, 64 tokens each)")
    right.set_yscale("log")
    right.set_ylabel("ms")
    right.set_title("Latency")
    left.legend()
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()
