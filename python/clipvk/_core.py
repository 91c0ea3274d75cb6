"""The binding: thin Python objects over clipvk's C handles (include/clipvk.h).

Every computation is the C library's; this file converts arguments, owns the
handles and turns failed calls into exceptions carrying clipvk's message.
cffi releases the GIL around every C call, so device work in one thread lets
other Python threads run. A context and its models and indexes are used by
one thread at a time (clipvk's rule): each Context has a lock that every
call on it or on its models and indexes takes.
"""
import os
import threading
import weakref
from typing import TYPE_CHECKING, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._lib import ffi, lib

if TYPE_CHECKING:  # Pillow is optional: needed only to pass PIL images
    import PIL.Image

__all__ = [
    "Error", "InvalidArgumentError", "FileIOError", "FormatError", "UnsupportedError",
    "OutOfHostMemoryError", "OutOfDeviceMemoryError", "NoDeviceError", "DeviceError",
    "DeviceLostError", "DeviceTimeoutError", "ValidationError",
    "Context", "Model", "Index", "Device", "Hit", "Failure", "UpdateStats", "devices", "templates",
    "write_demo_model",
]

PathLike = Union[str, "os.PathLike[str]"]


# ---- errors -----------------------------------------------------------------

class Error(Exception):
    """A failed clipvk call: `status` (the C status code), `message` (clipvk's one line)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def __reduce__(self):  # picklable (to cross process boundaries), as its own subclass
        return (type(self), (self.status, self.message))

    @property
    def status_name(self) -> str:
        return ffi.string(lib.clipvk_status_string(self.status)).decode()


class InvalidArgumentError(Error, ValueError):
    """CLIPVK_ERROR_INVALID_ARGUMENT."""


class FileIOError(Error):
    """CLIPVK_ERROR_IO: a file could not be read or written."""


class FormatError(Error):
    """CLIPVK_ERROR_FORMAT: a file's content is malformed."""


class UnsupportedError(Error):
    """CLIPVK_ERROR_UNSUPPORTED."""


class OutOfHostMemoryError(Error, MemoryError):
    """CLIPVK_ERROR_OUT_OF_HOST_MEMORY."""


class OutOfDeviceMemoryError(Error):
    """CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY (the context stays usable)."""


class NoDeviceError(Error):
    """CLIPVK_ERROR_NO_DEVICE: no Vulkan loader, driver or suitable device."""


class DeviceError(Error):
    """CLIPVK_ERROR_DEVICE: a Vulkan call failed."""


class DeviceLostError(Error):
    """CLIPVK_ERROR_DEVICE_LOST: close the context and make a new one."""


class DeviceTimeoutError(Error):
    """CLIPVK_ERROR_TIMEOUT."""


class ValidationError(Error):
    """CLIPVK_ERROR_VALIDATION: the validation layer reported a problem."""


_ERRORS = {1: InvalidArgumentError, 2: FileIOError, 3: FormatError, 4: UnsupportedError,
           5: OutOfHostMemoryError, 6: OutOfDeviceMemoryError, 7: NoDeviceError, 8: DeviceError,
           9: DeviceLostError, 10: DeviceTimeoutError, 11: ValidationError}


def _error(status: int, message: str) -> Error:
    return _ERRORS.get(status, Error)(status, message)


def _str(p) -> str:
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""


def _path_str(p) -> str:
    return os.fsdecode(ffi.string(p)) if p != ffi.NULL else ""


# ---- handles ----------------------------------------------------------------

class _Handle:
    """One C handle and its destructor; closing it closes its children first
    (a context's models and indexes). Holds no reference to the Python object
    that wraps it, so garbage collection in any order frees in the right one."""

    def __init__(self, ptr, free, parent: Optional["_Handle"] = None):
        self.ptr = ptr
        self._free = free
        self.children = {}
        self.parent = parent
        if parent is not None:
            parent.children[id(self)] = self

    def close(self):
        if self.ptr is None:
            return
        for child in list(self.children.values()):
            child.close()
        ptr, self.ptr = self.ptr, None
        if self.parent is not None:
            self.parent.children.pop(id(self), None)
            self.parent = None
        self._free(ptr)


def _cstrings(items: Iterable, what: str):
    """A `const char *[]` of UTF-8 strings (kept alive by the returned list)."""
    keep = []
    for s in items:
        if isinstance(s, (bytes, bytearray)):
            b = bytes(s)
        elif isinstance(s, str):
            b = s.encode("utf-8", "surrogatepass")
        else:
            raise TypeError("%s must be str, got %s" % (what, type(s).__name__))
        if b"\0" in b:
            raise ValueError("%s contains a NUL character" % what)
        keep.append(ffi.new("char[]", b))
    return ffi.new("const char *[]", keep) if keep else ffi.NULL, keep


def _cpaths(items: Iterable):
    keep = []
    for p in items:
        b = os.fsencode(p)
        if b"\0" in b:
            raise ValueError("path contains a NUL character")
        keep.append(ffi.new("char[]", b))
    return ffi.new("const char *[]", keep) if keep else ffi.NULL, keep


def _fptr(a: np.ndarray, ctype: str = "float *"):
    return ffi.cast(ctype, a.ctypes.data)


def _texts(texts) -> List[str]:
    return [texts] if isinstance(texts, (str, bytes)) else list(texts)


# ---- devices ----------------------------------------------------------------

class _Wrapper:
    """What every object over a C handle shares: the handle check, close()
    (idempotent, under the context's lock), `closed` and `with`."""

    _what = "object"

    def _ptr(self):
        if self._h.ptr is None:
            raise ValueError("clipvk: the %s is closed" % self._what)
        return self._h.ptr

    def _guard(self) -> threading.RLock:
        return self.context._lock

    def close(self) -> None:
        """Frees the handle (a context's also frees its models and indexes). Idempotent."""
        with self._guard():
            self._finalizer()

    @property
    def closed(self) -> bool:
        return self._h.ptr is None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Child(_Wrapper):
    """A model or an index: freed before its context, errors read there."""

    def _adopt(self, context: "Context", ptr, free) -> None:
        self.context = context
        self._h = _Handle(ptr, free, context._h)
        self._finalizer = weakref.finalize(self, self._h.close)

    def _check(self, st: int) -> None:
        if st != 0:
            raise self.context._fail(st)


class Device(NamedTuple):
    """A device as clipvk sees it (clipvk_device_info): a Vulkan device, or the native CPU backend
    (type "cpu", index 2**32 - 1, chosen by device="cpu")."""
    index: int
    name: str
    type: str
    vendor_id: int
    device_id: int
    api_version: str
    driver_name: str
    driver_info: str
    device_local_bytes: int
    unusable: Optional[str]


def _device(d) -> Device:
    v = d.api_version
    return Device(int(d.index), _str(d.name), _str(d.type_name), int(d.vendor_id), int(d.device_id),
                  "%d.%d.%d" % ((v >> 22) & 0x7F, (v >> 12) & 0x3FF, v & 0xFFF), _str(d.driver_name),
                  _str(d.driver_info), int(d.device_local_bytes),
                  _str(d.unusable) if d.unusable != ffi.NULL else None)


def devices() -> List[Device]:
    """Every Vulkan device (no context is made), as `clipvk devices` lists them."""
    out = ffi.new("clipvk_device_list **")
    st = lib.clipvk_device_list_create(out)
    try:
        if st != 0:
            raise _error(st, _str(lib.clipvk_device_list_last_error(out[0])) if out[0] != ffi.NULL
                         else _str(lib.clipvk_status_string(st)))
        return [_device(lib.clipvk_device_list_get(out[0], i)) for i in range(lib.clipvk_device_list_count(out[0]))]
    finally:
        lib.clipvk_device_list_destroy(out[0])


def templates(name: str) -> List[str]:
    """A prompt template set by name: "default", "imagenet" (80 prompts) or "zh"."""
    n = ffi.new("uint32_t *")
    t = lib.clipvk_templates(name.encode(), n)
    if t == ffi.NULL:
        raise ValueError("no template set named %r (default, imagenet, zh)" % name)
    return [_str(t[i]) for i in range(n[0])]


def write_demo_model(path: PathLike, shapes: Optional[str] = None) -> None:
    """Writes a small random-weight CLIP folder (its answers mean nothing): for trying
    clipvk without weights. shapes: None ("demo"), "vit-b-32", "siglip-b-16", "siglip-so400m"."""
    err = ffi.new("char[512]")
    st = lib.clipvk_write_demo_model(os.fsencode(path), shapes.encode() if shapes else ffi.NULL, err, 512)
    if st != 0:
        raise _error(st, _str(err) or _str(lib.clipvk_status_string(st)))


_template_set = templates  # (Model.label_embeddings' argument of the same name hides it)


# ---- context ----------------------------------------------------------------

class Context(_Wrapper):
    """A device for clipvk (clipvk_context): a Vulkan device or the native CPU backend.

    device: "cpu" (the native CPU backend), a Vulkan index ("1") or name substring, or
        "vulkan" (the best Vulkan device of any type); None: $CLIPVK_DEVICE, else the best
        GPU, else the native CPU backend.
    threads: the CPU backend's worker threads (None: one per core).
    validation: the Khronos validation layer (None: $CLIPVK_VALIDATION).
    cache_dir: where clipvk caches (None: ~/.cache/clipvk; "": nothing).
    memory_budget_mib: refuse device allocations past this (None: no limit).
    """

    def __init__(self, device: Optional[Union[str, int]] = None, validation: Optional[bool] = False,
                 cache_dir: Optional[PathLike] = None, memory_budget_mib: Optional[int] = None,
                 fence_timeout_ms: Optional[int] = None, threads: Optional[int] = None):
        o = ffi.new("clipvk_context_options *")
        lib.clipvk_context_options_init(o)
        keep = []
        if device is not None:
            keep.append(ffi.new("char[]", str(device).encode()))
            o.device = keep[-1]
        o.validation = -1 if validation is None else int(bool(validation))
        if cache_dir is not None:
            keep.append(ffi.new("char[]", os.fsencode(cache_dir)))
            o.cache_dir = keep[-1]
        if memory_budget_mib is not None:
            o.device_memory_budget = int(memory_budget_mib) * 1024 * 1024
        if fence_timeout_ms is not None:
            o.fence_timeout_ms = int(fence_timeout_ms)
        if threads is not None:
            o.threads = int(threads)
        out = ffi.new("clipvk_context **")
        st = lib.clipvk_context_create(o, out)
        if st != 0:
            msg = _str(lib.clipvk_context_last_error(out[0])) if out[0] != ffi.NULL else ""
            lib.clipvk_context_destroy(out[0])
            raise _error(st, msg or _str(lib.clipvk_status_string(st)))
        self._h = _Handle(out[0], lib.clipvk_context_destroy)
        self._lock = threading.RLock()
        self._finalizer = weakref.finalize(self, self._h.close)

    _what = "context"

    def _guard(self) -> threading.RLock:
        return self._lock

    # -- internals shared with Model and Index

    def _fail(self, st: int) -> Error:
        return _error(st, _str(lib.clipvk_context_last_error(self._h.ptr)) or _str(lib.clipvk_status_string(st)))

    @property
    def device_name(self) -> str:
        return _str(lib.clipvk_context_device_name(self._ptr()))

    @property
    def device(self) -> Device:
        info = ffi.new("clipvk_device_info *")
        with self._lock:
            st = lib.clipvk_context_device_info(self._ptr(), info)
            if st != 0:
                raise self._fail(st)
            return _device(info)

    @property
    def validation_messages(self) -> int:
        """Messages the validation layer reported so far."""
        return int(lib.clipvk_context_validation_messages(self._ptr()))

    def __repr__(self) -> str:
        return "<clipvk.Context %s>" % ("closed" if self.closed else repr(self.device_name))


# ---- model ------------------------------------------------------------------

_PRECISIONS = {"fp16": 1, "fp32": 0, "auto": -1}
_TOWERS = {"both": 3, "image": 1, "text": 2}

ImageLike = Union[str, "os.PathLike[str]", np.ndarray, "PIL.Image.Image"]


def _is_path(x) -> bool:
    return isinstance(x, (str, bytes, os.PathLike))


def _as_view_array(x) -> np.ndarray:
    """An image (PIL or ndarray) as a uint8 H x W x 3|4 array clipvk_image_view can describe."""
    if not isinstance(x, np.ndarray):
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover
            Image = None
        if Image is None or not isinstance(x, Image.Image):
            raise TypeError("an image must be a path, a PIL.Image.Image or a uint8 ndarray H x W x 3|4, got %s"
                            % type(x).__name__)
        # Alpha is dropped by clipvk as PIL's convert("RGB") drops it.
        x = np.asarray(x if x.mode in ("RGB", "RGBA") else x.convert("RGB"))
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[2] not in (3, 4):
        raise ValueError("an image array must be uint8 H x W x 3 (RGB) or H x W x 4 (RGBA), got %s %s"
                         % (x.dtype, x.shape))
    c = x.shape[2]
    # Rows may lie anywhere (stride_bytes); pixels within a row must be packed.
    if x.strides[2] != 1 or x.strides[1] != c or x.strides[0] < x.shape[1] * c:
        x = np.ascontiguousarray(x)
    return x


class Model(_Child):
    """A model loaded on a device (clipvk_model). Use Model.load."""

    _what = "model"

    def __init__(self, *_a, **_k):
        raise TypeError("use clipvk.Model.load(path, ...)")

    @classmethod
    def load(cls, path: PathLike, precision: str = "fp16", device: Optional[Union[str, int]] = None,
             context: Optional[Context] = None, batch: Optional[int] = None, towers: str = "both") -> "Model":
        """Loads a Hugging Face CLIP / SigLIP / Chinese-CLIP folder.

        precision: weights on the device, "fp16" or "fp32" (arithmetic is fp32).
        context: the Context to load in; None makes one on `device`.
        batch: inputs per submission (None: clipvk's 8). towers: "both", "image", "text".
        """
        if precision not in _PRECISIONS:
            raise ValueError("precision must be one of %s" % ", ".join(_PRECISIONS))
        if towers not in _TOWERS:
            raise ValueError("towers must be one of %s" % ", ".join(_TOWERS))
        if context is None:
            context = Context(device=device)
        elif device is not None:
            raise ValueError("give a device or a context, not both")
        o = ffi.new("clipvk_model_options *")
        lib.clipvk_model_options_init(o)
        o.precision = _PRECISIONS[precision]
        o.towers = _TOWERS[towers]
        if batch is not None:
            o.max_batch = int(batch)
        out = ffi.new("clipvk_model **")
        with context._lock:
            st = lib.clipvk_model_load(context._ptr(), os.fsencode(path), o, out)
            if st != 0:
                raise context._fail(st)
            self = cls.__new__(cls)
            self._adopt(context, out[0], lib.clipvk_model_free)
        m = out[0]
        self.path = os.fspath(path)
        self.precision = precision
        self.family: str = _str(lib.clipvk_model_family(m))
        self.embedding_dim: int = int(lib.clipvk_model_embedding_dim(m))
        self.image_size: int = int(lib.clipvk_model_image_size(m))
        self.context_length: int = int(lib.clipvk_model_context_length(m))
        self.logit_scale: float = float(lib.clipvk_model_logit_scale(m))
        self.logit_bias: float = float(lib.clipvk_model_logit_bias(m))
        self.scoring: str = "sigmoid" if lib.clipvk_model_scoring(m) == 1 else "softmax"
        self.default_template: str = _str(lib.clipvk_model_default_template(m))
        self.numerics: str = _str(lib.clipvk_model_numerics(m))
        self._fingerprint = None
        return self

    def __repr__(self) -> str:
        return "<clipvk.Model %s %s dim=%d %s>" % (self.family, self.path, self.embedding_dim,
                                                  "closed" if self.closed else self.numerics)

    @property
    def fingerprint(self) -> str:
        """16 hex digits identifying the model's files (hashes the weights once)."""
        if self._fingerprint is None:
            buf = ffi.new("char[17]")
            with self.context._lock:
                self._check(lib.clipvk_model_fingerprint(self._ptr(), buf))
            self._fingerprint = ffi.string(buf).decode()
        return self._fingerprint

    # -- images
    def encode_image(self, images: Union[ImageLike, Sequence[ImageLike]], normalize: bool = True) -> np.ndarray:
        """Image embeddings, float32 [N, embedding_dim].

        images: one or a list of: file paths (decoded by clipvk on several threads),
        PIL images, uint8 ndarrays H x W x 3 (RGB) or H x W x 4 (RGBA; rows may be
        strided); a uint8 ndarray N x H x W x 3|4 is N images.
        """
        if _is_path(images) or not isinstance(images, (list, tuple)) and not (
                isinstance(images, np.ndarray) and images.ndim == 4):
            images = [images]
        n = len(images)
        out = np.zeros((n, self.embedding_dim), np.float32)
        if n == 0:
            return out
        files = [i for i, x in enumerate(images) if _is_path(x)]
        views = [i for i, x in enumerate(images) if not _is_path(x)]
        arrays = [_as_view_array(images[i]) for i in views]
        with self.context._lock:
            m = self._ptr()
            if files:
                paths, keep = _cpaths(images[i] for i in files)
                got = np.empty((len(files), self.embedding_dim), np.float32)
                self._check(lib.clipvk_embed_files(m, paths, len(files), int(normalize), _fptr(got), ffi.NULL))
                out[files] = got
            if views:
                v = ffi.new("clipvk_image_view[]", len(arrays))
                for j, a in enumerate(arrays):
                    v[j].data = ffi.cast("const void *", a.ctypes.data)
                    v[j].height, v[j].width = a.shape[0], a.shape[1]
                    v[j].stride_bytes = a.strides[0]
                    v[j].format = 0 if a.shape[2] == 3 else 1
                got = np.empty((len(arrays), self.embedding_dim), np.float32)
                self._check(lib.clipvk_embed_images(m, v, len(arrays), int(normalize), _fptr(got)))
                out[views] = got
        return out

    def encode_pixels(self, pixels: np.ndarray, normalize: bool = True) -> np.ndarray:
        """Embeddings of preprocessed pixels float32 [N, 3, S, S] (S = image_size)."""
        s = self.image_size
        px = np.ascontiguousarray(pixels, dtype=np.float32)
        if px.ndim == 3:
            px = px[None]
        if px.ndim != 4 or px.shape[1:] != (3, s, s):
            raise ValueError("pixels must be [N, 3, %d, %d], got %s" % (s, s, pixels.shape))
        out = np.empty((px.shape[0], self.embedding_dim), np.float32)
        if px.shape[0]:
            with self.context._lock:
                self._check(lib.clipvk_embed_pixels(self._ptr(), _fptr(px), px.shape[0], int(normalize),
                                                    _fptr(out)))
        return out

    # -- texts
    def encode_text(self, texts: Union[str, Sequence[str]], normalize: bool = True) -> np.ndarray:
        """Text embeddings, float32 [N, embedding_dim] (tokenized by clipvk)."""
        texts = _texts(texts)
        out = np.empty((len(texts), self.embedding_dim), np.float32)
        if texts:
            arr, keep = _cstrings(texts, "a text")
            with self.context._lock:
                self._check(lib.clipvk_embed_texts(self._ptr(), arr, len(texts), int(normalize), _fptr(out)))
        return out

    def tokenize(self, texts: Union[str, Sequence[str]], return_lengths: bool = False):
        """Token ids int32 [N, context_length] (zero padded); with return_lengths
        also the count of ids before padding, int32 [N]."""
        texts = _texts(texts)
        ids = np.zeros((len(texts), self.context_length), np.int32)
        lengths = np.zeros(len(texts), np.int32)
        n = ffi.new("uint32_t *")
        with self.context._lock:
            m = self._ptr()
            for i, t in enumerate(texts):
                arr, keep = _cstrings([t], "a text")
                self._check(lib.clipvk_tokenize(m, arr[0], _fptr(ids[i], "int32_t *"), n))
                lengths[i] = n[0]
        return (ids, lengths) if return_lengths else ids

    # -- zero-shot classification
    def label_embeddings(self, labels: Sequence[str],
                         templates: Optional[Union[str, Sequence[str]]] = None) -> np.ndarray:
        """Each label's embedding: the renormalised mean of its prompts' (float32 [L, dim]).

        templates: None (default_template), a list of prompts with "{}", one such
        prompt, or the name of a set ("imagenet", "zh", "default").
        """
        labels = _texts(labels)
        if isinstance(templates, str):
            templates = [templates] if "{}" in templates else _template_set(templates)
        out = np.empty((len(labels), self.embedding_dim), np.float32)
        larr, lkeep = _cstrings(labels, "a label")
        if templates is None:
            tarr, tkeep, nt = ffi.NULL, None, 0
        else:
            tarr, tkeep = _cstrings(list(templates), "a template")
            nt = len(tkeep)
        with self.context._lock:
            self._check(lib.clipvk_label_embeddings(self._ptr(), larr, len(labels), tarr, nt, _fptr(out)))
        return out

    def classify_embeddings(self, image_embeds: np.ndarray, label_embeds: np.ndarray
                            ) -> Tuple[np.ndarray, np.ndarray]:
        """(probs, logits) [N, L] of normalised embeddings, scored as the family does
        (scoring: softmax over labels, or an independent sigmoid per pair)."""
        img = np.ascontiguousarray(image_embeds, dtype=np.float32).reshape(-1, self.embedding_dim)
        lab = np.ascontiguousarray(label_embeds, dtype=np.float32).reshape(-1, self.embedding_dim)
        probs = np.empty((img.shape[0], lab.shape[0]), np.float32)
        logits = np.empty_like(probs)
        if probs.size:
            with self.context._lock:
                self._check(lib.clipvk_classify(self._ptr(), _fptr(img), img.shape[0], _fptr(lab), lab.shape[0],
                                                _fptr(probs), _fptr(logits)))
        return probs, logits

    def classify(self, images: Union[ImageLike, Sequence[ImageLike]], labels: Sequence[str],
                 templates: Optional[Union[str, Sequence[str]]] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Zero-shot classification: (probs, logits) float32 [N images, L labels]."""
        return self.classify_embeddings(self.encode_image(images), self.label_embeddings(labels, templates))


# ---- index ------------------------------------------------------------------

class Hit(NamedTuple):
    """One search result: the file, its cosine similarity, its row in the index."""
    path: str
    score: float
    entry: int


class Failure(NamedTuple):
    """A file Index.update could not read or decode (or Index.add_embeddings could not find)."""
    path: str
    error: Error


class UpdateStats(NamedTuple):
    added: int
    changed: int
    unchanged: int
    removed: int
    failed: int


class Index(_Child):
    """Image search over files' embeddings (clipvk_index). Use Index.create or Index.open."""

    _what = "index"

    def __init__(self, *_a, **_k):
        raise TypeError("use clipvk.Index.create(context) or clipvk.Index.open(path, context)")

    @classmethod
    def _wrap(cls, context: Context, ptr) -> "Index":
        self = cls.__new__(cls)
        self._adopt(context, ptr, lib.clipvk_index_close)
        self._failures: List[Failure] = []
        return self

    @staticmethod
    def _context(context) -> Context:
        if context is None:
            return Context()
        if isinstance(context, Model):
            return context.context
        return context

    @classmethod
    def create(cls, context: Optional[Union[Context, Model]] = None) -> "Index":
        """An empty index in context (a Model stands for its context; None: a new Context)."""
        context = cls._context(context)
        out = ffi.new("clipvk_index **")
        with context._lock:
            st = lib.clipvk_index_create(context._ptr(), out)
            if st != 0:
                raise context._fail(st)
            return cls._wrap(context, out[0])

    @classmethod
    def open(cls, path: PathLike, context: Optional[Union[Context, Model]] = None) -> "Index":
        """Reads an index file (Index.save's or `clipvk index`'s)."""
        context = cls._context(context)
        out = ffi.new("clipvk_index **")
        with context._lock:
            st = lib.clipvk_index_open(context._ptr(), os.fsencode(path), out)
            if st != 0:
                raise context._fail(st)
            return cls._wrap(context, out[0])

    def __len__(self) -> int:
        return int(lib.clipvk_index_count(self._ptr()))

    def __repr__(self) -> str:
        return "<clipvk.Index %s>" % ("closed" if self.closed else "%d files" % len(self))

    @property
    def dim(self) -> int:
        return int(lib.clipvk_index_dim(self._ptr()))

    @property
    def paths(self) -> List[str]:
        """The indexed files (absolute), in row order."""
        with self.context._lock:
            ix = self._ptr()
            return [_path_str(lib.clipvk_index_path(ix, i)) for i in range(lib.clipvk_index_count(ix))]

    @property
    def embeddings(self) -> np.ndarray:
        """A copy of the rows, float32 [len, dim] (L2-normalised)."""
        with self.context._lock:
            ix = self._ptr()
            n, d = int(lib.clipvk_index_count(ix)), int(lib.clipvk_index_dim(ix))
            out = np.empty((n, d), np.float32)
            for i in range(n):
                out[i] = np.frombuffer(ffi.buffer(lib.clipvk_index_embedding(ix, i), 4 * d), np.float32)
            return out

    @property
    def model_dir(self) -> str:
        return _path_str(lib.clipvk_index_model_dir(self._ptr()))

    @property
    def failures(self) -> List[Failure]:
        """The files the last update could not read or decode."""
        return list(self._failures)

    def update(self, model: Model, paths: Iterable[PathLike]) -> UpdateStats:
        """Embeds new and changed image files with model (unchanged ones are kept, vanished
        ones dropped); files that fail are left out and listed in .failures."""
        arr, keep = _cpaths(paths)
        stats = ffi.new("clipvk_index_stats *")
        with self.context._lock:
            ix = self._ptr()
            self._check(lib.clipvk_index_update(ix, model._ptr(), arr, len(keep), ffi.NULL, stats))
            self._read_failures(ix)
        return UpdateStats(int(stats.added), int(stats.changed), int(stats.unchanged), int(stats.removed),
                           int(stats.failed))

    def _read_failures(self, ix) -> None:
        n = ffi.new("uint32_t *")
        f = lib.clipvk_index_failures(ix, n)
        self._failures = [Failure(_path_str(f[i].path), _error(int(f[i].status), _str(f[i].message)))
                          for i in range(n[0])] if f != ffi.NULL else []

    def add_embeddings(self, model: Model, paths: Sequence[PathLike], embeddings: np.ndarray) -> UpdateStats:
        """Adds embeddings computed elsewhere (normalised, float32 [len(paths), dim], e.g.
        clipvk.dask's shards) for image files without decoding them again; model is the one
        that made them (its fingerprint is recorded). Files that do not exist are left out
        and listed in .failures; a path already indexed gets the new row (changed)."""
        paths = list(paths)
        e = np.ascontiguousarray(embeddings, dtype=np.float32)
        if e.ndim != 2 or e.shape[0] != len(paths):
            raise ValueError("embeddings must be [%d, dim], got %s" % (len(paths), e.shape))
        arr, keep = _cpaths(paths)
        stats = ffi.new("clipvk_index_stats *")
        with self.context._lock:
            ix = self._ptr()
            self._check(lib.clipvk_index_add_embeddings(ix, model._ptr(), arr, _fptr(e) if len(paths) else ffi.NULL,
                                                        len(paths), e.shape[1], stats))
            self._read_failures(ix)
        return UpdateStats(int(stats.added), int(stats.changed), int(stats.unchanged), int(stats.removed),
                           int(stats.failed))

    def save(self, path: PathLike) -> None:
        """Writes the index atomically."""
        with self.context._lock:
            self._check(lib.clipvk_index_save(self._ptr(), os.fsencode(path)))

    @staticmethod
    def _hits(hits, found: int) -> List[Hit]:
        return [Hit(_path_str(hits[i].path), float(hits[i].score), int(hits[i].entry)) for i in range(found)]

    def search(self, queries: np.ndarray, k: int = 10) -> Union[List[Hit], List[List[Hit]]]:
        """The best k files for each query embedding (normalised, [dim] or [nq, dim]):
        a list of Hits, or one list per query for [nq, dim]."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        one = q.ndim == 1
        q = q.reshape(1, -1) if one else q
        if q.ndim != 2:
            raise ValueError("queries must be [dim] or [nq, dim], got %s" % (queries.shape,))
        nq = q.shape[0]
        hits = ffi.new("clipvk_search_hit[]", max(1, nq * k))
        found = ffi.new("uint32_t[]", max(1, nq))
        with self.context._lock:
            self._check(lib.clipvk_index_search(self._ptr(), _fptr(q), nq, q.shape[1], k, hits, found))
            res = [self._hits(hits + i * k, found[i]) for i in range(nq)]
        return res[0] if one else res

    def search_text(self, model: Model, text: str, k: int = 10) -> List[Hit]:
        """The best k files for a text, embedded by model (the index's)."""
        arr, keep = _cstrings([text], "a text")
        hits = ffi.new("clipvk_search_hit[]", max(1, k))
        found = ffi.new("uint32_t *")
        with self.context._lock:
            self._check(lib.clipvk_index_search_text(self._ptr(), model._ptr(), arr[0], k, hits, found))
            return self._hits(hits, found[0])

    def search_image(self, model: Model, image: ImageLike, k: int = 10) -> List[Hit]:
        """The best k files for an image (a path, PIL image or ndarray), embedded by model."""
        if not _is_path(image):
            return self.search(model.encode_image([image])[0], k)
        hits = ffi.new("clipvk_search_hit[]", max(1, k))
        found = ffi.new("uint32_t *")
        with self.context._lock:
            self._check(lib.clipvk_index_search_file(self._ptr(), model._ptr(), os.fsencode(image), k, hits, found))
            return self._hits(hits, found[0])
