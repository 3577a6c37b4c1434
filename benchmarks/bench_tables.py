"""Raw DataFrames against the Pipeline path: score and fit time on the quality benchmark's sets.

For every data set of ``_datasets.py`` (the 22 of ``bench_quality.py``, rows
capped as there), the default DeepClassifier / DeepRegressor is fitted

- ``pipeline``: after the benchmark's ColumnTransformer (median imputation
  and standardization of numeric columns, most-frequent imputation and
  one-hot encoding of object, category and bool columns), as
  ``bench_quality.py`` does;
- ``raw``: on the DataFrame as it comes (``categorical_features="from_dtype"``,
  ``numeric_scaling="auto"``: the network's input stage imputes, flags
  missing values, standardizes, one-hot encodes or embeds).

Same folds (``--folds``, 3 by default), one thread per fit. A set is a win
(loss) for ``raw`` when the mean paired score difference over folds
exceeds (is below minus) its standard deviation, as in ``bench_quality.py``.
Results are written as they come to ``results/tables_v1.md`` (and
``.json``). Run from the repository root::

    nohup python benchmarks/bench_tables.py > /tmp/bench_tables.log 2>&1 &
    python benchmarks/bench_tables.py --quick   # two small sets, under a minute
"""

from _common import RESULTS, environment, one_thread, set_torch_threads, timed, write_report

one_thread()  # before numpy loads

import argparse  # noqa: E402
import math  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from _datasets import DATASETS, cross_validation, load_dataset, make_preprocessor  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_dnn import DeepClassifier, DeepRegressor  # noqa: E402

QUICK = ("wine", "Carseats")
PATHS = ("pipeline", "raw")


def fit_fold(path, X, y, task, train, test, seed=0):
    """Fit one path on one fold; return (score, fit seconds)."""
    model = (DeepClassifier if task == "clf" else DeepRegressor)(random_state=seed)
    if path == "pipeline":
        model = Pipeline([("prep", make_preprocessor(X)), ("model", model)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_time = timed(model.fit, X.iloc[train], y[train])[1]
        predicted = model.predict(X.iloc[test])
    score = accuracy_score if task == "clf" else r2_score
    return float(score(y[test], predicted)), fit_time


def verdict(raw, pipeline):
    diff = np.subtract(raw, pipeline)
    if diff.mean() > diff.std():
        return "win"
    if diff.mean() < -diff.std():
        return "loss"
    return "tie"


def describe_columns(X):
    from sklearn_dnn._inputs import describe

    inputs = describe(X, "from_dtype", "auto")[0]
    return {
        "numeric": len(inputs.numeric),
        "categorical": len(inputs.categorical),
        "embedded": len(inputs.embedded()),
        "with_missing": len(inputs.missing),
    }


def render(rows):
    lines = [
        "# Raw DataFrames against the Pipeline path",
        "",
        "Default DeepClassifier / DeepRegressor; `pipeline` = the quality benchmark's "
        "ColumnTransformer + the estimator, `raw` = the DataFrame as it comes. Score: "
        "accuracy (classification) or R² (regression), mean over the folds; time: "
        "mean fit seconds, one thread. Columns: numeric / categorical (embedded) / "
        "numeric with missing values, as `raw` sees them.",
        "",
        "| data set | task | rows | columns | pipeline | raw | verdict | time ratio raw/pipeline |",
        "|---|---|---:|---|---:|---:|---|---:|",
    ]
    for r in rows:
        c = r["columns"]
        lines.append(
            f"| {r['dataset']} | {r['task']} | {r['rows']} | {c['numeric']} / "
            f"{c['categorical']} ({c['embedded']}) / {c['with_missing']} | "
            f"{np.mean(r['pipeline']):.4f} | {np.mean(r['raw']):.4f} | {r['verdict']} | "
            f"{r['time_ratio']:.2f} |"
        )
    if rows:
        counts = {v: sum(r["verdict"] == v for r in rows) for v in ("win", "tie", "loss")}
        gmean = math.exp(np.mean([math.log(r["time_ratio"]) for r in rows]))
        lines += [
            "",
            f"Summary over {len(rows)} sets: raw wins {counts['win']}, ties {counts['tie']}, "
            f"loses {counts['loss']}; geometric-mean fit-time ratio raw/pipeline "
            f"{gmean:.2f}.",
        ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small sets, under a minute")
    parser.add_argument("--datasets", help="comma-separated names (default: all 22)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS / "tables_v1"))
    args = parser.parse_args()
    set_torch_threads(1)
    if args.quick:
        names, args.out = QUICK, args.out + "_quick"
    elif args.datasets:
        names = args.datasets.split(",")
    else:
        names = list(DATASETS)
    rows = []
    for name in names:
        X, y, task = load_dataset(name)
        scores = {path: [] for path in PATHS}
        times = {path: [] for path in PATHS}
        for train, test in cross_validation(task, args.folds).split(X, y):
            for path in PATHS:
                score, seconds = fit_fold(path, X, y, task, train, test)
                scores[path].append(score)
                times[path].append(seconds)
        row = {
            "dataset": name,
            "task": task,
            "rows": len(X),
            "columns": describe_columns(X),
            **scores,
            "fit_time": {path: float(np.mean(t)) for path, t in times.items()},
            "verdict": verdict(scores["raw"], scores["pipeline"]),
            "time_ratio": float(np.mean(times["raw"]) / np.mean(times["pipeline"])),
        }
        rows.append(row)
        print(
            f"{name:<13} pipeline {np.mean(scores['pipeline']):.4f} raw "
            f"{np.mean(scores['raw']):.4f} {row['verdict']:<4} time x{row['time_ratio']:.2f}",
            flush=True,
        )
        report = {"environment": environment(), "folds": args.folds, "rows": rows}
        write_report(args.out, report, render(rows))


if __name__ == "__main__":
    main()
