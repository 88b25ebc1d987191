#!/usr/bin/python3
"""Instruction-set audit of built binaries (Highway dynamic dispatch).

What it checks: Highway compiles every SIMD function once per target, each in
its own namespace (ternary::N_AVX2::..., hwy::N_SVE::...), and picks one at
run time from what the CPU reports. A function may therefore only contain
instructions that every CPU passing that target's run-time check executes.
This script disassembles binaries with objdump, gives each function the
target of its own namespace (the namespaces of template arguments and
parameters do not count: std::vector<N_AVX2::X>::push_back is baseline code,
N_AVX2::Foo()::{lambda()#1}::operator() is AVX2 code), and flags each
instruction that needs an extension the target does not guarantee. Code
outside every target namespace is checked against the build's baseline
(x86-64 = SSE2 unless --baseline says otherwise), as are N_EMU128 and
N_SCALAR, which Highway compiles with the baseline flags.

Why: compilers pick encodings from the enabled features, not from what the
dispatcher tests. The bug that prompted this: Highway 1.0.3 compiles N_AVX3_DL
with "avxvnni" in its target string, so GCC emitted VEX-encoded vpdpbusd
({vex} vpdpbusd, the AVX-VNNI extension) in N_AVX3_DL code, which dies with
SIGILL on Zen 4 and Ice Lake: they have AVX512-VNNI (EVEX) but not AVX-VNNI.
Likewise an inline function compiled both inside and outside a target
region can leave the linker with the AVX2 copy for baseline callers. The
instruction bytes decide the encoding (prefixes 66/67/F2/F3/segments/F0 and
REX skipped; then 62 = EVEX, C4/C5 = VEX, 8F + map >= 8 = XOP), so the check
does not depend on objdump printing {vex}/{evex}; mnemonics and operands
decide the extension.

Deliberate allowances: tzcnt (F3 0F BC) is allowed everywhere because it is
"rep bsf", which older CPUs execute as BSF, and GCC emits it for generic
x86-64 where the input is known to be nonzero. AVX512CD is allowed from AVX3
on (every AVX-512 CPU has it).

Usage: isa_audit.py [--objdump PROG] [--arch x86_64|aarch64]
                    [--baseline NAME] [--expect-targets T1,T2]
                    [--ignore REGEX] [--max-per-function N] FILE...
Exit status: 0 clean, 1 violations (or --expect-targets not met), 2 usage
errors (missing file, objdump not found or failing).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

# --------------------------------------------------------------------------
# Features and targets
# --------------------------------------------------------------------------

# Feature -> what it is (used in the rule text).
FEATURE_TEXT = {
    # x86
    "SSE3": "SSE3",
    "SSSE3": "SSSE3",
    "SSE4.1": "SSE4.1",
    "SSE4.2": "SSE4.2",
    "POPCNT": "POPCNT",
    "AES": "AES-NI",
    "PCLMUL": "PCLMULQDQ",
    "AVX": "a VEX encoding (AVX/AVX2)",
    "FMA": "FMA3",
    "F16C": "F16C",
    "BMI1": "BMI1",
    "BMI2": "BMI2",
    "LZCNT": "LZCNT",
    "MOVBE": "MOVBE",
    "AVX512F": "AVX-512 (EVEX encoding, zmm or mask registers)",
    "AVX512CD": "AVX512CD",
    "AVX512-VNNI": "AVX512-VNNI",
    "AVX-VNNI": ("VEX-encoded VNNI (AVX-VNNI; CPUs with only AVX512-VNNI, "
                 "e.g. Zen 4/Ice Lake, raise SIGILL: use the EVEX form)"),
    "VBMI": "AVX512-VBMI",
    "VBMI2": "AVX512-VBMI2",
    "BITALG": "AVX512-BITALG",
    "VPOPCNTDQ": "AVX512-VPOPCNTDQ",
    "GFNI": "GFNI",
    "VAES": "VAES (AES on ymm/zmm or EVEX)",
    "VPCLMULQDQ": "VPCLMULQDQ (carry-less multiply on ymm/zmm or EVEX)",
    "AVX512-BF16": "AVX512-BF16",
    "AVX-NE-CONVERT": "AVX-NE-CONVERT",
    "AVX512-FP16": "AVX512-FP16",
    "VP2INTERSECT": "AVX512-VP2INTERSECT",
    "AVX512-IFMA": "AVX512-IFMA",
    "AVX-IFMA": "VEX-encoded IFMA (AVX-IFMA)",
    "AVX-VNNI-INT": "AVX-VNNI-INT8/INT16",
    "AMX": "AMX",
    "AVX512-PHI": "AVX512ER/PF/4FMAPS/4VNNIW (Xeon Phi only)",
    "XOP": "XOP (AMD only)",
    "FMA4": "FMA4 (AMD only)",
    "SSE4A": "SSE4a (AMD only)",
    "TBM": "TBM (AMD only)",
    # aarch64
    "CRYPTO": "the crypto extension (AES/PMULL.1q/SHA1/SHA256)",
    "SHA3": "SHA3/SHA512/SM3/SM4 (eor3, bcax, xar, rax1, sha512*, sm*)",
    "SVE": "SVE",
    "SVE2": "SVE2",
    "SME": "SME",
    "DOTPROD": "Advanced SIMD dot product (sdot/udot)",
    "FP16": "FP16 (half-precision arithmetic and moves)",
    "I8MM": "Int8 matrix multiply (I8MM)",
    "BF16": "BF16",
}

_X86_V1 = frozenset()  # SSE2 is implied by x86-64
_X86_SSSE3 = _X86_V1 | {"SSE3", "SSSE3"}
_X86_V2 = _X86_SSSE3 | {"SSE4.1", "SSE4.2", "POPCNT"}
_X86_SSE4 = _X86_V2 | {"AES", "PCLMUL"}
_X86_V3 = _X86_V2 | {"AVX", "FMA", "F16C", "BMI1", "BMI2", "LZCNT", "MOVBE"}
_X86_AVX2 = _X86_V3 | _X86_SSE4
_X86_V4 = _X86_V3 | {"AVX512F", "AVX512CD"}
_X86_AVX3 = _X86_AVX2 | _X86_V4
# What Highway 1.0.3's run-time check for AVX3_DL requires (no GFNI: it is
# neither checked nor in the target string).
_X86_AVX3_DL = _X86_AVX3 | {"AVX512-VNNI", "VBMI", "VBMI2", "BITALG",
                            "VPOPCNTDQ", "VAES", "VPCLMULQDQ"}
_X86_AVX3_ZEN4 = _X86_AVX3_DL | {"AVX512-BF16"}
_X86_AVX3_SPR = _X86_AVX3_ZEN4 | {"AVX512-FP16"}

_A64_V8 = frozenset()
_A64_NEON = frozenset({"CRYPTO"})  # Highway: "+crypto"
_A64_SVE = frozenset({"SVE", "FP16"})  # "+sve" implies +fp16
_A64_SVE2 = _A64_SVE | {"SVE2", "CRYPTO"}  # "+sve2-aes" implies +aes

# Architecture -> Highway namespace (N_ dropped) -> allowed features; None:
# compiled with the build's flags, so the baseline applies.
TARGETS = {
    "x86_64": {
        "SSE2": None, "EMU128": None, "SCALAR": None,
        "SSSE3": _X86_SSSE3, "SSE4": _X86_SSE4, "AVX2": _X86_AVX2,
        "AVX3": _X86_AVX3, "AVX3_DL": _X86_AVX3_DL,
        "AVX3_ZEN4": _X86_AVX3_ZEN4, "AVX3_SPR": _X86_AVX3_SPR,
    },
    "aarch64": {
        "EMU128": None, "SCALAR": None,
        "NEON": _A64_NEON, "SVE": _A64_SVE, "SVE_256": _A64_SVE,
        "SVE2": _A64_SVE2, "SVE2_128": _A64_SVE2,
    },
}

BASELINES = {
    "x86_64": {
        "x86-64": _X86_V1, "sse2": _X86_V1, "v1": _X86_V1,
        "x86-64-v2": _X86_V2, "v2": _X86_V2,
        "x86-64-v3": _X86_V3, "v3": _X86_V3,
        "x86-64-v4": _X86_V4, "v4": _X86_V4,
        "ssse3": _X86_SSSE3, "sse4": _X86_SSE4, "avx2": _X86_AVX2,
        "haswell": _X86_AVX2, "avx3": _X86_AVX3, "avx512": _X86_AVX3,
        "skylake-avx512": _X86_AVX3, "avx3_dl": _X86_AVX3_DL,
        "icelake-server": _X86_AVX3_DL,
    },
    "aarch64": {
        "armv8-a": _A64_V8, "neon": _A64_NEON, "sve": _A64_SVE,
        "sve2": _A64_SVE2,
    },
}
DEFAULT_BASELINE = {"x86_64": "x86-64", "aarch64": "armv8-a"}

# --------------------------------------------------------------------------
# Which target a function belongs to
# --------------------------------------------------------------------------

_CLONE_RE = re.compile(r"\[(?:clone |abi:)[^\]]*\]")
_OPERATOR_RE = re.compile(
    r"\s*(\(\)|\[\]|<=>|<<=|>>=|->\*|->|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|"
    r"\+=|-=|\*=|/=|%=|&=|\|=|\^=|[-+*/%^&|~!=<>,]|new\[\]|delete\[\]|"
    r"new\b|delete\b|co_await\b|\"\"\s*\w+)")
_QUALIFIERS = {"const", "volatile", "&", "&&", "noexcept", "transaction_safe"}
_NS_RE = re.compile(r"N_[A-Z0-9_]+$")


def strip_name(name):
    """Removes template argument and parameter lists from a demangled name,
    keeping operator names such as operator() and operator<."""
    s = _CLONE_RE.sub("", name)
    out = []
    stack = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "o" and s.startswith("operator", i) and (
                i == 0 or not (s[i - 1].isalnum() or s[i - 1] == "_")):
            m = _OPERATOR_RE.match(s, i + 8)
            if m:
                if not stack:
                    out.append("operator" + m.group(1).replace(" ", ""))
                i = m.end()
            else:  # conversion operator: its type is not a namespace
                if not stack:
                    out.append("operator@")
                i += 8
            continue
        if c == "<" or c == "(":
            stack.append(c)
        elif c == ">":
            if stack and stack[-1] == "<":
                stack.pop()
        elif c == ")":
            if stack and stack[-1] == "(":
                stack.pop()
        elif not stack:
            out.append(c)
        i += 1
    return "".join(out)


def qualified_name(name):
    """The function's own qualified name (no return type, qualifiers,
    template arguments or parameters)."""
    s = strip_name(name)
    # Split at spaces outside {...} (lambda and unnamed-type names).
    tokens, cur, depth = [], [], 0
    for c in s:
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
        if c == " " and depth == 0:
            if cur:
                tokens.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if cur:
        tokens.append("".join(cur))
    while tokens and tokens[-1] in _QUALIFIERS:
        tokens.pop()
    # "operator@ Type" (conversion operator): drop the type.
    for k in range(len(tokens) - 1, -1, -1):
        if tokens[k].endswith("operator@"):
            return tokens[k]
    return tokens[-1] if tokens else ""


def target_of(name, known):
    """The Highway target namespace (without N_) of the function, or None."""
    if "N_" not in name:
        return None
    comps = qualified_name(name).split("::")
    found = None
    for comp in comps[:-1]:
        if _NS_RE.match(comp) and comp[2:] in known:
            found = comp[2:]  # innermost wins
    return found


# --------------------------------------------------------------------------
# x86 instruction classification
# --------------------------------------------------------------------------

LEGACY, VEX, EVEX, XOP = 0, 1, 2, 3
_X86_PREFIXES = {b"66", b"67", b"f2", b"f3", b"2e", b"36", b"3e", b"26",
                 b"64", b"65", b"f0"} | {b"4%x" % k for k in range(16)}
_X86_ESCAPES = {b"62": EVEX, b"c4": VEX, b"c5": VEX, b"8f": XOP}
# Words objdump prints before the mnemonic.
_X86_TEXT_PREFIXES = {
    b"lock", b"rep", b"repz", b"repnz", b"repe", b"repne", b"notrack",
    b"bnd", b"cs", b"ds", b"ss", b"es", b"fs", b"gs", b"data16", b"data32",
    b"addr16", b"addr32", b"xacquire", b"xrelease", b"{vex}", b"{vex2}",
    b"{vex3}", b"{evex}", b"{load}", b"{store}", b"{disp8}", b"{disp16}",
    b"{disp32}", b"{nooptimize}", b"rex"} | {
        b"rex." + "".join(c for c, bit in zip("WRXB", (8, 4, 2, 1))
                          if k & bit).encode() for k in range(1, 16)}


def _words(*groups):
    return {w for g in groups for w in g.split()}


_SSE3 = _words("addsubpd addsubps haddpd haddps hsubpd hsubps lddqu movddup "
               "movshdup movsldup fisttp fisttps fisttpl fisttpll monitor "
               "mwait")
_SSSE3 = _words("pabsb pabsw pabsd palignr phaddw phaddd phaddsw phsubw "
                "phsubd phsubsw pmaddubsw pmulhrsw pshufb psignb psignw "
                "psignd")
_SSE41 = _words(
    "blendpd blendps blendvpd blendvps dppd dpps extractps insertps movntdqa "
    "mpsadbw packusdw pblendvb pblendw pcmpeqq pextrb pextrd pextrq "
    "phminposuw pinsrb pinsrd pinsrq pmaxsb pmaxsd pmaxud pmaxuw pminsb "
    "pminsd pminud pminuw pmovsxbw pmovsxbd pmovsxbq pmovsxwd pmovsxwq "
    "pmovsxdq pmovzxbw pmovzxbd pmovzxbq pmovzxwd pmovzxwq pmovzxdq pmuldq "
    "pmulld ptest roundpd roundps roundsd roundss")
_SSE42 = _words("crc32 crc32b crc32w crc32l crc32q pcmpestri pcmpestrm "
                "pcmpistri pcmpistrm pcmpgtq")
_AES = _words("aesenc aesenclast aesdec aesdeclast aesimc aeskeygenassist")
_SSE4A = _words("extrq insertq movntsd movntss")
_BMI1 = _words("andn bextr blsi blsmsk blsr")
_BMI2 = _words("bzhi mulx pdep pext rorx sarx shlx shrx")
_TBM = _words("blcfill blci blcic blcmsk blcs blsfill blsic t1mskc tzmsk")
_VNNI = _words("vpdpbusd vpdpbusds vpdpwssd vpdpwssds")
_VBMI = _words("vpermb vpermi2b vpermt2b vpmultishiftqb")
_VBMI2 = _words("vpcompressb vpcompressw vpexpandb vpexpandw")
_BITALG = _words("vpopcntb vpopcntw vpshufbitqmb")
_VPOPCNTDQ = _words("vpopcntd vpopcntq")
_CD = _words("vpconflictd vpconflictq vplzcntd vplzcntq vpbroadcastmb2q "
             "vpbroadcastmw2d")
_VP2INT = _words("vp2intersectd vp2intersectq")
_IFMA = _words("vpmadd52luq vpmadd52huq")
_AMX_RE = re.compile(rb"^(ldtilecfg|sttilecfg|tile\w*|tdp\w+)$")
_PHI_RE = re.compile(rb"^(vexp2p[sd]|vrcp28\w+|vrsqrt28\w+|vgatherpf\w+|"
                     rb"vscatterpf\w+|v4fn?madd\w+|vp4dpwssds?)$")
_VBMI2_RE = re.compile(rb"^vpsh[lr]dv?[wdq]$")
_VNNI_INT_RE = re.compile(rb"^vpdp(b(ss|su|uu)|w(su|us|uu))ds?$")
_FMA3_RE = re.compile(rb"^vf(n?m(add|sub)|maddsub|msubadd)(132|213|231)")
_FMA4_RE = re.compile(rb"^vf(n?m(add|sub)|maddsub|msubadd)(ps|pd|ss|sd)$")
_FP16_RE = re.compile(rb"^v\w*(ph|sh)[xyz]?$|^vcvtt?u?(ph|sh)2|^vmovw$|"
                      rb"^vf(c?mul|c?madd)c[ps]h")
_KREG_RE = re.compile(rb"^k(mov|andn?|x?n?or|xor|not|ortest|test|shift[lr]|"
                      rb"unpck|add)\w*$")
_PCLMUL_RE = re.compile(rb"^v?pclmul\w*dq$")
_GFNI_RE = re.compile(rb"^v?gf2p8\w+$")

# Kinds of mnemonic that need a look at the encoding or operands.
K_NONE, K_FIXED, K_VNNI, K_AES, K_PCLMUL, K_FMA, K_F16C, K_GPR_VEX, \
    K_IFMA = range(9)


def classify_x86_mnemonic(mn):
    """(kind, feature) for a mnemonic; feature applies to K_FIXED/K_GPR_VEX."""
    m = mn.decode()
    if mn == b"tzcnt":
        return K_NONE, None  # rep bsf: see the header comment
    if m in _SSE3:
        return K_FIXED, "SSE3"
    if m in _SSSE3:
        return K_FIXED, "SSSE3"
    if m in _SSE41:
        return K_FIXED, "SSE4.1"
    if m in _SSE42:
        return K_FIXED, "SSE4.2"
    if m.startswith("popcnt"):
        return K_FIXED, "POPCNT"
    if m.startswith("lzcnt"):
        return K_FIXED, "LZCNT"
    if m.startswith("movbe"):
        return K_FIXED, "MOVBE"
    if m in _SSE4A:
        return K_FIXED, "SSE4A"
    if m in _AES or (m.startswith("v") and m[1:] in _AES):
        return K_AES, None
    if _PCLMUL_RE.match(mn):
        return K_PCLMUL, None
    if _GFNI_RE.match(mn):
        return K_FIXED, "GFNI"
    if m in _BMI1:
        return K_GPR_VEX, "BMI1"
    if m in _BMI2:
        return K_GPR_VEX, "BMI2"
    if m in _TBM:
        return K_GPR_VEX, "TBM"
    if _AMX_RE.match(mn):
        return K_GPR_VEX, "AMX"
    if _KREG_RE.match(mn):
        return K_GPR_VEX, "AVX512F"
    if not m.startswith("v"):
        return K_NONE, None
    if m in _VNNI:
        return K_VNNI, None
    if _VNNI_INT_RE.match(mn):
        return K_FIXED, "AVX-VNNI-INT"
    if m in _VBMI:
        return K_FIXED, "VBMI"
    if m in _VBMI2 or _VBMI2_RE.match(mn):
        return K_FIXED, "VBMI2"
    if m in _BITALG:
        return K_FIXED, "BITALG"
    if m in _VPOPCNTDQ:
        return K_FIXED, "VPOPCNTDQ"
    if m in _CD:
        return K_FIXED, "AVX512CD"
    if m in _VP2INT:
        return K_FIXED, "VP2INTERSECT"
    if m in _IFMA:
        return K_IFMA, None
    if "bf16" in m or m.startswith(("vcvtnee", "vcvtneo", "vbcstne")):
        return K_FIXED, "AVX512-BF16"  # (VEX: AVX-NE-CONVERT, see below)
    if _PHI_RE.match(mn):
        return K_FIXED, "AVX512-PHI"
    if _FMA4_RE.match(mn):
        return K_FIXED, "FMA4"
    if m != "vcvtps2ph" and m != "vcvtph2ps" and _FP16_RE.match(mn):
        return K_FIXED, "AVX512-FP16"
    if _FMA3_RE.match(mn):
        return K_FMA, None
    if m in ("vcvtph2ps", "vcvtps2ph"):
        return K_F16C, None
    return K_NONE, None


class X86Checker:
    """Per-target cache of (encoding, mnemonic) -> static missing features."""

    def __init__(self, allowed):
        self.allowed = allowed
        self.no512 = "AVX512F" not in allowed
        self.cache = {}

    def static(self, enc, mn):
        key = (enc, mn)
        r = self.cache.get(key)
        if r is None:
            r = self.cache[key] = self._compute(enc, mn)
        return r

    def _compute(self, enc, mn):
        kind, feat = _MN_CACHE.get(mn) or _MN_CACHE.setdefault(
            mn, classify_x86_mnemonic(mn))
        need = []
        if enc == XOP:
            need.append("XOP")
        elif kind == K_GPR_VEX:
            need.append(feat)  # VEX-encoded, but not an AVX instruction
        elif enc == VEX:
            need.append("AVX")
        elif enc == EVEX:
            need.append("AVX512F")
        width = False  # VAES/VPCLMULQDQ: look at the operands
        if kind == K_FIXED:
            if feat == "AVX512-BF16" and enc == VEX:
                feat = "AVX-NE-CONVERT"
            need.append(feat)
        elif kind == K_VNNI:
            need.append("AVX-VNNI" if enc == VEX else "AVX512-VNNI")
        elif kind == K_IFMA:
            need.append("AVX-IFMA" if enc == VEX else "AVX512-IFMA")
        elif kind == K_AES:
            need.append("AES")
            if enc == EVEX:
                need.append("VAES")
            elif enc == VEX:
                width = "VAES"
        elif kind == K_PCLMUL:
            need.append("PCLMUL")
            if enc == EVEX:
                need.append("VPCLMULQDQ")
            elif enc == VEX:
                width = "VPCLMULQDQ"
        elif kind == K_FMA and enc == VEX:
            need.append("FMA")
        elif kind == K_F16C and enc == VEX:
            need.append("F16C")
        missing = tuple(dict.fromkeys(
            f for f in need if f not in self.allowed))
        if width and width in self.allowed:
            width = False
        # Operands matter only for VEX/EVEX: zmm/k registers, ymm for VAES.
        opcheck = enc in (VEX, EVEX) and (self.no512 or bool(width))
        return missing, opcheck, width


_MN_CACHE = {}


def x86_encoding(hexb):
    o = 0
    b = hexb[0:2]
    while b in _X86_PREFIXES:
        o += 3
        b = hexb[o:o + 2]
    enc = _X86_ESCAPES.get(b, LEGACY)
    if enc == XOP:  # 8F /0 is POP r/m; XOP has map select >= 8
        try:
            if int(hexb[o + 3:o + 5], 16) & 0x1F < 8:
                enc = LEGACY
        except ValueError:
            enc = LEGACY
    return enc


# Lines worth a closer look: VEX/EVEX/XOP-looking bytes, or a mnemonic that
# needs more than SSE2 in its legacy encoding. Everything else is SSE2 or
# plain x86-64 whatever the target, so most lines are skipped at C speed.
def _trie_re(words):
    """A regex alternation of words, factored by common prefixes (Python's
    re tries alternatives one by one)."""
    if "" in words:
        rest = [w for w in words if w]
        return "(?:%s)?" % _trie_re(rest) if rest else ""
    groups = {}
    for w in words:
        groups.setdefault(w[0], []).append(w[1:])
    alts = [re.escape(c) + _trie_re(sorted(set(tails)))
            for c, tails in sorted(groups.items())]
    return alts[0] if len(alts) == 1 else "(?:%s)" % "|".join(alts)


def _x86_candidate_re():
    # Mnemonics flagged in their legacy (non-VEX) encoding somewhere; the
    # families take any suffix (popcntq, crc32b, pclmullqlqdq, fisttpl).
    words = sorted(_SSE3 | _SSSE3 | _SSE41 | _SSE42 | _AES | _SSE4A)
    families = sorted(["popcnt", "lzcnt", "movbe", "crc32", "pclmul",
                       "gf2p8", "fisttp"])
    text_pfx = (r"(?:(?:lock|rep\w*|notrack|bnd|[cdefgs]s|data16|data32|"
                r"addr16|addr32|rex[.\w]*|xacquire|xrelease|\{\w+\}) +)*")
    # Starts with a literal tab, so that re skips ahead to the tabs (two a
    # line) instead of trying every position.
    pattern = (
        r"\t(?:"
        # the bytes: a VEX/EVEX/XOP escape after legacy and REX prefixes
        r"(?:(?:4[0-9a-f]|6[4-7]|f[023]|[23][6e]) )*(?:c[45]|62|8f) |"
        # the text: a mnemonic flagged in its legacy encoding
        r"%s(?:%s\w*|%s)(?![\w.]))") % (
            text_pfx, _trie_re(families), _trie_re(words))
    return re.compile(pattern.encode())


# Function headers ("\n0000000000001234 <name>:"); the leading literal
# newline lets re skip from line to line.
_HEADER_RE = re.compile(rb"\n[0-9a-f]+ <(.*)>:(?=\n)")


# --------------------------------------------------------------------------
# aarch64 instruction classification
# --------------------------------------------------------------------------

_A64_ZP_RE = re.compile(rb"(?<![\w.])[zp]([0-9]|[12][0-9]|3[01])(?![0-9])")
_A64_ZA_RE = re.compile(rb"(?<![\w.])(za[0-9]*[hv]?|zt0)(?![\w])")
_A64_SVE_NOREG = _words(
    "rdvl addvl addpl cntb cnth cntw cntd incb inch incw incd decb dech decw "
    "decd sqincb sqinch sqincw sqincd uqincb uqinch uqincw uqincd sqdecb "
    "sqdech sqdecw sqdecd uqdecb uqdech uqdecw uqdecd setffr")
_A64_SME = _words(
    "smstart smstop rdsvl addsvl addspl mova fmopa fmops bfmopa bfmops smopa "
    "smops umopa umops sumopa sumops usmopa usmops addha addva")
# SVE2 instructions (checked only when the operands are SVE registers; some
# of these names are also NEON or SHA3 instructions on v registers).
_A64_SVE2 = _words(
    # widening bottom/top
    "saddlb saddlt uaddlb uaddlt ssublb ssublt usublb usublt sabdlb sabdlt "
    "uabdlb uabdlt saddwb saddwt uaddwb uaddwt ssubwb ssubwt usubwb usubwt "
    "smullb smullt umullb umullt sqdmullb sqdmullt pmullb pmullt smlalb "
    "smlalt umlalb umlalt smlslb smlslt umlslb umlslt sqdmlalb sqdmlalt "
    "sqdmlslb sqdmlslt sshllb sshllt ushllb ushllt sabalb sabalt uabalb "
    "uabalt saddlbt ssublbt ssubltb sqdmlalbt sqdmlslbt eorbt eortb "
    "adclb adclt sbclb sbclt "
    # narrowing bottom/top
    "addhnb addhnt raddhnb raddhnt subhnb subhnt rsubhnb rsubhnt shrnb shrnt "
    "rshrnb rshrnt sqshrnb sqshrnt sqrshrnb sqrshrnt uqshrnb uqshrnt "
    "uqrshrnb uqrshrnt sqshrunb sqshrunt sqrshrunb sqrshrunt sqxtnb sqxtnt "
    "uqxtnb uqxtnt sqxtunb sqxtunt fcvtnt fcvtlt fcvtxnt "
    # bitwise, matching, pairwise, complex, saturating, shifts
    "eor3 bcax bsl bsl1n bsl2n nbsl xar histcnt histseg match nmatch whilerw "
    "whilewr whilege whilegt whilehi whilehs tbx cadd sqcadd sqrdcmlah cmla "
    "sadalp uadalp addp smaxp sminp umaxp uminp faddp fmaxp fminp fmaxnmp "
    "fminnmp shadd uhadd srhadd urhadd shsub uhsub shsubr uhsubr sli sri ssra "
    "usra srsra ursra sqabs sqneg urecpe ursqrte sqdmulh sqrdmulh sqrdmlah "
    "sqrdmlsh srshl urshl srshlr urshlr sqshl uqshl sqrshl uqrshl sqshlr "
    "uqshlr sqrshlr uqrshlr sqshlu srshr urshr suqadd usqadd sqsubr uqsubr "
    "flogb pmul aese aesd aesmc aesimc sm4e sm4ekey rax1 bext bdep bgrp")
# SVE has these too; only some operand shapes are SVE2.
_A64_SVE2_SHAPE = _words("mul smulh umulh sqadd uqadd sqsub uqsub tbl ldnt1b "
                         "ldnt1h ldnt1w ldnt1d stnt1b stnt1h stnt1w stnt1d")
_A64_PRED_RE = re.compile(rb"(?<![\w.])p([0-9]|1[0-5])(/[mz])?(?![\w])")
_A64_TBL2_RE = re.compile(rb"\{\s*z\d+\.\w\s*,\s*z")
_A64_CRYPTO = _words(
    "aese aesd aesmc aesimc sha1c sha1m sha1p sha1h sha1su0 sha1su1 sha256h "
    "sha256h2 sha256su0 sha256su1")
_A64_SHA3_SM = _words("eor3 bcax rax1 xar sha512h sha512h2 sha512su0 "
                      "sha512su1 sm3ss1 sm3tt1a sm3tt1b sm3tt2a sm3tt2b "
                      "sm3partw1 sm3partw2 sm4e sm4ekey")
_A64_DOT = _words("sdot udot usdot sudot")
_A64_I8MM = _words("smmla ummla usmmla")
_A64_BF16 = _words("bfcvt bfcvtn bfcvtn2 bfcvtnt bfdot bfmmla bfmlal bfmlalb "
                   "bfmlalt bfmlsl bfmlslb bfmlslt")
_A64_FP16_OPS_RE = re.compile(
    rb"\.[48]h\b|(?<![\w.])h([0-9]|[12][0-9]|3[01])\b")
_A64_FP_NOT16 = _words("fcvt fcvtl fcvtl2 fcvtn fcvtn2 fcvtxn fcvtxn2")


def _a64_sve2_shape(m, ops):
    """SVE2 forms of instructions that SVE also has."""
    pred = _A64_PRED_RE.search(ops)
    if m in ("mul", "smulh", "umulh"):
        # SVE: predicated (mul z0.s, p0/m, z0.s, z1.s) or immediate; SVE2:
        # unpredicated vectors (mul z0.s, z1.s, z2.s) or indexed.
        return not pred and b"#" not in ops.split(b"[")[0]
    if m in ("sqadd", "uqadd", "sqsub", "uqsub"):
        return bool(pred and pred.group(2) == b"/m")  # SVE: unpredicated
    if m == "tbl":
        return bool(_A64_TBL2_RE.search(ops))  # two-register table
    return b"[z" in ops  # ldnt1/stnt1 with a vector base (gather/scatter)


def a64_features(mn, ops):
    """Features an aarch64 instruction needs (mnemonic and operand text)."""
    m = mn.decode()
    ops = ops.split(b"//")[0].split(b" <")[0].split(b"\t<")[0]
    if m in _A64_SME or _A64_ZA_RE.search(ops):
        return ("SME",)
    sve = bool(_A64_ZP_RE.search(ops))
    if sve or m in _A64_SVE_NOREG:
        if sve and (m in _A64_SVE2 or (m in _A64_SVE2_SHAPE and
                                       _a64_sve2_shape(m, ops))):
            return ("SVE", "SVE2")
        return ("SVE",)
    if m in _A64_CRYPTO:
        return ("CRYPTO",)
    if m in _A64_SHA3_SM:
        return ("SHA3",)
    if m in ("pmull", "pmull2") and (b".1q" in ops or b".1d" in ops):
        return ("CRYPTO",)
    if m in _A64_DOT:
        return ("DOTPROD",) if m in ("sdot", "udot") else ("I8MM",)
    if m in _A64_I8MM:
        return ("I8MM",)
    if m in _A64_BF16:  # (not bfi/bfxil/bfm/bfc: base bitfield moves)
        return ("BF16",)
    if ((m.startswith("f") or m in ("scvtf", "ucvtf"))
            and m not in _A64_FP_NOT16 and _A64_FP16_OPS_RE.search(ops)):
        return ("FP16",)
    return ()


_CANDIDATE_RE = {
    "x86_64": _x86_candidate_re(),
    "aarch64": re.compile(rb"\t[0-9a-f]"),  # every instruction line
}


# --------------------------------------------------------------------------
# Disassembly and the audit
# --------------------------------------------------------------------------

def elf_arch(path):
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return {62: "x86_64", 183: "aarch64"}.get(machine)


def elf_has_symtab(path):
    """False for an ELF file without a .symtab (stripped), else True."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return True
            order = "little" if head[5] == 1 else "big"
            wide = head[4] == 2

            def num(b, lo, n):
                return int.from_bytes(b[lo:lo + n], order)

            shoff = num(head, 0x28, 8) if wide else num(head, 0x20, 4)
            shentsize = num(head, 0x3A if wide else 0x2E, 2)
            shnum = num(head, 0x3C if wide else 0x30, 2)
            if not shoff or not shnum or shentsize < 8:
                return True
            f.seek(shoff)
            table = f.read(shentsize * shnum)
    except OSError:
        return True
    return any(num(table, k * shentsize + 4, 4) == 2  # SHT_SYMTAB
               for k in range(len(table) // shentsize))


def find_objdump(arch, requested):
    if requested:
        return shutil.which(requested)
    names = ["objdump"] if arch == "x86_64" else [
        "aarch64-linux-gnu-objdump", "aarch64-linux-gnu-objdump-multiarch",
        "objdump-multiarch"]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


class FileAudit:
    def __init__(self, path, arch, baseline, max_per_function, ignore, out):
        self.path = path
        self.arch = arch
        self.baseline = baseline
        self.known = TARGETS[arch]
        self.max = max_per_function
        self.ignore = ignore
        self.out = out
        self.counts = {}
        self.violations = 0
        self.bad_functions = 0
        self.checkers = {}
        self.a64_cache = {}

    def allowed(self, target):
        feats = self.known.get(target) if target else None
        return self.baseline | feats if feats is not None else self.baseline

    def label(self, target):
        return target if target else "baseline"

    def report(self, func, target, addr, text, missing, hexb):
        what = ", ".join(FEATURE_TEXT.get(f, f) for f in missing)
        where = target if target else "the baseline (%s)" % self.baseline_name
        enc = ""
        if self.arch == "x86_64":
            enc = ("", "VEX ", "EVEX ", "XOP ")[x86_encoding(hexb)]
        self.out.write("%s: %s (%s): %s %s -- needs %s, not part of %s "
                       "[%s%s]\n" % (self.path, func, self.label(target), addr,
                                      text, what, where, enc,
                                      hexb.decode().strip()))

    def start_function(self, name):
        """A function header: flushes the previous function's count."""
        self.flush()
        self.func = name
        self.nviol = 0
        target = self.target = target_of(name, self.known)
        key = target or ""
        self.counts[key] = self.counts.get(key, 0) + 1
        self.skip = any(r.search(name) for r in self.ignore)
        self.fresh = True       # its first instruction lines not seen yet
        self.skip_before = -1   # see _ubsan_prologue
        checker = self.checkers.get(key)
        if checker is None:
            allowed = self.allowed(target)
            checker = self.checkers[key] = (
                allowed if self.arch == "aarch64" else X86Checker(allowed))
        self.checker = checker

    def flush(self):
        if self.func is not None and self.nviol:
            self.bad_functions += 1
            if self.nviol > self.max:
                self.out.write("%s: %s (%s): ... and %d more violation(s) in "
                               "this function (%d in all)\n" % (
                                   self.path, self.func,
                                   self.label(self.target),
                                   self.nviol - self.max, self.nviol))

    def _ubsan_prologue(self, chunk, start, end):
        """clang's -fsanitize=function (part of -fsanitize=undefined) starts
        each function with `jmp +6` over 6 bytes of data (the 0x3276 magic
        and a type hash). objdump's linear sweep decodes that data as
        instructions, and the real ones after it out of step until it falls
        back into step (within a few instructions): nonsense such as `lock
        fisttps` or a VEX vminps. The first 32 bytes of such a function are
        not checked; the same code is audited in the builds without UBSan."""
        lines = []
        pos = start
        while len(lines) < 2 and pos < end:
            e = chunk.find(b"\n", pos, end)
            e = end if e < 0 else e
            line = chunk[pos:e]
            pos = e + 1
            if line.count(b"\t") >= 2:
                lines.append(line.split(b"\t", 2))
        if len(lines) < 2:
            return False  # not seen yet (the chunk ended): try again
        self.fresh = False
        if (lines[0][1].split()[:2] == [b"eb", b"06"] and
                lines[1][1].split()[:2] == [b"76", b"32"]):
            try:
                first = int(lines[0][0].strip().rstrip(b":"), 16)
            except ValueError:
                return True
            self.skip_before = first + 32
        return True

    def check_line(self, line):
        """Checks one instruction line of the current function."""
        parts = line.split(b"\t", 2)
        if len(parts) < 3:
            return
        if self.skip_before >= 0:
            try:
                if int(parts[0].strip().rstrip(b":"), 16) < self.skip_before:
                    return
            except ValueError:
                pass
        text = parts[2]
        sp = text.split(None, 1)
        if not sp:
            return
        mn = sp[0]
        if self.arch == "aarch64":
            if mn == b".inst" or mn == b"udf":
                return
            ops = sp[1] if len(sp) > 1 else b""
            key = (mn, ops)
            need = self.a64_cache.get(key)
            if need is None:
                if len(self.a64_cache) > 200000:
                    self.a64_cache.clear()
                need = self.a64_cache[key] = a64_features(mn, ops)
            missing = tuple(f for f in need if f not in self.checker)
        else:
            while (mn in _X86_TEXT_PREFIXES or mn[:1] == b"{") and len(sp) > 1:
                sp = sp[1].split(None, 1)
                mn = sp[0]
            if mn == b"(bad)":
                return
            checker = self.checker
            enc = x86_encoding(parts[1])
            missing, opcheck, width = checker.static(enc, mn)
            if opcheck:
                ops = sp[1] if len(sp) > 1 else b""
                extra = ()
                if checker.no512 and (b"%zmm" in ops or b"%k" in ops):
                    extra += ("AVX512F",)
                if width and (b"%ymm" in ops or b"%zmm" in ops):
                    extra += (width,)
                if extra:
                    missing = tuple(dict.fromkeys(missing + extra))
        if not missing:
            return
        self.nviol += 1
        self.violations += 1
        if self.nviol <= self.max:
            addr = parts[0].strip().rstrip(b":").decode()
            self.report(self.func, self.target, addr,
                        b" ".join(text.split()).decode("utf-8", "replace"),
                        missing, parts[1])

    def scan(self, chunk):
        """Checks a chunk of whole lines of objdump output. Only the lines
        that the candidate pattern picks are looked at one by one."""
        chunk = b"\n" + chunk  # every line starts after a newline
        pos = 0
        for h in _HEADER_RE.finditer(chunk):
            self.scan_body(chunk, pos, h.start())
            self.start_function(h.group(1).decode("utf-8", "replace"))
            pos = h.end()
        self.scan_body(chunk, pos, len(chunk))

    def scan_body(self, chunk, start, end):
        if self.skip or self.func is None or start >= end:
            return
        if self.fresh and self.arch == "x86_64":
            self._ubsan_prologue(chunk, start, end)
        last = -1
        find, rfind = chunk.find, chunk.rfind
        for m in _CANDIDATE_RE[self.arch].finditer(chunk, start, end):
            b = rfind(b"\n", 0, m.start()) + 1
            if b == last:
                continue  # the line matched twice
            last = b
            e = find(b"\n", m.end())
            self.check_line(chunk[b:e if e >= 0 else len(chunk)])

    def run(self, objdump, baseline_name):
        self.baseline_name = baseline_name
        self.func = self.target = self.checker = None
        self.skip = True
        self.fresh = False
        self.skip_before = -1
        self.nviol = 0
        cmd = [objdump, "-d", "-C", "--insn-width=16", "-w", self.path]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError as e:
            sys.stderr.write("isa_audit: cannot run %s: %s\n" % (objdump, e))
            return 2
        # Streamed in blocks of whole lines; stderr is small (drained after).
        rest = b""
        read = proc.stdout.read
        while True:
            data = read(1 << 22)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            self.scan(data[:cut])
        if rest:
            self.scan(rest + b"\n")
        self.flush()
        err = proc.stderr.read().decode("utf-8", "replace")
        rc = proc.wait()
        if rc != 0:
            sys.stderr.write("isa_audit: %s failed on %s (exit %d):\n%s" % (
                os.path.basename(objdump), self.path, rc, err))
            return 2
        if err.strip():
            sys.stderr.write(err)
        return 0


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="isa_audit.py",
        description="Checks that every function of a Highway-dispatched "
        "binary uses only instructions its target (N_<TARGET> namespace) "
        "or the baseline allows.")
    p.add_argument("--objdump", help="objdump program (default: objdump, "
                   "or aarch64-linux-gnu-objdump for aarch64 files)")
    p.add_argument("--arch", choices=sorted(TARGETS),
                   help="architecture (default: from the ELF header)")
    p.add_argument("--baseline",
                   help="what code outside target namespaces (and N_EMU128, "
                   "N_SCALAR) may use: x86_64: %s; aarch64: %s" % (
                       ", ".join(BASELINES["x86_64"]),
                       ", ".join(BASELINES["aarch64"])))
    p.add_argument("--expect-targets", metavar="T1,T2",
                   help="fail unless every file has functions in each of "
                   "these target namespaces (e.g. AVX2,AVX3_DL), so that a "
                   "stripped binary cannot pass")
    p.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                   help="skip functions whose demangled name matches")
    p.add_argument("--max-per-function", type=int, default=3, metavar="N",
                   help="violations printed per function (default 3)")
    p.add_argument("files", nargs="+", metavar="FILE")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    status = 0
    expect = []
    if args.expect_targets:
        expect = [t.strip().upper() for t in args.expect_targets.split(",")
                  if t.strip()]
        expect = [t[2:] if t.startswith("N_") else t for t in expect]
    ignore = [re.compile(r) for r in args.ignore]
    for path in args.files:
        if not os.path.isfile(path):
            sys.stderr.write("isa_audit: %s: no such file\n" % path)
            return 2
    total_v = 0
    for path in args.files:
        arch = args.arch or elf_arch(path) or (
            "aarch64" if os.uname().machine in ("aarch64", "arm64")
            else "x86_64")
        bad = [t for t in expect if t not in TARGETS[arch]]
        if bad:
            sys.stderr.write(
                "isa_audit: unknown %s target(s): %s (known: %s)\n" % (
                    arch, ", ".join(bad), ", ".join(TARGETS[arch])))
            return 2
        bname = (args.baseline or DEFAULT_BASELINE[arch]).lower()
        if bname not in BASELINES[arch]:
            sys.stderr.write("isa_audit: unknown %s baseline %r (known: %s)\n"
                             % (arch, bname, ", ".join(BASELINES[arch])))
            return 2
        objdump = find_objdump(arch, args.objdump)
        if not objdump:
            sys.stderr.write("isa_audit: objdump for %s not found%s\n" % (
                arch, " (%s)" % args.objdump if args.objdump else ""))
            return 2
        t0 = time.monotonic()
        audit = FileAudit(path, arch, BASELINES[arch][bname],
                          args.max_per_function, ignore, sys.stdout)
        rc = audit.run(objdump, bname)
        if rc:
            return rc
        total_v += audit.violations
        counts = audit.counts
        nfunc = sum(counts.values())
        per = ["baseline(%s)=%d" % (bname, counts.get("", 0))]
        per += ["%s=%d" % (t, counts[t]) for t in TARGETS[arch]
                if counts.get(t)]
        print("isa_audit: %s: %d functions checked: %s; %d violation(s) in "
              "%d function(s) [%.1f s]" % (
                  path, nfunc, " ".join(per), audit.violations,
                  audit.bad_functions, time.monotonic() - t0))
        if audit.violations:
            status = 1
        missing = [t for t in expect if not counts.get(t)]
        if missing:
            print("isa_audit: %s: FAIL: no functions in namespace(s) %s "
                  "(stripped binary, or those targets not compiled?), so the "
                  "audit proves nothing about them" % (
                      path, ", ".join("N_" + t for t in missing)))
            status = 1
        if not elf_has_symtab(path):
            print("isa_audit: %s: warning: no symbol table (stripped): code "
                  "between exported symbols counts as the symbol before it, "
                  "so targets cannot be told apart; audit an unstripped "
                  "build" % path)
        elif not missing and nfunc and not any(
                counts.get(t) for t in TARGETS[arch]
                if TARGETS[arch][t] is not None):
            print("isa_audit: %s: warning: no functions in any SIMD target "
                  "namespace" % path)
    if len(args.files) > 1:
        print("isa_audit: %d file(s), %d violation(s)" % (
            len(args.files), total_v))
    return status


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(1)
