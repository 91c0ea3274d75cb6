"""clipvk: CLIP, SigLIP and Chinese-CLIP on any Vulkan device, from Python.

A thin binding (cffi, ABI mode) over the C library libclipvk (include/clipvk.h).
The library is loaded from $CLIPVK_LIBRARY, else the copy bundled in this
package (the wheel), else the system's.

    import clipvk
    model = clipvk.Model.load("models/clip-vit-base-patch32")
    probs, logits = model.classify(["cat.jpg"], ["cat", "dog", "car"])
    text = model.encode_text(["a photo of a cat"])
    index = clipvk.Index.create(model.context); index.update(model, paths)
    hits = index.search_text(model, "a cat on a sofa", k=5)

clipvk.dask (imported on its own; needs dask and distributed) embeds many files on a
Dask cluster into resumable shards.
"""
from ._core import (Context, Device, DeviceError, DeviceLostError, DeviceTimeoutError, Error, Failure, FileIOError,
                    FormatError, Hit, Index, InvalidArgumentError, Model, NoDeviceError, OutOfDeviceMemoryError,
                    OutOfHostMemoryError, UnsupportedError, UpdateStats, ValidationError, devices, templates,
                    write_demo_model)
from ._lib import library_path

__version__ = "0.1.0"  # include/clipvk.h's CLIPVK_VERSION_* (a test keeps them equal)

__all__ = [
    "Context", "Model", "Index", "Device", "Hit", "Failure", "UpdateStats", "devices", "templates",
    "Error", "InvalidArgumentError", "FileIOError", "FormatError", "UnsupportedError", "OutOfHostMemoryError",
    "OutOfDeviceMemoryError", "NoDeviceError", "DeviceError", "DeviceLostError", "DeviceTimeoutError",
    "ValidationError", "write_demo_model", "library_path", "__version__",
]
