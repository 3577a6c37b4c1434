"""Peak memory of fit, predict and predict_uncertainty, relative to the size of X.

Each case runs in a fresh child process. The child makes X (200,000 rows,
10 classes; 50 float32 columns for prediction, float64 for fit), then
samples its resident memory every millisecond (from /proc) while the call
runs; the figure is the peak above the memory held just before the call,
divided by ``X.nbytes``. Every case first fits on 2,000 rows, so that
torch's one-off start-up allocations (kernels, thread pools) are not
counted as the call's. Targets (the reliability issue): fit with early
stopping at most 1.5x X, predict at most 1.5x X, predict_uncertainty at
most 2x X at any ``n_samples`` without ``return_samples``.

Run from the repository root::

    python benchmarks/bench_memory.py            # 200,000 rows
    python benchmarks/bench_memory.py --quick    # 20,000 rows

Set PYTHONPATH to another checkout to measure another version of the code
(that is how the baseline in the results was measured).
"""

import argparse
import json
import os
import subprocess
import sys

CASES = ["fit_early_stopping", "predict", "uncertainty_30", "uncertainty_100"]


def run_case(case, n_rows):
    import numpy as np
    from _common import PeakMemory, set_torch_threads

    from sklearn_dnn import DeepClassifier

    set_torch_threads(1)
    rng = np.random.default_rng(0)
    n_features, n_classes = 50, 10
    dtype = np.float64 if case == "fit_early_stopping" else np.float32
    X = rng.standard_normal((n_rows, n_features)).astype(dtype)
    y = rng.integers(0, n_classes, n_rows)
    model = DeepClassifier(hidden_layer_sizes=(100, 100), dropout=0.2, max_epochs=1, random_state=0)
    if case == "fit_early_stopping":
        model.set_params(early_stopping=True)
        model.fit(X[:2000], y[:2000])  # torch's one-off start-up memory is not the data's
        call = lambda: model.fit(X, y)  # noqa: E731
    else:
        model.fit(X[:2000], y[:2000])
        if case == "predict":
            call = lambda: model.predict_proba(X)  # noqa: E731
        else:
            n_samples = int(case.split("_")[1])
            call = lambda: model.predict_uncertainty(X, n_samples=n_samples)  # noqa: E731
    with PeakMemory() as memory:
        call()
    return {
        "case": case,
        "rows": n_rows,
        "x_mb": X.nbytes / 2**20,
        "ratio": memory.added / X.nbytes,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # child process
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.rows)))
        return
    rows = 20_000 if args.quick else args.rows
    here = os.path.dirname(os.path.abspath(__file__))
    print(f"{'case':<20} {'X (MB)':>8} {'peak above X / X':>18}")
    for case in CASES:
        command = [sys.executable, os.path.join(here, "bench_memory.py")]
        command += ["--case", case, "--rows", str(rows)]
        result = json.loads(
            subprocess.run(command, check=True, capture_output=True, text=True).stdout
        )
        print(f"{case:<20} {result['x_mb']:>8.1f} {result['ratio']:>18.2f}")


if __name__ == "__main__":
    main()
