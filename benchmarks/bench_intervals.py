"""Calibrated uncertainty: conformal intervals and temperature scaling on the quality sets.

The data sets, their preprocessing (fitted on the training fold) and the
folds are ``bench_quality.py``'s (``_datasets.py``), with 3 folds.

Regression (10 sets), 90% intervals on the test fold:

- ``ours``: ``DeepRegressor(calibration_fraction=F, **params)``'s
  ``predict_interval`` (split conformal on normalized residuals; constant
  width without a variance head). ``--params '{"loss": "gaussian_nll"}'``
  measures the variance head.
- ``mapie``: MAPIE's ``SplitConformalRegressor`` (prefit) around
  ``DeepRegressor(**params)`` fitted on the same share ``1 - F`` of the
  training fold, conformalized on the other ``F`` (the same number of
  calibration rows, other rows).
- ``hgb``: ``HistGradientBoostingRegressor(loss="quantile")`` at 0.05 and
  0.95, on the whole training fold (not calibrated).

Reported: coverage, mean width (and its ratio to mapie's and hgb's),
and the NLL and CRPS of the Gaussian each interval implies (mean the
midpoint, std the half-width / 1.645): a common yardstick for methods
that give only bounds.

Classification (12 sets): ``DeepClassifier(**params)`` with its default
validation split; the probabilities before (``raw``: softmax of the
logits) and after temperature scaling (``scaled``: ``predict_proba``),
from the same fit: ECE (15 bins, top-label), log-loss and multiclass
Brier (sum over classes), and the coverage and mean size of
``predict_set(coverage=0.9)``.

One thread per fit; ``--n-jobs`` folds in parallel. Results go to
``<out>/intervals_<label>.md`` (and ``.json``), rewritten as each fold ends.

Run::

    python benchmarks/bench_intervals.py                    # all, 3 folds
    python benchmarks/bench_intervals.py --quick            # smoke test, < 1 minute
    python benchmarks/bench_intervals.py --label nll --params '{"loss": "gaussian_nll"}' --tasks reg
"""

from _common import RESULTS, environment, one_thread, set_torch_threads

one_thread()  # before numpy loads; inherited by the workers

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from _datasets import (  # noqa: E402
    DATASETS,
    QUICK_DATASETS,
    SEED,
    cross_validation,
    load_dataset,
    make_preprocessor,
)
from joblib import Parallel, delayed  # noqa: E402
from scipy.special import softmax  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

COVERAGE = 0.9
Z = norm.ppf(0.5 + COVERAGE / 2)  # 1.645
ECE_BINS = 15


def expected_calibration_error(proba, y, bins=ECE_BINS):
    """Top-label ECE: the weighted mean gap between confidence and accuracy per bin."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return gap


def ece_floor(proba, draws=20, seed=SEED):
    """The ECE that perfectly calibrated probabilities ``proba`` show on this many rows.

    Labels drawn from ``proba`` itself: the estimator's sampling noise on a
    test fold of this size, the lowest ECE any model can be expected to show.
    """
    rng = np.random.default_rng(seed)
    cumulative = proba.cumsum(axis=1)
    eces = []
    for _ in range(draws):
        u = rng.random((len(proba), 1))
        drawn = np.minimum((u > cumulative).sum(axis=1), proba.shape[1] - 1)
        eces.append(expected_calibration_error(proba, drawn))
    return float(np.mean(eces))


def brier(proba, y):
    onehot = np.eye(proba.shape[1])[y]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def gaussian_scores(y, lower, upper):
    """NLL and CRPS of the Gaussian an interval implies (midpoint, half-width / Z)."""
    mu = (lower + upper) / 2
    sigma = np.maximum((upper - lower) / (2 * Z), 1e-12)
    z = (y - mu) / sigma
    nll = np.mean(0.5 * np.log(2 * np.pi * sigma**2) + 0.5 * z**2)
    crps = np.mean(sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi)))
    return float(nll), float(crps)


def interval_scores(y, bounds):
    lower, upper = bounds[:, 0], bounds[:, 1]
    nll, crps = gaussian_scores(y, lower, upper)
    return {
        "coverage": float(np.mean((lower <= y) & (y <= upper))),
        "width": float(np.mean(upper - lower)),
        "nll": nll,
        "crps": crps,
    }


def regression_fold(name, fold, X, y, train, test, params, fraction, quick):
    from mapie.regression import SplitConformalRegressor

    from sklearn_dnn import DeepRegressor

    set_torch_threads(1)
    extra = {"max_epochs": 20} if quick else {}
    X_train, y_train, X_test, y_test = X.iloc[train], y[train], X.iloc[test], y[test]
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        ours = Pipeline(
            [
                ("prep", make_preprocessor(X)),
                (
                    "model",
                    DeepRegressor(
                        random_state=SEED, calibration_fraction=fraction, **extra, **params
                    ),
                ),
            ]
        ).fit(X_train, y_train)
        bounds = ours[-1].predict_interval(ours[:-1].transform(X_test), COVERAGE)
        results.append(("ours", bounds, time.perf_counter() - start))

        start = time.perf_counter()
        X_fit, X_cal, y_fit, y_cal = train_test_split(
            X_train, y_train, test_size=fraction, random_state=SEED
        )
        model = Pipeline(
            [
                ("prep", make_preprocessor(X)),
                ("model", DeepRegressor(random_state=SEED, **extra, **params)),
            ]
        ).fit(X_fit, y_fit)
        mapie = SplitConformalRegressor(model, confidence_level=COVERAGE, prefit=True)
        mapie.conformalize(X_cal, y_cal)
        bounds = mapie.predict_interval(X_test)[1][:, :, 0]
        results.append(("mapie", bounds, time.perf_counter() - start))

        start = time.perf_counter()
        quantiles = []
        for q in ((1 - COVERAGE) / 2, (1 + COVERAGE) / 2):
            hgb = Pipeline(
                [
                    ("prep", make_preprocessor(X)),
                    (
                        "model",
                        HistGradientBoostingRegressor(
                            loss="quantile", quantile=q, random_state=SEED
                        ),
                    ),
                ]
            ).fit(X_train, y_train)
            quantiles.append(hgb.predict(X_test))
        bounds = np.stack([np.minimum(*quantiles), np.maximum(*quantiles)], axis=1)
        results.append(("hgb", bounds, time.perf_counter() - start))
    return [
        {"dataset": name, "fold": fold, "model": model, "fit_time": seconds}
        | interval_scores(y_test, bounds)
        for model, bounds, seconds in results
    ]


def classification_fold(name, fold, X, y, train, test, params, quick):
    from sklearn_dnn import DeepClassifier

    set_torch_threads(1)
    extra = {"max_epochs": 20} if quick else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        pipe = Pipeline(
            [
                ("prep", make_preprocessor(X)),
                (
                    "model",
                    DeepClassifier(random_state=SEED, temperature_scaling=True, **extra, **params),
                ),
            ]
        ).fit(X.iloc[train], y[train])
        seconds = time.perf_counter() - start
        X_test = pipe[:-1].transform(X.iloc[test])
        model = pipe[-1]
        y_test = np.searchsorted(model.classes_, y[test])
        raw = softmax(model._forward(X_test), axis=1)
        scaled = model.predict_proba(X_test)
        try:
            sets = model.predict_set(X_test, COVERAGE)
            set_cover = float(sets[np.arange(len(y_test)), y_test].mean())
            set_size = float(sets.sum(axis=1).mean())
        except ValueError:  # no calibration rows
            set_cover = set_size = float("nan")
    labels = np.arange(len(model.classes_))
    rows = []
    for kind, proba in (("raw", raw), ("scaled", scaled)):
        rows.append(
            {
                "dataset": name,
                "fold": fold,
                "model": kind,
                "fit_time": seconds,
                "ece": float(expected_calibration_error(proba, y_test)),
                "ece_floor": ece_floor(proba),
                "log_loss": float(log_loss(y_test, proba, labels=labels)),
                "brier": brier(proba, y_test),
                "temperature": float(model.temperature_),
                "set_coverage": set_cover,
                "set_size": set_size,
            }
        )
    return rows


def mean_by(rows, keys, fields):
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    return {
        key: {f: float(np.mean([r[f] for r in group])) for f in fields}
        for key, group in groups.items()
    }


def markdown(rows, args):
    lines = [f"# Calibrated uncertainty ({args.label})", "", f"`{json.dumps(vars(args))}`", ""]
    lines += [f"Environment: `{json.dumps(environment())}`", ""]
    reg = [r for r in rows if "coverage" in r]
    clf = [r for r in rows if "ece" in r]
    if reg:
        table = mean_by(reg, ("dataset", "model"), ("coverage", "width", "nll", "crps", "fit_time"))
        names = sorted({d for d, _ in table}, key=list(DATASETS).index)
        lines += [
            f"## Regression: {COVERAGE:.0%} intervals (mean over folds)",
            "",
            "| data set | model | coverage | width | width / mapie | width / hgb "
            "| NLL | CRPS | fit s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        ratios = {"mapie": {}, "hgb": {}}
        for d in names:
            for m in ("ours", "mapie", "hgb"):
                if (d, m) not in table:
                    continue
                t = table[d, m]
                cells = []
                for ref in ("mapie", "hgb"):
                    if (d, ref) in table:
                        ratio = t["width"] / table[d, ref]["width"]
                        cells.append(f"{ratio:.3f}")
                        ratios[ref].setdefault(m, []).append(ratio)
                    else:
                        cells.append("")
                lines.append(
                    f"| {d} | {m} | {t['coverage']:.3f} | {t['width']:.4g} | {cells[0]} | "
                    f"{cells[1]} | {t['nll']:.3f} | {t['crps']:.4g} | {t['fit_time']:.1f} |"
                )
        lines += [
            "",
            "| model | sets | mean coverage | min coverage | mean width / mapie "
            "| mean width / hgb |",
            "|---|---|---|---|---|---|",
        ]
        for m in ("ours", "mapie", "hgb"):
            cover = [table[d, m]["coverage"] for d in names if (d, m) in table]
            if not cover:
                continue
            to_mapie = np.mean(ratios["mapie"].get(m, [np.nan]))
            to_hgb = np.mean(ratios["hgb"].get(m, [np.nan]))
            lines.append(
                f"| {m} | {len(cover)} | {np.mean(cover):.3f} | {np.min(cover):.3f} | "
                f"{to_mapie:.3f} | {to_hgb:.3f} |"
            )
        lines.append("")
    if clf:
        fields = ("ece", "log_loss", "brier", "temperature", "set_coverage", "set_size")
        if all("ece_floor" in r for r in clf):
            fields += ("ece_floor",)
        table = mean_by(clf, ("dataset", "model"), fields)
        names = sorted({d for d, _ in table}, key=list(DATASETS).index)
        lines += [
            "## Classification: before (raw) and after temperature scaling (mean over folds)",
            "",
            "| data set | T | ECE raw | ECE scaled | log-loss raw | log-loss scaled "
            "| Brier raw | Brier scaled | set coverage | set size |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for d in names:
            if (d, "raw") not in table:
                continue
            r, s = table[d, "raw"], table[d, "scaled"]
            lines.append(
                f"| {d} | {s['temperature']:.3f} | {r['ece']:.4f} | {s['ece']:.4f} | "
                f"{r['log_loss']:.4f} | {s['log_loss']:.4f} | {r['brier']:.4f} | "
                f"{s['brier']:.4f} | {s['set_coverage']:.3f} | {s['set_size']:.2f} |"
            )
        done = [d for d in names if (d, "raw") in table]
        lines += [
            "",
            "| probabilities | sets | mean ECE | mean log-loss | mean Brier "
            "| log-loss at most raw's | mean ECE if perfectly calibrated (same rows) |",
            "|---|---|---|---|---|---|---|",
        ]
        for kind in ("raw", "scaled"):
            not_worse = sum(
                table[d, kind]["log_loss"] <= table[d, "raw"]["log_loss"] + 1e-12 for d in done
            )
            lines.append(
                f"| {kind} | {len(done)} | "
                f"{np.mean([table[d, kind]['ece'] for d in done]):.4f} | "
                f"{np.mean([table[d, kind]['log_loss'] for d in done]):.4f} | "
                f"{np.mean([table[d, kind]['brier'] for d in done]):.4f} | "
                f"{not_worse} of {len(done)} | "
                + (
                    f"{np.mean([table[d, kind]['ece_floor'] for d in done]):.4f} |"
                    if "ece_floor" in fields
                    else " |"
                )
            )
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tasks", default="reg,clf")
    parser.add_argument("--datasets", default=None, help="comma-separated names")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.2, help="calibration_fraction")
    parser.add_argument("--params", default="{}", help="JSON overrides of the estimators")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--label", default="v1")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    tasks = args.tasks.split(",")
    if args.quick:
        names, args.folds = list(QUICK_DATASETS), 2
        args.label = args.label if args.label != "v1" else "quick"
    elif args.datasets:
        names = args.datasets.split(",")
    else:
        names = list(DATASETS)
    jobs = []
    for name in names:
        X, y, task = load_dataset(name)
        if task not in tasks:
            continue
        for fold, (train, test) in enumerate(cross_validation(task, args.folds).split(X, y)):
            if task == "reg":
                jobs.append(
                    delayed(regression_fold)(
                        name, fold, X, y, train, test, params, args.fraction, args.quick
                    )
                )
            else:
                jobs.append(
                    delayed(classification_fold)(name, fold, X, y, train, test, params, args.quick)
                )
    out = __import__("pathlib").Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    parallel = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")
    for done in parallel(jobs):
        rows.extend(done)
        (out / f"intervals_{args.label}.json").write_text(json.dumps(rows, indent=1))
        (out / f"intervals_{args.label}.md").write_text(markdown(rows, args))
        print(f"{done[0]['dataset']} fold {done[0]['fold']} done", flush=True)
    print(markdown(rows, args))
    return 0 if all(math.isfinite(r.get("fit_time", 0)) for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
