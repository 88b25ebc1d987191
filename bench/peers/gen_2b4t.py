#!/usr/bin/env python3
"""gen_2b4t.py OUT.gguf [SEED] -- a synthetic GGUF with bitnet-b1.58-2B-4T's exact shapes and metadata.

For speed benchmarks only: the weights are random. Layout follows Microsoft's ggml-model-i2_s.gguf
(docs/model.md §1, docs/formats.md §10.1): arch "bitnet-b1.58", 30 layers, hidden 2560, 20 heads / 5 KV heads (head_dim 128),
ffn 6912, vocab 128256, rope base 500000, rms eps 1e-5, tied F16 token_embd (no output.weight),
sub norms (attn_sub_norm 2560, ffn_sub_norm 6912), 332 tensors.
  - BitLinear weights: ternary codes, about 1/3 each of -1, 0, +1, times one per-tensor scale
    alpha ~ 1/sqrt(2/3*K) (unit-variance outputs for unit-RMS inputs; same order as real absmean
    scales), stored as F16 (exactly ternary; bitnet.cpp's llama-quantize then packs them to I2_S).
  - norms: F32, 1 + 0.05*N(0,1).  token_embd: F16, N(0, 0.02).
  - tokenizer: minimal valid "gpt2" section with 128256 tokens (256 byte-level symbols, filler
    tokens, Llama-3 special ids 128000..128255 as control tokens, bos 128000, eos 128001), 2 merges.
    llama-bench only needs it to load (it feeds random token ids).
Tensors are generated and written one at a time (peak RAM ~2 GB, for token_embd). Output ~4.9 GB.
Needs numpy (Debian: python3-numpy) and the bitnet.cpp fork's gguf-py on PYTHONPATH.
"""
import sys, time
import numpy as np
import gguf

ARCH = "bitnet-b1.58"
D, L, H, HKV, HD, FF, V = 2560, 30, 20, 5, 128, 6912, 128256
out = sys.argv[1]
rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 2025)


def bytes_to_unicode():  # GPT-2 byte-level alphabet (the first 256 tokens)
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return [chr(c) for c in cs]


def ternary(rows, cols):  # codes 0,1,2 -> -a, 0, +a (byte % 3: bias 86/85/85 out of 256)
    a = np.float16(rng.lognormal(0.0, 0.1) / np.sqrt(2.0 / 3.0 * cols))
    codes = np.frombuffer(rng.bytes(rows * cols), dtype=np.uint8) % 3
    return np.array([-a, 0, a], dtype=np.float16)[codes].reshape(rows, cols)


def norm(n):
    return (1.0 + 0.05 * rng.standard_normal(n)).astype(np.float32)


# tensor plan: (name, numpy shape [ne1, ne0], dtype, generator); same names and order as the fork's files
plan = [("token_embd.weight", (V, D), np.float16,
         lambda: (0.02 * rng.standard_normal((V, D), dtype=np.float32)).astype(np.float16))]
for i in range(L):
    b = f"blk.{i}."
    plan += [(b + "attn_norm.weight", (D,), np.float32, lambda: norm(D)),
             (b + "attn_q.weight", (H * HD, D), np.float16, lambda: ternary(H * HD, D)),
             (b + "attn_k.weight", (HKV * HD, D), np.float16, lambda: ternary(HKV * HD, D)),
             (b + "attn_v.weight", (HKV * HD, D), np.float16, lambda: ternary(HKV * HD, D)),
             (b + "attn_sub_norm.weight", (D,), np.float32, lambda: norm(D)),
             (b + "attn_output.weight", (D, H * HD), np.float16, lambda: ternary(D, H * HD)),
             (b + "ffn_norm.weight", (D,), np.float32, lambda: norm(D)),
             (b + "ffn_gate.weight", (FF, D), np.float16, lambda: ternary(FF, D)),
             (b + "ffn_up.weight", (FF, D), np.float16, lambda: ternary(FF, D)),
             (b + "ffn_sub_norm.weight", (FF,), np.float32, lambda: norm(FF)),
             (b + "ffn_down.weight", (D, FF), np.float16, lambda: ternary(D, FF))]
plan.append(("output_norm.weight", (D,), np.float32, lambda: norm(D)))

w = gguf.GGUFWriter(out, ARCH)
w.add_name("bitnet2b")
w.add_description("SYNTHETIC: random ternary weights with bitnet-b1.58-2B-4T shapes, for speed benchmarks only")
w.add_vocab_size(V); w.add_context_length(4096); w.add_embedding_length(D); w.add_block_count(L)
w.add_feed_forward_length(FF); w.add_rope_dimension_count(HD); w.add_head_count(H); w.add_head_count_kv(HKV)
w.add_layer_norm_rms_eps(1e-5); w.add_rope_freq_base(500000.0)
w.add_file_type(1)  # MOSTLY_F16 (the 2-D weights); llama-quantize rewrites it
w.add_quantization_version(2)
toks = bytes_to_unicode() + [f"<tok{i}>" for i in range(256, 128000)]
toks += ["<|begin_of_text|>", "<|end_of_text|>"] + [f"<|reserved_special_token_{i}|>" for i in range(V - 128002)]
w.add_tokenizer_model("gpt2"); w.add_token_list(toks)
w.add_token_scores([0.0] * V); w.add_token_types([1] * 128000 + [3] * (V - 128000))
w.add_token_merges(["Ġ t", "Ġ a"])
w.add_bos_token_id(128000); w.add_eos_token_id(128001); w.add_pad_token_id(128001); w.add_add_bos_token(True)

for name, shape, dt, _ in plan:
    w.add_tensor_info(name, shape, np.dtype(dt), int(np.prod(shape)) * np.dtype(dt).itemsize)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_ti_data_to_file()
t0 = time.time()
for name, shape, dt, make in plan:
    t = make(); assert t.shape == shape and t.dtype == dt, name
    w.write_tensor_data(t)
w.close()
print(f"wrote {out}: {len(plan)} tensors in {time.time() - t0:.0f} s")
