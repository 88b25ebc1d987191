#!/usr/bin/env python3
"""plot_families.py [FAMILIES.jsonl ...] [-o bench/families.png] [--md]
Reads bench/family_bench.sh's records (default: the newest bench/results/families-*.jsonl) and draws
bench/families.png: decode (tg) and prefill (pp) tokens/s against parameters (log x), ternary and
bitnet.cpp at each thread count; bytes read per decoded token against parameters; and decode tokens/s x
bytes/token, the weight bandwidth decode reaches (GB/s). --md prints the README table (mean of the
repetitions +- their standard deviation, as llama-bench prints). Needs matplotlib."""
import glob
import json
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


def load(paths):
    recs = []
    for p in paths:
        with open(p) as f:
            recs += [json.loads(l) for l in f if l.strip()]
    return recs


def table(recs):
    """{(shape, engine, threads): {"pp": (avg, sd), "tg": (avg, sd)}} and per-shape facts."""
    runs, shapes, skipped = defaultdict(dict), {}, {}
    for r in recs:
        shapes[r["shape"]] = (r["params"], r["bytes_per_token"])
        if "skipped" in r:
            skipped[r["shape"]] = r["skipped"]
            continue
        kind = "pp" if r["n_prompt"] else "tg"
        runs[(r["shape"], r["engine"], r["n_threads"])][kind] = (r["avg_ts"], r["stddev_ts"], r.get("others_during", 0.0))
    return runs, shapes, skipped


def main():
    args = sys.argv[1:]
    out = os.path.join(HERE, "families.png")
    if "-o" in args:
        i = args.index("-o"); out = args[i + 1]; args = args[:i] + args[i + 2:]
    md = "--md" in args
    args = [a for a in args if a != "--md"]
    paths = args or sorted(glob.glob(os.path.join(HERE, "results", "families-*.jsonl")))[-1:]
    recs = load(paths)
    runs, shapes, skipped = table(recs)
    cpu = next((r.get("cpu") for r in recs if r.get("cpu")), "?")
    fam = next((f"family {r['cpu_family']} model {r['cpu_model']}" for r in recs if "cpu_family" in r), "")
    order = sorted(shapes, key=lambda s: shapes[s][0])
    threads = sorted({k[2] for k in runs})
    engines = [e for e in ("ternary", "bitnet.cpp") if any(k[1] == e for k in runs)]

    if md:
        head = "| shape | params | bytes/token | threads | " + " | ".join(
            f"{e} {k}" for k in ("decode tg", "prefill pp") for e in engines) + " | ternary / bitnet.cpp decode | prefill |"
        print(head)
        print("|---|---:|---:|---:|" + "---:|" * (2 * len(engines) + 2))
        # *: other processes used >= 0.3 cores during the run (kept after RETRY attempts)
        fmt = lambda v: (f"{v[0]:.2f} ± {v[1]:.2f}" + (" *" if v[2] >= 0.3 else "")) if v else "—"
        for s in order:
            for t in threads:
                cells = []
                for k in ("tg", "pp"):
                    for e in engines:
                        v = runs.get((s, e, t), {}).get(k)
                        cells.append(fmt(v) if v or s not in skipped or e != "bitnet.cpp" else "skipped")
                ratio = []
                for k in ("tg", "pp"):
                    a, b = runs.get((s, "ternary", t), {}).get(k), runs.get((s, "bitnet.cpp", t), {}).get(k)
                    ratio.append(f"{a[0] / b[0]:.2f}×" if a and b else "—")
                print(f"| {s} | {shapes[s][0] / 1e9:.2f} B | {shapes[s][1] / 1e9:.3f} GB | {t} | "
                      + " | ".join(cells) + " | " + " | ".join(ratio) + " |")
        for s, why in skipped.items():
            print(f"\nbitnet.cpp skips {s}: {why}")
        if any(v[2] >= 0.3 for r in runs.values() for v in r.values()):
            print("\n*: other processes used >= 0.3 cores during that run")
        return

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    colors = {"ternary": "tab:blue", "bitnet.cpp": "tab:orange"}
    styles = {1: ("o", "--"), 2: ("s", "-")}
    for ax, kind, title in ((axes[0][0], "tg", "decode (tg) tokens/s"), (axes[0][1], "pp", "prefill (pp) tokens/s")):
        for e in engines:
            for t in threads:
                pts = [(shapes[s][0], runs[(s, e, t)][kind][0], runs[(s, e, t)][kind][1]) for s in order
                       if kind in runs.get((s, e, t), {})]
                if not pts:
                    continue
                m, ls = styles.get(t, ("^", ":"))
                ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], marker=m,
                            linestyle=ls, color=colors[e], label=f"{e}, {t} thread{'s' if t > 1 else ''}", capsize=3)
        ax.set_xscale("log"); ax.set_yscale("log"); ax.set_title(title); ax.set_xlabel("parameters")
        ax.yaxis.set_major_formatter(ScalarFormatter()); ax.yaxis.set_minor_formatter(ScalarFormatter())
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.grid(True, which="both", alpha=0.3); ax.legend(fontsize=8)
    ax = axes[1][0]
    xs = [shapes[s][0] for s in order]
    ax.plot(xs, [shapes[s][1] / 1e9 for s in order], "o-", color="tab:gray")
    for s in order:
        ax.annotate(s, (shapes[s][0], shapes[s][1] / 1e9), fontsize=8, xytext=(4, -10), textcoords="offset points")
    ax.set_xscale("log"); ax.set_yscale("log"); ax.set_xlabel("parameters")
    ax.yaxis.set_major_formatter(ScalarFormatter()); ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_title("weight bytes per decoded token (GB), both engines:\n2-bit ternary + F16 head + F32 norms", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax = axes[1][1]
    for e in engines:
        for t in threads:
            pts = [(shapes[s][0], runs[(s, e, t)]["tg"][0] * shapes[s][1] / 1e9) for s in order
                   if "tg" in runs.get((s, e, t), {})]
            if pts:
                m, ls = styles.get(t, ("^", ":"))
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=m, linestyle=ls, color=colors[e],
                        label=f"{e}, {t} thread{'s' if t > 1 else ''}")
    ax.set_xscale("log"); ax.set_xlabel("parameters")
    ax.set_title("decode: tokens/s × bytes/token = weight GB/s read", fontsize=10)
    ax.grid(True, which="both", alpha=0.3); ax.legend(fontsize=8)
    notes = "; ".join(f"bitnet.cpp skips {s} (ternary only)" for s in skipped)
    fig.suptitle(f"Model families, random weights (bench/family_bench.sh): {cpu} ({fam})"
                 + (f"\n{notes}" if notes else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out} from {', '.join(paths)}")


if __name__ == "__main__":
    main()
