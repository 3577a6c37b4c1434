"""Benchmark the cost of diagnostics=True: fit time with diagnostics off vs on.

For each network, fit with ``diagnostics=False`` and ``diagnostics=True``
in turn (interleaved, so both see the same machine load), --repeats
times, and report the median fit time and the ratio on / off. The cost is
a gradient norm per Linear layer and batch (plus, after training, one
pass over at most 1,000 rows for the dead units), so it is largest for
deep networks trained on small batches:

1. 3 x 100 units, batch_size="auto" (200 rows), the default setting;
2. 10 x 100 units, batch_size=32, the worst case of the two.

Run: python benchmarks/bench_diagnostics.py [--rows 4000] [--repeats 5] [--threads 1]
"""

import argparse
import statistics
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import RESULTS, timed, write_report
from sklearn.datasets import make_classification

from sklearn_dnn import DeepClassifier

CASES = {
    "3x100_batch200": dict(hidden_layer_sizes=(100,) * 3, batch_size="auto"),
    "10x100_batch32": dict(hidden_layer_sizes=(100,) * 10, batch_size=32),
}


def fit_seconds(X, y, diagnostics, epochs, **params):
    model = DeepClassifier(
        max_epochs=epochs, tol=0, patience=epochs, diagnostics=diagnostics, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return timed(model.fit, X, y)[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, y = make_classification(
        n_samples=args.rows, n_features=40, n_informative=20, n_classes=5, random_state=0
    )
    X = X.astype(np.float32)
    results = {}
    for name, params in CASES.items():
        fit_seconds(X, y, False, 1, **params)  # warm-up
        times = {False: [], True: []}
        for _ in range(args.repeats):
            for diagnostics in (False, True):
                times[diagnostics].append(fit_seconds(X, y, diagnostics, args.epochs, **params))
        off, on = statistics.median(times[False]), statistics.median(times[True])
        results[name] = {"off_s": off, "on_s": on, "ratio": on / off}

    report = {
        "rows": args.rows,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "threads": args.threads,
        "torch": torch.__version__,
        "cases": results,
    }
    write_report(args.out / f"diagnostics_threads{args.threads}", report, indent=2)
    print(
        f"torch threads: {args.threads}, {args.rows} rows x 40 features, 5 classes, "
        f"{args.epochs} epochs, median of {args.repeats}"
    )
    print("| network | diagnostics off | diagnostics on | ratio on/off |")
    print("|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['off_s']:.3f} s | {r['on_s']:.3f} s | {r['ratio']:.3f} |")


if __name__ == "__main__":
    main()
