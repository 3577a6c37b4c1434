"""What the input columns are: fitted on the training rows, then used to encode every table.

A fit describes its input once, in the prepare phase (:func:`validate_inputs`):
which columns are numeric and which categorical (``categorical_features``,
read from the dtypes of a pandas or polars DataFrame as
:class:`~sklearn.ensemble.HistGradientBoostingClassifier` does), the
vocabulary of every categorical column, the median, mean and standard
deviation of every numeric column, and which numeric columns had missing
values. The :class:`InputDescription` is carried in the plan, stored on the
fitted estimator (``_inputs_``) and encodes every later table, at fit and
at predict, into one float matrix of *codes*:

- a numeric column as its floats, NaN kept (pandas' ``NA`` and polars'
  nulls become NaN; booleans become 0 and 1);
- a categorical column as integer codes: 0 for a missing value or a
  category the training rows did not have, ``1..k`` for the ``k``
  training categories.

The network's input stage (:class:`sklearn_dnn._nn.inputs.InputStage`) does
the rest inside the module: imputation, missing indicators, scaling,
one-hot columns and embeddings. pandas and polars are read through their
own APIs, imported only when the input is one of their frames (neither is a
dependency).
"""

import copy
import dataclasses
from dataclasses import dataclass
from numbers import Real

import numpy as np
from scipy import sparse
from sklearn.utils.validation import check_array, validate_data

from ._numeric_inputs import EMBEDDED_WIDTH, dense_fields, row_counts, sparse_fields

# A categorical column with at most this many training categories is
# one-hot encoded inside the network; one with more gets a learned
# embedding (as in the DataFrame recipes of fastai and RealMLP). One-hot
# columns and the first layer are themselves an embedding, as wide as that
# layer and under its l2 penalty: at the default width of 100 units, 64
# categories cost the first layer 6,400 weights, and a learned embedding
# pays off only for wider columns (zip codes, identifiers). 16, the first
# choice, lost to the Pipeline's one-hot encoding on the two benchmark sets
# with 45 and 51 categories (benchmarks/results/tables_v1.md,
# tables_v2_embeddings_l2.md; tables_v3_onehot64.md is with 64).
MAX_ONE_HOT_CATEGORIES = 64

# The widest embedding of a categorical column.
MAX_EMBEDDING_DIM = 16


def embedding_dim(n_categories):
    """The embedding width of a column of ``n_categories``: fastai's rule, capped.

    ``round(1.6 * n_categories ** 0.56)`` (fastai's ``emb_sz_rule``), at
    most :data:`MAX_EMBEDDING_DIM`.
    """
    return int(min(MAX_EMBEDDING_DIM, round(1.6 * n_categories**0.56)))


@dataclass(frozen=True, eq=False)
class InputDescription:
    """The fitted description of the input columns; encodes tables into codes.

    Attributes
    ----------
    names : tuple of str
        The columns' names (``"x3"`` for a column of an array), for messages.
    frame : str or None
        ``"pandas"`` or ``"polars"`` when fitted on a DataFrame, else None.
    numeric : tuple of int
        Positions of the numeric columns.
    categorical : tuple of int
        Positions of the categorical columns.
    categories : tuple of tuple
        The training categories of each categorical column, in code order
        (code ``i + 1`` is ``categories[j][i]``).
    medians : ndarray of shape (n_numeric,)
        The median of each numeric column over its observed training values.
    missing : tuple of int
        Indices, into ``numeric``, of the columns that had missing values in
        training: each gets a missing-indicator column.
    mean, scale : ndarray of shape (n_numeric,) or None
        The scaling of the numeric columns (after imputation),
        ``(x - mean) / scale``: the mean and standard deviation
        (``"standard"``), or the median and robust scale (``"robust"``;
        mean 0 in a sparse matrix); None without ``numeric_scaling``.
    kinds : tuple of str
        The dtype kind of each categorical column in training.
    continuous : tuple of int
        Indices, into ``numeric``, of the columns with more than two
        distinct training values: the ones robust scaling clips and numeric
        embeddings embed (``_numeric_inputs.py``).
    clipped : tuple of int
        Indices, into ``numeric``, of the columns smoothly clipped after
        scaling (``numeric_scaling="robust"``: the continuous ones).
    bins : tuple of ndarray
        The quantile bin edges of each continuous column, for
        ``numeric_embedding="piecewise"``; empty otherwise.
    """

    names: tuple
    frame: str | None
    numeric: tuple
    categorical: tuple
    categories: tuple
    medians: np.ndarray
    missing: tuple
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    kinds: tuple = ()  # the dtype kind of each categorical column in training
    # Added with robust scaling and numeric embeddings: an older pickle has
    # the defaults (no column continuous, none clipped, no bins).
    continuous: tuple = ()
    clipped: tuple = ()
    bins: tuple = ()

    @property
    def n_columns(self):
        return len(self.names)

    @property
    def is_identity(self):
        """Whether the input stage leaves the codes as they are (NaN at predict aside)."""
        return not self.categorical and not self.missing and self.mean is None

    def one_hot(self):
        """Positions (into ``categorical``) of the one-hot encoded columns."""
        return tuple(
            j for j, cats in enumerate(self.categories) if len(cats) <= MAX_ONE_HOT_CATEGORIES
        )

    def embedded(self):
        """Positions (into ``categorical``) of the columns with learned embeddings."""
        return tuple(
            j for j, cats in enumerate(self.categories) if len(cats) > MAX_ONE_HOT_CATEGORIES
        )

    def encoded_width(self, numeric_embedding=None, **_):
        """The width the first hidden layer sees.

        ``numeric_embedding`` (an architecture setting, see
        ``_nn/inputs.py``) adds the embedded values of every continuous
        column; the other keywords of
        :meth:`~sklearn_dnn._nn.architecture.Architecture.input_settings`
        do not change the width.
        """
        width = len(self.numeric) + len(self.missing)
        width += sum(len(self.categories[j]) for j in self.one_hot())
        width += sum(embedding_dim(len(self.categories[j])) for j in self.embedded())
        if numeric_embedding is not None:
            if numeric_embedding == "piecewise" and len(self.bins) != len(self.continuous):
                raise ValueError(
                    'numeric_embedding="piecewise" needs the quantile bins of the numeric '
                    "columns, fitted with the input description, and this one (a pretrained "
                    "source's) has none: fit the source with the same numeric_embedding, or "
                    'use numeric_embedding="periodic" or None.'
                )
            width += len(self.continuous) * EMBEDDED_WIDTH[numeric_embedding]
        return width

    def encode(self, X):
        """The codes of a table ``X`` (a DataFrame, or a validated array) as a float array.

        An array of numeric columns only is returned as it is.
        """
        if _frame_kind(X) is None and not self.categorical:
            return X
        columns = _columns(X, self.names, self.frame)
        codes = np.empty((_n_rows(X), self.n_columns), dtype=np.float64)
        for j in self.numeric:
            codes[:, j] = _numeric_values(columns[j], self.names[j], self.frame)
        for i, (j, cats) in enumerate(zip(self.categorical, self.categories, strict=True)):
            if (
                self.kinds
                and self.kinds[i] == "categorical"
                and not isinstance(columns[j], np.ndarray)
            ):
                kind = _column_kind(columns[j])
                if kind != "categorical":
                    raise ValueError(
                        f"Column {self.names[j]!r} was categorical (category or string "
                        f"values) in training but has dtype {columns[j].dtype} now: give "
                        "it the dtype it had when the estimator was fitted."
                    )
            codes[:, j] = _category_codes(_category_values(columns[j], self.names[j]), cats)
        return codes


def is_frame(X):
    """Whether ``X`` is a pandas or polars DataFrame."""
    return _frame_kind(X) is not None


def _frame_kind(X):
    module = type(X).__module__
    if module.startswith("pandas") and hasattr(X, "iloc") and hasattr(X, "columns"):
        return "pandas"
    if module.startswith("polars") and type(X).__name__ == "DataFrame":
        return "polars"
    return None


def _n_rows(X):
    return X.shape[0]


def _columns(X, names, frame):
    """The columns of ``X`` by position: Series of a frame, 1-d arrays of an array."""
    kind = _frame_kind(X)
    if kind is None:
        if frame is not None:  # fitted on a frame, given an array: by position
            X = np.asarray(X)
        return [X[:, j] for j in range(X.shape[1])]
    if kind == "pandas":
        return [X.iloc[:, j] for j in range(X.shape[1])]
    return [X.to_series(j) for j in range(X.shape[1])]


# ----------------------------------------------------------------------
# dtypes


def _column_kind(column):
    """``"numeric"``, ``"bool"``, ``"categorical"`` (category, string, object) or ``"other"``."""
    if isinstance(column, np.ndarray):
        if column.dtype.kind in "fiub":
            return "numeric"
        if column.dtype.kind in "US":
            return "categorical"
        # Objects: strings only (missing values aside) are categories; any
        # number makes the column numeric, and a string in it an error that
        # names the column (see _numeric_values).
        present = [v for v in column if v is not None and not (isinstance(v, float) and v != v)]
        return "categorical" if all(isinstance(v, str) for v in present) else "numeric"
    if type(column).__module__.startswith("polars"):
        import polars as pl

        dtype = column.dtype
        if dtype == pl.Boolean:
            return "bool"
        if dtype.is_numeric():
            return "numeric"
        if dtype in (pl.Categorical, pl.String) or isinstance(dtype, (pl.Enum, pl.Categorical)):
            return "categorical"
        return "other"
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "categorical"
    return "other"


def _numeric_values(column, name, frame):
    """A numeric (or boolean) column as float64, missing values as NaN."""
    if isinstance(column, np.ndarray):
        if column.dtype.kind not in "fiub":
            try:
                return column.astype(np.float64)
            except (TypeError, ValueError):
                value = _first_not_number(column)
                if not isinstance(value, str):  # a dict, a list...: not a table's value
                    raise TypeError(
                        f"Column {name!r} holds {value!r}, of type {type(value).__name__}: a "
                        "value of X must be a string or a number (float() argument must be "
                        "a string or a real number)."
                    ) from None
                raise ValueError(_not_numeric(name, [value])) from None
        return column.astype(np.float64, copy=False)
    kind = _column_kind(column)
    if kind in ("categorical", "other"):
        raise ValueError(
            f"Column {name!r} was numeric in training but has dtype {column.dtype} now: "
            "give it the dtype it had when the estimator was fitted."
        )
    if type(column).__module__.startswith("polars"):
        import polars as pl

        return column.cast(pl.Float64).to_numpy().astype(np.float64, copy=False)
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _first_not_number(column):
    """The first value of ``column`` that is not a number (for the error message)."""
    for value in column:
        try:
            float(value)
        except (TypeError, ValueError):
            return value
    return column[0]


def _not_numeric(name, example):
    return (
        f"Column {name!r} holds values that are not numbers (such as {example[0]!r}) "
        "and is not categorical under categorical_features. Name it in "
        "categorical_features (or give it a category or string dtype with "
        'categorical_features="from_dtype"), or convert it to numbers.'
    )


def _category_values(column, name):
    """A categorical column as a 1-d object array, missing values as None."""
    if isinstance(column, np.ndarray):
        values = column.astype(object)
        nan = np.array([isinstance(v, float) and v != v for v in values], dtype=bool)
        values[nan] = None
        return values
    if type(column).__module__.startswith("polars"):
        import polars as pl

        if column.dtype in (pl.Categorical,) or isinstance(column.dtype, (pl.Enum, pl.Categorical)):
            column = column.cast(pl.String)
        return np.asarray(column.to_list(), dtype=object)
    import pandas as pd

    values = np.array(column.astype(object).to_numpy(), dtype=object)
    values[pd.isna(values)] = None
    return values


def _vocabulary(values):
    """The distinct non-missing values, sorted (by their repr when they do not compare)."""
    seen = set(values[values != None].tolist())  # noqa: E711 (elementwise)
    try:
        return tuple(sorted(seen))
    except TypeError:
        return tuple(sorted(seen, key=repr))


def _category_codes(values, categories):
    """Codes 1..k of ``values`` in ``categories``; 0 for missing or unknown values."""
    lookup = {value: code for code, value in enumerate(categories, start=1)}
    return np.fromiter((lookup.get(v, 0) for v in values), dtype=np.float64, count=len(values))


# ----------------------------------------------------------------------
# categorical_features


def _categorical_mask(categorical_features, X, names, kinds):
    """The boolean mask of the categorical columns (validated as HistGradientBoosting does)."""
    n = len(names)
    if categorical_features is None:
        return np.zeros(n, dtype=bool)
    if isinstance(categorical_features, str):  # "from_dtype": the only string constraint
        return np.array([kind == "categorical" for kind in kinds], dtype=bool)
    given = np.asarray(categorical_features)
    if given.ndim != 1:
        raise ValueError(
            "categorical_features must be 'from_dtype', None, or a 1-d list of column "
            f"names, indices or a boolean mask; got an array of shape {given.shape}."
        )
    if given.size == 0:
        return np.zeros(n, dtype=bool)
    if given.dtype.kind == "b":
        if given.size != n:
            raise ValueError(
                f"categorical_features is a boolean mask of {given.size} values, but X has "
                f"{n} columns."
            )
        return given.copy()
    if given.dtype.kind in "iu":
        bad = given[(given < -n) | (given >= n)]
        if bad.size:
            raise ValueError(
                f"categorical_features holds the column index {bad[0]}, but X has {n} "
                f"columns (indices 0 to {n - 1})."
            )
        mask = np.zeros(n, dtype=bool)
        mask[given] = True
        return mask
    if given.dtype.kind in "UO":
        if _frame_kind(X) is None:
            raise ValueError(
                "categorical_features names columns, but X has no column names (it is "
                "not a DataFrame): give the columns' indices or a boolean mask instead."
            )
        position = {name: j for j, name in enumerate(names)}
        unknown = [name for name in given.tolist() if name not in position]
        if unknown:
            raise ValueError(
                f"categorical_features names columns that X does not have: {unknown}. "
                f"X's columns are {list(names)[:20]}."
            )
        mask = np.zeros(n, dtype=bool)
        mask[[position[name] for name in given.tolist()]] = True
        return mask
    raise ValueError(
        "categorical_features must be 'from_dtype', None, or a list of column names, "
        f"indices or a boolean mask; got {categorical_features!r}."
    )


def describe(X, categorical_features, numeric_scaling, n_bins=None):
    """The :class:`InputDescription` of the training table ``X``, and ``X``'s codes.

    ``X`` is a pandas or polars DataFrame, or an array that
    scikit-learn's validation has checked (NaN allowed; a sparse matrix is
    described as numeric columns without missing values). ``numeric_scaling``
    is ``"auto"`` (standardize the numeric columns of a DataFrame),
    ``"standard"``, ``"robust"`` or None. ``n_bins``: the most quantile bins of
    each continuous column, for ``numeric_embedding="piecewise"``; None
    fits none. The numeric statistics count every row once:
    :func:`weigh_statistics` fits them again for weighted rows.
    """
    frame = _frame_kind(X)
    n_columns = X.shape[1]
    if frame is None:
        names = tuple(f"x{j}" for j in range(n_columns))
    else:
        names = tuple(str(name) for name in X.columns)
    scaled = _standardizes(numeric_scaling, frame)
    if sparse.issparse(X):
        if categorical_features not in (None, "from_dtype"):
            raise ValueError(
                "categorical_features needs dense X: categorical columns are not supported "
                "in a sparse matrix."
            )
        if scaled:
            raise ValueError(
                'numeric_scaling="standard" needs dense X: scaling would make a sparse '
                "matrix dense. Use numeric_scaling=None, 'auto' or 'robust' (which divides "
                "without centring) with sparse X."
            )
        statistics = sparse_fields(X, numeric_scaling, n_bins, None)
        description = InputDescription(names, None, tuple(range(n_columns)), (), (), **statistics)
        return description, X
    columns = _columns(X, names, frame)
    kinds = [_column_kind(column) for column in columns]
    mask = _categorical_mask(categorical_features, X, names, kinds)
    for j, kind in enumerate(kinds):
        if kind == "other" and not mask[j]:
            raise ValueError(
                f"Column {names[j]!r} has dtype {columns[j].dtype}, which is neither numeric, "
                "boolean nor categorical. Convert it to numbers, or name it in "
                "categorical_features."
            )
        if kind == "categorical" and not mask[j]:
            values = _category_values(columns[j], names[j])
            example = values[values != None]  # noqa: E711
            try:
                example.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(_not_numeric(names[j], example)) from None
    numeric = tuple(j for j in range(n_columns) if not mask[j])
    categorical = tuple(j for j in range(n_columns) if mask[j])
    codes = np.empty((X.shape[0], n_columns), dtype=np.float64)
    categories = []
    for j in categorical:
        values = _category_values(columns[j], names[j])
        cats = _vocabulary(values)
        categories.append(cats)
        codes[:, j] = _category_codes(values, cats)
    for j in numeric:
        if frame is None:
            codes[:, j] = _numeric_values(columns[j], names[j], frame)
        elif kinds[j] == "categorical":  # numbers stored as strings or objects
            codes[:, j] = _category_values(columns[j], names[j]).astype(np.float64)
        else:
            codes[:, j] = _numeric_values(columns[j], names[j], frame)
    statistics = dense_fields(
        codes[:, list(numeric)], names, numeric, scaled, numeric_scaling, n_bins, None
    )
    description = InputDescription(
        names,
        frame,
        numeric,
        categorical,
        tuple(categories),
        kinds=tuple(kinds[j] for j in categorical),
        **statistics,
    )
    if frame is None and not categorical:
        return description, X  # the validated array as it is (its dtype kept)
    return description, codes


def _standardizes(numeric_scaling, frame):
    """Whether ``numeric_scaling`` standardizes the numeric columns (``"auto"``: a frame's)."""
    return numeric_scaling == "standard" or (numeric_scaling == "auto" and frame is not None)


def weigh_statistics(description, codes, numeric_scaling, n_bins, sample_weight):
    """``description`` with its numeric statistics fitted on rows weighed by ``sample_weight``.

    ``codes`` are the training rows as :func:`describe` returned them;
    ``sample_weight`` the weights of the loss (class weights included).
    Every statistic counts a row as often as its weight says (see
    :func:`~sklearn_dnn._numeric_inputs.row_counts`): a row of weight 0
    as none, one of weight 2 as two copies. Uniform weights change nothing.
    """
    counts = row_counts(sample_weight)
    if counts is None:
        return description
    if sparse.issparse(codes):
        statistics = sparse_fields(codes, numeric_scaling, n_bins, counts)
    else:
        numeric = description.numeric
        statistics = dense_fields(
            np.asarray(codes)[:, list(numeric)],
            description.names,
            numeric,
            _standardizes(numeric_scaling, description.frame),
            numeric_scaling,
            n_bins,
            counts,
        )
    return dataclasses.replace(description, **statistics)


# ----------------------------------------------------------------------
# validation, at fit and at predict


def _check_sparse_finite(X):
    if sparse.issparse(X) and np.isnan(X.data).any():
        raise ValueError(
            "Input X contains NaN. Missing values are supported in dense X only: "
            "impute them, or densify X."
        )


def check_sample_weight(sample_weight, n_samples, name="sample_weight"):
    """Sample weights as a float64 array of shape (n_samples,), checked.

    Raises a ValueError for a wrong shape, non-finite or negative values,
    or weights that are all zero; ``name`` is the argument the messages name.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    if isinstance(sample_weight, Real) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    weight = check_array(sample_weight, ensure_2d=False, dtype=np.float64, input_name=name)
    if weight.ndim != 1:
        raise ValueError(f"Sample weights must be 1D array or scalar; got {weight.ndim} dims.")
    if weight.shape != (n_samples,):
        raise ValueError(f"{name}.shape == {weight.shape}, expected {(n_samples,)}!")
    if (weight < 0).any():
        raise ValueError(f"Negative values in data passed to `{name}`.")
    if not (weight > 0).any():
        raise ValueError(
            f"Sample weights must contain at least one non-zero number; all of {name} are zero."
        )
    return weight


def validate_inputs(estimator, target, X, y, reset, description, kwargs):
    """Check ``X`` and ``y`` of a fit, record the features on ``target``, and describe ``X``.

    ``target`` is the estimator (a continued fit, ``reset=False``: the
    features are checked against its own) or a probe copy (a new fit).
    ``description`` is the fitted one to continue with, or None to
    describe ``X`` with ``estimator``'s ``categorical_features`` and
    ``numeric_scaling``. Returns the codes, ``y`` and the description.
    """
    if is_frame(X):
        validate_data(target, X, reset=reset, skip_check_array=True)
        if description is None:
            description, codes = _describe(X, estimator)
        else:
            codes = description.encode(X)
        scratch = copy.copy(target)  # the codes' check must not record their features
        codes, y = validate_data(scratch, codes, y, ensure_all_finite="allow-nan", **kwargs)
        return codes, y, description
    if _holds_objects(X):  # strings by position: encoded first, then checked as numbers
        untyped = {k: v for k, v in kwargs.items() if k != "dtype"}
        X, y = validate_data(target, X, y, reset=reset, dtype=None, **untyped, **_ANY_VALUES)
        if description is None:
            description, codes = _describe(X, estimator)
        else:
            codes = description.encode(X)
        scratch = copy.copy(target)
        codes, y = validate_data(scratch, codes, y, ensure_all_finite="allow-nan", **kwargs)
        return codes, y, description
    X, y = validate_data(target, X, y, reset=reset, ensure_all_finite="allow-nan", **kwargs)
    _check_sparse_finite(X)
    if description is None:
        description, codes = _describe(X, estimator)
        return codes, y, description
    return description.encode(X), y, description


def _describe(X, estimator):
    """:func:`describe` ``X`` with ``estimator``'s settings."""
    return describe(
        X, estimator.categorical_features, estimator.numeric_scaling, _n_bins(estimator)
    )


def _n_bins(estimator):
    """The most quantile bins per column: ``embedding_size`` for piecewise embeddings, else None."""
    piecewise = getattr(estimator, "numeric_embedding", None) == "piecewise"
    return int(estimator.embedding_size) if piecewise else None


def weigh_inputs(description, codes, estimator, sample_weight):
    """:func:`weigh_statistics` with ``estimator``'s settings."""
    return weigh_statistics(
        description, codes, estimator.numeric_scaling, _n_bins(estimator), sample_weight
    )


def prediction_codes(estimator, description, X, dtype_kwargs):
    """The codes of ``X`` for prediction, checked against the fitted features."""
    if is_frame(X):
        validate_data(estimator, X, reset=False, skip_check_array=True)
        codes = description.encode(X)
        scratch = copy.copy(estimator)
        return validate_data(scratch, codes, ensure_all_finite="allow-nan", **dtype_kwargs)
    if _holds_objects(X):  # e.g. a DataFrame's values: its columns by position
        untyped = {k: v for k, v in dtype_kwargs.items() if k != "dtype"}
        X = validate_data(estimator, X, reset=False, dtype=None, **untyped, **_ANY_VALUES)
        scratch = copy.copy(estimator)
        codes = description.encode(X)
        return validate_data(scratch, codes, ensure_all_finite="allow-nan", **dtype_kwargs)
    X = validate_data(estimator, X, reset=False, ensure_all_finite="allow-nan", **dtype_kwargs)
    _check_sparse_finite(X)
    return description.encode(X)


# An array of objects (strings) is checked for its shape first, its values
# once encoded: finiteness cannot be checked on strings.
_ANY_VALUES = {"ensure_all_finite": False}


def _holds_objects(X):
    """Whether ``X`` is a dense array-like of objects (strings and numbers mixed)."""
    if sparse.issparse(X) or is_frame(X):
        return False
    dtype = getattr(X, "dtype", None)
    if dtype is None:  # a list of lists: as numpy reads it
        try:
            dtype = np.asarray(X).dtype
        except (TypeError, ValueError):
            return False
    return dtype.kind in "OUS"
