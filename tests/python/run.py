#!/usr/bin/env python3
"""ctest's test_python and test_python_dask: runs tests/python/test_clipvk.py (or
the test files named, e.g. test_dask.py) under pytest with the built library (CLIPVK_LIBRARY, set by tests/CMakeLists.txt) and the package
from python/ in the source tree.

Exit 77 (skipped) when pytest or cffi is missing (Debian: python3-pytest
python3-cffi), in sanitizer builds (CLIPVK_TEST_SANITIZER=1) (an instrumented libclipvk cannot be
dlopen()ed by an uninstrumented python3), and when checks were skipped for
lack of the test data, after running the others (a failure still fails).

    run.py [test_*.py files in tests/python...] [pytest arguments...]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77


def main():
    args = sys.argv[1:]
    if os.environ.get("CLIPVK_TEST_SANITIZER") == "1":  # set by CMake in sanitizer builds
        print("SKIP: a sanitizer build's libclipvk needs the ASan runtime loaded first; python3 has none")
        return SKIP
    try:
        import cffi  # noqa: F401
        import numpy  # noqa: F401
        import pytest
    except ImportError as e:
        print("SKIP: %s (Debian packages python3-pytest python3-cffi python3-numpy)" % e)
        return SKIP
    sys.dont_write_bytecode = True

    class Skips:
        def __init__(self):
            self.skipped = []

        def pytest_runtest_logreport(self, report):
            if report.skipped:
                self.skipped.append(report.nodeid)

        def pytest_collectreport(self, report):  # a whole file skipped (test_dask.py without dask)
            if report.skipped:
                self.skipped.append(report.nodeid)

    skips = Skips()
    files = [os.path.join(HERE, a) for a in args if a.startswith("test_") and a.endswith(".py")]
    args = [a for a in args if not (a.startswith("test_") and a.endswith(".py"))]
    rc = pytest.main(["-p", "no:cacheprovider", "-v", "-rs"] + (files or [os.path.join(HERE, "test_clipvk.py")]) + args,
                     plugins=[skips])
    if rc in (0, pytest.ExitCode.NO_TESTS_COLLECTED) and skips.skipped:
        print("left out (so the test counts as skipped): " + ", ".join(skips.skipped))
        return SKIP
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())
