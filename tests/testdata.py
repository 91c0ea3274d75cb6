"""The test data folder for the Python tests: CMake's cache variable
CLIPVK_TEST_DATA_DIR, which ctest puts in every test's environment (the
golden set of OpenAI's code, the CLIP vocabulary, the Vulkan profiles layer;
not part of the repository). No test looks for it anywhere else: run by
hand, a test needs the variable set (CLIPVK_TEST_DATA_DIR=../shared ...).

A test that cannot run at all without a file of it calls require(), which
prints what is missing and exits 77 (ctest: skipped). A test that runs its
other checks and leaves out only those needing the data calls left_out(),
and ends with exit_code(failures): 1 on a failure, else 77 when something
was left out (so ctest shows the test as skipped, not passed), else 0.
"""
import os
import sys

DIR = os.environ.get("CLIPVK_TEST_DATA_DIR", "")
SKIP = 77
_left_out = []


def path(*parts):
    """A path in the test data folder (under a name that exists nowhere when the variable is unset)."""
    return os.path.join(DIR or "<CLIPVK_TEST_DATA_DIR not set>", *parts)


def _why(p):
    if not DIR:
        return "CLIPVK_TEST_DATA_DIR is not set (ctest sets it from the CMake cache variable)"
    return "%s not found (test data: CLIPVK_TEST_DATA_DIR=%s)" % (p, DIR)


def require(p):
    """Exits 77 unless p (a path from path()) exists."""
    if not os.path.exists(p):
        print("SKIP: " + _why(p))
        sys.exit(SKIP)


def left_out(what, p, why=None):
    """Says that the checks `what` are left out because p is missing (why: another reason than
    the test data); exit_code then gives 77."""
    print("SKIP %s: %s" % (what, why or _why(p)))
    _left_out.append(what)


def exit_code(failed):
    if failed:
        return 1
    if _left_out:
        print("left out (so the test counts as skipped): " + ", ".join(_left_out))
        return SKIP
    return 0
