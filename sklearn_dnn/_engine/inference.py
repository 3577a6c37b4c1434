"""The one inference path: a fitted network run on X, chunk by chunk.

``predict``, ``predict_proba``, ``predict_log_proba`` and ``score``
(:func:`predict_outputs`), ``predict_uncertainty`` (:func:`sample_outputs`:
an ensemble's members, or Monte-Carlo dropout) and the diagnostics'
passes (:func:`row_chunks`) all run here, through one loop
(:func:`_run`): every chunk of rows is densified (a sparse X), pushed
through the network under ``torch.inference_mode()`` on the estimator's
threads, checked for non-finite outputs (:func:`check_finite_outputs`)
and turned into the result's rows at once, so that no array of the full
size is made twice.

Prediction never changes the module (only a module a user switched to
training mode is put back in evaluation mode, once): several threads may
predict with one model at once. Monte-Carlo masks come from the caller's
own ``torch.Generator`` (:func:`~sklearn_dnn._nn.mlp.forward_with_dropout`),
never from torch's global one.

The memory budget
-----------------
Three caps bound what a pass holds, whatever the size of X (checked by
``benchmarks/bench_memory.py``: predict and ``predict_uncertainty`` at
most 1.5x X):

- :data:`DENSE_CHUNK_BYTES`: dense input rows made at once (a chunk of a
  sparse X, the rows of a Monte-Carlo pass, a training batch of every
  member's rows of a sparse X: see
  :meth:`~sklearn_dnn._engine.net.SparseRows.member_rows`);
- :data:`PREDICT_CHUNK_ROWS`: rows times members in one deterministic pass;
- :data:`SAMPLES_PER_PASS`: rows times samples (copies times members) in
  one Monte-Carlo pass.

A pass carries ``rows_per_pass(X, outputs_per_row, budget)`` rows: the
budget shared among each row's outputs, fewer for wide inputs.
"""

from contextlib import contextmanager

import numpy as np
import torch

from .._nn.mlp import forward_with_dropout
from .threads import torch_threads

# The most bytes of dense inputs made at once: on wide inputs, fewer rows
# at a time (or a training batch that stays sparse).
DENSE_CHUNK_BYTES = 64 * 2**20

# Rows x members per deterministic pass (predict): large enough to amortize
# torch's per-call overhead, small enough to keep the activations in cache
# and bound memory. Measured (200,000 x 50 rows, 3x100 MLP, one thread):
# 4,096 rows 0.93 s and 0.63x X above X; 16,384 rows 1.06 s and 1.58x X.
# An ensemble's activations are ensemble_size times a network's: fewer rows
# per chunk keep them the same size (and in cache), which made 8 members'
# prediction 2.2x faster than 4,096-row chunks.
PREDICT_CHUNK_ROWS = 4096

# Rows x samples per Monte-Carlo pass (predict_uncertainty): 32 MiB of
# float32 per 1,000 hidden units. Measured on 20,000 rows of a 3x100 MLP:
# 65,536 took 1.3x the time of 8,192; below 8,192 the gain is a few percent.
# (Changing it changes which rows share a pass, so a seed's masks.)
SAMPLES_PER_PASS = 8192


def _row_bytes(X):
    return X.shape[1] * (4 if X.dtype in (torch.float32, np.float32) else 8)


def rows_at_once(X, most):
    """How many rows of ``X`` to process at once: ``most``, fewer for wide rows.

    Caps the dense rows made at once to :data:`DENSE_CHUNK_BYTES`; at
    least one row.
    """
    return max(1, min(most, DENSE_CHUNK_BYTES // max(_row_bytes(X), 1)))


def fits_dense(X, n_rows):
    """Whether ``n_rows`` dense rows of ``X`` fit in :data:`DENSE_CHUNK_BYTES`."""
    return n_rows * _row_bytes(X) <= DENSE_CHUNK_BYTES


def rows_per_pass(X, outputs_per_row, budget):
    """Rows of ``X`` per forward pass when each row gives ``outputs_per_row`` outputs.

    ``budget`` (:data:`PREDICT_CHUNK_ROWS` or :data:`SAMPLES_PER_PASS`) is
    shared among the rows' outputs (members, or copies times members),
    at least one row a pass, and :func:`rows_at_once` caps the dense rows.
    """
    return rows_at_once(X, max(1, budget // outputs_per_row))


def check_finite_outputs(outputs):
    """Raise a ValueError when the network produced non-finite outputs."""
    if not np.isfinite(outputs).all():
        raise ValueError(
            "The network produced non-finite outputs for some rows of X. "
            "Their values are probably far outside the range seen in training; "
            "scale X as it was scaled for fit."
        )


def _in_evaluation_mode(module):
    """``module``, in evaluation mode: only a user switches a fitted one out of it.

    A fit leaves its module in evaluation mode, so this changes nothing
    that another thread could be reading.
    """
    if module.training:
        module.eval()
    return module


def _fill(fields, part, start, n_rows, row_axes):
    """Write a chunk's fields into the full arrays (made, ``n_rows`` long, at the first chunk)."""
    for name, value in part.items():
        if value is None:
            fields.setdefault(name, None)
            continue
        row_axis = row_axes.get(name, 0)
        if name not in fields:
            shape = list(value.shape)
            shape[row_axis] = n_rows
            fields[name] = np.empty(shape, dtype=value.dtype)
        index = (slice(None),) * row_axis + (slice(start, start + value.shape[row_axis]),)
        fields[name][index] = value


def _run(X, rows, outputs, finish, n_threads, row_axes=None):
    """The inference loop: ``finish(outputs(chunk))`` for every chunk of ``rows`` rows of X.

    ``outputs`` maps a chunk of rows (a dense tensor) to a tensor of raw
    outputs, which is brought to the CPU as float64 and checked
    (:func:`check_finite_outputs`); ``finish`` maps those to a dict of the
    result's fields for the chunk's rows (rows on the axis ``row_axes``
    names, 0 by default), which are written into arrays of the result's
    size. Returns those arrays.
    """
    fields = {}
    with torch.inference_mode(), torch_threads(n_threads):
        for start in range(0, len(X), rows):
            raw = outputs(X[start : start + rows]).cpu().numpy().astype(np.float64)
            check_finite_outputs(raw)
            _fill(fields, finish(raw), start, len(X), row_axes or {})
    return fields


def predict_outputs(module, X, finish=None, n_threads=None):
    """The network's outputs for ``X`` as a float64 array, computed chunk by chunk.

    An ensemble's module returns its members' outputs combined (mean
    probabilities for a classifier, mean values for a regressor).

    Parameters
    ----------
    module : MLP
    X : torch.Tensor or SparseRows of shape (n_rows, n_features)
        On the module's device, in its floating type.
    finish : callable or None, default=None
        Maps each chunk's raw outputs (float64, shape (rows, n_outputs))
        to the returned values (probabilities, say), so that no array of
        the full size is made twice.
    n_threads : int or None, default=None
        See :func:`~sklearn_dnn._engine.threads.torch_threads`.

    Raises
    ------
    ValueError
        If the network produced non-finite outputs.
    """
    module = _in_evaluation_mode(module)
    rows = rows_per_pass(X, module.ensemble_size, PREDICT_CHUNK_ROWS)
    if finish is None:
        finish = np.asarray
    fields = _run(X, rows, module, lambda raw: {"out": finish(raw)}, n_threads)
    return fields.get("out")


def sample_outputs(module, X, n_samples, generator, summarize, return_samples, n_threads=None):
    """Summaries of sampled predictions for every row of ``X``.

    The samples are the members of an ensemble (one deterministic pass,
    ``generator`` None), or ``n_samples`` dropout passes, each through
    every member (``n_samples * members`` samples). Each forward pass
    carries ``n_samples`` copies of a chunk of rows, so the cost is a few
    large matrix products rather than ``n_samples`` predict calls; the
    copies are made after the layers before the first dropout layer, which
    see each row once (:func:`~sklearn_dnn._nn.mlp.forward_with_dropout`);
    ``summarize(outputs, return_samples)`` turns a chunk's raw outputs, of
    shape (samples, rows, n_outputs), into the result's fields for those
    rows (``samples`` with the rows on its second axis).

    Raises
    ------
    ValueError
        If the network produced non-finite outputs (as ``predict`` does).
    """
    module = _in_evaluation_mode(module)
    members = module.ensemble_size
    copies = 1 if generator is None else n_samples

    def outputs(rows):
        if generator is None:
            out = module.members(rows)
        else:
            out = forward_with_dropout(module, rows, generator, copies)
        # (copies * rows, members, k) -> (copies * members, rows, k)
        out = out.reshape(copies, len(rows), members, -1).transpose(1, 2)
        return out.reshape(copies * members, len(rows), -1)

    # copies x members outputs of each row at once; the rows are densified
    # (a sparse X) and pass the first layer once: fewer rows when wide.
    rows = rows_per_pass(X, copies * members, SAMPLES_PER_PASS)
    finish = lambda raw: summarize(raw, return_samples)  # noqa: E731
    return _run(X, rows, outputs, finish, n_threads, row_axes={"samples": 1})


def row_chunks(X, index):
    """The rows of ``X`` at ``index`` (an index tensor), as dense chunks within the budget.

    For passes that walk the network layer by layer (the diagnostics):
    each chunk is at most :data:`DENSE_CHUNK_BYTES` of dense rows.
    """
    step = rows_at_once(X, len(index))
    for start in range(0, len(index), step):
        yield X[index[start : start + step]]


@contextmanager
def evaluation_mode(module):
    """Run the block with ``module`` in evaluation mode, then restore its mode.

    For a module no other thread sees (a fit's new network, which the
    diagnostics read before it is committed): prediction never switches
    a fitted module.
    """
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)
