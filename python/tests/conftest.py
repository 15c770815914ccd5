"""Shared setup of the Python package's tests.

The tuning cache goes to a temporary directory, removed at exit (tconv
decides the cache's path once per process, so before tconv is imported),
and the run ends with one line "N passed, N failed, N skipped" that
scripts/criterion_summary.py adds to the total of scripts/test.sh.
"""
import atexit
import os
import shutil
import tempfile
import zlib

_cache_dir = tempfile.mkdtemp(prefix="tconv-pytest-")
atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)  # nothing left in /tmp
os.environ["TCONV_CACHE"] = os.path.join(_cache_dir, "cache.txt")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng(request):
    """A generator seeded from the test's own name: every case reproducible."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


def pytest_terminal_summary(terminalreporter):
    stats = terminalreporter.stats
    count = lambda key: len([r for r in stats.get(key, []) if getattr(r, "when", "call") == "call"])
    failed = count("failed") + len(stats.get("error", []))
    terminalreporter.write_line(f"{count('passed')} passed, {failed} failed, "
                                f"{len(stats.get('skipped', []))} skipped")
