#!/usr/bin/env python3
"""make_family_ggufs.py [FAMILIES_FOLDER]

Writes, from the Hugging Face fixtures of tests/data/families (make_llama_bitnet.py, make_1bitllm.py,
make_1bitllm_tokenizer.sh), the GGUF files bitnet.cpp's converters write for those families, with an
independent writer (this file; GGUF v3 as ggml's gguf.c reads it), never with ternary's code:

  llama_bitnet/model-i2_s.gguf   arch "llama" (bitnet.cpp convert-hf-to-gguf-bitnet.py LlamaModel, then
      llama-quantize I2_S): q/k/v/o/gate/up/down as I2_S (x86 layout: 128-value blocks of 32 bytes, byte j
      = c[j]<<6 | c[j+32]<<4 | c[j+64]<<2 | c[j+96], c = w + 1, over the flattened tensor, then a 32-byte
      tail whose first 4 bytes are the f32 scale), the scale alpha = 1/weight_scale (the converter divides
      the unpacked ternary by weight_scale; I2_S keeps max|w|); attn_q and attn_k rows PERMUTED for
      interleaved (NORM) RoPE exactly as llama.cpp's convert_hf_to_gguf.py `permute` does:
          w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(rows, cols)
      with n_head = heads for q and kv_heads for k; token_embd and output BF16 (the checkpoint's bits);
      norms F32; llama.attention.key_length = head_dim (16 != hidden / heads); no tokenizer.
  1bitllm/model-bitnet.gguf   arch "bitnet" (1bitLLM, llama.cpp's and ik_llama's BitnetModel layout):
      the projections as sign weights F16 {-1, 0, +1} (absmean-ternarized from the fp16 latent weights as
      1bitLLM's weight_quant does in float32) plus blk.N.<name>.scale, one F32: alpha = 1/s; the
      sub-norms as attn_sub_norm / ffn_sub_norm; no output (tied); token_embd F16 (the checkpoint's bits),
      norms F32; the SentencePiece vocabulary (tokenizer.ggml.model "llama": tokens, scores, token_type
      from tokenizer.model, then added_tokens.json as USER_DEFINED, as llama.cpp's converter writes it).

Needs numpy and python3-sentencepiece (Debian)."""
import json
import os
import struct
import sys

import numpy as np

GGML_F32, GGML_F16, GGML_BF16, GGML_I2_S = 0, 1, 30, 36
ALIGN = 32


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack_from("<Q", buf, 0)[0]
    header = json.loads(buf[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = (t["dtype"], tuple(t["shape"]), buf[8 + n + a:8 + n + b])
    return out


def floats(entry):
    dtype, shape, data = entry
    if dtype == "F32":
        return np.frombuffer(data, "<f4").reshape(shape).copy()
    if dtype == "F16":
        return np.frombuffer(data, "<f2").astype(np.float32).reshape(shape)
    if dtype == "BF16":
        u = np.frombuffer(data, "<u2").astype(np.uint32) << 16
        return u.view(np.float32).reshape(shape)
    raise ValueError(dtype)


def i2s(t, alpha):
    """Ternary [rows, cols] (values -1, 0, 1) -> bitnet.cpp I2_S bytes (x86 layout)."""
    q = (t.reshape(-1) + 1).astype(np.uint8)
    assert q.size % 128 == 0
    blocks = q.reshape(-1, 4, 32)
    packed = (blocks[:, 0] << 6) | (blocks[:, 1] << 4) | (blocks[:, 2] << 2) | blocks[:, 3]
    tail = struct.pack("<f", alpha) + bytes(28)
    return packed.astype(np.uint8).tobytes() + tail


def permute(w, n_head, n_head_kv):
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


class GgufWriter:
    def __init__(self):
        self.kv, self.tensors = [], []

    def u32(self, k, v):
        self.kv.append((k, 4, struct.pack("<I", v)))

    def f32(self, k, v):
        self.kv.append((k, 6, struct.pack("<f", v)))

    def boolean(self, k, v):
        self.kv.append((k, 7, struct.pack("<?", v)))

    def string(self, k, v):
        self.kv.append((k, 8, self._str(v)))

    def array(self, k, etype, values):
        body = struct.pack("<IQ", etype, len(values))
        for v in values:
            body += {8: self._str, 6: lambda x: struct.pack("<f", x), 5: lambda x: struct.pack("<i", x)}[etype](v)
        self.kv.append((k, 9, body))

    @staticmethod
    def _str(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def tensor(self, name, ne, gtype, data):
        self.tensors.append((name, ne, gtype, data))

    def write(self, path):
        out = b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))
        for k, t, v in self.kv:
            out += self._str(k) + struct.pack("<I", t) + v
        offset = 0
        offsets = []
        for name, ne, gtype, data in self.tensors:
            offsets.append(offset)
            out += self._str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
            out += struct.pack("<IQ", gtype, offset)
            offset += (len(data) + ALIGN - 1) // ALIGN * ALIGN
        out += bytes(-len(out) % ALIGN)
        for (name, ne, gtype, data), off in zip(self.tensors, offsets):
            out += data + bytes(-len(data) % ALIGN)
        with open(path, "wb") as f:
            f.write(out)


def common_keys(w, arch, c, head_dim, name):
    p = arch + "."
    w.string("general.architecture", arch)
    w.string("general.name", name)
    w.u32(p + "context_length", c["max_position_embeddings"])
    w.u32(p + "embedding_length", c["hidden_size"])
    w.u32(p + "block_count", c["num_hidden_layers"])
    w.u32(p + "feed_forward_length", c["intermediate_size"])
    w.u32(p + "rope.dimension_count", head_dim)
    w.u32(p + "attention.head_count", c["num_attention_heads"])
    w.u32(p + "attention.head_count_kv", c["num_key_value_heads"])
    w.f32(p + "attention.layer_norm_rms_epsilon", c["rms_norm_eps"])
    w.f32(p + "rope.freq_base", c["rope_theta"])
    w.u32(p + "vocab_size", c["vocab_size"])


def f32_tensor(w, name, a):
    a = np.ascontiguousarray(a, dtype="<f4")
    w.tensor(name, list(reversed(a.shape)), GGML_F32, a.tobytes())


def llama_gguf(folder):
    c = json.load(open(os.path.join(folder, "config.json")))
    st = read_safetensors(os.path.join(folder, "model.safetensors"))
    nh, nkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    w = GgufWriter()
    common_keys(w, "llama", c, hd, "llama_bitnet fixture")
    w.u32("llama.attention.key_length", hd)
    w.u32("llama.attention.value_length", hd)
    w.u32("general.file_type", 40)  # I2_S
    dt, shape, data = st["model.embed_tokens.weight"]
    assert dt == "BF16"
    w.tensor("token_embd.weight", [shape[1], shape[0]], GGML_BF16, data)
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down"}
    for l in range(c["num_hidden_layers"]):
        hf, g = "model.layers.%d." % l, "blk.%d." % l
        f32_tensor(w, g + "attn_norm.weight", floats(st[hf + "input_layernorm.weight"]))
        for hname, gname in names.items():
            dtype, (pr, cols), data = st[hf + hname + ".weight"]
            assert dtype == "U8"
            p = np.frombuffer(data, np.uint8).reshape(pr, cols)
            t = np.concatenate([((p >> (2 * i)) & 3).astype(np.int8) - 1 for i in range(4)])
            ws = floats(st[hf + hname + ".weight_scale"])[0]
            alpha = float(np.float32(1.0) / np.float32(ws))
            if gname == "attn_q":
                t = permute(t, nh, nh)
            elif gname == "attn_k":
                t = permute(t, nh, nkv)
            w.tensor(g + gname + ".weight", [cols, t.shape[0]], GGML_I2_S, i2s(t, alpha))
        f32_tensor(w, g + "ffn_norm.weight", floats(st[hf + "post_attention_layernorm.weight"]))
    f32_tensor(w, "output_norm.weight", floats(st["model.norm.weight"]))
    dt, shape, data = st["lm_head.weight"]
    assert dt == "BF16"
    w.tensor("output.weight", [shape[1], shape[0]], GGML_BF16, data)
    out = os.path.join(folder, "model-i2_s.gguf")
    w.write(out)
    return out


def weight_quant(latent):
    """1bitLLM utils_quant.weight_quant in float32 (make_1bitllm.py's): codes and alpha = 1/s."""
    w32 = latent.astype(np.float32)
    gamma = np.float32(np.abs(w32.astype(np.float64)).mean())
    s = np.float32(1.0) / np.maximum(gamma, np.float32(1e-5))
    return np.clip(np.rint(w32 * s), -1, 1).astype(np.float32), float(np.float32(1.0) / s)


def bitnet_gguf(folder):
    import sentencepiece as spm
    c = json.load(open(os.path.join(folder, "config.json")))
    st = read_safetensors(os.path.join(folder, "model.safetensors"))
    hd = c["hidden_size"] // c["num_attention_heads"]
    w = GgufWriter()
    common_keys(w, "bitnet", c, hd, "1bitllm fixture")
    w.u32("general.file_type", 1)  # F16
    sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model"))
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 1)
    added = json.load(open(os.path.join(folder, "added_tokens.json")))
    for text, i in sorted(added.items(), key=lambda kv: kv[1]):
        assert i == len(tokens)
        tokens.append(text)
        scores.append(-1000.0)
        types.append(4)  # USER_DEFINED
    w.string("tokenizer.ggml.model", "llama")
    w.array("tokenizer.ggml.tokens", 8, tokens)
    w.array("tokenizer.ggml.scores", 6, scores)
    w.array("tokenizer.ggml.token_type", 5, types)
    w.u32("tokenizer.ggml.bos_token_id", c["bos_token_id"])
    w.u32("tokenizer.ggml.eos_token_id", c["eos_token_id"])
    w.u32("tokenizer.ggml.padding_token_id", c["pad_token_id"])
    w.boolean("tokenizer.ggml.add_bos_token", True)
    w.boolean("tokenizer.ggml.add_eos_token", False)
    w.boolean("tokenizer.ggml.add_space_prefix", True)
    dt, shape, data = st["model.embed_tokens.weight"]
    assert dt == "F16"
    w.tensor("token_embd.weight", [shape[1], shape[0]], GGML_F16, data)
    for l in range(c["num_hidden_layers"]):
        hf, g = "model.layers.%d." % l, "blk.%d." % l
        f32_tensor(w, g + "attn_norm.weight", floats(st[hf + "input_layernorm.weight"]))
        for hname, gname in (("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
                             ("self_attn.v_proj", "attn_v"), ("self_attn.inner_attn_ln", "attn_sub_norm"),
                             ("self_attn.o_proj", "attn_output"),
                             ("post_attention_layernorm", "ffn_norm"), ("mlp.gate_proj", "ffn_gate"),
                             ("mlp.up_proj", "ffn_up"), ("mlp.ffn_layernorm", "ffn_sub_norm"),
                             ("mlp.down_proj", "ffn_down")):
            x = floats(st[hf + hname + ".weight"])
            if x.ndim == 1:
                f32_tensor(w, g + gname + ".weight", x)
                continue
            t, alpha = weight_quant(x)
            w.tensor(g + gname + ".weight", [x.shape[1], x.shape[0]], GGML_F16,
                     t.astype("<f2").tobytes())
            f32_tensor(w, g + gname + ".scale", np.array([alpha], np.float32))
    f32_tensor(w, "output_norm.weight", floats(st["model.norm.weight"]))
    out = os.path.join(folder, "model-bitnet.gguf")
    w.write(out)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "families")
    for path in (llama_gguf(os.path.join(root, "llama_bitnet")), bitnet_gguf(os.path.join(root, "1bitllm"))):
        print("%s: %d bytes" % (path, os.path.getsize(path)))


if __name__ == "__main__":
    main()
