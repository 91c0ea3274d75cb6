"""What torch.save(state_dict) writes, without torch: a zip of stored entries
<top>/data.pkl (a protocol-2 pickle), <top>/data/<key> (each storage's raw
bytes) and <top>/version. The pickle is made by Python's own pickler, with
stand-ins for torch's globals installed under torch's names only while
pickling, so its opcodes are what torch's are: GLOBAL
'torch._utils _rebuild_tensor_v2', BINPERSID ('storage', torch.FloatStorage,
key, 'cpu', numel), REDUCE, SETITEMS. Used by tests/test_torch_bin.py and
tests/fuzz/gen_seeds.py; every field can be set wrong on purpose.
"""
import collections
import contextlib
import io
import pickle
import struct
import sys
import types
import zipfile

import numpy as np

STORAGE = {np.dtype(np.float32): "FloatStorage", np.dtype(np.float16): "HalfStorage",
           np.dtype(np.float64): "DoubleStorage", np.dtype(np.int64): "LongStorage",
           np.dtype(np.int32): "IntStorage", np.dtype(np.uint8): "ByteStorage"}


class Storage:
    def __init__(self, key, data, numel=None, type_name=None):
        self.key, self.data = str(key), np.ascontiguousarray(data).reshape(-1)
        self.numel = self.data.size if numel is None else numel  # what the persistent id says
        self.type_name = type_name or STORAGE[self.data.dtype]


class Tensor:
    def __init__(self, storage, offset, size, stride, parameter=False):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)
        self.parameter = parameter  # pickled through _rebuild_parameter, as nn.Parameter is


def contiguous(storage, shape, offset=0):
    stride, acc = [], 1
    for d in reversed(shape):
        stride.insert(0, acc)
        acc *= d
    return Tensor(storage, offset, shape, stride)


@contextlib.contextmanager
def _fake_torch():
    """torch, torch._utils and collections' names as the pickler looks them up."""
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    for name in set(STORAGE.values()) | {"BFloat16Storage"}:
        cls = type(name, (), {})
        cls.__module__, cls.__qualname__ = "torch", name
        setattr(torch, name, cls)

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("never called")

    def _rebuild_parameter(*args):
        raise RuntimeError("never called")

    for f in (_rebuild_tensor_v2, _rebuild_parameter):
        f.__module__, f.__qualname__ = "torch._utils", f.__name__
        setattr(utils, f.__name__, f)
    torch._utils = utils
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    try:
        yield torch, utils
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


class _T:
    """A tensor as torch pickles it: __reduce__ to _rebuild_tensor_v2."""

    def __init__(self, t, utils):
        self.t, self.utils = t, utils

    def __reduce__(self):
        t = self.t
        return (self.utils._rebuild_tensor_v2,
                (t.storage, t.offset, t.size, t.stride, False, collections.OrderedDict()))


class _P:
    def __init__(self, inner, utils):
        self.inner, self.utils = inner, utils

    def __reduce__(self):
        return (self.utils._rebuild_parameter, (self.inner, True, collections.OrderedDict()))


def pickle_state(items, metadata=False):
    """items: [(name, Tensor)] -> the data.pkl bytes. metadata: a
    state_dict()'s _metadata attribute (pickled with BUILD)."""
    with _fake_torch() as (torch, utils):
        class P(pickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, Storage):
                    return ("storage", getattr(torch, obj.type_name), obj.key, "cpu", obj.numel)
                return None

        od = collections.OrderedDict()
        for name, t in items:
            od[name] = _P(_T(t, utils), utils) if t.parameter else _T(t, utils)
        if metadata:
            od._metadata = collections.OrderedDict([("", {"version": 1}), ("text_model", {"version": 1})])
        buf = io.BytesIO()
        P(buf, protocol=2).dump(od)
        return buf.getvalue()


def storages_of(items):
    seen = collections.OrderedDict()
    for _, t in items:
        seen.setdefault(t.storage.key, t.storage)
    return list(seen.values())


def write_bin(items, top="pytorch_model", pkl=None, metadata=False, extra=(), skip=(), deflate=(), byteorder=None):
    """The archive's bytes. pkl: data.pkl's bytes instead of the pickled
    items; extra: more (name, bytes) entries; skip: storage keys left out;
    deflate: entry names written compressed."""
    out = io.BytesIO()
    entries = [(top + "/data.pkl", pkl if pkl is not None else pickle_state(items, metadata))]
    if byteorder:
        entries.append((top + "/byteorder", byteorder.encode()))
    for s in storages_of(items):
        if s.key not in skip:
            entries.append(("%s/data/%s" % (top, s.key), s.data.tobytes()))
    entries.append((top + "/version", b"3\n"))
    entries += list(extra)
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            z.writestr(info, data)
    return out.getvalue()


def as_zip64(raw):
    """The same archive with zip64 end records (what torch writes past 4 GiB)."""
    assert raw[-22:-18] == b"PK\x05\x06"
    count, cd_size, cd_off = struct.unpack("<HII", raw[-12:-2])
    body = raw[:-22]
    rec_off = len(body)
    rec = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, count, count, cd_size, cd_off)
    loc = struct.pack("<IIQI", 0x07064b50, 0, rec_off, 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + rec + loc + eocd


# ---- hand-written pickles: opcodes a state dict never has
def op_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def evil_pickle(module, name, arg="echo pwned"):
    """PROTO 2, GLOBAL module.name, ('arg',), REDUCE, STOP: what an attack looks like."""
    return b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n" + op_str(arg) + b"\x85R."
