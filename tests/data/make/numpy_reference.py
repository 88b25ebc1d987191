"""The independent reference forward pass of the ternary model families, in numpy.

Written from transformers' modeling_llama.py, modeling_bitnet.py and integrations/bitnet.py and from
1bitLLM's modeling_bitnet.py / utils_quant.py, never from ternary's C++. Every family is the same Llama
decoder; what differs is passed in: the BitLinear (how codes and scales are computed), the FFN
activation, the sub-norms and the head. Arithmetic is float64, except where torch's float32 decides an
integer code (activation and weight quantization), which is done in float32 exactly as torch does it.

Rounding ties: the float32 codes are what ternary computes from the same float32 input, but the
reference's input differs from ternary's by float rounding (~1e-6 relative). A code whose value lies
within that of a rounding boundary (k + 0.5) could round the other way, so the fixture scripts try seeds
until every code is at least a margin from a boundary (Margin).

Used by make_llama_bitnet.py, make_1bitllm.py and reference_distance.py. Needs only numpy."""
import json
import os
import struct

import numpy as np


class Margin:
    """The smallest relative distance of a float32 value (before rounding) to a rounding boundary."""

    def __init__(self):
        self.value = np.inf

    def see(self, v):
        v64 = np.asarray(v, dtype=np.float64)
        gap = np.abs(v64 - np.floor(v64) - 0.5) / np.maximum(np.abs(v64), 1.0)
        self.value = min(self.value, float(gap.min()))


def act_quant(x, margin):
    """Per-token int8 absmax activation quantization in float32, as torch evaluates transformers'
    BitLinear.activation_quant and 1bitLLM's utils_quant.activation_quant (127 / t is t.reciprocal()
    * 127): s = fl32(127 * fl32(1 / max(max|x|, 1e-5))), q = clamp(rne(fl32(x * s)), -128, 127).
    Returns the codes and the scales as float64, per row."""
    x32 = x.astype(np.float32)
    m = np.maximum(np.abs(x32).max(axis=-1, keepdims=True), np.float32(1e-5))
    s = np.float32(127.0) * (np.float32(1.0) / m)
    v = x32 * s
    margin.see(v)
    q = np.clip(np.rint(v), -128, 127)
    return q.astype(np.float64), s.astype(np.float64)


def rms_norm(x, g, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * g


def rope(x, pos, theta):
    """rotate_half RoPE (modeling_llama.py apply_rotary_pos_emb) on [n, heads, head_dim]."""
    hd = x.shape[-1]
    inv_freq = 1.0 / (theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    freqs = np.outer(pos, inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)[:, None, :]
    x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
    rotated = np.concatenate([-x2, x1], axis=-1)
    return x * np.cos(emb) + rotated * np.sin(emb)


def causal_attention(q, k, v):
    """softmax(q.k / sqrt(head_dim)) . v over positions <= the query's; q [n, heads, d], k and v
    [n, kv_heads, d]; query head h reads kv head h // (heads / kv_heads). Returns [n, heads * d]."""
    n, nh, hd = q.shape
    group = nh // k.shape[1]
    out = np.zeros((n, nh, hd))
    for head in range(nh):
        g = head // group
        scores = q[:, head] @ k[:, g].T / np.sqrt(hd)
        scores[np.triu(np.ones((n, n), dtype=bool), 1)] = -np.inf
        scores -= scores.max(axis=-1, keepdims=True)
        prob = np.exp(scores)
        prob /= prob.sum(axis=-1, keepdims=True)
        out[:, head] = prob @ v[:, g]
    return out.reshape(n, nh * hd)


def silu_glu(gate, up):
    """Llama's and 1bitLLM's FFN: silu(gate) * up."""
    return gate / (1.0 + np.exp(-gate)) * up


def relu2_glu(gate, up):
    """BitNet b1.58 2B4T's FFN: relu(gate)^2 * up."""
    r = np.maximum(gate, 0.0)
    return r * r * up


class Decoder:
    """The Llama decoder every family shares.

    bitlinear(x, layer, name) -> y, name one of q k v o gate up down.
    norm(layer, name) -> gain, name one of attn ffn attn_sub ffn_sub; attn_sub / ffn_sub (the
      sub-norms before o_proj and down_proj) return None where the family has none.
    embed(ids) -> [n, hidden]; final_norm; head(x) -> logits."""

    def __init__(self, layers, heads, kv_heads, head_dim, eps, theta, glu, bitlinear, norm, embed,
                 final_norm, head):
        self.layers, self.heads, self.kv_heads, self.head_dim = layers, heads, kv_heads, head_dim
        self.eps, self.theta, self.glu = eps, theta, glu
        self.bitlinear, self.norm, self.embed = bitlinear, norm, embed
        self.final_norm, self.head = final_norm, head

    def forward(self, ids):
        n = len(ids)
        h = self.embed(ids)
        pos = np.arange(n, dtype=np.float64)
        for l in range(self.layers):
            a = rms_norm(h, self.norm(l, "attn"), self.eps)
            q = self.bitlinear(a, l, "q").reshape(n, self.heads, self.head_dim)
            k = self.bitlinear(a, l, "k").reshape(n, self.kv_heads, self.head_dim)
            v = self.bitlinear(a, l, "v").reshape(n, self.kv_heads, self.head_dim)
            q, k = rope(q, pos, self.theta), rope(k, pos, self.theta)
            attn = causal_attention(q, k, v)
            sub = self.norm(l, "attn_sub")
            if sub is not None:
                attn = rms_norm(attn, sub, self.eps)
            h = h + self.bitlinear(attn, l, "o")
            f = rms_norm(h, self.norm(l, "ffn"), self.eps)
            z = self.glu(self.bitlinear(f, l, "gate"), self.bitlinear(f, l, "up"))
            sub = self.norm(l, "ffn_sub")
            if sub is not None:
                z = rms_norm(z, sub, self.eps)
            h = h + self.bitlinear(z, l, "down")
        return self.head(rms_norm(h, self.final_norm, self.eps))


def q8_0_grid(rng, shape, std):
    """Random float32 values that a Q8_0 tensor (llama.cpp: blocks of 32 values along the row, one fp16
    d = max|x| / 127, codes round(x / d)) holds exactly, and bf16 and fp16 too: per block, int8 codes
    scaled so that one of them is +-127, times d = a power of two near std * 2.2 / 127 (max|x| of 32
    normal values is about 2.2 std). Embeddings and heads made of these survive the peers'
    --token-embedding-type / --output-tensor-type q8_0 unchanged, half the bytes of F16."""
    g = rng.standard_normal(shape).reshape(-1, 32)
    codes = np.rint(g / np.abs(g).max(axis=1, keepdims=True) * 127.0)
    d = 2.0 ** np.round(np.log2(std * 2.2 / 127.0))
    return (codes * d).reshape(shape).astype(np.float32)


def top2_gap(logits):
    """The smallest gap between the largest and second largest logit of any row, as a fraction of that
    row's range (logits: a list of [n, vocab] arrays). A file within tolerance t of the reference keeps
    its argmax at every position when this is more than 2 t."""
    gaps = [(s[:, -1] - s[:, -2]) / (s[:, -1] - s[:, 0]) for s in (np.sort(c, axis=1) for c in logits)]
    return float(min(g.min() for g in gaps))


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype string, shape, bytes), written in that order."""
    header, offset = {}, 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


def write_json(path, value, indent):
    with open(path, "w") as f:
        json.dump(value, f, indent=indent)
        f.write("\n")


def write_reference(out, source, seed, margin, vocab, cases, logits):
    """reference_logits.f32 (float32 little-endian rows of vocab, case after case) and reference.json;
    prints a one-line summary."""
    rows = np.concatenate(logits).astype("<f4")
    rows.tofile(os.path.join(out, "reference_logits.f32"))
    write_json(os.path.join(out, "reference.json"), {
        "source": source, "seed": seed, "min_code_margin": margin, "vocab_size": vocab,
        "logits_file": "reference_logits.f32",
        "cases": [{"ids": ids, "first_row": int(sum(len(c) for c in cases[:i]))}
                  for i, ids in enumerate(cases)]}, indent=1)
    ranges = [float(np.ptp(r)) for c in logits for r in c]
    print("seed %d, min code margin %.4g, %d rows, logit row range %.3g..%.3g" %
          (seed, margin, rows.shape[0], min(ranges), max(ranges)))
