"""Benchmark predict_uncertainty (Monte-Carlo dropout) against its baselines.

Two measurements, each the median of --repeats runs, interleaved:

1. few rows: ``predict_uncertainty(X_small, n_samples=100)`` against 100
   separate ``predict`` calls on the same rows (the cost a per-sample
   Python loop would pay at the least);
2. many rows: ``predict_uncertainty(X, n_samples=100)`` on 20,000 rows
   against a plain loop of 100 torch forward passes with dropout on.

Run: python benchmarks/bench_uncertainty.py [--rows 20000] [--threads 1]
"""

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import make_classification

from sklearn_dnn import DeepClassifier


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--few-rows", type=int, default=10)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, y = make_classification(n_samples=args.rows, n_features=50, random_state=0)
    X = X.astype(np.float32)
    clf = DeepClassifier(
        hidden_layer_sizes=(100, 100, 100), dropout=0.2, max_epochs=1, random_state=0
    ).fit(X, y)
    few = X[: args.few_rows]
    k = args.samples

    def loop_of_predicts():
        for _ in range(k):
            clf.predict(few)

    tensor = torch.from_numpy(X)
    sampling_copy = copy.deepcopy(clf.module_).train()  # torch's own dropout, on a copy

    def plain_forward_loop():
        with torch.inference_mode():
            return [sampling_copy(tensor) for _ in range(k)]

    def deterministic_loop():
        with torch.inference_mode():
            return [clf.module_(tensor) for _ in range(k)]

    results = {}
    for name, fn in [
        ("few_rows_mc", lambda: clf.predict_uncertainty(few, n_samples=k, random_state=0)),
        ("few_rows_predict_loop", loop_of_predicts),
        ("many_rows_mc", lambda: clf.predict_uncertainty(X, n_samples=k, random_state=0)),
        ("many_rows_forward_loop", plain_forward_loop),
        ("many_rows_deterministic_loop", deterministic_loop),
    ]:
        results[name] = timed(fn, args.repeats)

    ratio_few = results["few_rows_mc"] / results["few_rows_predict_loop"]
    ratio_many = results["many_rows_mc"] / results["many_rows_forward_loop"]
    ratio_det = results["many_rows_mc"] / results["many_rows_deterministic_loop"]
    report = {
        "rows": args.rows,
        "few_rows": args.few_rows,
        "samples": k,
        "threads": args.threads,
        "seconds": results,
        "ratio_few_rows_mc_over_predict_loop": ratio_few,
        "ratio_many_rows_mc_over_forward_loop": ratio_many,
        "ratio_many_rows_mc_over_deterministic_loop": ratio_det,
    }
    args.out.mkdir(exist_ok=True)
    (args.out / f"uncertainty_threads{args.threads}.json").write_text(json.dumps(report, indent=2))
    print(f"torch threads: {args.threads}, 3x100 MLP, {k} samples")
    print("| case | predict_uncertainty | baseline | ratio |")
    print("|---|---|---|---|")
    print(
        f"| {args.few_rows} rows vs {k} predict calls | {results['few_rows_mc'] * 1e3:.1f} ms "
        f"| {results['few_rows_predict_loop'] * 1e3:.1f} ms | {ratio_few:.3f} |"
    )
    print(
        f"| {args.rows} rows vs {k} forward passes | {results['many_rows_mc']:.2f} s "
        f"| {results['many_rows_forward_loop']:.2f} s | {ratio_many:.2f} |"
    )
    print(
        f"| {args.rows} rows vs {k} deterministic passes | {results['many_rows_mc']:.2f} s "
        f"| {results['many_rows_deterministic_loop']:.2f} s | {ratio_det:.2f} |"
    )


if __name__ == "__main__":
    main()
