#!/usr/bin/env python3
"""gen_shape.py SHAPE OUT.gguf [SEED] [--layers N] -- a synthetic F16 GGUF with a published ternary model's
exact shapes and metadata, for the peers' speed benchmarks (bitnet.cpp's llama-quantize packs it to I2_S).

SHAPE is one of `ternary bench --shape`'s names (examples/cli/bench.h, kBenchShapes), with the GGUF
architecture and graph bitnet.cpp's llama.cpp fork runs for that family:
  large, 3b     1bitLLM bitnet_b1_58-large / -3B: arch "bitnet" (the fork's build_bitnet: sub-norms
                attn_sub_norm [hidden] and ffn_sub_norm [ffn], SiLU gated FFN, head = tied token_embd)
  2b4t          microsoft bitnet-b1.58-2B-4T: arch "bitnet-b1.58" (build_bitnet_158: sub-norms, relu^2
                gated FFN, tied token_embd); the file gen_2b4t.py has always written, byte for byte
  llama3-8b, falcon3-1b, falcon3-3b, falcon3-7b, falcon3-10b
                HF1BitLLM Llama3-8B-1.58 / tiiuae Falcon3-*-1.58bit: arch "llama" (no sub-norms, SiLU,
                untied F16 output.weight), as Microsoft's and tiiuae's GGUFs of them
Weights (docs/model.md; random, for speed only):
  - BitLinear weights: ternary codes, about 1/3 each of -1, 0, +1, times one per-tensor scale
    alpha ~ 1/sqrt(2/3*K) (unit-variance outputs for unit-RMS inputs), stored as F16 (exactly ternary).
  - norms: F32, 1 + 0.05*N(0,1).  token_embd (and output.weight where untied): F16, N(0, 0.02).
  - tokenizer: a minimal valid "gpt2" section of the shape's vocabulary size: 256 byte-level symbols,
    filler tokens "<tokN>", control tokens from id 128000 (Llama-3's <|begin_of_text|>, <|end_of_text|>,
    <|reserved_special_token_N|>; for a vocabulary of at most 128000 the last two ids), 2 merges.
    llama-bench only needs it to load (it feeds random token ids).
--layers N: only the first N blocks (block_count N; for quick checks such as whether a quantizer takes
a shape's matrices). Tensors are generated and written one at a time (peak RAM ~2 GB, the embedding).
F16 sizes: large 1.5 GB, 2b4t 4.9 GB, 3b 6.7 GB, falcon3-1b 3.7 GB, falcon3-3b 6.3 GB, falcon3-7b 15 GB,
llama3-8b 16 GB, falcon3-10b 21 GB. Needs numpy and the bitnet.cpp fork's gguf-py on PYTHONPATH.
"""
import sys
import time

import numpy as np

# name: arch, hidden D, layers L, heads H, kv heads HKV, head_dim HD, ffn FF, vocab V, context, rope theta, eps
# (the same figures as examples/cli/bench.h's kBenchShapes)
SHAPES = {
    "large": ("bitnet", 1536, 24, 16, 16, 96, 4096, 32002, 2048, 10000.0, 1e-5),
    "3b": ("bitnet", 3200, 26, 32, 32, 100, 8640, 32002, 2048, 10000.0, 1e-5),
    "2b4t": ("bitnet-b1.58", 2560, 30, 20, 5, 128, 6912, 128256, 4096, 500000.0, 1e-5),
    "llama3-8b": ("llama", 4096, 32, 32, 8, 128, 14336, 128256, 8192, 500000.0, 1e-5),
    "falcon3-1b": ("llama", 2048, 18, 8, 4, 256, 8192, 131072, 8192, 1000042.0, 1e-6),
    "falcon3-3b": ("llama", 3072, 22, 12, 4, 256, 9216, 131072, 4096, 1000042.0, 1e-6),
    "falcon3-7b": ("llama", 3072, 28, 12, 4, 256, 23040, 131072, 8192, 1000042.0, 1e-6),
    "falcon3-10b": ("llama", 3072, 40, 12, 4, 256, 23040, 131072, 32768, 1000042.0, 1e-6),
}
NAMES = {"large": "bitnet_b1_58-large", "3b": "bitnet_b1_58-3B", "2b4t": "bitnet2b"}


def bytes_to_unicode():  # GPT-2 byte-level alphabet (the first 256 tokens)
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return [chr(c) for c in cs]


def counts(shape):
    """(ternary weights, F16 head / embedding values read per token, F32 norm values, all parameters)
    of a shape: what one decoded token reads (the embedding row aside) and the model's size."""
    arch, D, L, H, HKV, HD, FF, V = SHAPES[shape][:8]
    ternary = L * (D * H * HD * 2 + 2 * D * HKV * HD + 3 * D * FF)
    norms = L * (2 * D + (H * HD + FF if arch != "llama" else 0)) + D
    tied = arch != "llama"
    return ternary, V * D, norms, ternary + V * D * (1 if tied else 2) + norms


def plan(shape, rng, layers=None):
    """[(name, numpy shape [ne1, ne0], dtype, generator)] in the fork's tensor order."""
    arch, D, L, H, HKV, HD, FF, V = SHAPES[shape][:8]
    sub = arch != "llama"

    def ternary(rows, cols):  # codes 0,1,2 -> -a, 0, +a (byte % 3: bias 86/85/85 out of 256)
        a = np.float16(rng.lognormal(0.0, 0.1) / np.sqrt(2.0 / 3.0 * cols))
        codes = np.frombuffer(rng.bytes(rows * cols), dtype=np.uint8) % 3
        return np.array([-a, 0, a], dtype=np.float16)[codes].reshape(rows, cols)

    def norm(n):
        return (1.0 + 0.05 * rng.standard_normal(n)).astype(np.float32)

    def embedding():
        return (0.02 * rng.standard_normal((V, D), dtype=np.float32)).astype(np.float16)

    p = [("token_embd.weight", (V, D), np.float16, embedding)]
    for i in range(L if layers is None else layers):
        b = f"blk.{i}."
        p += [(b + "attn_norm.weight", (D,), np.float32, lambda: norm(D)),
              (b + "attn_q.weight", (H * HD, D), np.float16, lambda: ternary(H * HD, D)),
              (b + "attn_k.weight", (HKV * HD, D), np.float16, lambda: ternary(HKV * HD, D)),
              (b + "attn_v.weight", (HKV * HD, D), np.float16, lambda: ternary(HKV * HD, D))]
        if sub:
            p.append((b + "attn_sub_norm.weight", (H * HD,), np.float32, lambda: norm(H * HD)))
        p += [(b + "attn_output.weight", (D, H * HD), np.float16, lambda: ternary(D, H * HD)),
              (b + "ffn_norm.weight", (D,), np.float32, lambda: norm(D)),
              (b + "ffn_gate.weight", (FF, D), np.float16, lambda: ternary(FF, D)),
              (b + "ffn_up.weight", (FF, D), np.float16, lambda: ternary(FF, D))]
        if sub:
            p.append((b + "ffn_sub_norm.weight", (FF,), np.float32, lambda: norm(FF)))
        p.append((b + "ffn_down.weight", (D, FF), np.float16, lambda: ternary(D, FF)))
    p.append(("output_norm.weight", (D,), np.float32, lambda: norm(D)))
    if not sub:
        p.append(("output.weight", (V, D), np.float16, embedding))
    return p


def write(shape, out, seed=2025, layers=None):
    import gguf  # the bitnet.cpp fork's gguf-py
    arch, D, L, H, HKV, HD, FF, V, ctx, theta, eps = SHAPES[shape]
    rng = np.random.default_rng(seed)
    tensors = plan(shape, rng, layers)
    w = gguf.GGUFWriter(out, arch)
    w.add_name(NAMES.get(shape, shape))
    w.add_description(f"SYNTHETIC: random ternary weights with {shape} shapes, for speed benchmarks only"
                      if shape != "2b4t" else
                      "SYNTHETIC: random ternary weights with bitnet-b1.58-2B-4T shapes, for speed benchmarks only")
    w.add_vocab_size(V); w.add_context_length(ctx); w.add_embedding_length(D)
    w.add_block_count(L if layers is None else layers)
    w.add_feed_forward_length(FF); w.add_rope_dimension_count(HD); w.add_head_count(H); w.add_head_count_kv(HKV)
    w.add_layer_norm_rms_eps(eps); w.add_rope_freq_base(theta)
    w.add_file_type(1)  # MOSTLY_F16 (the 2-D weights); llama-quantize rewrites it
    w.add_quantization_version(2)
    first = 128000 if V > 128000 else V - 2  # the control tokens: Llama-3's ids where the vocabulary has them
    toks = bytes_to_unicode() + [f"<tok{i}>" for i in range(256, first)]
    toks += ["<|begin_of_text|>", "<|end_of_text|>"] + [f"<|reserved_special_token_{i}|>" for i in range(V - first - 2)]
    w.add_tokenizer_model("gpt2"); w.add_token_list(toks)
    w.add_token_scores([0.0] * V); w.add_token_types([1] * first + [3] * (V - first))
    w.add_token_merges(["Ġ t", "Ġ a"])
    w.add_bos_token_id(first); w.add_eos_token_id(first + 1); w.add_pad_token_id(first + 1); w.add_add_bos_token(True)
    for name, shp, dt, _ in tensors:
        w.add_tensor_info(name, shp, np.dtype(dt), int(np.prod(shp)) * np.dtype(dt).itemsize)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_ti_data_to_file()
    t0 = time.time()
    for name, shp, dt, make in tensors:
        t = make(); assert t.shape == shp and t.dtype == dt, name
        w.write_tensor_data(t)
    w.close()
    print(f"wrote {out}: {shape}, {len(tensors)} tensors in {time.time() - t0:.0f} s")


def main(argv):
    layers = None
    if "--layers" in argv:
        i = argv.index("--layers"); layers = int(argv[i + 1]); argv = argv[:i] + argv[i + 2:]
    if len(argv) < 2 or argv[0] not in SHAPES:
        sys.exit(__doc__.split("\n\n")[0] + "\nshapes: " + ", ".join(SHAPES))
    write(argv[0], argv[1], int(argv[2]) if len(argv) > 2 else 2025, layers)


if __name__ == "__main__":
    main(sys.argv[1:])
