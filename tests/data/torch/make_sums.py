# Writes sums.json: PyTorch's float32 x.abs().sum() and .sum(), and the
# activation scale 127 / max|x|, for inputs
# that C++ regenerates exactly (tests/quant/torch_sum_test.cc). Run with
# Debian's python3-torch (1.13, AVX2 build), one thread:
#   /usr/bin/python3 tests/data/torch/make_sums.py > tests/data/torch/sums.json
import json, struct
import torch
torch.set_num_threads(1)

def values(n, seed):
    # x[i] = u / 2^32 - 0.5 with u a 32-bit LCG; exact in float64, rounded
    # once to float32 (C++ does the same).
    u = seed
    out = []
    for _ in range(n):
        u = (u * 1664525 + 1013904223) % 2**32
        out.append(u / 2**32 - 0.5)
    return torch.tensor(out, dtype=torch.float64).float()

def bits(t):
    return struct.unpack('<I', struct.pack('<f', t.item()))[0]

sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128,
         129, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 4095, 4096,
         4097, 16383, 16384, 16385, 65535, 65536, 65537, 147456, 262143, 393216,
         1000003]
cases = []
for n in sizes:
    x = values(n, n)
    cases.append({"n": n, "seed": n, "abs_sum": bits(x.abs().sum()),
                  "sum": bits(x.sum()),
                  "abs_mean": bits(x.abs().mean())})
# transformers' ActQuant scale, `127 / x.abs().max(...)`, for the maxima of
# the same inputs (PyTorch computes it as reciprocal() * 127).
scales = []
for n in sizes:
    m = values(n, n + 7).abs().max().clamp(min=1e-5)
    scales.append({"n": n, "seed": n + 7, "scale": bits(127 / m)})
print(json.dumps({"source": "torch " + torch.__version__ + ", 1 thread, " +
                  torch.__config__.show().split("CPU capability usage: ")[1].split("\n")[0],
                  "cases": cases, "act_scales": scales}, indent=1))
