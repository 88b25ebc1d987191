#!/usr/bin/env python3
"""reference_distance.py -- whose logits are closer to the truth on the synthetic 2B4T GGUF (issue #17).

An independent numpy forward pass of bench/peers/make_2b4t.sh's bitnet.cpp-i2_s-f16.gguf (random
weights, bitnet-b1.58-2B-4T's shapes and graph), then the distance of each engine's logits to it:
  ternary     build/examples/ternary logits -m FILE --ids ...   (the I2_S file and ik's IQ2_BN file;
              head auto (the file's F16) and --head f32; packings i2s, tl1, tl2 on the I2_S file)
  bitnet.cpp  $BNB/build/bin/peer_logits FILE PROMPTS 1 THREADS  (tests/data/make/peer_logits.cpp)
  ik_llama    $IK/build/bin/peer_logits on the IQ2_BN file (same weights, ik's requantization)
All logits are of every position of one prompt (PEER_ALL_LOGITS=1 for the peers).

The reference: tests/data/make/numpy_reference.py's Decoder (the shared Llama decoder: rms_norm,
rotate_half RoPE, GQA causal attention) with relu2_glu, the sub-norms, the tied F16 head, and this
file's BitLinear for I2_S with bitnet.cpp's semantics: y = (q . T^T) / s * scale, q and s from
act_quant (per-token int8 absmax, the code decided in float32), T the ternary codes, scale the
per-tensor f32 scale stored after the codes. Everything else in float64; the weights are read from the
GGUF with the reader below (header, KV, tensor infos, memory-mapped data) and decoded one tensor at a
time (peak RAM ~3 GB: token_embd as float64 for the head, in chunks).

I2_S (x86 layout): over the flattened [rows, cols] tensor, blocks of 128 values in 32 bytes, byte j of
a block = c[j]<<6 | c[j+32]<<4 | c[j+64]<<2 | c[j+96], codes 0,1,2 = -1,0,+1; then 32 bytes whose first
4 are the f32 scale.

Rounding ties: the reference decides each activation code in float32 from an input that differs from
an engine's by float rounding, so a code within ~1e-6 (relative) of a rounding boundary may round the
other way in an engine. The script counts such codes (gap < 1e-6, < 1e-5, < 1e-4; the gap as
numpy_reference.Margin measures it) and reports the minimum.

usage: reference_distance.py [--model I2_S.gguf] [--iq2bn IQ2_BN.gguf] [--ids 128000,791,...]
         [--threads 2] [--depths 1,2,4,8,16] [--perturb 1e-7] [--perturb-seeds 2] [--work DIR]
         [--out bench/results/reference-distance.json]
Env: TERNARY_CLI (build/examples/ternary), BNB (/tmp/bnb), IK (/tmp/ik), NICE ("nice -n 15").
By depth (--depths): the same comparison on copies of both files cut to their first N blocks (block_count
and tensor list cut, same tensor bytes), against the reference run for N blocks, beside the chaos floor:
the reference against itself with every BitLinear input multiplied by 1 + eps N(0,1) (--perturb eps,
default 1e-7, about float32 rounding), which shows how far float rounding alone carries the logits;
and, as a diagnosis of the peers, the engines against a reference whose q, k, v are rounded to F16
(llama.cpp's F16 KV cache and F16 q in the K.Q product).
The reference logits and each engine's are cached in --work (default /tmp/reference-distance); delete
it to recompute. ternary reads copies of the files with tokens 256/257 renamed (Gguf.copy; ternary's
tokenizer loader rejects the synthetic vocabulary's merges, as in bench/serve_load.sh); same tensor bytes.
Takes ~6 min on 2 cores (a 30-block reference pass ~20 s; engine runs 2-20 s; 1.2 GB file copies)."""
import argparse
import json
import mmap
import os
import shlex
import struct
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "data", "make"))
import numpy_reference as ref  # noqa: E402

F32, F16, I2_S = 0, 1, 36
GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
                11: "<q", 12: "<d"}


class Gguf:
    """A minimal GGUF v2/v3 reader: kv (dict), tensors {name: (type, ne, absolute offset)}, the data
    memory-mapped. Arrays of strings (the vocabulary) are skipped, other arrays read. Keeps the byte
    span of every KV pair and tensor info for copy()."""

    def __init__(self, path):
        self.file = open(path, "rb")
        self.buf = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        assert self.buf[:4] == b"GGUF", path
        self.pos = 4
        version, n_tensors, n_kv = self._get("<I"), self._get("<Q"), self._get("<Q")
        assert version in (2, 3), version
        self.kv, self.kv_spans, self.ti_spans = {}, [], []
        for _ in range(n_kv):
            start = self.pos
            key = self._str()
            self.kv[key] = self._value(self._get("<I"))
            self.kv_spans.append((key, start, self.pos))
        infos = []
        for _ in range(n_tensors):
            start = self.pos
            name = self._str()
            ne = [self._get("<Q") for _ in range(self._get("<I"))]
            infos.append((name, self._get("<I"), ne, self._get("<Q")))
            self.ti_spans.append((name, start, self.pos))
        self.align = self.kv.get("general.alignment", 32)
        data = -(-self.pos // self.align) * self.align
        self.data_start = data
        self.tensors = {name: (ty, ne, data + off) for name, ty, ne, off in infos}

    def copy(self, dst, layers=None, rename_tokens=False):
        """Writes a copy of the file with only the first `layers` blocks (block_count, the tensor
        list and the data cut; the kept tensors' bytes copied as they are, each with the span it had,
        so alignment holds) and, with rename_tokens, tokens 256/257 ("<tok256>", "<tok257>" in
        make_2b4t.sh's vocabulary) renamed to "Ġt"/"Ġa", the results of its two merges: ternary's
        tokenizer loader rejects a merge whose result is not a token (llama.cpp does not check)."""
        arch = self.kv["general.architecture"]
        offs = sorted(off for _, _, off in self.tensors.values()) + [len(self.buf)]
        span = {off: nxt - off for off, nxt in zip(offs, offs[1:])}
        keep = [(n, a, b) for n, a, b in self.ti_spans
                if layers is None or not n.startswith("blk.") or int(n.split(".")[1]) < layers]
        keep.sort(key=lambda t: self.tensors[t[0]][2])
        out = bytearray(self.buf[:8]) + struct.pack("<QQ", len(keep), len(self.kv_spans))
        for key, a, b in self.kv_spans:
            if key == f"{arch}.block_count" and layers is not None:
                assert struct.unpack_from("<I", self.buf, b - 8)[0] == 4, "block_count: not uint32"
                out += self.buf[a:b - 4] + struct.pack("<I", layers)
            elif key == "tokenizer.ggml.tokens" and rename_tokens:
                self.pos = a
                self._str()
                assert self._get("<I") == 9 and self._get("<I") == 8
                n, toks = self._get("<Q"), []
                for _ in range(n):
                    length = self._get("<Q")
                    toks.append(bytes(self.buf[self.pos:self.pos + length]))
                    self.pos += length
                assert toks[256:258] == [b"<tok256>", b"<tok257>"], toks[256:258]
                toks[256:258] = ["Ġt".encode(), "Ġa".encode()]
                out += self.buf[a:a + 8 + len(key)] + struct.pack("<IIQ", 9, 8, n)
                for t in toks:
                    out += struct.pack("<Q", len(t)) + t
            else:
                out += self.buf[a:b]
        new_off = 0
        for name, a, b in keep:  # tensor infos end with the offset (u64) into the data section
            out += self.buf[a:b - 8] + struct.pack("<Q", new_off)
            new_off += span[self.tensors[name][2]]
        out += b"\0" * (-len(out) % self.align)
        with open(dst + ".tmp", "wb") as f:
            f.write(out)
            for name, _, _ in keep:
                off = self.tensors[name][2]
                for o in range(off, off + span[off], 64 << 20):
                    f.write(self.buf[o:min(o + (64 << 20), off + span[off])])
        os.replace(dst + ".tmp", dst)

    def _get(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def _str(self):
        n = self._get("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8", "replace")
        self.pos += n
        return s

    def _value(self, t):
        if t in GGUF_SCALARS:
            return self._get(GGUF_SCALARS[t])
        if t == 8:
            return self._str()
        assert t == 9, t
        et, n = self._get("<I"), self._get("<Q")
        if et == 8:  # string array (vocabulary, merges): skipped
            for _ in range(n):
                length = self._get("<Q")
                self.pos += length
            return f"<{n} strings>"
        return [self._value(et) for _ in range(n)]

    def raw(self, name, nbytes):
        _, _, off = self.tensors[name]
        return np.frombuffer(self.buf, dtype=np.uint8, count=nbytes, offset=off)

    def shape(self, name):
        return self.tensors[name][1]

    def dense(self, name, rows=None):
        """F32 / F16 tensor as float64, [ne1, ne0] (1-D: [ne0]); rows: a slice of ne1."""
        ty, ne, off = self.tensors[name]
        dt = {F32: np.float32, F16: np.float16}[ty]
        n = int(np.prod(ne))
        a = np.frombuffer(self.buf, dtype=dt, count=n, offset=off)
        a = a.reshape(ne[::-1]) if len(ne) > 1 else a
        return (a[rows] if rows is not None else a).astype(np.float64)

    def i2s(self, name):
        """I2_S tensor: (codes as float64 [rows, cols] in {-1, 0, 1}, the f32 scale)."""
        ty, ne, _ = self.tensors[name]
        assert ty == I2_S and len(ne) == 2, (name, ty)
        cols, rows = ne
        n = rows * cols
        assert n % 128 == 0, name
        b = self.raw(name, n // 4 + 4)
        scale = float(b[n // 4:].view("<f4")[0])
        blk = b[:n // 4].reshape(-1, 32)
        codes = np.stack([(blk >> s) & 3 for s in (6, 4, 2, 0)], axis=1).reshape(rows, cols)
        assert codes.max() <= 2, f"{name}: code 3"
        return codes.astype(np.float64) - 1.0, scale


class CountingMargin(ref.Margin):
    """numpy_reference.Margin (the minimum gap) plus how many codes came within each of LIMITS."""
    LIMITS = (1e-6, 1e-5, 1e-4)

    def __init__(self):
        super().__init__()
        self.site = ""
        self.codes = 0
        self.within = {x: 0 for x in self.LIMITS}
        self.where = {}  # layer.name -> codes within 1e-6

    def see(self, v):
        super().see(v)
        v64 = np.asarray(v, dtype=np.float64)
        gap = np.abs(v64 - np.floor(v64) - 0.5) / np.maximum(np.abs(v64), 1.0)
        self.codes += gap.size
        for x in self.LIMITS:
            self.within[x] += int((gap < x).sum())
        k = int((gap < 1e-6).sum())
        if k:
            self.where[self.site] = self.where.get(self.site, 0) + k


BITLINEAR = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
             "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}
NORMS = {"attn": "attn_norm", "ffn": "ffn_norm", "attn_sub": "attn_sub_norm", "ffn_sub": "ffn_sub_norm"}


def reference_logits(g, ids, margin, layers=None, perturb=None, f16_qkv=False):
    """The reference logits [len(ids), vocab] of the first `layers` blocks of Gguf g (all: None).
    perturb (rng, eps): every BitLinear input x becomes x * (1 + eps * N(0, 1)) before act_quant, a
    stand-in for an engine's float32 rounding (the chaos floor).
    f16_qkv: q, k and v rounded to F16 before attention, as llama.cpp's graph does (an F16 KV cache,
    and q converted to F16 for the K.Q product): a diagnosis of the peers' distance, not the truth."""
    if f16_qkv:
        attention = ref.causal_attention
        f16 = lambda t: t.astype(np.float16).astype(np.float64)
        ref.causal_attention = lambda q, k, v: attention(f16(q), f16(k), f16(v))
        try:
            return reference_logits(g, ids, margin, layers, perturb)
        finally:
            ref.causal_attention = attention
    kv = g.kv
    arch = kv["general.architecture"]
    assert arch == "bitnet-b1.58", arch
    p = lambda k: kv[f"{arch}.{k}"]
    hidden, heads, kv_heads = p("embedding_length"), p("attention.head_count"), p("attention.head_count_kv")
    head_dim = hidden // heads
    eps, theta = p("attention.layer_norm_rms_epsilon"), p("rope.freq_base")
    assert "output.weight" not in g.tensors and g.tensors["token_embd.weight"][0] == F16

    def bitlinear(x, layer, name):
        margin.site = f"{layer}.{name}"
        t, scale = g.i2s(f"blk.{layer}.{BITLINEAR[name]}.weight")
        if perturb is not None:
            x = x * (1.0 + perturb[1] * perturb[0].standard_normal(x.shape))
        q, s = ref.act_quant(x, margin)
        return (q @ t.T) / s * scale

    def norm(layer, name):
        return g.dense(f"blk.{layer}.{NORMS[name]}.weight")

    def embed(tok):
        return np.stack([g.dense("token_embd.weight", rows=slice(t, t + 1))[0] for t in tok])

    def head(x):
        vocab = g.shape("token_embd.weight")[1]
        out, step = np.empty((x.shape[0], vocab)), 16384
        for r in range(0, vocab, step):
            out[:, r:r + step] = x @ g.dense("token_embd.weight", rows=slice(r, r + step)).T
        return out

    dec = ref.Decoder(layers or p("block_count"), heads, kv_heads, head_dim, eps, theta, ref.relu2_glu,
                      bitlinear, norm, embed, g.dense("output_norm.weight"), head)
    return dec.forward(ids), dict(arch=arch, hidden=hidden, layers=p("block_count"), heads=heads,
                                  kv_heads=kv_heads, head_dim=head_dim, ffn=p("feed_forward_length"),
                                  eps=eps, rope_theta=theta)


def cached(path, make):
    """np.load(path) if it exists, else make() saved there."""
    if os.path.exists(path):
        return np.load(path)
    x = make()
    np.save(path, x)
    return x


def run(cmd, out_path, env=None, nice=""):
    """Runs cmd (list) with stdout into out_path (cached: skipped if out_path exists); returns the
    logits of its first JSON line ("logits": one row per position)."""
    if not os.path.exists(out_path):
        full = shlex.split(nice) + cmd
        print("   $", " ".join(shlex.quote(c) for c in full), flush=True)
        t0 = time.time()
        with open(out_path + ".tmp", "w") as f, open(out_path + ".log", "w") as log:
            rc = subprocess.run(full, stdout=f, stderr=log, env=env).returncode
        if rc != 0:
            raise RuntimeError(f"{os.path.basename(cmd[0])} exited {rc}: see {out_path}.log")
        os.replace(out_path + ".tmp", out_path)
        print(f"   {time.time() - t0:.0f} s", flush=True)
    return np.asarray(json.loads(open(out_path).readline())["logits"], dtype=np.float64)


def distance(a, r):
    """Per row of the reference r: max |a - r| / range(r), mean |a - r| / range(r), argmax agreement."""
    rng = np.ptp(r, axis=1)
    d = np.abs(a - r)
    return dict(max_rel=float((d.max(axis=1) / rng).max()),
                mean_rel=float((d.mean(axis=1) / rng).mean()),
                max_abs=float(d.max()),
                argmax_agree=int((a.argmax(axis=1) == r.argmax(axis=1)).sum()),
                rows=int(r.shape[0]),
                per_row_max_rel=[round(float(x), 6) for x in d.max(axis=1) / rng])


def pct(x):
    return f"{100 * x:.3f}%" if x >= 1e-5 else f"{100 * x:.1e}%"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="/tmp/peers-2b4t/bitnet.cpp-i2_s-f16.gguf")
    ap.add_argument("--iq2bn", default="/tmp/peers-2b4t/ik-iq2_bn-f16.gguf")
    ap.add_argument("--ids", default="128000,791,4062,14198,39935,35308,927,279")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--depths", default="1,2,4,8,16",
                    help="also compare at these depths (copies of the files cut to the first N blocks)")
    ap.add_argument("--perturb", type=float, default=1e-7,
                    help="relative noise on every BitLinear input for the chaos floor (0: none)")
    ap.add_argument("--perturb-seeds", type=int, default=2)
    ap.add_argument("--work", default="/tmp/reference-distance")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "reference-distance.json"))
    a = ap.parse_args()
    ids = [int(x) for x in a.ids.split(",")]
    os.makedirs(a.work, exist_ok=True)
    nice = os.environ.get("NICE", "nice -n 15")
    cli = os.environ.get("TERNARY_CLI", os.path.join(REPO, "build", "examples", "ternary"))
    bnb, ik = os.environ.get("BNB", "/tmp/bnb"), os.environ.get("IK", "/tmp/ik")
    tag = "-".join(map(str, ids))
    g, gb = Gguf(a.model), Gguf(a.iq2bn)
    full = g.kv[f"{g.kv['general.architecture']}.block_count"]
    depths = sorted({int(x) for x in a.depths.split(",") if x} - {full}) + [full]
    prompts = os.path.join(a.work, "prompt.txt")
    with open(prompts, "w") as f:
        f.write(" ".join(map(str, ids)) + "\n")
    peer_env = dict(os.environ, PEER_ALL_LOGITS="1")
    ids_arg, t = ",".join(map(str, ids)), str(a.threads)
    bnb_bin, ik_bin = os.path.join(bnb, "build", "bin", "peer_logits"), os.path.join(ik, "build", "bin", "peer_logits")

    # 1. the reference at full depth (the code margins counted here)
    margin_path = os.path.join(a.work, f"reference-{tag}-L{full}.margin.json")
    ref_path = margin_path.replace(".margin.json", ".npy")
    if os.path.exists(ref_path) and os.path.exists(margin_path):
        m = json.load(open(margin_path))
        r_full = np.load(ref_path)
        print(f"== reference: cached {ref_path}")
    else:
        print(f"== reference forward pass (numpy, float64) of {a.model}, {len(ids)} tokens", flush=True)
        t0 = time.time()
        cm = CountingMargin()
        r_full, info = reference_logits(g, ids, cm)
        m = dict(info, seconds=round(time.time() - t0, 1), min_code_margin=cm.value, codes=cm.codes,
                 codes_within={f"{x:g}": cm.within[x] for x in cm.LIMITS},
                 within_1e6_by_layer={str(l): sum(v for k, v in cm.where.items() if k.split(".")[0] == str(l))
                                      for l in range(full)},
                 within_1e6_by_site=cm.where)
        np.save(ref_path, r_full)
        json.dump(m, open(margin_path, "w"), indent=1)
        print(f"   {m['seconds']} s", flush=True)
    print(f"   min code margin {m['min_code_margin']:.3g}; codes within 1e-6 / 1e-5 / 1e-4 of a "
          f"rounding tie: {' / '.join(str(v) for v in m['codes_within'].values())} of {m['codes']}")

    # 2. full depth: every engine and variant
    ternary_i2s, ternary_iq2bn = (os.path.join(a.work, f"{x}-ternary.gguf") for x in ("i2_s", "iq2_bn"))
    for src, dst in ((g, ternary_i2s), (gb, ternary_iq2bn)):
        if not os.path.exists(dst):
            src.copy(dst, rename_tokens=True)
    tern = [cli, "logits", "--ids", ids_arg, "-t", t, "-m"]
    engines = [  # label, weights, command (JSON with "logits" on stdout), env
        ("ternary i2s, head f16 (the file's)", "I2_S", tern + [ternary_i2s], None),
        ("ternary i2s, --head f32", "I2_S", tern + [ternary_i2s, "--head", "f32"], None),
        ("ternary --packing tl1", "I2_S", tern + [ternary_i2s, "--packing", "tl1"], None),
        ("ternary --packing tl2", "I2_S", tern + [ternary_i2s, "--packing", "tl2"], None),
        ("ternary on the IQ2_BN file", "IQ2_BN", tern + [ternary_iq2bn], None),
        ("ternary on the IQ2_BN file, --head f32", "IQ2_BN", tern + [ternary_iq2bn, "--head", "f32"], None),
        ("bitnet.cpp", "I2_S", [bnb_bin, a.model, prompts, "1", t], peer_env),
        ("ik_llama", "IQ2_BN", [ik_bin, a.iq2bn, prompts, "1", t], peer_env),
    ]
    results, logits = [], {}
    for label, weights, cmd, env in engines:
        out = os.path.join(a.work, "".join(c if c.isalnum() or c == "." else "_" for c in label) + f"-{tag}-L{full}.json")
        print(f"== {label}", flush=True)
        try:
            x = run(cmd, out, env=env, nice=nice)
        except RuntimeError as e:
            print(f"   FAILED: {e}")
            results.append(dict(engine=label, weights=weights, failed=str(e)))
            continue
        assert x.shape == r_full.shape, (label, x.shape, r_full.shape)
        logits[label] = x
        results.append(dict(engine=label, weights=weights, command=" ".join(cmd), **distance(x, r_full)))
    ternary_same = all(np.array_equal(logits[k], logits[engines[0][0]]) for k in logits if k.startswith("ternary"))
    pairs = [dict(a=p, b=q, **{k: v for k, v in distance(logits[p], logits[q]).items() if k != "per_row_max_rel"})
             for p, q in (("ternary i2s, head f16 (the file's)", "bitnet.cpp"),
                          ("ternary i2s, head f16 (the file's)", "ik_llama"), ("bitnet.cpp", "ik_llama"))
             if p in logits and q in logits]

    # 3. by depth: the files cut to the first N blocks, the reference at N blocks, and the chaos floor
    # (the reference against itself with its BitLinear inputs perturbed by --perturb)
    by_depth = []
    for n in depths:
        print(f"== depth {n}", flush=True)
        rn = r_full if n == full else cached(os.path.join(a.work, f"reference-{tag}-L{n}.npy"),
                                             lambda: reference_logits(g, ids, ref.Margin(), layers=n)[0])
        row = dict(layers=n, ref_range=[float(np.ptp(rn, axis=1).min()), float(np.ptp(rn, axis=1).max())],
                   codes_within_1e6_in_first_layers=sum(m["within_1e6_by_layer"].get(str(l), 0) for l in range(n)))
        floors = []
        for seed in range(a.perturb_seeds if a.perturb > 0 else 0):
            rp = cached(os.path.join(a.work, f"reference-{tag}-L{n}-perturb{a.perturb:g}-seed{seed}.npy"),
                        lambda: reference_logits(g, ids, ref.Margin(), layers=n,
                                                 perturb=(np.random.default_rng(seed), a.perturb))[0])
            floors.append(distance(rp, rn))
        rf = cached(os.path.join(a.work, f"reference-{tag}-L{n}-f16qkv.npy"),
                    lambda: reference_logits(g, ids, ref.Margin(), layers=n, f16_qkv=True)[0])
        if floors:
            row["perturbed_reference"] = dict(eps=a.perturb, seeds=len(floors),
                                              max_rel=max(f["max_rel"] for f in floors),
                                              mean_rel=float(np.mean([f["mean_rel"] for f in floors])),
                                              argmax_agree=min(f["argmax_agree"] for f in floors))
        cut = {}
        if n != full:
            for key, src, rename in (("i2s", g, False), ("i2s-ternary", g, True), ("iq2bn", gb, False)):
                cut[key] = os.path.join(a.work, f"cut-L{n}-{key}.gguf")
                outs = [os.path.join(a.work, f"{e}-{tag}-L{n}.json") for e in ("ternary", "bitnet.cpp", "ik_llama")]
                if not all(os.path.exists(o) for o in outs) and not os.path.exists(cut[key]):
                    src.copy(cut[key], layers=n, rename_tokens=rename)
        for label, cmd, env in (
                ("ternary", tern + [cut.get("i2s-ternary", ternary_i2s)], None),
                ("bitnet.cpp", [bnb_bin, cut.get("i2s", a.model), prompts, "1", t], peer_env),
                ("ik_llama", [ik_bin, cut.get("iq2bn", a.iq2bn), prompts, "1", t], peer_env)):
            try:
                x = logits[label] if n == full and label in logits else \
                    run(cmd, os.path.join(a.work, f"{label}-{tag}-L{n}.json"), env=env, nice=nice)
                row[label] = {k: v for k, v in distance(x, rn).items() if k != "per_row_max_rel"}
                row[label]["vs_f16_qkv_reference"] = {k: v for k, v in distance(x, rf).items()}
            except (RuntimeError, KeyError) as e:
                print(f"   {label} FAILED: {e}")
                row[label] = dict(failed=str(e))
        for f in cut.values():
            if os.path.exists(f):
                os.remove(f)
        by_depth.append(row)

    cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True,
                         text=True).stdout.split(":", 1)[-1].strip()
    cpuinfo = dict(l.split(":", 1) for l in open("/proc/cpuinfo").read().split("\n\n")[0].splitlines()
                   if ":" in l)
    cpuinfo = {k.strip(): v.strip() for k, v in cpuinfo.items()}
    res = dict(
        issue=17, what="distance of each engine's logits to an independent numpy float64 forward pass",
        model=os.path.basename(a.model), iq2bn_model=os.path.basename(a.iq2bn), ids=ids,
        threads=a.threads, cpu=cpu, cpu_family=int(cpuinfo.get("cpu family", -1)),
        cpu_model=int(cpuinfo.get("model", -1)),
        cpu_microarchitecture={25: "Zen 3/Zen 4", 26: "Zen 5"}.get(int(cpuinfo.get("cpu family", -1)), "?"),
        command="/usr/bin/python3 bench/reference_distance.py " + " ".join(sys.argv[1:]),
        reference=m, metric=("per logit row (one per position): max |engine - reference| / (max - min "
                             "of the reference row); max_rel = worst row, mean_rel = mean over rows of "
                             "mean |delta| / range; argmax_agree = rows whose argmax matches"),
        ternary_variants_bitwise_identical=ternary_same,
        engines=results, pairs=pairs, by_depth=by_depth)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print(f"\nwrote {a.out}\n")
    rng = np.ptp(r_full, axis=1)
    print(f"reference: logit row range {rng.min():.3g}..{rng.max():.3g}, min code margin "
          f"{m['min_code_margin']:.3g}, codes within 1e-6 of a tie: {m['codes_within']['1e-06']} of {m['codes']}; "
          f"ternary variants bitwise identical: {ternary_same}\n")
    print("| engine | weights | max \\|Δ\\| / range | mean \\|Δ\\| / range | argmax agrees |")
    print("|---|---|---:|---:|---:|")
    for e in results:
        if "failed" in e:
            print(f"| {e['engine']} | {e['weights']} | failed | | |")
        else:
            print(f"| {e['engine']} | {e['weights']} | {pct(e['max_rel'])} | {pct(e['mean_rel'])} | "
                  f"{e['argmax_agree']}/{e['rows']} |")
    for p in pairs:
        print(f"| {p['a']} vs {p['b']} | | {pct(p['max_rel'])} | {pct(p['mean_rel'])} | {p['argmax_agree']}/{p['rows']} |")
    print("\nby depth: max |Δ| / range (mean |Δ| / range) against the reference cut to the same depth\n")
    print("| blocks | codes within 1e-6 so far | perturbed reference (floor) | ternary | bitnet.cpp | ik_llama "
          "| bitnet.cpp vs the F16-q/k/v reference |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    cell = lambda d: "failed" if d is None or "failed" in d else f"{pct(d['max_rel'])} ({pct(d['mean_rel'])})"
    for row in by_depth:
        print(f"| {row['layers']} | {row['codes_within_1e6_in_first_layers']} | {cell(row.get('perturbed_reference'))} | "
              + " | ".join(cell(row.get(k)) for k in ("ternary", "bitnet.cpp", "ik_llama")) + " | "
              + cell(row.get("bitnet.cpp", {}).get("vs_f16_qkv_reference")) + " |")


if __name__ == "__main__":
    main()
