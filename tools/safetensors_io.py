#!/usr/bin/env python3
"""Minimal NumPy reader and writer for the safetensors format.

Layout (https://github.com/huggingface/safetensors):
    u64 little-endian N | N bytes of JSON header | raw tensor bytes
The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} with
offsets relative to the first byte after the header; an optional "__metadata__" maps strings
to strings. Tensor data is little-endian and C-contiguous.

Only the standard library and NumPy are used, so the test tooling runs where torch and the
`safetensors` package are not installed. NumPy has no bfloat16: BF16 is read by shifting its
16 bits into the top half of a float32 (exact) and written by rounding float32 to the nearest
bfloat16, ties to even (what torch's `.to(torch.bfloat16)` does).

The writer streams: the header is fixed from the tensors' names, dtypes and shapes before any
data is written, and tensors are then written one at a time, so a 600 MB model never has to
be held in memory at once.
"""

import json
import os
import struct

import numpy as np

# safetensors dtype name -> (NumPy dtype used to read the raw bytes, bytes per element).
# BF16 is read as raw little-endian uint16 and converted separately.
_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}

# NumPy dtype -> safetensors name, for writing arrays whose dtype says it all.
_NP_TO_ST = {
    np.dtype("float64"): "F64",
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("int16"): "I16",
    np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}

# Refuse absurd headers early rather than trying to allocate them (the reference
# implementation caps the header at 100 MB too).
_MAX_HEADER = 100 * 1024 * 1024


def itemsize(st_dtype):
    """Bytes per element of a safetensors dtype name."""
    return _DTYPES[st_dtype].itemsize


# ---------------------------------------------------------------------------------------------
# bfloat16 conversion
# ---------------------------------------------------------------------------------------------

def bf16_bits_to_f32(bits):
    """uint16 bfloat16 bit patterns -> float32 (exact: bf16 is the top half of an f32)."""
    b = np.asarray(bits, dtype=np.uint16)
    # Work on a 1-d copy: NumPy cannot reinterpret a 0-d array (e.g. logit_scale) in place.
    wide = b.reshape(-1).astype(np.uint32) << np.uint32(16)
    return wide.view(np.float32).reshape(b.shape)


def f32_to_bf16_bits(x):
    """float32 -> uint16 bfloat16 bit patterns, rounding to nearest, ties to even.

    Adding 0x7FFF plus the lowest kept bit and truncating rounds to nearest-even; an
    overflow of the mantissa carries into the exponent, which is exactly right (it rounds up
    to the next binade or to infinity). NaN must not go through that addition (it could turn
    into infinity), so NaNs become a quiet NaN with their sign kept.
    """
    f = np.asarray(x, dtype=np.float32)
    shape = f.shape
    f = np.ascontiguousarray(f.reshape(-1))   # 1-d: 0-d arrays cannot be reinterpreted
    u = f.view(np.uint32)
    rounded = ((u + np.uint32(0x7FFF) + ((u >> 16) & np.uint32(1))) >> 16).astype(np.uint16)
    nan = np.isnan(f)
    if nan.any():
        rounded[nan] = ((u[nan] >> 16) | np.uint32(0x0040)).astype(np.uint16)
    return rounded.reshape(shape)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

class SafeTensorsFile:
    """Lazy reader: parses and validates the header, reads tensors on request.

    Data is memory-mapped, so opening a large file costs nothing until tensors are read.
    """

    def __init__(self, path):
        self.path = path
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) != 8:
                raise ValueError(f"{path}: too short for a safetensors file")
            (n,) = struct.unpack("<Q", raw)
            if n > _MAX_HEADER or 8 + n > size:
                raise ValueError(f"{path}: header length {n} is invalid for a {size}-byte file")
            header = json.loads(f.read(n).decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError(f"{path}: header is not a JSON object")
        self.metadata = header.pop("__metadata__", None) or {}
        self.data_start = 8 + n
        self.data_size = size - self.data_start
        self.entries = header
        self._validate()
        self._mm = None

    def _validate(self):
        """Check each entry's dtype, shape and offsets; the spec also forbids gaps/overlaps."""
        spans = []
        for name, e in self.entries.items():
            dt = e.get("dtype")
            if dt not in _DTYPES:
                raise ValueError(f"{self.path}: tensor {name}: unsupported dtype {dt!r}")
            shape = e.get("shape")
            if not isinstance(shape, list) or any(not isinstance(d, int) or d < 0 for d in shape):
                raise ValueError(f"{self.path}: tensor {name}: bad shape {shape!r}")
            b, end = e.get("data_offsets", (None, None))
            count = int(np.prod(shape, dtype=np.int64))
            if not (isinstance(b, int) and isinstance(end, int) and 0 <= b <= end <= self.data_size):
                raise ValueError(f"{self.path}: tensor {name}: offsets {b},{end} out of range")
            if end - b != count * itemsize(dt):
                raise ValueError(f"{self.path}: tensor {name}: {end - b} bytes for shape {shape} {dt}")
            spans.append((b, end, name))
        spans.sort()
        pos = 0
        for b, end, name in spans:
            if b != pos:
                raise ValueError(f"{self.path}: tensor {name}: data not contiguous (at {b}, expected {pos})")
            pos = end
        if pos != self.data_size:
            raise ValueError(f"{self.path}: {self.data_size - pos} trailing bytes after the last tensor")

    def keys(self):
        return list(self.entries.keys())

    def __contains__(self, name):
        return name in self.entries

    def dtype(self, name):
        return self.entries[name]["dtype"]

    def shape(self, name):
        return tuple(self.entries[name]["shape"])

    def raw(self, name):
        """The stored values with their stored NumPy dtype (BF16 as uint16 bit patterns)."""
        e = self.entries[name]
        if self._mm is None:
            if self.data_size == 0:
                return np.zeros(e["shape"], dtype=_DTYPES[e["dtype"]])
            self._mm = np.memmap(self.path, dtype=np.uint8, mode="r", offset=self.data_start)
        b, end = e["data_offsets"]
        return self._mm[b:end].view(_DTYPES[e["dtype"]]).reshape(e["shape"])

    def get(self, name, dtype=None):
        """Tensor `name` as a fresh (writable, in-memory) array.

        Floats come back as float32 for F16/BF16/F32 (F64 stays float64) unless `dtype` asks
        for another type; integer tensors keep their type unless `dtype` is given.
        """
        e = self.entries[name]
        a = self.raw(name)
        if e["dtype"] == "BF16":
            a = bf16_bits_to_f32(a)
        elif e["dtype"] == "F16":
            a = a.astype(np.float32)
        if dtype is not None:
            return np.array(a, dtype=dtype)
        return np.array(a, dtype=a.dtype.newbyteorder("="))

    def close(self):
        self._mm = None


def read_header(path):
    """(metadata dict, {name: {"dtype", "shape", "data_offsets"}}) without reading data."""
    f = SafeTensorsFile(path)
    return f.metadata, f.entries


def load(path, dtype=None):
    """All tensors of a file as a dict of arrays (see SafeTensorsFile.get for types)."""
    f = SafeTensorsFile(path)
    out = {k: f.get(k, dtype) for k in f.keys()}
    f.close()
    return out


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _encode(array, st_dtype):
    """Array -> little-endian bytes of the given safetensors dtype."""
    if st_dtype == "BF16":
        if np.asarray(array).dtype == np.uint16:   # already bit patterns
            return np.ascontiguousarray(array, dtype="<u2").tobytes()
        return f32_to_bf16_bits(array).astype("<u2").tobytes()
    # astype to float16 rounds to nearest-even, as wanted.
    return np.ascontiguousarray(array, dtype=_DTYPES[st_dtype]).tobytes()


class StreamWriter:
    """Writes a safetensors file tensor by tensor.

    `specs` is a list of (name, st_dtype, shape). The header is written at construction;
    afterwards call write(name, array) once per tensor, in the order given by `self.order`
    (the order of the data in the file), then close(). Any array convertible to the declared
    dtype is accepted (float32 for F16/BF16 is rounded here).

    Order follows the Rust `safetensors` serializer: larger element sizes first, then by name,
    so every tensor is aligned to its element size relative to the 8-byte aligned data start.
    """

    def __init__(self, path, specs, metadata=None):
        self.path = path
        names = [s[0] for s in specs]
        if len(set(names)) != len(names):
            raise ValueError("duplicate tensor names")
        self.order = [s[0] for s in sorted(specs, key=lambda s: (-itemsize(s[1]), s[0]))]
        self.specs = {s[0]: (s[1], tuple(int(d) for d in s[2])) for s in specs}
        header = {}
        if metadata:
            header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
        off = 0
        for name in self.order:
            dt, shape = self.specs[name]
            if dt not in _DTYPES:
                raise ValueError(f"unsupported dtype {dt}")
            n = int(np.prod(shape, dtype=np.int64)) * itemsize(dt)
            header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + n]}
            off += n
        self.total = off
        text = json.dumps(header, separators=(",", ":")).encode("utf-8")
        text += b" " * (-len(text) % 8)   # pad with spaces so the data starts 8-byte aligned
        self._f = open(path, "wb")
        self._f.write(struct.pack("<Q", len(text)))
        self._f.write(text)
        self._next = 0

    def write(self, name, array):
        if self._next >= len(self.order) or self.order[self._next] != name:
            expected = self.order[self._next] if self._next < len(self.order) else "nothing"
            raise ValueError(f"write order: got {name}, expected {expected}")
        dt, shape = self.specs[name]
        array = np.asarray(array)
        if tuple(array.shape) != shape:
            raise ValueError(f"{name}: shape {array.shape} != declared {shape}")
        self._f.write(_encode(array, dt))
        self._next += 1

    def close(self):
        if self._f is None:
            return
        done = self._next == len(self.order)
        self._f.close()
        self._f = None
        if not done:
            raise ValueError(f"{self.path}: closed after {self._next} of {len(self.order)} tensors")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self._f is not None:
            self._f.close()
            self._f = None
            return False
        self.close()
        return False


def save(path, tensors, metadata=None, dtypes=None):
    """Write a dict name -> array. `dtypes` optionally maps names to safetensors dtype names
    (needed for BF16, which has no NumPy dtype); otherwise the array's dtype decides."""
    dtypes = dtypes or {}
    specs = []
    for name, a in tensors.items():
        a = np.asarray(a)
        dt = dtypes.get(name) or _NP_TO_ST.get(a.dtype)
        if dt is None:
            raise ValueError(f"{name}: no safetensors dtype for {a.dtype}")
        specs.append((name, dt, a.shape))
    with StreamWriter(path, specs, metadata) as w:
        for name in w.order:
            w.write(name, tensors[name])
