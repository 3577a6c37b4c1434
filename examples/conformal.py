"""Prediction intervals that hold what they promise: predict_interval, MAPIE, quantiles.

A DeepRegressor(ensemble_size=5), after a StandardScaler in a Pipeline,
learns Friedman's first function (make_friedman1, noise of std 1); 1,000
rows are kept to test. The script compares, at nominal coverages from
0.5 to 0.95, how often the target falls inside each interval and how wide
the intervals are:

- ``predict_interval``: split conformal prediction built in;
  ``calibration_fraction=1/3`` holds 1,000 of the 3,000 rows out of
  training to calibrate on;
- MAPIE's ``SplitConformalRegressor`` (prefit) around the same model
  trained on the other 2,000 rows, conformalized on the held-out 1,000;
- scikit-learn's ``HistGradientBoostingRegressor(loss="quantile")`` at
  the two tails, trained on all 3,000 rows (not calibrated);
- the ensemble's own ``mean +- z * std`` (the members' spread), and that
  spread rescaled by split conformal on the held-out rows.

It prints the numbers at 0.9 and draws coverage against width for every
nominal level (examples/output/conformal_coverage_width.png).

Without sklearn-dnn's method, split conformal is a few lines of numpy:
with ``r = |y_conf - model.predict(X_conf)|`` and ``n = len(r)``, the
interval is ``model.predict(X) +- q``, ``q = np.sort(r)[ceil((n + 1) *
0.9) - 1]``.

Needs MAPIE: pip install -e ".[conformal]".
Run: python examples/conformal.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
"""

import math
import os
import warnings
from pathlib import Path

import numpy as np
from mapie.regression import SplitConformalRegressor
from scipy.stats import norm
from sklearn.datasets import make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepRegressor, classic_playbook, predict_uncertainty

# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
OUTPUT = Path(__file__).resolve().parent / "output"


def conformal_quantile(scores, coverage):
    """The split-conformal quantile of held-out conformity scores."""
    n = len(scores)
    return np.sort(scores)[min(n, math.ceil((n + 1) * coverage)) - 1]


def summary(y, lower, upper):
    inside = (y >= lower) & (y <= upper)
    return inside.mean(), np.broadcast_to(upper - lower, y.shape).mean()


def model(max_epochs, **params):
    # A lighter l2 than the default 0.01, which smooths this function too much.
    return DeepRegressor(
        **classic_playbook(
            DeepRegressor,
            ensemble_size=5,
            l2=1e-4,
            max_epochs=max_epochs,
            n_threads=1,
            random_state=0,
            **params,
        )
    )


def main():
    X, y = make_friedman1(n_samples=4000, noise=1.0, random_state=0)
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    X_train, X_conf, y_train, y_conf = train_test_split(
        X_fit, y_fit, test_size=1 / 3, random_state=0
    )
    epochs = 5 if QUICK else 200
    print(
        f"make_friedman1, noise=1: {len(y_fit)} rows to fit ({len(y_conf)} of them to "
        f"calibrate), {len(y_test)} to test."
    )

    # 1. Built in: 1/3 of the rows calibrate, the rest train.
    ours = make_pipeline(StandardScaler(), model(epochs, calibration_fraction=1 / 3))
    ours.fit(X_fit, y_fit)
    X_test_scaled = ours[:-1].transform(X_test)

    # 2. MAPIE around the same model, trained on the same number of rows.
    mapie_model = make_pipeline(StandardScaler(), model(epochs)).fit(X_train, y_train)
    mapie = {
        level: SplitConformalRegressor(mapie_model, confidence_level=level, prefit=True)
        .conformalize(X_conf, y_conf)
        .predict_interval(X_test)[1][:, :, 0]
        for level in LEVELS
    }

    # 3. Quantile regression at both tails, on every row (no calibration).
    def quantile(q):
        hgb = HistGradientBoostingRegressor(loss="quantile", quantile=q, random_state=0)
        return hgb.fit(X_fit, y_fit).predict(X_test)

    # 4. The members' spread, as it is and rescaled on the held-out rows.
    spread = predict_uncertainty(mapie_model, X_test, method="ensemble")
    held_out = predict_uncertainty(mapie_model, X_conf, method="ensemble")
    scores = np.abs(y_conf - held_out.mean) / held_out.std

    curves = {name: [] for name in ("predict_interval", "MAPIE", "HGB quantiles", "std", "std*q")}
    for level in LEVELS:
        bounds = ours[-1].predict_interval(X_test_scaled, coverage=level)
        curves["predict_interval"].append(summary(y_test, bounds[:, 0], bounds[:, 1]))
        curves["MAPIE"].append(summary(y_test, mapie[level][:, 0], mapie[level][:, 1]))
        low, high = quantile((1 - level) / 2), quantile((1 + level) / 2)
        curves["HGB quantiles"].append(
            summary(y_test, np.minimum(low, high), np.maximum(low, high))
        )
        z = norm.ppf((1 + level) / 2)
        curves["std"].append(
            summary(y_test, spread.mean - z * spread.std, spread.mean + z * spread.std)
        )
        q = conformal_quantile(scores, level)
        curves["std*q"].append(
            summary(y_test, spread.mean - q * spread.std, spread.mean + q * spread.std)
        )

    names = {
        "predict_interval": "predict_interval (calibration_fraction=1/3)",
        "MAPIE": "MAPIE SplitConformalRegressor",
        "HGB quantiles": "HGB quantile 0.05 / 0.95 (not calibrated)",
        "std": "ensemble mean +- 1.645 std",
        "std*q": "ensemble std rescaled by split conformal",
    }
    at = LEVELS.index(0.9)
    print(f"  R^2 on the test rows: {ours.score(X_test, y_test):.3f}; nominal coverage 0.9")
    for key, name in names.items():
        coverage, width = curves[key][at]
        print(f"  {name:<46} coverage {coverage:.3f}   mean width {width:.3f}")
    print(f"  best possible width, knowing the noise: {2 * norm.ppf(0.95):.3f}")
    draw(curves, names)


def draw(curves, names):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure.")
        return
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for key, points in curves.items():
        coverage, width = zip(*points, strict=True)
        ax.plot(width, coverage, marker="o", label=names[key])
    for level in LEVELS:
        ax.axhline(level, color="0.85", linewidth=0.8, zorder=0)
    ax.set_xlabel("mean width of the interval")
    ax.set_ylabel("coverage on 1,000 test rows")
    ax.set_title("Nominal 0.5 to 0.95: coverage against width (make_friedman1)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    OUTPUT.mkdir(exist_ok=True)
    fig.savefig(OUTPUT / "conformal_coverage_width.png", dpi=80)


if __name__ == "__main__":
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs stop before convergence
    main()
