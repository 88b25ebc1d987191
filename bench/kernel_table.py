#!/usr/bin/env python3
"""Markdown table of ternary_kernels_bench medians (Google Benchmark JSON).

  build/bench/ternary_kernels_bench --benchmark_filter=AVX3_DL \
      --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_format=json > cold.json
  python3 bench/kernel_table.py cold.json
"""
import json
import re
import sys

rows = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    m = re.match(r"MatMul/(\w+)/(a\d)/(\w+)/M:(\d+)/K:(\d+)/N:(\d+)", b["run_name"])
    if not m:
        continue
    fmt, act, target, M, K, N = m.groups()
    us = b["real_time"] if b["time_unit"] == "us" else b["real_time"] / 1e3
    rows.setdefault((act, int(M), int(K), int(N)), {})[fmt] = us
print("| act | M×K | tokens | i2s µs | tl1 µs (×i2s) | tl2 µs (×i2s) | i2s GMAC/s |")
print("|---|---|---|---|---|---|---|")
for (act, M, K, N), r in sorted(rows.items()):
    i2s = r.get("i2s")
    cell = lambda f: f"{r[f]:.1f} ({r[f] / i2s:.2f})" if f in r and i2s else "–"
    print(f"| {act} | {M}×{K} | {N} | {i2s:.1f} | {cell('tl1')} | {cell('tl2')} | "
          f"{M * K * N / i2s / 1e3:.0f} |")
