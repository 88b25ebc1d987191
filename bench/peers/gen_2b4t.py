#!/usr/bin/env python3
"""gen_2b4t.py OUT.gguf [SEED] -- a synthetic GGUF with bitnet-b1.58-2B-4T's exact shapes and metadata.

For speed benchmarks only: the weights are random. Layout follows Microsoft's ggml-model-i2_s.gguf
(docs/model.md §1, docs/formats.md §10.1): arch "bitnet-b1.58", 30 layers, hidden 2560, 20 heads / 5 KV heads (head_dim 128),
ffn 6912, vocab 128256, rope base 500000, rms eps 1e-5, tied F16 token_embd (no output.weight),
sub norms (attn_sub_norm 2560, ffn_sub_norm 6912), 332 tensors. Output ~4.9 GB.
Now `gen_shape.py 2b4t OUT.gguf [SEED]` (the same bytes); see there for the weights and the tokenizer.
Needs numpy (Debian: python3-numpy) and the bitnet.cpp fork's gguf-py on PYTHONPATH.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_shape  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.split("\n\n")[0])
    gen_shape.main(["2b4t"] + sys.argv[1:])
