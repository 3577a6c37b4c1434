"""CrossConformalRegressor: CV+ prediction intervals, for data too small to hold rows out.

Split conformal prediction (``DeepRegressor.predict_interval``) costs the
calibration rows: they do not train. CV+ (Barber, Candès, Ramdas and
Tibshirani, 2021, "Predictive inference with the jackknife+") trains
``K`` models, each without one fold, and reads every row's residual from
the model that did not see it; a new row's interval combines the ``K``
models' predictions with those residuals. Every row trains (``K - 1``
models) and every row calibrates.

The cost: ``K`` fits instead of one (each on ``(K - 1) / K`` of the rows),
``K`` predictions per new row, and an interval from an ``n``-row order
statistic per new row (computed in chunks of rows, :data:`CHUNK_ELEMENTS`
values at a time). The guarantee is weaker on paper (coverage at least
``1 - 2 * (1 - coverage)``); in practice it is close to ``coverage``.

It is a wrapper rather than a hyperparameter of the estimators, because
its ``K`` models are a different fitted object (scikit-learn's
``StackingRegressor`` and MAPIE's ``CrossConformalRegressor`` are shaped
the same way), and it wraps any regressor, a Pipeline too.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import KFold
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from ._calibration import CalibrationWarning, check_coverage, exact_ceil, exact_floor
from ._warnings import warn

# Values (rows x calibration rows) in one chunk of the order statistics: 32 MiB.
CHUNK_ELEMENTS = 4 * 2**20


class CrossConformalRegressor(RegressorMixin, BaseEstimator):
    """Prediction intervals by CV+ (cross-conformal) around ``cv`` fold models.

    Parameters
    ----------
    estimator : regressor or None, default=None
        The model, cloned for each fold; None is ``DeepRegressor()``.
    cv : int, default=5
        Number of folds (``KFold``, shuffled by ``random_state``); at least 2.
    random_state : int, RandomState instance or None, default=None
        Shuffles the rows into folds.

    Attributes
    ----------
    estimators_ : list of regressors
        The fold models; ``estimators_[k]`` did not see fold ``k``.
    fold_of_ : ndarray of shape (n_samples,)
        The fold of each training row.
    residuals_ : ndarray of shape (n_samples, n_outputs)
        ``|y - prediction|`` of each row by the model that did not see it.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn_dnn import CrossConformalRegressor, DeepRegressor
    >>> X, y = make_regression(n_samples=60, n_features=3, noise=5, random_state=0)
    >>> model = CrossConformalRegressor(DeepRegressor(max_epochs=20, random_state=0), cv=3)
    >>> model.fit(X, y).predict_interval(X[:2], coverage=0.9).shape
    (2, 2)
    """

    def __init__(self, estimator=None, *, cv=5, random_state=None):
        self.estimator = estimator
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y):
        """Fit one model per fold and record every row's out-of-fold residual.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : object
        """
        if isinstance(self.cv, bool) or not isinstance(self.cv, Integral) or self.cv < 2:
            raise ValueError(f"cv must be an int of at least 2; got {self.cv!r}.")
        from ._regressor import DeepRegressor

        base = DeepRegressor() if self.estimator is None else self.estimator
        y = np.asarray(y, dtype=np.float64)
        n = len(y)
        folds = KFold(self.cv, shuffle=True, random_state=self.random_state)
        estimators, fold_of = [], np.empty(n, dtype=np.int64)
        residuals = np.empty((n, 1 if y.ndim == 1 else y.shape[1]))
        for k, (train, held) in enumerate(folds.split(np.zeros((n, 1)))):
            model = clone(base).fit(_safe_indexing(X, train), y[train])
            predicted = np.asarray(model.predict(_safe_indexing(X, held)), dtype=np.float64)
            residuals[held] = np.abs(y[held] - predicted).reshape(len(held), -1)
            fold_of[held] = k
            estimators.append(model)
        self.estimators_ = estimators
        self.fold_of_ = fold_of
        self.residuals_ = residuals
        self._one_output = y.ndim == 1
        self.n_features_in_ = getattr(estimators[0], "n_features_in_", None)
        return self

    def _fold_predictions(self, X):
        """Each fold model's predictions, shape (K, n_rows, n_outputs)."""
        check_is_fitted(self, "estimators_")
        return np.stack(
            [
                np.asarray(m.predict(X), dtype=np.float64).reshape(len(X), -1)
                for m in self.estimators_
            ]
        )

    def predict(self, X):
        """The fold models' mean prediction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        mean = self._fold_predictions(X).mean(axis=0)
        return mean[:, 0] if self._one_output else mean

    def predict_interval(self, X, coverage=0.9):
        """CV+ intervals: order statistics of ``fold prediction +- out-of-fold residual``.

        The lower bound of a row is the ``floor((1 - coverage) * (n + 1))``-th
        smallest of ``mu_{-k(i)}(x) - R_i`` over the ``n`` training rows
        ``i``, the upper bound the ``ceil(coverage * (n + 1))``-th smallest
        of ``mu_{-k(i)}(x) + R_i``; infinite, with a ``CalibrationWarning``,
        when ``n`` is too small for ``coverage``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        coverage : float, default=0.9

        Returns
        -------
        intervals : ndarray of shape (n_samples, 2) or (n_samples, 2, n_outputs)
        """
        coverage = check_coverage(coverage)
        predictions = self._fold_predictions(X)  # (K, rows, outputs)
        n = len(self.residuals_)
        k_low = exact_floor((1 - coverage) * (n + 1))
        k_high = exact_ceil(coverage * (n + 1))
        if k_high > n or k_low < 1:
            warn(
                f"{n} training rows are too few for coverage={coverage}: the interval is "
                "infinite. Ask a lower coverage, or use more rows.",
                CalibrationWarning,
            )
        rows, outputs = predictions.shape[1:]
        bounds = np.empty((rows, 2, outputs))
        step = max(1, CHUNK_ELEMENTS // n)
        for j in range(outputs):
            residual = self.residuals_[:, j]
            for start in range(0, rows, step):
                part = predictions[:, start : start + step, j][self.fold_of_].T  # (rows, n)
                chunk = slice(start, start + step)
                bounds[chunk, 0, j] = (
                    -np.inf if k_low < 1 else _kth_smallest(part - residual, k_low)
                )
                bounds[chunk, 1, j] = (
                    np.inf if k_high > n else _kth_smallest(part + residual, k_high)
                )
        return bounds[..., 0] if self._one_output else bounds


def _kth_smallest(values, k):
    """The ``k``-th smallest (1-based) of each row of ``values``."""
    return np.partition(values, k - 1, axis=1)[:, k - 1]
