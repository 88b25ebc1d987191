# Minimal stand-in for the `safetensors` package (PyPI was unreachable where the fixtures were made;
# Debian bookworm has no python3-safetensors). Implements only what the peer scripts call:
# safe_open(path, framework="pt") with keys()/get_tensor()/metadata(), and
# safetensors.torch.save_file / load_file.
import json, struct
import numpy as np

_DT = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
       "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}

def _read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
    return n, hdr

class safe_open:
    def __init__(self, path, framework="pt", device="cpu"):
        self.path = path
        self.n, self.hdr = _read_header(path)
        self.meta = self.hdr.pop("__metadata__", None)
        with open(path, "rb") as f:
            f.seek(8 + self.n)
            self.buf = f.read()
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def keys(self): return list(self.hdr.keys())
    def metadata(self): return self.meta
    def get_tensor(self, name):
        import torch
        info = self.hdr[name]
        a, b = info["data_offsets"]
        raw = bytearray(self.buf[a:b])
        shape = info["shape"]
        if info["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16) if len(raw) else torch.zeros(0, dtype=torch.int16)
            return t.view(torch.bfloat16).reshape(shape).clone()
        arr = np.frombuffer(bytes(raw), dtype=_DT[info["dtype"]]).reshape(shape).copy()
        return torch.from_numpy(arr)
