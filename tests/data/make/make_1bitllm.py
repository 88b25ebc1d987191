#!/usr/bin/env python3
"""make_1bitllm.py [--preset tiny|peers] OUT_FOLDER [TOKENIZER_FOLDER]

Writes the model part of tests/data/families/1bitllm: a tiny RANDOM (untrained) checkpoint of 1bitLLM's
BitNet b1.58 (1bitLLM/bitnet_b1_58-large, -3B: transformers remote code BitnetForCausalLM,
model_type "llama") in its exact Hugging Face layout, and the logits of an independent forward pass of it
(numpy, written from 1bitLLM's modeling_bitnet.py and utils_quant.py, never from ternary's C++). The
tokenizer files of the folder are made by make_1bitllm_tokenizer.sh (vocab 510 + 2 added tokens = 512).

Presets (PRESETS below): tiny (default; tests/data/families/1bitllm, the sizes described here) and peers
(tests/data/families/1bitllm_peers: hidden 256, 2 heads of head_dim 128, ffn 512, 1 layer, every K a
multiple of 256 so that the peers' quantizers (I2_S, TQ1_0/TQ2_0, IQ1_BN/IQ2_BN) take it, embed_tokens
values that Q8_0 holds exactly (numpy_reference.q8_0_grid) and latent weights whose mean |W| is a power of
two (pow2_mean_latent), so that the peers' files, whose scales are fp16, hold this model exactly; the
tokenizer files are copied from TOKENIZER_FOLDER, the 1bitllm fixture).

Layout (1bitLLM's checkpoints, saved by transformers 4.39 with torch_dtype float16):
  config.json           BitnetForCausalLM / model_type llama, hidden_act silu, weight_bits 1, input_bits 8,
                        no quantization_config, tied embeddings, no GQA, head_dim = hidden / heads = 100
                        (bitnet_b1_58-3B's), rms_norm_eps 1e-5, rope_theta 10000, vocab 512
  model.safetensors     every tensor F16 (the latent weights of q/k/v/o/gate/up/down_proj, not ternary: the
                        model ternarizes them on every forward), the sub-norms named
                        self_attn.inner_attn_ln (over hidden, before o_proj) and mlp.ffn_layernorm (over ffn,
                        before down_proj), and each layer's RoPE buffer self_attn.rotary_emb.inv_freq (F32),
                        which older transformers saved; no lm_head.weight (tied), no biases
  reference.json        the token sequences, the reference's float32 logits of every position in
                        reference_logits.f32 (little-endian, rows of vocab_size, sequence after sequence)
                        and how they were computed

The reference forward pass (modeling_bitnet.py: LlamaModel with BitLinear projections, SiLU, sub-norms;
float64 except where torch's float32 decides integer codes):
  h = embed[ids]
  per layer: a = RMSNorm(h) (x / sqrt(mean x^2 + eps) * g)
             q, k, v = BitLinear(a); RoPE rotate_half on q, k (inv_freq = 1 / theta^(2i/d))
             causal softmax(q.k / sqrt(head_dim)) . v
             h += BitLinear_o(inner_attn_ln(attn))
             f = RMSNorm(h); h += BitLinear_down(ffn_layernorm(silu(BitLinear_gate(f)) * BitLinear_up(f)))
  logits = RMSNorm(h) . embed^T
  BitLinear(x) (utils_quant.py, weight_bits 1, input_bits 8):
    weight_quant:     s_w = 1 / max(mean|W|, 1e-5) (float32), T = clamp(round(W * s_w), -1, 1), W_q = T / s_w
    activation_quant: s = 127 / max(max|x|, 1e-5) per token (float32; torch evaluates 127 / t as
                      t.reciprocal() * 127), q = clamp(round(x * s), -128, 127), x_q = q / s
    y = x_q . W_q^T, computed as (q . T^T) / (s * s_w) in float64 (the integer sum is exact)

Rounding ties: codes are decided in float32 from inputs that differ from ternary's by float rounding, so
the script tries seeds from SEED0 up and keeps the first whose every activation code and every weight code
lies at least the preset's margin (2e-6 relative for tiny, 5e-7 for peers) from a rounding boundary (and,
for peers, whose logits have top-2 gaps of at least 2e-3 of the row range); the margin reached is written
to reference.json.

The forward pass is numpy_reference.py's Decoder. Needs only numpy (Debian: python3-numpy)."""
import argparse
import collections
import os
import shutil
import sys

import numpy as np

import numpy_reference as ref

V = 512
EPS, THETA, MAX_POS = 1e-5, 10000.0, 2048
BOS, EOS, PAD = 1, 2, 510
SEED0 = 1
# "ROMEO:\nBut soft, what light" and "Prince Andrew looked" in the folder's tokenizer, BOS first.
CASES = [[1, 430, 463, 460, 478, 465, 460, 458, 13, 467, 319, 374, 445, 432, 448, 423, 300, 436, 409],
         [1, 344, 439, 263, 308, 425, 265, 446, 300, 433, 433, 455, 284]]
# shape: (hidden, ffn, layers, heads, head_dim), no GQA, head_dim = hidden / heads. margin: how far every
# code must stay from a rounding tie; peers: 5e-7 (4 float32 steps), as 2e-6 is rare with its many more
# codes, and its tests allow 1e-3 of the row range, which a code moved by float rounding stays far
# inside. peer_exact: embed_tokens on numpy_reference.q8_0_grid (the GGUFs keep it as Q8_0, exactly)
# and latent weights whose mean |W| is a power of two (pow2_mean_latent), so that every peer-written
# file, whose scales are fp16 (bitnet.cpp's converter writes T/s as fp16), holds this model exactly.
# argmax_gap: every row's top-2 logit gap at least this fraction of its range (peers: twice its tests'
# 1e-3 tolerance, so a file within it has the reference's argmax at every position).
Preset = collections.namedtuple("Preset", "shape margin peer_exact argmax_gap")
PRESETS = {"tiny": Preset((100, 128, 2, 1, 100), 2e-6, False, 0.0),
           "peers": Preset((256, 512, 1, 2, 128), 5e-7, True, 2e-3)}
TOKENIZER_FILES = ("tokenizer.model", "added_tokens.json", "special_tokens_map.json",
                   "tokenizer_config.json")


def projections(H, FF, NH, HD):
    return [("self_attn.q_proj", NH * HD, H), ("self_attn.k_proj", NH * HD, H),
            ("self_attn.v_proj", NH * HD, H), ("self_attn.o_proj", H, NH * HD),
            ("mlp.gate_proj", FF, H), ("mlp.up_proj", FF, H), ("mlp.down_proj", H, FF)]


def weight_quant(w, margin):
    """utils_quant.weight_quant in float32: ternary codes T and the float64 scale 1/s_w."""
    w32 = w.astype(np.float32)
    gamma = np.float32(np.abs(w32.astype(np.float64)).mean())
    s = np.float32(1.0) / np.maximum(gamma, np.float32(1e-5))
    v = w32 * s
    margin.see(v)
    t = np.clip(np.rint(v), -1, 1)
    return t.astype(np.float64), 1.0 / float(s)


def pow2_mean_latent(rng, shape, std):
    """fp16 latent weights, normal of about `std`, on the grid of 2^-10 (exact in fp16), whose mean |W| is
    exactly gamma = a power of two near 0.8 std times a random factor in [0.7, 1.4] (so that the tensors'
    scales differ), at most 1/8, and with no W/gamma at a rounding tie (j + 0.5). Every float32 partial
    sum of |W| is then exact in any order (a multiple of 2^-10 below 2^24 * 2^-10 for up to 2^17
    values), so torch's mean, 1/s = gamma, is exact and so is its fp16."""
    q = 2.0 ** -10
    n = shape[0] * shape[1]
    k = min(int(np.round(np.log2(0.8 * std * rng.uniform(0.7, 1.4)))), -3)
    per_one = 2 ** (10 + k)  # grid steps per 1.0 of W / gamma
    assert n * per_one <= 2 ** 24, "float32 sums of |W| would round"
    m = np.rint(rng.standard_normal(n) * (2.0 ** k / 0.8) / q).astype(np.int64)

    def tie(a):
        return np.abs(a) % per_one == per_one // 2

    m[tie(m)] += np.where(m[tie(m)] > 0, 1, -1)
    # Move |m| by one step on random elements until sum |m| = n * gamma / q (no sign change, no tie).
    while (diff := n * per_one - int(np.abs(m).sum())) != 0:
        step = 1 if diff > 0 else -1
        a = np.abs(m) + step
        ok = np.flatnonzero((a >= 1) & ~tie(a))
        pick = rng.choice(ok, size=min(abs(diff), len(ok)), replace=False)
        m[pick] += step * np.where(m[pick] >= 0, 1, -1)
    assert not tie(m).any() and np.abs(m).sum() == n * per_one and np.abs(m).max() < 2048
    return (m.reshape(shape) * q).astype(np.float16)


def make_weights(seed, margin, shape, peer_exact=False):
    """The checkpoint's tensors (file order) and the float64 values the reference computes with."""
    H, FF, L, NH, HD = shape
    rng = np.random.default_rng(seed)
    files, w = [], {}

    def add_f16(name, shape, std, mean, grid=None):
        if grid == "q8_0":
            a = ref.q8_0_grid(rng, shape, std).astype(np.float16)
        elif grid == "pow2_mean":
            a = pow2_mean_latent(rng, shape, std)
        else:
            a = (rng.standard_normal(shape) * std + mean).astype(np.float16)
        files.append((name, "F16", shape, a.tobytes()))
        return a

    w["model.embed_tokens.weight"] = add_f16("model.embed_tokens.weight", (V, H), 1.0, 0.0,
                                             "q8_0" if peer_exact else None).astype(np.float64)
    for l in range(L):
        p = f"model.layers.{l}."
        for norm, n in (("input_layernorm", H), ("post_attention_layernorm", H),
                        ("self_attn.inner_attn_ln", H), ("mlp.ffn_layernorm", FF)):
            w[p + norm + ".weight"] = add_f16(p + norm + ".weight", (n,), 0.1, 1.0).astype(np.float64)
        for proj, out, cols in projections(H, FF, NH, HD):
            # mean|W| = 0.8 std: outputs of order 1 for inputs of RMS 1.
            latent = add_f16(p + proj + ".weight", (out, cols), 1.0 / (0.8 * np.sqrt(cols * 2.0 / 3.0)), 0.0,
                             "pow2_mean" if peer_exact else None)
            w[p + proj] = weight_quant(latent, margin)
        inv_freq = (1.0 / (THETA ** (np.arange(0, HD, 2, dtype=np.float32) / HD))).astype(np.float32)
        files.append((p + "self_attn.rotary_emb.inv_freq", "F32", (HD // 2,), inv_freq.tobytes()))
    w["model.norm.weight"] = add_f16("model.norm.weight", (H,), 0.1, 1.0).astype(np.float64)
    return files, w


def reference(w, margin, shape):
    """1bitLLM's forward pass: LlamaModel with BitLinear projections, y = (q . T^T) / s / s_w, the
    sub-norms inner_attn_ln and ffn_layernorm, the head tied to the embeddings."""
    proj = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
            "o": "self_attn.o_proj", "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}
    norms = {"attn": "input_layernorm", "ffn": "post_attention_layernorm",
             "attn_sub": "self_attn.inner_attn_ln", "ffn_sub": "mlp.ffn_layernorm"}

    def bitlinear(x, l, name):
        q, s = ref.act_quant(x, margin)
        t, inv_sw = w[f"model.layers.{l}.{proj[name]}"]
        return (q @ t.T) / s * inv_sw

    H, FF, L, NH, HD = shape
    embed = w["model.embed_tokens.weight"]
    return ref.Decoder(L, NH, NH, HD, EPS, THETA, ref.silu_glu, bitlinear,
                       lambda l, name: w[f"model.layers.{l}.{norms[name]}.weight"], lambda ids: embed[ids],
                       w["model.norm.weight"], lambda x: x @ embed.T)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    parser.add_argument("out_folder")
    parser.add_argument("tokenizer_folder", nargs="?", help="copy the tokenizer files from here")
    args = parser.parse_args()
    out, (shape, min_margin, peer_exact, argmax_gap) = args.out_folder, PRESETS[args.preset]
    H, FF, L, NH, HD = shape
    for seed in range(SEED0, SEED0 + 1000):
        margin = ref.Margin()
        files, w = make_weights(seed, margin, shape, peer_exact)
        model = reference(w, margin, shape)
        logits = [model.forward(np.array(ids)) for ids in CASES]
        if margin.value >= min_margin and ref.top2_gap(logits) >= argmax_gap:
            break
    else:
        sys.exit("no seed reached the margin")
    os.makedirs(out, exist_ok=True)
    config = {
        "architectures": ["BitnetForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": BOS, "eos_token_id": EOS, "hidden_act": "silu", "hidden_size": H,
        "initializer_range": 0.02, "input_bits": 8, "intermediate_size": FF,
        "max_position_embeddings": MAX_POS, "model_type": "llama", "num_attention_heads": NH,
        "num_hidden_layers": L, "num_key_value_heads": NH, "pad_token_id": PAD, "pretraining_tp": 1,
        "rms_norm_eps": EPS, "rope_scaling": None, "rope_theta": THETA, "tie_word_embeddings": True,
        "torch_dtype": "float16", "transformers_version": "4.39.0.dev0", "use_cache": True,
        "vocab_size": V, "weight_bits": 1}
    ref.write_json(os.path.join(out, "config.json"), config, indent=2)
    ref.write_safetensors(os.path.join(out, "model.safetensors"), files)
    if args.tokenizer_folder is not None:
        for name in TOKENIZER_FILES:
            shutil.copyfile(os.path.join(args.tokenizer_folder, name), os.path.join(out, name))
    preset = "" if args.preset == "tiny" else ", preset %s" % args.preset
    ref.write_reference(
        out, "tests/data/make/make_1bitllm.py: numpy float64 forward pass (float32 int8 activation "
        "and ternary weight codes as 1bitLLM's utils_quant.py computes them), seed %d%s" % (seed, preset),
        seed, margin.value, V, CASES, logits)


if __name__ == "__main__":
    main()
