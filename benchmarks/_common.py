"""What the benchmark scripts share: thread pinning, timing, memory, the machine, reports.

It imports only the standard library at its top, so that a script can pin
the thread pools (:func:`one_thread`) before numpy loads::

    from _common import one_thread

    one_thread()  # before numpy loads

    import numpy as np  # noqa: E402

The scripts run from the repository root (``python benchmarks/x.py``), so
Python finds this module next to them.
"""

import gc
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

# Where the scripts write their results by default (``--out``).
RESULTS = Path(__file__).resolve().parent / "results"

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def one_thread():
    """One OpenMP, MKL and OpenBLAS thread per process, child processes included.

    Must run before numpy (or torch) loads: the libraries read these
    variables once, when they start.
    """
    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"


def set_torch_threads(n):
    """torch's intra-op threads for this process (``torch.set_num_threads``)."""
    import torch

    torch.set_num_threads(n)


# ----------------------------------------------------------------------
# time


def timed(function, *args, **kwargs):
    """``(function(*args, **kwargs), seconds it took)``, by the wall clock."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


class Stopwatch:
    """Seconds since it was made: ``watch()``."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self):
        return time.perf_counter() - self.start


def median_times(contenders, repeats):
    """Median seconds of each ``name: fn``, after a warm-up, the runs interleaved."""
    for fn in contenders.values():
        fn()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name].append(timed(fn)[1])
    return {name: statistics.median(t) for name, t in times.items()}


# ----------------------------------------------------------------------
# memory


def resident_bytes():
    """This process's resident memory now, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Sample resident memory every millisecond in a thread; keep the peak.

    torch and numpy release the GIL in their kernels, so the sampler runs
    while they work. ``added`` is the peak minus the memory at the start.
    """

    def __enter__(self):
        gc.collect()
        self.start = self.peak = resident_bytes()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, resident_bytes())
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, resident_bytes())
        self.added = self.peak - self.start


# ----------------------------------------------------------------------
# the machine, and the reports


def machine():
    """``"x86_64, 3.12.3"``: the processor's architecture and Python's version."""
    return f"{platform.machine()}, {platform.python_version()}"


def environment():
    """Python's version and the platform, as a report records them."""
    return {"python": sys.version.split()[0], "platform": platform.platform()}


def write_report(stem, report, text=None, indent=1):
    """Write ``report`` to ``<stem>.json`` and ``text`` (if any) to ``<stem>.md``."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_name(stem.name + ".json").write_text(json.dumps(report, indent=indent))
    if text is not None:
        stem.with_name(stem.name + ".md").write_text(text)
