"""Deep ensembles (``ensemble_size``) against one network and Monte-Carlo dropout.

Three parts, each selectable with ``--parts``:

- ``speed``: what the vectorized ensemble costs. On ``load_digits`` (X/16,
  float32), a (100, 100) network trained with Adam for a fixed
  ``--epochs`` (no early stopping): the fit time of ``ensemble_size=8``
  against ``ensemble_size=1`` at batch sizes 32 and 200, and the time of
  ``predict_proba`` on all 1,797 rows. Then, on ``--rows`` rows of
  ``make_classification`` (50 features) and a (100, 100, 100) network with
  ``dropout=0.2`` (as ``bench_uncertainty.py``):
  ``predict_uncertainty(method="dropout", n_samples=100)`` against 100
  deterministic forward passes. Every timing is the median of
  ``--repeats`` runs, the contenders interleaved (E=1, E=8, E=1, ...),
  after one untimed warm-up run of each. Ratios are checked against the
  targets in ``TARGETS``.
- ``shift``: a data-set shift. Networks learn the digits 0-4 (a stratified
  70/30 split of those rows into train and seen-test) and are shown the
  digits 5-9, which they never saw. Contenders: ``single`` (one network,
  no dropout, the entropy of ``predict_proba``), ``dropout`` (one network,
  ``dropout=0.2``, ``method="dropout"``, 100 samples), ``ensemble``
  (``ensemble_size=5``, ``method="ensemble"``) and ``ensemble+dropout``
  (both, ``method="auto"``). Scores: the AUROC of the predictive entropy
  (and of the mutual information, where there are samples) for telling the
  unseen digits from the seen-test ones; log-loss, accuracy and the
  expected calibration error (15 equal-width bins of the top probability)
  on seen-test. Mean and standard deviation over ``--seeds`` seeds.
- ``quality``: the data sets of ``bench_quality.py`` (same loading, same
  preprocessing, ``--folds``-fold CV, seed 0, one process). Classifiers:
  log-loss and accuracy of ``single`` (defaults), ``ensemble``
  (``ensemble_size=5``) and ``dropout`` (``dropout=0.2``, the mean of
  ``predict_uncertainty`` with 100 samples). Regressors: R^2 of the same
  three and of ``ensemble+dropout``; for those with a spread, the Gaussian
  negative log-likelihood of y under N(mean, std^2) and the coverage and
  width of mean +- 1.645 std (nominal 90%), next to a reference interval:
  ``single``'s predictions +- one constant std, the root mean square of its
  residuals on the training fold. The NLL and the width are in units of
  the training fold's standard deviation of y, so that data sets compare;
  std is floored at ``STD_FLOOR`` of that standard deviation.

Every fit runs on one thread (``n_threads=1``, ``torch.set_num_threads(1)``,
``OMP/MKL/OPENBLAS_NUM_THREADS=1``), one at a time.

Results go to ``<out>/ensemble_<label>.{json,md}``.

Run::

    python benchmarks/bench_ensemble.py --quick              # CI smoke test, under a minute
    python benchmarks/bench_ensemble.py --parts speed        # on a quiet machine
    python benchmarks/bench_ensemble.py --parts shift --seeds 5
    python benchmarks/bench_ensemble.py --parts quality --datasets wine,OJ,Carseats
"""

from _common import RESULTS, Stopwatch, environment, median_times, one_thread, timed, write_report

one_thread()  # before numpy loads

import argparse  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _datasets import (  # noqa: E402
    DATASETS,
    SEED,
    cross_validation,
    load_dataset,
    make_preprocessor,
)
from sklearn.datasets import load_digits, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss, r2_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sklearn_dnn import DeepClassifier, DeepRegressor, predict_uncertainty  # noqa: E402

PARTS = ("speed", "shift", "quality")
# Largest acceptable ratio, ensemble (or sampling) time over its baseline.
TARGETS = {
    "fit_batch32": 3.0,
    "fit_batch200": 5.0,
    "predict_proba": 8.0,
    "dropout_sampling": 3.0,
}
SPEED_MEMBERS = 8
N_SAMPLES = 100  # Monte-Carlo dropout passes
STD_FLOOR = 1e-6  # of the training fold's std of y
Z90 = 1.645  # mean +- Z90 std: a central 90% Gaussian interval
ECE_BINS = 15
# The contenders of the shift and quality parts: hyperparameters, the
# predict_uncertainty method that gives their samples (None: one network,
# predict_proba / predict only) and the tasks they run on.
CONTENDERS = {
    "single": ({}, None, ("clf", "reg")),
    "dropout": ({"dropout": 0.2}, "dropout", ("clf", "reg")),
    "ensemble": ({"ensemble_size": 5}, "ensemble", ("clf", "reg")),
    "ensemble+dropout": ({"ensemble_size": 5, "dropout": 0.2}, "auto", ("reg",)),
}
# The regression reference interval: single's predictions +- a constant std.
RESIDUAL = "single+residual std"
SHIFT_CONTENDERS = ("single", "dropout", "ensemble", "ensemble+dropout")
QUICK_DATASETS = ("wine", "Carseats")


def entropy(proba):
    """Entropy of each row's class distribution, in nats."""
    return -np.sum(proba * np.log(np.clip(proba, 1e-300, None)), axis=1)


def expected_calibration_error(y, proba, classes, n_bins=ECE_BINS):
    """ECE of the top probability: equal-width bins, weighted by their share of rows."""
    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == y
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def interval_scores(y, mean, std, scale):
    """NLL of y under N(mean, std^2) and the 90% interval's coverage and width.

    ``scale`` (the training fold's std of y) is the unit of the NLL and of
    the width; std is floored at ``STD_FLOOR * scale``.
    """
    floor = STD_FLOOR * scale
    floored = int(np.sum(std < floor))
    std = np.maximum(std, floor)
    z = (y - mean) / std
    nll = 0.5 * np.log(2 * np.pi) + np.log(std / scale) + 0.5 * z**2
    return {
        "nll": float(nll.mean()),
        "coverage90": float(np.mean(np.abs(z) <= Z90)),
        "width90": float(np.mean(2 * Z90 * std) / scale),
        "floored_std": floored,
    }


def fmt(values, digits=3):
    """``mean ± std`` of a list of numbers."""
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


# --------------------------------------------------------------------- speed


def run_speed(args):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    epochs = 1 if args.quick else args.epochs
    repeats = 1 if args.quick else args.repeats
    base = {
        "hidden_layer_sizes": (100, 100),
        "optimizer": "adam",
        "max_epochs": epochs,
        "early_stopping": False,
        "n_threads": 1,
        "random_state": 0,
    }
    models = {}

    def fitter(members, batch_size):
        def fit():
            model = DeepClassifier(ensemble_size=members, batch_size=batch_size, **base)
            models[members, batch_size] = model.fit(X, y)

        return fit

    out = {"epochs": epochs, "repeats": repeats, "members": SPEED_MEMBERS, "seconds": {}}
    ratios = {}
    for batch_size in (32, 200):
        seconds = median_times(
            {m: fitter(m, batch_size) for m in (1, SPEED_MEMBERS)}, repeats=repeats
        )
        out["seconds"][f"fit_batch{batch_size}"] = {str(m): s for m, s in seconds.items()}
        ratios[f"fit_batch{batch_size}"] = seconds[SPEED_MEMBERS] / seconds[1]
        print(f"fit, batch {batch_size}: {seconds}", flush=True)

    calls = 2 if args.quick else 20

    def predictor(members):
        model = models[members, 200]

        def predict():
            for _ in range(calls):
                model.predict_proba(X)

        return predict

    seconds = median_times({m: predictor(m) for m in (1, SPEED_MEMBERS)}, repeats=repeats)
    out["seconds"]["predict_proba"] = {str(m): s / calls for m, s in seconds.items()}
    out["predict_calls_per_timing"] = calls
    ratios["predict_proba"] = seconds[SPEED_MEMBERS] / seconds[1]
    print(f"predict_proba x{calls}: {seconds}", flush=True)

    rows = 2000 if args.quick else args.rows
    X2, y2 = make_classification(n_samples=rows, n_features=50, random_state=0)
    X2 = X2.astype(np.float32)
    clf = DeepClassifier(
        hidden_layer_sizes=(100, 100, 100), dropout=0.2, max_epochs=1, n_threads=1, random_state=0
    ).fit(X2, y2)
    tensor = torch.from_numpy(X2)

    def sampling():
        clf.predict_uncertainty(X2, n_samples=N_SAMPLES, random_state=0, method="dropout")

    def deterministic_loop():
        with torch.inference_mode():
            for _ in range(N_SAMPLES):
                clf.module_(tensor)

    seconds = median_times({"sampling": sampling, "loop": deterministic_loop}, repeats=repeats)
    out["seconds"]["dropout_sampling"] = seconds
    out["dropout_rows"] = rows
    ratios["dropout_sampling"] = seconds["sampling"] / seconds["loop"]
    print(f"dropout sampling on {rows} rows: {seconds}", flush=True)
    out["ratios"] = ratios
    out["met"] = {k: bool(ratios[k] <= TARGETS[k]) for k in ratios}
    return out


def speed_markdown(res):
    s = res["seconds"]
    lines = [
        "## Speed",
        "",
        f"load_digits (1,797 rows), a (100, 100) network, Adam, {res['epochs']} epochs, "
        f"no early stopping, one thread; median of {res['repeats']} interleaved runs after "
        f"a warm-up. E = ensemble_size.",
        "",
        f"| measurement | E=1 | E={res['members']} | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    names = {
        "fit_batch32": "fit, batch 32 (s)",
        "fit_batch200": "fit, batch 200 (s)",
        "predict_proba": "predict_proba, 1,797 rows (ms)",
    }
    for key, title in names.items():
        scale = 1e3 if key == "predict_proba" else 1.0
        one, many = s[key]["1"] * scale, s[key][str(res["members"])] * scale
        lines.append(
            f"| {title} | {one:.3f} | {many:.3f} | {res['ratios'][key]:.2f} "
            f"| <= {TARGETS[key]:g} | {'yes' if res['met'][key] else 'no'} |"
        )
    d = s["dropout_sampling"]
    lines += [
        "",
        f"Monte-Carlo dropout, {res['dropout_rows']:,} rows x 50 features, a (100, 100, 100) "
        f"network with dropout=0.2, {N_SAMPLES} samples:",
        "",
        f"| predict_uncertainty(method='dropout') | {N_SAMPLES} deterministic passes "
        "| ratio | target | met |",
        "|---|---|---|---|---|",
        f"| {d['sampling']:.3f} s | {d['loop']:.3f} s | {res['ratios']['dropout_sampling']:.2f} "
        f"| <= {TARGETS['dropout_sampling']:g} "
        f"| {'yes' if res['met']['dropout_sampling'] else 'no'} |",
        "",
    ]
    return lines


# --------------------------------------------------------------------- shift


def shift_scores(model, method, X_seen, y_seen, X_unseen, seed, n_samples):
    """Scores of a fitted classifier on seen-test rows and unseen-class rows."""
    X_all = np.concatenate([X_seen, X_unseen])
    if method is None:
        proba, mutual_info = model.predict_proba(X_all), None
    else:
        result = model.predict_uncertainty(
            X_all, n_samples=n_samples, random_state=seed, method=method
        )
        proba, mutual_info = result.mean, result.mutual_info
    seen = np.arange(len(X_all)) < len(X_seen)
    unseen = (~seen).astype(int)
    scores = {
        "auroc_entropy": roc_auc_score(unseen, entropy(proba)),
        "log_loss": log_loss(y_seen, proba[seen], labels=model.classes_),
        "accuracy": accuracy_score(y_seen, model.classes_[proba[seen].argmax(axis=1)]),
        "ece": expected_calibration_error(y_seen, proba[seen], model.classes_),
        "entropy_seen": float(entropy(proba[seen]).mean()),
        "entropy_unseen": float(entropy(proba[~seen]).mean()),
    }
    if mutual_info is not None:
        scores["auroc_mutual_info"] = roc_auc_score(unseen, mutual_info)
    return {k: float(v) for k, v in scores.items()}


def run_shift(args):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    known = y < 5
    seeds = range(1 if args.quick else args.seeds)
    n_samples = 20 if args.quick else N_SAMPLES
    extra = {"max_epochs": 20} if args.quick else {}
    records = []
    for seed in seeds:
        X_train, X_seen, y_train, y_seen = train_test_split(
            X[known], y[known], test_size=0.3, stratify=y[known], random_state=seed
        )
        for name in SHIFT_CONTENDERS:
            params, method, _ = CONTENDERS[name]
            model = DeepClassifier(**params, **extra, n_threads=1, random_state=seed)
            fit_time = timed(model.fit, X_train, y_train)[1]
            scores = shift_scores(model, method, X_seen, y_seen, X[~known], seed, n_samples)
            records.append({"seed": seed, "model": name, "fit_time": fit_time, **scores})
            print(
                f"shift seed {seed} {name:<17} AUROC {scores['auroc_entropy']:.3f} "
                f"log-loss {scores['log_loss']:.3f} ECE {scores['ece']:.3f} fit {fit_time:.1f}s",
                flush=True,
            )
    return {
        "train_rows": len(X_train),
        "seen_test_rows": len(X_seen),
        "unseen_rows": int((~known).sum()),
        "n_samples": n_samples,
        "seeds": len(seeds),
        "params": {n: CONTENDERS[n][0] | extra for n in SHIFT_CONTENDERS},
        "methods": {n: CONTENDERS[n][1] for n in SHIFT_CONTENDERS},
        "records": records,
    }


def shift_markdown(res):
    metrics = [
        ("auroc_entropy", "AUROC, entropy", max),
        ("auroc_mutual_info", "AUROC, mutual info", max),
        ("log_loss", "log-loss", min),
        ("accuracy", "accuracy", max),
        ("ece", "ECE", min),
        ("entropy_seen", "entropy, seen", None),
        ("entropy_unseen", "entropy, unseen", None),
        ("fit_time", "fit s", None),
    ]
    by_model = {}
    for r in res["records"]:
        by_model.setdefault(r["model"], []).append(r)
    lines = [
        "## Shift: digits 0-4 seen, 5-9 unseen",
        "",
        f"{res['train_rows']} training rows of the digits 0-4, {res['seen_test_rows']} seen-test "
        f"rows, {res['unseen_rows']} rows of the unseen digits 5-9; X/16; mean ± std over "
        f"{res['seeds']} seed(s) (split and model). AUROC: unseen (positive) against seen-test "
        f"rows, scored by the predictive entropy or the mutual information. Dropout methods "
        f"draw {res['n_samples']} passes (of every member). Fit times are from a loaded machine.",
        "",
        "| contender | params | method | " + " | ".join(t for _, t, _ in metrics) + " |",
        "|---|---|---|" + "---|" * len(metrics),
    ]
    means = {}
    for name, rows in by_model.items():
        method = res["methods"][name] or "none: predict_proba"
        cells = [name, f"`{json.dumps(res['params'][name])}`", method]
        for key, _, _ in metrics:
            values = [r[key] for r in rows if key in r]
            cells.append(fmt(values) if values else "")
            if values:
                means.setdefault(key, {})[name] = float(np.mean(values))
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Best mean, and the contenders tied with it (seed-paired differences whose mean is "
        "within their standard deviation):",
        "",
    ]
    for key, title, best in metrics:
        if best is None or key not in means:
            continue
        winner = best(means[key], key=means[key].get)
        per_seed = {
            name: [r[key] for r in sorted(rows, key=lambda r: r["seed"])]
            for name, rows in by_model.items()
            if key in rows[0]
        }
        tied = [
            name
            for name in per_seed
            if name != winner
            and abs(np.mean(np.subtract(per_seed[name], per_seed[winner])))
            <= np.std(np.subtract(per_seed[name], per_seed[winner]))
        ]
        lines.append(
            f"- {title}: **{winner}** ({means[key][winner]:.3f})"
            + (f"; tied: {', '.join(tied)}" if tied else "")
        )
    lines.append("")
    return lines


# ------------------------------------------------------------------- quality


def quality_fold(name, model_name, params, method, fold, X, y, task, train, test, n_samples):
    """Fit one contender on one fold; return its scores."""
    estimator = (DeepClassifier if task == "clf" else DeepRegressor)(
        **params, n_threads=1, random_state=SEED
    )
    pipe = Pipeline([("prep", make_preprocessor(X)), ("model", estimator)])
    with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_time = timed(pipe.fit, X.iloc[train], y[train])[1]
        X_test, y_test = X.iloc[test], y[test]
        result = None
        if method is not None:
            result = predict_uncertainty(
                pipe, X_test, n_samples=n_samples, random_state=SEED, method=method
            )
    record = {"dataset": name, "model": model_name, "fold": fold, "fit_time": fit_time}
    record["convergence_warnings"] = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    if task == "clf":
        proba = pipe.predict_proba(X_test) if result is None else result.mean
        labels = pipe.classes_
        record["accuracy"] = accuracy_score(y_test, labels[proba.argmax(axis=1)])
        record["log_loss"] = log_loss(y_test, proba, labels=labels)
    else:
        mean = pipe.predict(X_test) if result is None else result.mean
        record["r2"] = r2_score(y_test, mean)
        scale = np.std(y[train])
        if result is not None:
            record.update(interval_scores(y_test, mean, result.std, scale))
        else:  # the reference: one constant std, the training fold's residuals'
            residual = np.sqrt(np.mean((y[train] - pipe.predict(X.iloc[train])) ** 2))
            scores = interval_scores(y_test, mean, np.full_like(mean, residual), scale)
            record.update({f"residual_{k}": v for k, v in scores.items()})
    return {k: float(v) if isinstance(v, np.floating) else v for k, v in record.items()}


def run_quality(args, names):
    folds = 2 if args.quick else args.folds
    n_samples = 20 if args.quick else N_SAMPLES
    extra = {"max_epochs": 30} if args.quick else {}
    records, rows, task_of = [], {}, {}
    watch = Stopwatch()
    for name in names:
        X, y, task = load_dataset(name)
        rows[name], task_of[name] = len(y), task
        for fold, (train, test) in enumerate(cross_validation(task, folds).split(X, y)):
            for model_name, (params, method, tasks) in CONTENDERS.items():
                if task not in tasks:
                    continue
                r = quality_fold(
                    name,
                    model_name,
                    params | extra,
                    method,
                    fold,
                    X,
                    y,
                    task,
                    train,
                    test,
                    n_samples,
                )
                records.append(r)
                score = r["log_loss"] if task == "clf" else r["r2"]
                print(
                    f"[{watch():7.1f}s] {name:<13} {model_name:<17} "
                    f"fold {fold} {'log-loss' if task == 'clf' else 'R^2'} {score:.3f} "
                    f"fit {r['fit_time']:.2f}s",
                    flush=True,
                )
    params = {m: CONTENDERS[m][0] | extra for m in CONTENDERS}
    return {
        "folds": folds,
        "n_samples": n_samples,
        "std_floor": STD_FLOOR,
        "params": params,
        "methods": {m: CONTENDERS[m][1] for m in CONTENDERS},
        "rows": rows,
        "task_of": task_of,
        "records": records,
    }


def aggregate(records):
    """{data set: {model: {metric: [fold values]}}}."""
    table = {}
    for r in sorted(records, key=lambda r: r["fold"]):
        cell = table.setdefault(r["dataset"], {}).setdefault(r["model"], {})
        for key, value in r.items():
            if key not in ("dataset", "model", "fold"):
                cell.setdefault(key, []).append(value)
    return table


def paired(a, b, lower_is_better):
    """Fold-paired comparison of a with b: 'win', 'tie' or 'loss' (bench_quality's rule)."""
    diff = np.subtract(a, b) * (-1 if lower_is_better else 1)
    if diff.mean() > diff.std():
        return "win"
    if diff.mean() < -diff.std():
        return "loss"
    return "tie"


def _score_table_head(title, score, models):
    """The heading and header rows of a per-data-set score table."""
    return [
        f"### {title}",
        "",
        f"| data set | rows | {' | '.join(models)} | best {score} | "
        + " | ".join(f"{m} fit s" for m in models)
        + " |",
        "|---|---|" + "---|" * (2 * len(models) + 1),
    ]


def quality_markdown(res):
    table = aggregate(res["records"])
    task_of = res["task_of"]
    lines = [
        "## Quality on bench_quality's data sets",
        "",
        f"{res['folds']}-fold CV, bench_quality's preprocessing, seed 0; Monte-Carlo dropout "
        f"with {res['n_samples']} passes (of every member). Contenders:",
        "",
    ]
    for m, p in res["params"].items():
        method = res["methods"][m] or "none (predict / predict_proba)"
        lines.append(f"- `{m}`: `{json.dumps(p)}`, predict_uncertainty method: {method}")
    lines.append("")
    clf = [n for n in table if task_of[n] == "clf"]
    reg = [n for n in table if task_of[n] == "reg"]
    if clf:
        models = [m for m in CONTENDERS if any(m in table[n] for n in clf)]
        lines += _score_table_head("Classification: log-loss (accuracy)", "log-loss", models)
        for n in clf:
            ll = {m: np.mean(table[n][m]["log_loss"]) for m in models}
            cells = [n, str(res["rows"][n])]
            cells += [
                f"{ll[m]:.4f} ± {np.std(table[n][m]['log_loss']):.4f} "
                f"({np.mean(table[n][m]['accuracy']):.3f})"
                for m in models
            ]
            cells.append(min(ll, key=ll.get))
            cells += [f"{np.mean(table[n][m]['fit_time']):.2f}" for m in models]
            lines.append("| " + " | ".join(cells) + " |")
        mean_ll = [
            f"{np.mean([np.mean(table[n][m]['log_loss']) for n in clf]):.4f}" for m in models
        ]
        lines.append("| mean | | " + " | ".join(mean_ll) + " | |" + " |" * len(models))
        lines.append("")
        for m in models:
            if m == "single":
                continue
            le = sum(
                np.mean(table[n][m]["log_loss"]) <= np.mean(table[n]["single"]["log_loss"])
                for n in clf
            )
            outcome = [
                paired(table[n][m]["log_loss"], table[n]["single"]["log_loss"], True) for n in clf
            ]
            lines.append(
                f"- `{m}` log-loss <= `single`'s on **{le} of {len(clf)}** data sets; fold-paired "
                f"wins/ties/losses {outcome.count('win')}/{outcome.count('tie')}/"
                f"{outcome.count('loss')}."
            )
        lines.append("")
    if reg:
        models = [m for m in CONTENDERS if any(m in table[n] for n in reg)]
        spread = [m for m in models if res["methods"][m] is not None]
        if "single" in models:
            spread.insert(0, RESIDUAL)

        def cell(n, m, key):
            if m == RESIDUAL:
                return table[n]["single"][f"residual_{key}"]
            return table[n][m][key]

        lines += _score_table_head("Regression: R^2", "R^2", models)
        for n in reg:
            r2 = {m: np.mean(table[n][m]["r2"]) for m in models}
            cells = [n, str(res["rows"][n])]
            cells += [f"{r2[m]:.4f} ± {np.std(table[n][m]['r2']):.4f}" for m in models]
            cells.append(max(r2, key=r2.get))
            cells += [f"{np.mean(table[n][m]['fit_time']):.2f}" for m in models]
            lines.append("| " + " | ".join(cells) + " |")
        mean_r2 = [f"{np.mean([np.mean(table[n][m]['r2']) for n in reg]):.4f}" for m in models]
        lines.append("| mean | | " + " | ".join(mean_r2) + " | |" + " |" * len(models))
        lines.append("")
        for m in models:
            if m == "single":
                continue
            ge = sum(np.mean(table[n][m]["r2"]) >= np.mean(table[n]["single"]["r2"]) for n in reg)
            outcome = [paired(table[n][m]["r2"], table[n]["single"]["r2"], False) for n in reg]
            lines.append(
                f"- `{m}` R^2 >= `single`'s on **{ge} of {len(reg)}** data sets; fold-paired "
                f"wins/ties/losses {outcome.count('win')}/{outcome.count('tie')}/"
                f"{outcome.count('loss')}."
            )
        lines += [
            "",
            "### Regression: the predicted spread",
            "",
            "Gaussian NLL of y under N(mean, std^2) (lower is better) / coverage of mean ± "
            f"{Z90} std (nominal 0.90) / mean width of that interval; NLL and width in units "
            "of the training fold's std of y. "
            f"std floored at {STD_FLOOR:g} of that std. `{RESIDUAL}`, a reference: `single`'s "
            "predictions with one constant std, the root mean square of its residuals on the "
            "training fold.",
            "",
            "| data set | " + " | ".join(spread) + " | best NLL | closest to 90% |",
            "|---|" + "---|" * (len(spread) + 2),
        ]
        floored = 0
        for n in reg:
            nll = {m: np.mean(cell(n, m, "nll")) for m in spread}
            cov = {m: np.mean(cell(n, m, "coverage90")) for m in spread}
            cells = [n]
            cells += [
                f"{nll[m]:.3f} / {cov[m]:.3f} / {np.mean(cell(n, m, 'width90')):.3f}"
                for m in spread
            ]
            cells.append(min(nll, key=nll.get))
            cells.append(min(cov, key=lambda m: abs(cov[m] - 0.9)))
            lines.append("| " + " | ".join(cells) + " |")
            floored += sum(sum(cell(n, m, "floored_std")) for m in spread)
        mean_cells = [
            f"{np.mean([np.mean(cell(n, m, 'nll')) for n in reg]):.3f} / "
            f"{np.mean([np.mean(cell(n, m, 'coverage90')) for n in reg]):.3f} / "
            f"{np.mean([np.mean(cell(n, m, 'width90')) for n in reg]):.3f}"
            for m in spread
        ]
        lines.append("| mean | " + " | ".join(mean_cells) + " | | |")
        lines += ["", f"Rows whose std was floored: {floored}.", ""]
        for m in spread:
            wins = sum(min(spread, key=lambda k: np.mean(cell(n, k, "nll"))) == m for n in reg)
            lines.append(f"- `{m}` has the lowest NLL on **{wins} of {len(reg)}** data sets.")
        lines.append("")
    for task, names in (("classification", clf), ("regression", reg)):
        ratios = {
            m: [
                np.mean(table[n][m]["fit_time"]) / np.mean(table[n]["single"]["fit_time"])
                for n in names
            ]
            for m in CONTENDERS
            if m != "single"
            and names
            and all(m in table[n] and "single" in table[n] for n in names)
        }
        if ratios:
            lines.append(
                f"Fit time over `single`'s, {task} (geometric mean over data sets): "
                + ", ".join(f"{m} {np.exp(np.mean(np.log(r))):.2f}" for m, r in ratios.items())
                + "."
            )
            lines.append("")
    warn = {}
    for r in res["records"]:
        warn[r["model"]] = warn.get(r["model"], 0) + r["convergence_warnings"]
    lines += ["ConvergenceWarnings: " + ", ".join(f"{m} {k}" for m, k in warn.items()), ""]
    return lines


# ---------------------------------------------------------------------- main


def markdown(report):
    lines = [
        f"# Ensemble benchmark: {report['label']}",
        "",
        f"Parts: {', '.join(report['parts'])}. Python {report['python']}, torch "
        f"{report['torch']}, {report['platform']}; one thread per fit.",
        "",
    ]
    if "speed" in report:
        lines += speed_markdown(report["speed"])
    if "shift" in report:
        lines += shift_markdown(report["shift"])
    if "quality" in report:
        lines += quality_markdown(report["quality"])
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke test, under a minute")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {PARTS}")
    parser.add_argument("--datasets", default=None, help="quality: comma-separated names")
    parser.add_argument("--folds", type=int, default=5, help="quality: CV folds")
    parser.add_argument("--seeds", type=int, default=5, help="shift: number of seeds")
    parser.add_argument("--epochs", type=int, default=10, help="speed: epochs per fit")
    parser.add_argument("--repeats", type=int, default=5, help="speed: timed runs of each")
    parser.add_argument("--rows", type=int, default=20_000, help="speed: rows for MC dropout")
    parser.add_argument("--label", default=None)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    parts = args.parts.split(",")
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}; expected some of {PARTS}")
    names = args.datasets.split(",") if args.datasets else list(DATASETS)
    if args.quick and not args.datasets:
        names = list(QUICK_DATASETS)
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown data sets {unknown}; expected some of {list(DATASETS)}")
    label = args.label or ("quick" if args.quick else "default")
    torch.set_num_threads(1)

    report = {
        "label": label,
        "parts": parts,
        "quick": args.quick,
        **environment(),
        "torch": torch.__version__,
    }
    watch = Stopwatch()
    with warnings.catch_warnings():
        # Short fits stop before convergence; quality counts the warnings itself.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if "speed" in parts:
            report["speed"] = run_speed(args)
        if "shift" in parts:
            report["shift"] = run_shift(args)
        if "quality" in parts:
            report["quality"] = run_quality(args, names)
    report["wall_time"] = watch()
    out = Path(args.out)
    text = markdown(report)
    write_report(out / f"ensemble_{label}", report, text)
    print(text)
    print(f"wall time {report['wall_time']:.0f}s; wrote {out / f'ensemble_{label}'}.{{json,md}}")


if __name__ == "__main__":
    main()
