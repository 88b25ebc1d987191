#!/usr/bin/env python3
"""inspect_tq.py FILE.gguf HF_BF16_FOLDER
Independent check of the ternary tensors of a GGUF (TQ1_0 = 34, TQ2_0 = 35, I2_S = 36) against the
absmean-ternarised bf16 masters, t = clamp(round(W / mean|W|), -1, 1), alpha = fl32(1/s),
s = fl32(1/mean_f32|W|) (bitnet.cpp utils/preprocess-huggingface-bitnet.py).

TQ payloads are decoded with numpy from the layout written down in docs/formats.md §7 (NOT with
ggml/gguf-py code):
  TQ2_0 block (66 B) = qs[64], fp16 d. Byte qs[j+m] (j in {0,32}, m < 32) holds element 4j+32l+m
        at bits 2l..2l+1 (l = 0..3); code c -> c-1.
  TQ1_0 block (54 B) = qs[48], qh[4], fp16 d. Trit n of a byte: q = (byte*3^n) mod 256, t = (q*3)>>8
        (n = 0 is the most significant trit). qs[m] (m<32): elements m+32n (n=0..4);
        qs[32+m] (m<16): elements 160+m+16n; qh[j] (j<4): elements 240+j+4n (n=0..3).
Checks per tensor: codes == t everywhere; d == fp16(alpha) for every block with a nonzero code
(0 for an all-zero block); then, as a cross-check only, the fork's gguf-py TQ1_0/TQ2_0
dequantize_blocks (on PYTHONPATH) must give the same values, and its quantize_blocks applied to
t*alpha (float32, the f32 GGUF's content) must give the same bytes as the C llama-quantize.
I2_S: canonical x86 layout (see inspect_i2s.py). Other types: listed only."""
import os, sys
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors_shim"))  # if no safetensors
import gguf_min
from safetensors import safe_open

TYPES = {0: "F32", 1: "F16", 8: "Q8_0", 14: "Q6_K", 34: "TQ1_0", 35: "TQ2_0", 36: "I2_S"}
NAMES = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
         "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
         "ffn_down": "mlp.down_proj"}

def decode_tq2_0(b):                      # b: uint8 [nblk, 66] -> codes int8 [nblk, 256], d fp16 [nblk]
    qs, d = b[:, :64], b[:, 64:66].copy().view(np.float16)[:, 0]
    out = np.empty((b.shape[0], 256), np.int8)
    for j in (0, 32):
        for l in range(4):
            for m in range(32):
                out[:, 4 * j + 32 * l + m] = ((qs[:, j + m] >> (2 * l)) & 3).astype(np.int8) - 1
    return out, d

def trit(byte, n):
    q = (byte.astype(np.uint32) * 3 ** n) & 255
    return ((q * 3) >> 8).astype(np.int8)

def decode_tq1_0(b):                      # b: uint8 [nblk, 54]
    qs, qh, d = b[:, :48], b[:, 48:52], b[:, 52:54].copy().view(np.float16)[:, 0]
    out = np.full((b.shape[0], 256), 99, np.int8)
    for m in range(32):
        for n in range(5): out[:, m + 32 * n] = trit(qs[:, m], n) - 1
    for m in range(16):
        for n in range(5): out[:, 160 + m + 16 * n] = trit(qs[:, 32 + m], n) - 1
    for j in range(4):
        for n in range(4): out[:, 240 + j + 4 * n] = trit(qh[:, j], n) - 1
    assert (out != 99).all()
    return out, d

def decode_i2s(b, K, M):
    N = K * M
    blk = b[: N // 4].reshape(-1, 32)
    codes = np.stack([(blk >> (6 - 2 * g)) & 3 for g in range(4)], axis=1).reshape(-1)
    return (codes.astype(np.int8) - 1).reshape(M, K), b[N // 4: N // 4 + 4].copy().view(np.float32)[0]

path, hfdir = sys.argv[1], sys.argv[2]
kv, tensors, data_start, ver = gguf_min.read(path)
raw = np.fromfile(path, dtype=np.uint8)
hf = safe_open(os.path.join(hfdir, "model.safetensors"), "pt")
try:
    from gguf import quants as gq
    from gguf.constants import GGMLQuantizationType as GQT
except Exception as e:  # cross-check is optional
    gq = None; print("gguf-py not importable, no cross-check:", e)
print(f"{os.path.basename(path)}: GGUF v{ver}, {len(kv)} kv, {len(tensors)} tensors, data at {data_start}, "
      f"general.file_type={kv.get('general.file_type')}")
offs = sorted(t["offset"] for t in tensors) + [len(raw) - data_start]
n_tern = n_ok = 0
for t in tensors:
    ne, ty = t["ne"], t["type"]; off = data_start + t["offset"]
    span = min(x for x in offs if x > t["offset"]) - t["offset"]
    line = f"{t['name']:26s} {TYPES.get(ty, ty):>5}({ty}) ne={ne} span={span}"
    if ty in (34, 35, 36):
        n_tern += 1
        K, M = ne
        _, l, kind = t["name"].split(".")[:3]
        W = hf.get_tensor(f"model.layers.{l}.{NAMES[kind]}.weight").float()
        s = 1.0 / W.abs().mean().clamp_(min=1e-5)
        T = (W * s).round().clamp(-1, 1).numpy().astype(np.int8)          # [M, K]
        alpha = np.float32((1.0 / s).item())       # fl32(1/s): the value of a +1 weight in the f32 GGUF
        if ty == 36:
            codes, sc = decode_i2s(raw[off: off + K * M // 4 + 32], K, M)
            ok = bool((codes == T).all()) and sc == alpha
            line += f" codes_match={bool((codes == T).all())} scale={sc!r} alpha={alpha!r} scale_ok={sc == alpha}"
        else:
            bs = 54 if ty == 34 else 66
            nblk = K * M // 256
            b = raw[off: off + nblk * bs].reshape(nblk, bs)
            codes, d = (decode_tq1_0 if ty == 34 else decode_tq2_0)(b)
            Tb = T.reshape(nblk, 256)
            nz = (Tb != 0).any(axis=1)
            d_exp = np.where(nz, np.float16(alpha), np.float16(0)).astype(np.float16)
            cm = bool((codes == Tb).all()); dm = bool((d.view(np.uint16) == d_exp.view(np.uint16)).all())
            ok = cm and dm and span == nblk * bs
            line += (f" blocks={nblk} codes_match={cm} d_ok={dm} d={float(d[0])!r} fp16(alpha)={float(np.float16(alpha))!r}"
                     f" alpha={alpha!r} zero_blocks={int((~nz).sum())} span_ok={span == nblk * bs}")
            if gq is not None:
                q = GQT.TQ1_0 if ty == 34 else GQT.TQ2_0
                deq = gq.dequantize(b.reshape(M, -1), q).reshape(nblk, 256)
                mine = codes.astype(np.float32) * d.astype(np.float32)[:, None]
                xin = (Tb.astype(np.float32) * alpha).reshape(M, K)            # f32 GGUF content
                requant = gq.quantize(xin, q).reshape(nblk, bs)
                g1 = bool((deq == mine).all()); g2 = bool((requant == b).all())
                ok = ok and g1 and g2
                line += f" gguf-py_dequant_same={g1} gguf-py_requant_bytes_same={g2}"
        n_ok += ok
        line += "  OK" if ok else "  MISMATCH"
    print(line)
print(f"ternary tensors: {n_tern}, exact: {n_ok}")
