#!/usr/bin/env python3
"""inspect_bn.py FILE.gguf HF_BF16_FOLDER - decode ik_llama IQ2_BN (135) / IQ1_BN (134) tensors per
docs/formats.md §8 and check them against the absmean-ternarised bf16 master weights (inspection only)."""
import sys, os
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors_shim"))
import gguf_min
from safetensors import safe_open

kv, tensors, ds, _ = gguf_min.read(sys.argv[1])
raw = np.fromfile(sys.argv[1], dtype=np.uint8)
hf = safe_open(sys.argv[2] + "/model.safetensors", "pt")
names = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
         "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
k_mult = np.array([81, 27, 9, 3, 1], dtype=np.uint32)
ok = bad = 0
for t in tensors:
    if t["type"] not in (134, 135): continue
    K, M = t["ne"]; off = ds + t["offset"]
    if t["type"] == 135:
        rb = 4 + K // 64 * 16
        rows = raw[off: off + M * rb].reshape(M, rb)
        d = rows[:, :4].copy().view(np.float32)[:, 0]
        q = rows[:, 4:].reshape(M, K // 64, 16)
        # byte j (0..15) of a 64-block holds elements j, j+16, j+32, j+48 at bit shifts 0, 2, 4, 6
        codes = np.stack([(q >> (2 * s)) & 3 for s in range(4)], axis=2)   # [M][blk][s][j]
        w = (codes.astype(np.int8) - 1)
    else:
        rb = 2 + K // 64 * 13
        rows = raw[off: off + M * rb].reshape(M, rb)
        d = rows[:, :2].copy().view(np.float16)[:, 0].astype(np.float32)
        blk = rows[:, 2:].reshape(M, K // 64, 13).astype(np.uint32)
        w = np.zeros((M, K // 64, 64), dtype=np.int8)
        for g in range(4):
            for kk in range(3):
                b = blk[:, :, 3 * g + kk]
                for j in range(5):
                    v = (b * k_mult[j]) & 255
                    w[:, :, 16 * g + 5 * kk + j] = ((v + (v >> 1)) >> 7).astype(np.int8) - 1
        # element 16g+15 = trit g of `extra` (weight 3^g, byte = ceil(256*I/243)); decoded with k_mult[g]
        e = blk[:, :, 12]
        for g in range(4):
            v = (e * k_mult[g]) & 255
            w[:, :, 16 * g + 15] = ((v + (v >> 1)) >> 7).astype(np.int8) - 1
    W = w.reshape(M, K)
    blkid, kind = t["name"].split(".")[1], t["name"].split(".")[2]
    Wm = hf.get_tensor(f"model.layers.{blkid}.{names[kind]}.weight").float()
    s = 1.0 / Wm.abs().mean().clamp_(min=1e-5)
    T = (Wm * s).round().clamp(-1, 1).numpy().astype(np.int8)
    match = (T == W).mean()
    print(f"{t['name']:24s} type={t['type']} K={K} M={M} row_bytes={rb} d[0..2]={d[:3]} 1/s={float(1/s):.7g} ternary_match={match:.6f}")
