"""Statistics of the numeric columns for robust scaling and numeric embeddings (numpy).

Fitted once, on the training rows, by :func:`sklearn_dnn._inputs.describe`,
and kept in the :class:`~sklearn_dnn._inputs.InputDescription`; the
network's input stage (``_nn/inputs.py``) applies them. The recipe is
RealMLP's (Holzmueller et al., NeurIPS 2024) and Gorishniy et al.'s "On
embeddings for numerical features in tabular deep learning" (NeurIPS 2022):

- which columns are *continuous*: more than two distinct training values
  (a binary or one-hot column, 0 and 1, is left as it is);
- ``numeric_scaling="robust"``: the median and the interquartile range of
  each continuous column (half the range where the IQR is 0, 1 where that
  is 0 too); the stage divides, then clips smoothly with
  :data:`CLIP_BOUND`;
- ``numeric_embedding="piecewise"``: the edges of at most ``n_bins``
  quantile bins of each continuous column.

A sparse matrix's columns are read with their implicit zeros, without
making them dense (:func:`sparse_column_quantiles`).
"""

import numpy as np

# The smooth clip of robust scaling: x / sqrt(1 + (x / CLIP_BOUND) ** 2),
# about x near 0 and at most CLIP_BOUND in magnitude (RealMLP's).
CLIP_BOUND = 3.0

# The standard deviation of a periodic embedding's initial frequencies, as
# 2 * pi * w * x reads a scaled x (Gorishniy et al. 2022 tune it in
# [0.01, 100]; RealMLP's PBLD starts at 0.1).
PERIODIC_SIGMA = 0.1

# The values a numeric embedding adds per continuous column (after the
# column's own scaled value, which the stage keeps): a learned linear map
# of the periodic features (k cosines) or of the piecewise-linear encoding
# (one value per bin) to this many values.
EMBEDDED_WIDTH = {"periodic": 3, "piecewise": 4}


def more_than_two_values(values):
    """Which columns of ``values`` (rows, columns; NaN for missing) hold more than two values.

    NaN is not a value. Three passes over the array, no sort.
    """
    if values.shape[0] == 0:
        return np.zeros(values.shape[1], dtype=bool)
    observed = ~np.isnan(values)
    first = values[np.argmax(observed, axis=0), np.arange(values.shape[1])]
    other = observed & (values != first)
    second = values[np.argmax(other, axis=0), np.arange(values.shape[1])]
    return (other & (values != second)).any(axis=0)


def _robust_scale(q25, q75, low, high):
    """The interquartile range; half the range where it is 0; 1 where that is 0 too."""
    scale = q75 - q25
    half_range = (high - low) / 2
    scale = np.where(scale > 0, scale, half_range)
    return np.where(scale > 0, scale, 1.0)


def robust_statistics(filled, continuous):
    """Centre and scale of robust scaling for the columns of ``filled`` (no NaN left).

    Continuous columns (indices in ``continuous``) get their median and
    robust scale; the others 0 and 1, so they pass unchanged.
    """
    n_columns = filled.shape[1]
    center, scale = np.zeros(n_columns), np.ones(n_columns)
    index = list(continuous)
    if index:
        columns = filled[:, index]
        q25, q50, q75 = np.quantile(columns, [0.25, 0.5, 0.75], axis=0)
        center[index] = q50
        scale[index] = _robust_scale(q25, q75, columns.min(axis=0), columns.max(axis=0))
    return center, scale


def quantile_bins(column, n_bins):
    """The edges of at most ``n_bins`` quantile bins of a column's values (ascending, unique)."""
    return np.unique(np.quantile(column, np.linspace(0.0, 1.0, n_bins + 1)))


# ----------------------------------------------------------------------
# sparse matrices: the stored values and the implicit zeros of a column


def _sparse_columns(X):
    """Each column of a scipy sparse ``X`` as (its stored values sorted, its implicit zeros)."""
    csc = X.tocsc()
    n = X.shape[0]
    for j in range(X.shape[1]):
        stored = np.sort(csc.data[csc.indptr[j] : csc.indptr[j + 1]])
        yield stored, n - len(stored)


def sparse_column_quantiles(stored, n_zeros, q):
    """Quantiles ``q`` (linear interpolation, as ``np.quantile``) of a sparse column.

    ``stored`` are its stored values, sorted; ``n_zeros`` its implicit zeros.
    """
    n = len(stored) + n_zeros
    below = np.searchsorted(stored, 0.0, side="left")  # stored values < 0

    if len(stored) == 0:
        return np.zeros(len(np.atleast_1d(q)))
    last = len(stored) - 1

    def element(k):  # the k-th smallest value of the whole column
        before = stored[np.clip(k, 0, last)]
        after = stored[np.clip(k - n_zeros, 0, last)]
        return np.where(k < below, before, np.where(k < below + n_zeros, 0.0, after))

    position = np.asarray(q, dtype=np.float64) * (n - 1)
    low = np.floor(position).astype(np.int64)
    high = np.ceil(position).astype(np.int64)
    return element(low) + (position - low) * (element(high) - element(low))


def sparse_statistics(X, robust, n_bins):
    """Continuous columns, robust scale and quantile bins of a sparse ``X``'s columns.

    Returns ``(continuous, scale, bins)``: the indices of the columns with
    more than two distinct values (their implicit zeros one of them), the
    robust scale of every column (1 for the others, and for all without
    ``robust``), and the bin edges of each continuous column (empty
    without ``n_bins``). Robust scaling of a sparse matrix does not
    centre: zeros stay zeros.
    """
    continuous, bins = [], []
    scale = np.ones(X.shape[1])
    for j, (stored, n_zeros) in enumerate(_sparse_columns(X)):
        distinct = np.unique(stored)
        n_distinct = len(distinct) + (n_zeros > 0 and not np.any(distinct == 0))
        if n_distinct <= 2:
            continue
        continuous.append(j)
        if robust:
            q25, q75 = sparse_column_quantiles(stored, n_zeros, [0.25, 0.75])
            low, high = min(stored[0], 0.0), max(stored[-1], 0.0)
            if n_zeros == 0:
                low, high = stored[0], stored[-1]
            scale[j] = _robust_scale(q25, q75, low, high)
        if n_bins:
            edges = sparse_column_quantiles(stored, n_zeros, np.linspace(0.0, 1.0, n_bins + 1))
            bins.append(np.unique(edges))
    return tuple(continuous), scale, tuple(bins)
