#!/usr/bin/env python3
"""inspect_i2s.py FILE.gguf [HF_FOLDER]
Lists the tensors of a GGUF (type, dims, offset, payload bytes) and, for I2_S tensors, decodes
the canonical x86 layout (blocks of 128 elements in 32 bytes, element j at byte j%32, shift
6-2*(j//32); codes 0,1,2 -> -1,0,+1; float32 scale right after the N/4 code bytes).
With HF_FOLDER (bf16 master weights), re-derives the absmean ternary weights and checks codes and
scale against them. Uses the bitnet.cpp fork's gguf-py (PYTHONPATH)."""
import sys, json
import numpy as np
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_min

TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 8: "Q8_0", 14: "Q6_K", 34: "TQ1_0", 35: "TQ2_0", 36: "I2_S", 134: "IQ1_BN", 135: "IQ2_BN"}
path = sys.argv[1]
kv, tensors, data_start, ver = gguf_min.read(path)
print(f"GGUF v{ver}, {len(kv)} kv, {len(tensors)} tensors, data section at byte {data_start}")
for k, v in kv.items():
    if isinstance(v, list) and len(v) > 8: v = f"[{len(v)} items: {v[:3]}...]"
    print(f"  kv {k} = {v}")
raw = np.memmap(path, dtype=np.uint8, mode="r")
hf = None
if len(sys.argv) > 2:
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors_shim"))
    from safetensors import safe_open
    hf = safe_open(sys.argv[2] + "/model.safetensors", "pt")
names = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
         "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
offs = sorted(t["offset"] for t in tensors) + [len(raw) - data_start]
for t in tensors:
    ne = t["ne"]; ty = t["type"]; off = data_start + t["offset"]
    nxt = min(x for x in offs if x > t["offset"])
    line = f"{t['name']:28s} {TYPES.get(ty, ty)}({ty}) ne={ne} rel_off={t['offset']} span={nxt - t['offset']}"
    if ty == 36:
        K, M = ne[0], ne[1]; N = K * M
        b = np.asarray(raw[off: off + N // 4 + 32])
        scale = b[N // 4: N // 4 + 4].view(np.float32)[0]
        pad = b[N // 4 + 4:]
        blk = b[: N // 4].reshape(-1, 32)
        codes = np.stack([(blk >> (6 - 2 * g)) & 3 for g in range(4)], axis=1).reshape(-1)  # [block][group][pos]
        w = (codes.astype(np.int8) - 1).reshape(M, K)
        line += f" scale={scale:.7g} pad_zero={bool((pad == 0).all())} codes3={(codes == 3).sum()}"
        if hf is not None:
            blkid, kind = t["name"].split(".")[1], t["name"].split(".")[2]
            W = hf.get_tensor(f"model.layers.{blkid}.{names[kind]}.weight").float()
            s = 1.0 / W.abs().mean().clamp_(min=1e-5)
            T = (W * s).round().clamp(-1, 1)
            line += f" ternary_match={bool((T.numpy().astype(np.int8) == w).all())} 1/s={float(1/s):.7g}"
    print(line)
