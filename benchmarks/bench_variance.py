"""A regressor that models the noise: held-out likelihood and R^2 against the squared error.

On the ten regression sets of ``_datasets.py`` (the same loading and
preprocessing as ``bench_quality.py``; 3-fold ``KFold``, shuffled, seed
0), every fold fits three ``DeepRegressor``\\ s with the default
hyperparameters and ``random_state=0``, one thread each:

- ``squared_error`` (the default);
- ``gaussian_nll``: a mean-and-variance head, Gaussian NLL;
- ``beta_nll``: the same head, beta-NLL with ``nll_beta=0.5``.

Scored on the held-out fold: R^2 of the mean (``predict``) and the mean
Gaussian negative log-likelihood per row of the held-out targets, in
units of the standardized target (the NLL on the target's scale minus
``log`` of the training fold's standard deviation of ``y``, so that the
sets are comparable; lower is better). The constant-variance baseline,
``constant``, is the ``squared_error`` model's mean with one variance for
every row: its mean squared residual on the training fold. (A training
residual is smaller than a held-out one, so ``constant-cv``, the same
model with the variance of its held-out residuals, is reported too: the
best constant any model could claim, an oracle no fit can reach.)

Results go to ``<out>/variance_<label>.{json,md}``, rewritten after each
data set so that a long run can be read as it goes.

Run::

    python benchmarks/bench_variance.py                 # all, about 15 minutes on one core
    python benchmarks/bench_variance.py --quick         # one set, 2 folds, 20 epochs: < 1 min
"""

from _common import RESULTS, environment, one_thread, set_torch_threads, timed, write_report

one_thread()  # before numpy loads; inherited by the workers

import argparse  # noqa: E402
import math  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _datasets import DATASETS, SEED, cross_validation, load_dataset, make_preprocessor  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402

LOSSES = ("squared_error", "gaussian_nll", "beta_nll")
REGRESSION_SETS = tuple(name for name, spec in DATASETS.items() if spec[3] == "reg")
QUICK_SETS = ("Carseats",)


def gaussian_nll(y, mean, std):
    """The mean negative log-likelihood of ``y`` under N(mean, std**2), per row."""
    return float(np.mean(0.5 * np.log(2 * math.pi * std**2) + 0.5 * ((y - mean) / std) ** 2))


def fit_fold(name, fold, X, y, train, test, params):
    """Fit the three losses on one fold; their held-out scores and the baselines'."""
    from sklearn_dnn import DeepRegressor

    set_torch_threads(1)
    prep = make_preprocessor(X).fit(X.iloc[train])
    X_train, X_test = prep.transform(X.iloc[train]), prep.transform(X.iloc[test])
    y_train, y_test = y[train], y[test]
    unit = math.log(y_train.std())  # NLL in units of the standardized target
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for loss in LOSSES:
            model = DeepRegressor(loss=loss, random_state=SEED, **params)
            fit_time = timed(model.fit, X_train, y_train)[1]
            mean, std = model._mean_and_std(X_test)
            row = {"dataset": name, "fold": fold, "model": loss, "fit_time": fit_time}
            row["r2"] = r2_score(y_test, mean)
            row["n_iter"] = model.n_iter_
            if std is None:  # the constant-variance baselines
                train_residual = y_train - model.predict(X_train)
                for baseline, variance in (
                    ("constant", np.mean(train_residual**2)),
                    ("constant-cv", np.mean((y_test - mean) ** 2)),
                ):
                    spread = np.full(len(y_test), math.sqrt(variance))
                    rows.append(
                        {**row, "model": baseline, "nll": gaussian_nll(y_test, mean, spread) - unit}
                    )
            else:
                row["nll"] = gaussian_nll(y_test, mean, std) - unit
                rows.append(row)
    return rows


def summarize(rows):
    """Per data set and model: the means over folds."""
    table = {}
    for row in rows:
        entry = table.setdefault(row["dataset"], {}).setdefault(row["model"], [])
        entry.append(row)
    return {
        name: {
            model: {
                key: float(np.mean([r[key] for r in folds]))
                for key in ("r2", "nll", "fit_time", "n_iter")
            }
            for model, folds in models.items()
        }
        for name, models in table.items()
    }


def markdown(report):
    means = report["means"]
    models = ("constant", "constant-cv", "gaussian_nll", "beta_nll")
    lines = [
        f"# A variance head: held-out NLL and R^2 ({report['label']})",
        "",
        f"{report['n_folds']}-fold CV, default hyperparameters {report['params']}, "
        "random_state=0, one thread per fit. NLL: mean per held-out row, in units of the "
        "standardized target (lower is better). `constant`: the squared-error model with "
        "its training residual variance; `constant-cv`: with its held-out residual "
        "variance (an oracle).",
        "",
        "| data set | NLL " + " | NLL ".join(models) + " | R^2 squared_error | R^2 gaussian_nll "
        "| R^2 beta_nll |",
        "|---" * (len(models) + 4) + "|",
    ]
    for name, entry in means.items():
        nll = " | ".join(f"{entry[m]['nll']:.3f}" for m in models)
        r2 = " | ".join(f"{entry[m]['r2']:.3f}" for m in ("constant", "gaussian_nll", "beta_nll"))
        lines.append(f"| {name} | {nll} | {r2} |")
    s = report["summary"]
    lines += [
        "",
        "## Summary",
        "",
        f"Data sets: {s['n_sets']}.",
        "",
        "| model | NLL better than constant | NLL better than constant-cv | mean NLL "
        "| mean R^2 | mean fit time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for model in ("squared_error", "gaussian_nll", "beta_nll"):
        m = s[model]
        lines.append(
            f"| {model} | {m.get('beats_constant', '-')} | {m.get('beats_constant_cv', '-')} "
            f"| {m['mean_nll']:.3f} | {m['mean_r2']:.3f} | {m['mean_fit_time']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def summary(means):
    out = {"n_sets": len(means)}
    for model in ("squared_error", "gaussian_nll", "beta_nll"):
        key = "constant" if model == "squared_error" else model
        entry = {
            "mean_nll": float(np.mean([m[key]["nll"] for m in means.values()])),
            "mean_r2": float(np.mean([m[key]["r2"] for m in means.values()])),
            "mean_fit_time": float(np.mean([m[key]["fit_time"] for m in means.values()])),
        }
        if model != "squared_error":
            for baseline in ("constant", "constant-cv"):
                wins = sum(m[model]["nll"] < m[baseline]["nll"] for m in means.values())
                entry[f"beats_{baseline.replace('-', '_')}"] = f"{wins}/{len(means)}"
        out[model] = entry
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one set, 2 folds, 20 epochs")
    parser.add_argument("--datasets", help="comma-separated names (default: the ten)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1, help="folds fitted in parallel")
    parser.add_argument("--label", default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = args.datasets.split(",") if args.datasets else REGRESSION_SETS
    params, n_folds = {}, args.folds
    if args.quick:
        names, params, n_folds = args.datasets.split(",") if args.datasets else QUICK_SETS, {}, 2
        params = {"max_epochs": 20}
    label = args.label or ("quick" if args.quick else "v1")
    rows = []
    for name in names:
        X, y, _ = load_dataset(name)
        folds = cross_validation("reg", n_folds).split(X, y)
        for part in Parallel(n_jobs=args.n_jobs)(
            delayed(fit_fold)(name, fold, X, y, train, test, params)
            for fold, (train, test) in enumerate(folds)
        ):
            rows.extend(part)
        means = summarize(rows)
        report = {
            "label": label,
            "n_folds": n_folds,
            "params": params,
            "environment": environment(),
            "rows": rows,
            "means": means,
            "summary": summary(means),
        }
        write_report(args.out / f"variance_{label}", report, markdown(report))
        print(f"{name}: {means[name]}", flush=True)


if __name__ == "__main__":
    main()
