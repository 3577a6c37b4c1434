"""Wall time of the same GridSearchCV with n_jobs=1 and n_jobs=2 (joblib processes).

Median of --repeats interleaved runs; each candidate fits a DeepClassifier
on synthetic data. The parallel run's workers get one torch thread each
(joblib sets OMP_NUM_THREADS in them); the serial run uses --threads.
Results go to benchmarks/results/search.{json,md}.

Run: python benchmarks/bench_search.py [--rows 4000] [--repeats 3]
"""

import argparse
import statistics
import warnings
from pathlib import Path

from _common import RESULTS, set_torch_threads, timed, write_report
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from sklearn_dnn import DeepClassifier


def search(n_jobs):
    return GridSearchCV(
        DeepClassifier(hidden_layer_sizes=(100, 100), max_epochs=10, tol=0, random_state=0),
        {"learning_rate": [1e-3, 3e-3], "l2": [0.0, 1e-3]},
        cv=3,
        n_jobs=n_jobs,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    set_torch_threads(args.threads)
    X, y = make_classification(n_samples=args.rows, n_features=50, random_state=0)
    times = {1: [], 2: []}
    warnings.simplefilter("ignore")
    search(2).fit(X[:300], y[:300])  # start joblib's worker processes once
    for _ in range(args.repeats):
        for n_jobs in (1, 2):
            times[n_jobs].append(timed(search(n_jobs).fit, X, y)[1])
    serial, parallel = statistics.median(times[1]), statistics.median(times[2])
    report = {
        "rows": args.rows,
        "serial_threads": args.threads,
        "fits": 4 * 3 + 1,
        "seconds_n_jobs_1": serial,
        "seconds_n_jobs_2": parallel,
        "speedup": serial / parallel,
    }
    table = (
        f"GridSearchCV, 4 candidates x 3 folds, {args.rows} rows, median of {args.repeats}\n\n"
        "| n_jobs | wall s | speed-up |\n|---|---|---|\n"
        f"| 1 ({args.threads} torch thread) | {serial:.2f} | 1.00 |\n"
        f"| 2 | {parallel:.2f} | {serial / parallel:.2f} |\n"
    )
    write_report(args.out / "search", report, table, indent=2)
    print(table)


if __name__ == "__main__":
    main()
