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
making them dense. With ``sample_weight`` every statistic counts a row as
many times as its weight (:func:`row_counts`): a row of weight 2 counts as
two rows, one of weight 0 as none, as in the loss.
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


def row_counts(sample_weight):
    """How many times each row counts in the input statistics; None for once each.

    The weights divided by the smallest positive one: a row of weight 2
    beside rows of weight 1 counts as two copies of itself, exactly, and
    scaling every weight changes nothing. Uniform weights give None: every
    row once. Rows of weight 0 count 0 times.
    """
    if sample_weight is None:
        return None
    weight = np.asarray(sample_weight, dtype=np.float64)
    positive = weight[weight > 0]
    if np.all(positive == positive[0]):
        return None if positive.size == weight.size else (weight > 0).astype(np.float64)
    return weight / positive.min()


def quantiles(values, q, counts=None):
    """Quantiles ``q`` of the 1-D ``values`` (no NaN), as ``np.quantile`` has them.

    ``counts``: how many times each value counts (see :func:`row_counts`);
    the result is that of ``np.quantile`` on the values repeated so, by
    linear interpolation between the order statistics around ``q * (n - 1)``.
    """
    if counts is None or np.all(counts == 1):
        return np.quantile(values, q)
    order = np.argsort(values, kind="stable")
    ordered, cumulative = values[order], np.cumsum(counts[order])
    position = np.clip(np.asarray(q, dtype=np.float64) * (cumulative[-1] - 1), 0.0, None)
    low, high = np.floor(position), np.ceil(position)
    last = len(ordered) - 1

    def element(k):  # the k-th smallest of the repeated values
        return ordered[np.minimum(np.searchsorted(cumulative, k, side="right"), last)]

    below, above, fraction = element(low), element(high), position - low
    step = above - below  # numpy's interpolation, rounded as np.quantile rounds it
    return np.where(fraction >= 0.5, above - step * (1 - fraction), below + step * fraction)


def robust_statistics(filled, continuous, counts=None):
    """Centre and scale of robust scaling for the columns of ``filled`` (no NaN left).

    Continuous columns (indices in ``continuous``) get their median and
    robust scale; the others 0 and 1, so they pass unchanged. ``counts``:
    see :func:`row_counts`.
    """
    n_columns = filled.shape[1]
    center, scale = np.zeros(n_columns), np.ones(n_columns)
    index = list(continuous)
    if index:
        columns = filled[:, index]
        if counts is None:  # every column in one call
            q25, q50, q75 = np.quantile(columns, [0.25, 0.5, 0.75], axis=0)
        else:
            q25, q50, q75 = np.array([quantiles(c, [0.25, 0.5, 0.75], counts) for c in columns.T]).T
        center[index] = q50
        scale[index] = _robust_scale(q25, q75, columns.min(axis=0), columns.max(axis=0))
    return center, scale


def quantile_bins(column, n_bins, counts=None):
    """The edges of at most ``n_bins`` quantile bins of a column's values (ascending, unique)."""
    return np.unique(quantiles(column, np.linspace(0.0, 1.0, n_bins + 1), counts))


# ----------------------------------------------------------------------
# sparse matrices: the stored values and the implicit zeros of a column


def _sparse_columns(X, counts):
    """Each column of a scipy sparse ``X``: its values and their counts, the implicit zeros last.

    ``counts`` of the rows (None: once each); a column without implicit
    zeros has no zero entry added.
    """
    csc = X.tocsc()
    n = X.shape[0] if counts is None else counts.sum()
    for j in range(X.shape[1]):
        span = slice(csc.indptr[j], csc.indptr[j + 1])
        stored = csc.data[span]
        own = np.ones(len(stored)) if counts is None else counts[csc.indices[span]]
        zeros = n - own.sum()
        if zeros > 0 and len(stored) < X.shape[0]:
            stored, own = np.append(stored, 0.0), np.append(own, zeros)
        yield stored, own


def sparse_statistics(X, robust, n_bins, counts=None):
    """Continuous columns, robust scale and quantile bins of a sparse ``X``'s columns.

    Returns ``(continuous, scale, bins)``: the indices of the columns with
    more than two distinct values (their implicit zeros one of them), the
    robust scale of every column (1 for the others, and for all without
    ``robust``), and the bin edges of each continuous column (empty
    without ``n_bins``). Robust scaling of a sparse matrix does not
    centre: zeros stay zeros. ``counts``: see :func:`row_counts`.
    """
    continuous, bins = [], []
    scale = np.ones(X.shape[1])
    for j, (values, own) in enumerate(_sparse_columns(X, counts)):
        if len(np.unique(values)) <= 2:
            continue
        continuous.append(j)
        if robust:
            q25, q75 = quantiles(values, [0.25, 0.75], own)
            scale[j] = _robust_scale(q25, q75, values.min(), values.max())
        if n_bins:
            bins.append(np.unique(quantiles(values, np.linspace(0.0, 1.0, n_bins + 1), own)))
    return tuple(continuous), scale, tuple(bins)


# ----------------------------------------------------------------------
# the numeric fields of an InputDescription


def sparse_fields(X, numeric_scaling, n_bins, counts):
    """The numeric fields of a sparse matrix's description; ``counts`` of the rows or None."""
    robust = numeric_scaling == "robust"
    if counts is not None:
        kept = counts > 0
        X, counts = X[np.flatnonzero(kept)], counts[kept]
    continuous, scale, bins = sparse_statistics(X, robust, n_bins, counts)
    empty = np.zeros(X.shape[1])
    return dict(
        medians=empty,
        missing=(),
        mean=empty if robust else None,  # not centred: zeros stay zeros
        scale=scale if robust else None,
        continuous=continuous,
        clipped=continuous if robust else (),
        bins=bins,
    )


def dense_fields(values, names, numeric, scaled, numeric_scaling, n_bins, counts):
    """The numeric fields of a description, from the numeric columns' ``values`` (NaN missing).

    ``counts`` of the rows (see :func:`row_counts`),
    or None to count each once.
    """
    if counts is not None:
        kept = counts > 0
        values, counts = values[kept], counts[kept]
    observed = ~np.isnan(values)
    empty = ~observed.any(axis=0)
    if empty.any():
        name = names[numeric[int(np.argmax(empty))]]
        raise ValueError(
            f"Column {name!r} has no values in the training rows (all are missing): "
            "drop it, or give it values."
        )
    if counts is None:  # every column in one call
        medians = np.nanmedian(values, axis=0) if values.size else np.zeros(values.shape[1])
    else:
        medians = np.array(
            [quantiles(values[seen, i], 0.5, counts[seen]) for i, seen in enumerate(observed.T)]
        )
    missing = tuple(int(i) for i in np.flatnonzero(~observed.all(axis=0)))
    continuous = tuple(int(i) for i in np.flatnonzero(more_than_two_values(values)))
    mean = scale = None
    needed = scaled or numeric_scaling == "robust" or n_bins
    filled = np.where(observed, values, medians) if needed else None
    if numeric_scaling == "robust":
        mean, scale = robust_statistics(filled, continuous, counts)
    elif scaled:
        mean = np.average(filled, axis=0, weights=counts)
        scale = np.sqrt(np.average((filled - mean) ** 2, axis=0, weights=counts))
        scale[scale == 0] = 1.0
    bins = tuple(quantile_bins(filled[:, i], n_bins, counts) for i in continuous) if n_bins else ()
    return dict(
        medians=medians,
        missing=missing,
        mean=mean,
        scale=scale,
        continuous=continuous,
        clipped=continuous if numeric_scaling == "robust" else (),
        bins=bins,
    )
