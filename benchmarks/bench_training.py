"""Training and prediction speed: sklearn-dnn against a hand-written loop and scikit-learn.

Three contenders train the same network (``--hidden`` ReLU layers, Adam,
learning rate 1e-3, cross-entropy or squared error) for ``--epochs`` epochs
on the same synthetic data, at each batch size:

- ``torch_loop``: a minimal hand-written PyTorch loop that shuffles the
  tensors once per epoch and slices them into batches;
- ``sklearn_dnn``: ``DeepClassifier`` / ``DeepRegressor``;
- ``sklearn_mlp``: scikit-learn's ``MLPClassifier`` / ``MLPRegressor``.

Every run happens in a fresh child process (so peak memory is its own)
after a warm-up fit on 256 rows (so lazy imports are not counted),
the contenders are interleaved and each is repeated ``--repeats`` times;
the tables report medians: seconds per epoch, prediction time on all rows,
the peak resident memory added by ``fit`` (sampled every millisecond from
/proc) and the ratios to the torch loop.
Results go to ``benchmarks/results/training_<task>_threads<T>.{json,md}``.

Run: python benchmarks/bench_training.py [--rows 100000] [--threads 1]
"""

import argparse
import json
import statistics
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from _common import RESULTS, PeakMemory, machine, set_torch_threads, timed, write_report

CONTENDERS = ("torch_loop", "sklearn_dnn", "sklearn_mlp")


def make_data(task, rows, features):
    from sklearn.datasets import make_classification, make_regression

    if task == "classification":
        X, y = make_classification(
            n_samples=rows, n_features=features, n_informative=10, random_state=0
        )
    else:
        X, y = make_regression(n_samples=rows, n_features=features, noise=1.0, random_state=0)
        y = (y - y.mean()) / y.std()
    return X.astype(np.float32), y


def torch_loop(task, X, y, hidden, batch_size, epochs):
    import torch
    from torch import nn

    torch.manual_seed(0)
    n_out = int(y.max()) + 1 if task == "classification" else 1
    layers, width = [], X.shape[1]
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    model = nn.Sequential(*layers, nn.Linear(width, n_out))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()
    X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))  # float32, whatever X's
    y_t = torch.from_numpy(y).long() if task == "classification" else torch.from_numpy(y)
    y_t = y_t if task == "classification" else y_t.float().reshape(-1, 1)

    def fit():
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(X_t))
            X_s, y_s = X_t[order], y_t[order]
            for start in range(0, len(X_t), batch_size):
                optimizer.zero_grad()
                loss = loss_fn(
                    model(X_s[start : start + batch_size]), y_s[start : start + batch_size]
                )
                loss.backward()
                optimizer.step()

    def predict():
        model.eval()
        with torch.inference_mode():
            return model(X_t).numpy()

    return fit, predict


def sklearn_dnn(task, X, y, hidden, batch_size, epochs):
    from sklearn_dnn import DeepClassifier, DeepRegressor

    Estimator = DeepClassifier if task == "classification" else DeepRegressor
    model = Estimator(
        hidden_layer_sizes=hidden,
        activation="relu",
        l2=0.0,
        batch_size=batch_size,
        max_epochs=epochs,
        tol=0.0,
        patience=epochs + 1,
        random_state=0,
    )
    return (lambda: model.fit(X, y)), (lambda: model.predict(X))


def sklearn_mlp(task, X, y, hidden, batch_size, epochs):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    Estimator = MLPClassifier if task == "classification" else MLPRegressor
    model = Estimator(
        hidden_layer_sizes=hidden,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    return (lambda: model.fit(X, y)), (lambda: model.predict(X))


def run_one(args):
    """Child process: one contender, one batch size; prints a JSON line."""
    set_torch_threads(args.threads)
    X, y = make_data(args.task, args.rows, args.features)
    batch_size = args.batch_size if args.batch_size != "auto" else "auto"
    if batch_size == "auto" and args.contender == "torch_loop":
        batch_size = min(200, len(X))
    build = {"torch_loop": torch_loop, "sklearn_dnn": sklearn_dnn, "sklearn_mlp": sklearn_mlp}
    # Warm-up on a few rows: one-time costs (lazy imports, first calls) are
    # paid here, not counted as training time or training memory.
    warm_fit, warm_predict = build[args.contender](
        args.task, X[:256], y[:256], tuple(args.hidden), 32, 1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm_fit()
        warm_predict()
    fit, predict = build[args.contender](
        args.task, X, y, tuple(args.hidden), batch_size, args.epochs
    )
    with warnings.catch_warnings(), PeakMemory() as memory:
        warnings.simplefilter("ignore")
        fit_seconds = timed(fit)[1]
    predict()  # warm-up
    predict_times = [timed(predict)[1] for _ in range(3)]
    print(
        json.dumps(
            {
                "epoch_seconds": fit_seconds / args.epochs,
                "predict_seconds": min(predict_times),
                "fit_peak_mib": memory.added / 2**20,
            }
        )
    )


def child(args, contender, batch_size):
    command = [
        sys.executable, __file__, "--child", "--contender", contender,
        "--batch-size", str(batch_size), "--task", args.task, "--rows", str(args.rows),
        "--features", str(args.features), "--epochs", str(args.epochs),
        "--threads", str(args.threads), "--hidden", *map(str, args.hidden),
    ]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def markdown(report):
    lines = [
        f"{report['task']}, {report['rows']:,} rows x {report['features']} features, "
        f"hidden {tuple(report['hidden'])}, {report['epochs']} epochs, torch threads "
        f"{report['threads']}, median of {report['repeats']} ({report['machine']})",
        "",
        "| batch | contender | s/epoch | x loop | predict s | x loop | fit peak MiB | x loop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for batch, rows in report["results"].items():
        loop = rows["torch_loop"]
        for name in CONTENDERS:
            r = rows[name]
            lines.append(
                f"| {batch} | {name} | {r['epoch_seconds']:.3f} | "
                f"{r['epoch_seconds'] / loop['epoch_seconds']:.2f} | "
                f"{r['predict_seconds']:.4f} | "
                f"{r['predict_seconds'] / loop['predict_seconds']:.2f} | "
                f"{r['fit_peak_mib']:.0f} | "
                f"{r['fit_peak_mib'] / max(loop['fit_peak_mib'], 1):.2f} |"
            )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--task", choices=["classification", "regression"], default="classification"
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--hidden", type=int, nargs="+", default=[100, 100, 100])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-sizes", nargs="+", default=["32", "128", "auto"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--contender", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.batch_size = int(args.batch_size) if args.batch_size != "auto" else "auto"
        return run_one(args)

    samples = {b: {c: [] for c in CONTENDERS} for b in args.batch_sizes}
    for repeat in range(args.repeats):
        for batch in args.batch_sizes:
            for contender in CONTENDERS:
                samples[batch][contender].append(child(args, contender, batch))
        print(f"repeat {repeat + 1}/{args.repeats} done", file=sys.stderr)
    results = {
        batch: {
            c: {k: statistics.median(s[k] for s in runs) for k in runs[0]}
            for c, runs in by_contender.items()
        }
        for batch, by_contender in samples.items()
    }
    report = {
        "task": args.task,
        "rows": args.rows,
        "features": args.features,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "threads": args.threads,
        "repeats": args.repeats,
        "machine": machine(),
        "results": results,
    }
    table = markdown(report)
    write_report(args.out / f"training_{args.task}_threads{args.threads}", report, table, indent=2)
    print(table)


if __name__ == "__main__":
    main()
