#!/usr/bin/env python3
"""Checks that include/ternary reads as its layers: every header includes
only headers of its own layer or of the layers below it.

    util  <-  simd, io  <-  quant, tokenizer  <-  kernels  <-  nn  <-  model
          <-  runtime

util: plain C++ helpers. simd: Highway configuration, the run-time target
switch, CPU detection. io: files (GGUF, safetensors, JSON configs). quant:
the numerics of packing and quantization. tokenizer: text <-> ids.
kernels: per-target ops, their scalar references (kernels/ref) and the one
dispatch point. nn: layers. model: the model, its loaders and generation.
runtime: the high-level Engine (text in, text out) and its light header.
Headers at the top (ternary/ternary.h, version.h) may include anything.

Usage: check_layers.py [include-dir]   (exit 1 and one line per violation)
"""
import os
import re
import sys

ALLOWED = {
    "util": {"util"},
    "simd": {"util", "simd"},
    "io": {"util", "io"},
    "quant": {"util", "simd", "io", "quant"},
    "tokenizer": {"util", "io", "tokenizer"},
    "kernels": {"util", "simd", "quant", "kernels"},
    "nn": {"util", "simd", "quant", "kernels", "nn"},
    "model": {"util", "simd", "io", "quant", "tokenizer", "kernels", "nn",
              "model"},
    "runtime": {"util", "simd", "io", "quant", "tokenizer", "kernels", "nn",
                "model", "runtime"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"ternary/([A-Za-z0-9_]+)/', re.M)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "include")
    base = os.path.join(root, "ternary")
    violations = 0
    headers = 0
    for layer in sorted(os.listdir(base)):
        folder = os.path.join(base, layer)
        if not os.path.isdir(folder):
            continue
        if layer not in ALLOWED:
            print(f"{folder}: a layer this check does not know; add it")
            violations += 1
            continue
        for dirpath, _, files in os.walk(folder):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                headers += 1
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    if m.group(1) not in ALLOWED[layer]:
                        line = text.count("\n", 0, m.start()) + 1
                        rel = os.path.relpath(path, root)
                        print(f"{rel}:{line}: {layer}/ includes "
                              f"{m.group(1)}/ (an upward include)")
                        violations += 1
    print(f"check_layers: {headers} headers, {violations} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
