"""The metadata is pyproject.toml's. This only marks a wheel that bundles
libclipvk (tools/build_wheel.sh) as platform-specific: tagged py3-none-<platform>,
since the binding itself (cffi in ABI mode) is pure Python and works with any
CPython 3."""
import glob
import os

from setuptools import Distribution, setup

kw = {}
if glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "clipvk", "libclipvk.so*")):
    from wheel.bdist_wheel import bdist_wheel

    class BinaryDistribution(Distribution):
        def has_ext_modules(self):  # a native library inside: a platform wheel, files at its root
            return True

    class bdist_wheel_py3(bdist_wheel):
        def get_tag(self):
            return "py3", "none", super().get_tag()[2]

    kw = dict(distclass=BinaryDistribution, cmdclass={"bdist_wheel": bdist_wheel_py3})

setup(**kw)
