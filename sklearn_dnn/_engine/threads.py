"""How many intra-op threads torch uses while an estimator fits or predicts.

Several fits in parallel (``GridSearchCV(n_jobs=2)``, Dask workers) must not
each grab every core. joblib's process workers and Dask's nannies set
``OMP_NUM_THREADS`` for that (to ``cpu_count // n_jobs`` and 1), and torch
reads it when first imported; ``n_threads=None`` keeps to it. An explicit
``n_threads`` applies to the estimator's own work only: torch's global
setting is restored afterwards.
"""

import os
from contextlib import contextmanager

import torch


def thread_limit(n_threads):
    """The thread count an estimator with ``n_threads`` should run with."""
    if n_threads is not None:
        return n_threads
    current = torch.get_num_threads()
    from_environment = os.environ.get("OMP_NUM_THREADS", "")
    if from_environment.isdigit() and int(from_environment) > 0:
        return min(current, int(from_environment))
    return current


@contextmanager
def torch_threads(n_threads):
    """Run the block with torch on ``thread_limit(n_threads)`` threads, then restore."""
    previous = torch.get_num_threads()
    wanted = thread_limit(n_threads)
    if wanted != previous:
        torch.set_num_threads(wanted)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
