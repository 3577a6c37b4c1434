"""Calibration on held-out rows: conformal intervals and sets, temperature scaling.

A fit calibrates in its commit phase (:func:`calibrate`, called by
``BaseDeepEstimator._commit`` after training, before any attribute is
assigned: a failure here changes nothing), on the fit's *calibration
rows* (``FitPlan.calibration``): the rows of ``calibration_fraction`` when
it is set (held out for nothing else), otherwise the validation rows of
early stopping, when there are some. The fitted state is small and
prediction reads nothing else, so ``predict_interval`` and
``predict_set`` are pure functions of it and of ``X`` (thread-safe, and
through the one inference path).

- A regressor keeps the sorted conformity scores ``|y - mean| / std`` of
  the calibration rows, per output (split conformal prediction on
  normalized residuals: Papadopoulos et al., 2002; Lei et al., 2018,
  "Distribution-free predictive inference for regression"). ``mean`` and
  ``std`` are the regressor's ``_moments``; without a variance head
  ``std`` is None and the scores are the absolute residuals (intervals of
  constant width).
- A classifier keeps a temperature ``T`` (Guo et al., 2017, "On
  calibration of modern neural networks"): the one scalar that minimizes
  the calibration rows' log-loss of ``softmax(logits / T)`` (``expit``
  for multilabel, one ``T`` shared by the labels), found by a bounded
  1-D search over ``log T`` (``scipy.optimize.minimize_scalar``). An
  ensemble's logits are its combined log mean probabilities, so ``T``
  scales the averaged prediction. It also keeps the scores ``1 - p(true
  class)`` of the calibrated probabilities, for conformal sets (the "LAC"
  score of Sadinle et al., 2019).

The finite-sample quantile is the ``ceil((n + 1) * coverage)``-th smallest
of the ``n`` scores (:func:`conformal_quantile`), which covers at least
``coverage`` of new exchangeable rows. With too few rows for the coverage
asked (``ceil((n + 1) * coverage) > n``) no score is large enough: the
interval is infinite (the set holds every class), with a
:class:`CalibrationWarning`. (MAPIE raises an error there unless told
``unbounded=True``; an infinite interval is the honest answer and keeps
a sweep over coverages working.)

The scores are unweighted: ``sample_weight`` shapes training, not the
exchangeability the guarantee rests on.
"""

import copy
import math
from numbers import Real

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_expit, log_softmax

from ._engine.inference import predict_outputs
from ._warnings import warn

# The temperature search's range: log T in [log 1/4, log 20]. Sharpening is
# bounded more tightly than softening: calibration rows that the model
# separates perfectly make the log-loss fall all the way to T -> 0 (on
# wine's 12 validation rows the search found T = 0.05, and a test log-loss
# 9 times the unscaled one).
LOG_TEMPERATURE_BOUNDS = (-math.log(4.0), math.log(20.0))
# Fewer calibration rows leave T = 1: a scalar fitted on a handful of rows
# is noise.
MIN_TEMPERATURE_ROWS = 50


class CalibrationWarning(UserWarning):
    """Calibration could not do what was asked.

    Too few calibration rows for the coverage asked (the interval is
    infinite, the set holds every class), or ``temperature_scaling=True``
    without enough calibration rows (``temperature_`` stays 1.0).
    """


def check_coverage(coverage):
    """``coverage`` as a float in (0, 1), or a ValueError naming what was received."""
    if isinstance(coverage, bool) or not isinstance(coverage, Real) or not 0 < coverage < 1:
        raise ValueError(f"coverage must be a float in the range (0, 1); got {coverage!r}.")
    return float(coverage)


def hold_out_for_calibration(n_rows, train_rows, fraction, rng):
    """The training rows and the calibration rows of ``calibration_fraction``.

    ``train_rows`` are the rows left after the validation split (None:
    all ``n_rows``); ``fraction`` of them, rounded up, are held out for
    calibration only. ``fraction`` None holds out nothing (and draws
    nothing from ``rng``): ``(train_rows, None)``.
    """
    if fraction is None:
        return train_rows, None
    pool = np.arange(n_rows) if train_rows is None else train_rows
    n_calibration = math.ceil(fraction * len(pool))
    if len(pool) - n_calibration < 1:
        raise ValueError(
            f"calibration_fraction={fraction} of {len(pool)} rows leaves none to train "
            "on; use a smaller calibration_fraction or more rows."
        )
    order = rng.permutation(len(pool))
    return np.sort(pool[order[n_calibration:]]), np.sort(pool[order[:n_calibration]])


def calibrate(estimator, plan, net):
    """The calibration attributes of a fit, to commit.

    ``estimator._uncalibrated`` when the fit has no calibration rows (a
    None is removed at the commit, with an earlier fit's value);
    ``estimator._calibrate(probe, X, target)`` computes them otherwise,
    on ``probe``, a shallow copy of the estimator with the new network
    and task (the estimator itself is not changed before the commit).
    """
    unset = dict(estimator._uncalibrated)
    data = plan.calibration
    if data is None:
        if getattr(estimator, "temperature_scaling", False):
            warn(
                "temperature_scaling=True found no calibration rows in this fit (no "
                "validation split and calibration_fraction=None): temperature_ stays 1.0. "
                "Set calibration_fraction, early_stopping=True, or pass X_val and y_val.",
                CalibrationWarning,
            )
        return unset
    probe = copy.copy(estimator)
    probe.net_ = net
    probe._task = plan.task
    target = data.targets().cpu().numpy()
    return {**unset, **estimator._calibrate(probe, data.prediction_rows(), target)}


def no_calibration_rows(estimator, method):
    """The ValueError of ``method`` on a model fitted without calibration rows."""
    name = type(estimator).__name__
    return ValueError(
        f"{method} needs calibration rows, and this {name} was fitted without any (no "
        "validation split and calibration_fraction=None; partial_fit holds none out). "
        "Refit with calibration_fraction=0.2 (rows held out for calibration only), or "
        "with early_stopping=True (the validation rows calibrate; from 100 rows on "
        "early_stopping='auto' holds them out), or wrap the estimator in "
        "sklearn_dnn.CrossConformalRegressor (CV+, every row trains) for a regressor."
    )


# ----------------------------------------------------------------------
# regression
def regression_scores(mean, std, y):
    """Sorted conformity scores per output, shape (n_rows, n_outputs)."""
    residual = np.abs(y - mean)
    scores = residual if std is None else residual / std
    return np.sort(scores, axis=0)


def exact_ceil(x):
    """``ceil(x)`` of a product of floats, without float noise: ``(9 + 1) * 0.9`` is 9."""
    return math.ceil(round(x, 9))


def exact_floor(x):
    """``floor(x)`` of a product of floats, without float noise."""
    return math.floor(round(x, 9))


def conformal_quantile(sorted_scores, coverage):
    """The ``ceil((n + 1) * coverage)``-th smallest score along axis 0; inf when n is too small."""
    n = len(sorted_scores)
    k = exact_ceil((n + 1) * coverage)
    if k > n:
        warn(
            f"{n} calibration rows are too few for coverage={coverage}: it needs "
            f"ceil((n + 1) * coverage) <= n, at least {exact_ceil(coverage / (1 - coverage))} "
            "rows. The interval is infinite (the set holds every class). Hold out more "
            "rows (calibration_fraction, validation_fraction) or ask a lower coverage.",
            CalibrationWarning,
        )
        return np.full(sorted_scores.shape[1:], np.inf)
    return sorted_scores[k - 1]


def calibrate_regressor(probe, X, target):
    """``{"_conformity_scores": ...}`` of a regressor's calibration rows."""
    mean, std = probe._moments(X)
    y = np.reshape(probe._task.to_target_scale(target.astype(np.float64)), mean.shape)
    return {"_conformity_scores": regression_scores(mean, std, y)}


def interval(mean, std, sorted_scores, coverage, one_output):
    """Lower and upper bounds: (rows, 2) for ``one_output``, else (rows, 2, n_outputs)."""
    q = conformal_quantile(sorted_scores, coverage)
    half = q if std is None else q * std
    with np.errstate(invalid="ignore"):  # inf * 0 cannot happen: std > 0
        bounds = np.stack([mean - half, mean + half], axis=1)
    return bounds[..., 0] if one_output else bounds


# ----------------------------------------------------------------------
# classification
def _log_proba(logits, multilabel):
    return log_expit(logits) if multilabel else log_softmax(logits, axis=1)


def _nll(logits, target, multilabel):
    """Mean log-loss of raw outputs: per row, summed over labels for multilabel."""
    if multilabel:
        return -np.mean(np.sum(target * log_expit(logits) + (1 - target) * log_expit(-logits), 1))
    return -np.mean(log_softmax(logits, axis=1)[np.arange(len(target)), target])


def fit_temperature(logits, target, multilabel):
    """The temperature T > 0 that minimizes the log-loss of ``logits / T``."""
    found = minimize_scalar(
        lambda log_t: _nll(logits / math.exp(log_t), target, multilabel),
        bounds=LOG_TEMPERATURE_BOUNDS,
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(math.exp(found.x))


def calibrate_classifier(probe, X, target, temperature_scaling):
    """``temperature_`` and the conformity scores of a classifier's calibration rows."""
    multilabel = target.ndim == 2
    logits = predict_outputs(probe.module_, X, None, probe.n_threads)
    target = target.astype(np.float64) if multilabel else target.astype(np.int64)
    fitted_on_enough = temperature_scaling and len(target) >= MIN_TEMPERATURE_ROWS
    if temperature_scaling and not fitted_on_enough:
        warn(
            f"temperature_scaling=True needs at least {MIN_TEMPERATURE_ROWS} calibration "
            f"rows and this fit has {len(target)}: temperature_ stays 1.0 (a temperature "
            "fitted on fewer overfits them). Hold out more rows (calibration_fraction, "
            "validation_fraction, or X_val).",
            CalibrationWarning,
        )
    temperature = fit_temperature(logits, target, multilabel) if fitted_on_enough else 1.0
    fitted = {"temperature_": temperature}
    if not multilabel:
        proba = np.exp(_log_proba(logits / temperature, False))
        scores = 1.0 - proba[np.arange(len(target)), target]
        fitted["_conformity_scores"] = np.sort(scores)
    return fitted
