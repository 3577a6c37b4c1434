"""Conformal prediction intervals around a deep ensemble, with MAPIE.

A DeepRegressor(ensemble_size=5), after a StandardScaler in a Pipeline,
learns Friedman's first function (make_friedman1, noise=1) from half of
4,000 rows. MAPIE's SplitConformalRegressor wraps the fitted Pipeline
(prefit=True), reads its
absolute residuals on a quarter of the rows held out for that
(conformalize), and returns intervals meant to hold 90% of new targets
(confidence_level=0.9). On the last quarter, the test split, the script
prints how often the target falls inside and how wide the intervals are,
next to the ensemble's own interval, mean +- 1.645 std of its members,
and to the members' std rescaled on the same held-out split by hand
(a normalized conformal score: intervals that widen where the members
disagree).

scikit-learn itself has no conformal prediction. Without MAPIE, split
conformal is a few lines of numpy on the held-out split, as
``conformal_quantile`` below does: with ``r = |y_conf - model.predict(X_conf)|``
and ``n = len(r)``, the interval is ``model.predict(X) +- q``, where
``q = np.quantile(r, ceil((n + 1) * 0.9) / n, method="higher")``. MAPIE adds
other conformity scores, several confidence levels at once, and the
cross-validation and jackknife+ variants that need no held-out split.

Needs MAPIE: pip install -e ".[conformal]".
Run: python examples/conformal.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
"""

import math
import os
import warnings

import numpy as np
from mapie.regression import SplitConformalRegressor
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepRegressor, predict_uncertainty

# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
CONFIDENCE = 0.9
Z = 1.645  # mean +- Z std holds 90% of a Gaussian


def conformal_quantile(scores, confidence):
    """The split-conformal quantile of held-out conformity scores."""
    n = len(scores)
    level = min(1.0, math.ceil((n + 1) * confidence) / n)
    return np.quantile(scores, level, method="higher")


def report(name, y, lower, upper, y_std):
    inside = (y >= lower) & (y <= upper)
    width = np.broadcast_to(upper - lower, y.shape)
    print(
        f"  {name:<44} coverage {inside.mean():.3f}   mean width {width.mean():.3f} "
        f"({width.mean() / y_std:.2f} std of y)"
    )


def main():
    X, y = make_friedman1(n_samples=4000, noise=1.0, random_state=0)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.5, random_state=0)
    X_conf, X_test, y_conf, y_test = train_test_split(X_rest, y_rest, test_size=0.5, random_state=0)
    # A lighter l2 than the default 0.01, which smooths this function too much.
    model = make_pipeline(
        StandardScaler(),
        DeepRegressor(
            ensemble_size=5, l2=1e-4, max_epochs=5 if QUICK else 200, n_threads=1, random_state=0
        ),
    )
    model.fit(X_train, y_train)
    print(
        f"make_friedman1, noise=1: {len(y_train)} training rows, {len(y_conf)} to "
        f"conformalize, {len(y_test)} to test; nominal coverage {CONFIDENCE}."
    )
    print(f"  R^2 of the ensemble on the test split: {model.score(X_test, y_test):.3f}")
    y_std = y_train.std()

    # 0. No model: the 5th to the 95th percentile of the training targets.
    lower, upper = np.quantile(y_train, [0.05, 0.95])
    report("no model: 5th-95th percentile of y_train", y_test, lower, upper, y_std)

    # 1. MAPIE's split conformal interval around the fitted ensemble.
    conformal = SplitConformalRegressor(model, confidence_level=CONFIDENCE, prefit=True)
    conformal.conformalize(X_conf, y_conf)
    _, intervals = conformal.predict_interval(X_test)
    report("MAPIE SplitConformalRegressor", y_test, intervals[:, 0, 0], intervals[:, 1, 0], y_std)

    # 2. The ensemble's own interval: the spread of its five members.
    result = predict_uncertainty(model, X_test, method="ensemble")
    lower, upper = result.mean - Z * result.std, result.mean + Z * result.std
    report("ensemble mean +- 1.645 std", y_test, lower, upper, y_std)

    # 3. The members' spread, rescaled by split conformal on the same held-out rows.
    held_out = predict_uncertainty(model, X_conf, method="ensemble")
    q = conformal_quantile(np.abs(y_conf - held_out.mean) / held_out.std, CONFIDENCE)
    lower, upper = result.mean - q * result.std, result.mean + q * result.std
    report(f"ensemble mean +- {q:.1f} std (conformal q)", y_test, lower, upper, y_std)
    print(f"  median std of the members: {np.median(result.std):.3f}; noise std: 1.000")


if __name__ == "__main__":
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs stop before convergence
    main()
