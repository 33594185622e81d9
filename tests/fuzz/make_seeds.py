#!/usr/bin/env python3
"""Writes the fuzzers' tiny seed corpus (tests/fuzz/corpus/) from scratch.

Only the standard library: torch-style pickles come from stand-in modules
named like torch's, so pickle emits the same GLOBALs torch.save does.
Run it again after changing it; the outputs are committed.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def fake_torch():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in ("FloatStorage", "HalfStorage", "LongStorage"):
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch, utils


TORCH, UTILS = fake_torch()


class Storage:
    def __init__(self, kind, key, numel):
        self.kind, self.key, self.numel = kind, key, numel


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        s, o, size, stride = self.args
        return (UTILS._rebuild_tensor_v2,
                (s, o, size, stride, False, collections.OrderedDict()))


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", getattr(TORCH, obj.kind), obj.key, "cpu",
                    obj.numel)
        return None


def dumps(obj, protocol):
    buf = io.BytesIO()
    Pickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


def state_dict():
    f = Storage("FloatStorage", "0", 12)
    h = Storage("HalfStorage", "1", 4)
    sd = collections.OrderedDict()
    sd["w"] = Tensor(f, 0, (3, 4), (4, 1))
    sd["t"] = Tensor(f, 1, (2, 3), (1, 2))  # a strided view, shared storage
    sd["h"] = Tensor(h, 0, (4,), (1,))
    sd["ids"] = Tensor(Storage("LongStorage", "2", 2), 0, (2,), (1,))
    return {"state_dict": sd, "epoch": 3, "cfg": {"fps": 8, "x": 1.5}}


def torch_zip(pkl, deflate=False):
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", struct.pack("<12f", *range(12)))
        z.writestr("archive/data/1", struct.pack("<4e", 1, 2, 3, 4))
        z.writestr("archive/data/2", struct.pack("<2q", 0, 1))
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def write(sub, name, data):
    os.makedirs(os.path.join(OUT, sub), exist_ok=True)
    with open(os.path.join(OUT, sub, name), "wb") as f:
        f.write(data)


def main():
    p2 = dumps(state_dict(), 2)
    write("pickle", "state_dict_p2.pkl", p2)
    write("pickle", "state_dict_p4.pkl", dumps(state_dict(), 4))
    write("pickle", "stored.ckpt", torch_zip(p2))
    write("pickle", "deflated.ckpt", torch_zip(p2, deflate=True))
    write("safetensors", "f32.safetensors",
          safetensors({"w": ("F32", [2, 2], struct.pack("<4f", 0, 1, 2, 3))}))
    write("safetensors", "mixed.safetensors", safetensors(
        {"h": ("F16", [2], struct.pack("<2e", 1.5, -2)),
         "b": ("BF16", [1, 1], b"\xc0\x3f"),
         "d": ("F64", [], struct.pack("<d", 0.25))},
        metadata={"format": "pt"}))


if __name__ == "__main__":
    main()
