"""Training on a large sparse X: one epoch within bounded memory, densified batch by batch.

A random CSR matrix (``--rows`` x ``--features``, ``--density`` of its
cells non-zero, float32; 200,000 x 50,000 at 0.1% by default, 10 million
non-zeros, about 120 MiB, whose dense copy would take 37 GiB) and a
binary target that depends on 100 of its columns. A ``DeepClassifier``
trains one epoch on it, then predicts every row. The process's peak
resident memory (sampled every millisecond from /proc by
``_common.PeakMemory``) must stay under ``--limit-gib`` (4 GiB): the
matrix is kept sparse and densified one mini-batch (or one prediction
chunk) at a time, never whole.

Results go to ``benchmarks/results/sparse.json``.

Run from the repository root::

    python benchmarks/bench_sparse.py            # 200,000 x 50,000 at 0.1%
    python benchmarks/bench_sparse.py --quick    # 20,000 x 50,000
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from _common import (
    RESULTS,
    PeakMemory,
    machine,
    resident_bytes,
    set_torch_threads,
    timed,
    write_report,
)


def make_data(n_rows, n_features, density, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_rows, n_features, density=density, format="csr", dtype=np.float32, random_state=rng
    )
    informative = rng.choice(n_features, size=100, replace=False)
    score = np.asarray(X[:, informative].sum(axis=1)).ravel()
    y = (score > np.median(score)).astype(np.int64)
    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=50_000)
    parser.add_argument("--density", type=float, default=0.001)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit-gib", type=float, default=4.0)
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.rows //= 10

    from sklearn_dnn import DeepClassifier

    set_torch_threads(args.threads)
    X, y = make_data(args.rows, args.features, args.density)
    x_mib = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    dense_gib = args.rows * args.features * 4 / 2**30
    print(
        f"X: {args.rows:,} x {args.features:,} CSR, {X.nnz:,} non-zeros, {x_mib:.0f} MiB "
        f"(dense float32: {dense_gib:.1f} GiB)"
    )
    clf = DeepClassifier(
        hidden_layer_sizes=(100,), batch_size=args.batch_size, max_epochs=1, random_state=0
    )
    before = resident_bytes()
    with warnings.catch_warnings(), PeakMemory() as fit_memory:
        warnings.simplefilter("ignore")
        fit_seconds = timed(clf.fit, X, y)[1]
    with PeakMemory() as predict_memory:
        prediction, predict_seconds = timed(clf.predict, X)
        accuracy = float((prediction == y).mean())
    peak_gib = max(fit_memory.peak, predict_memory.peak) / 2**30
    report = {
        "rows": args.rows,
        "features": args.features,
        "density": args.density,
        "nnz": int(X.nnz),
        "x_mib": x_mib,
        "dense_gib": dense_gib,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "rss_before_fit_gib": before / 2**30,
        "epoch_seconds": fit_seconds,
        "fit_added_mib": fit_memory.added / 2**20,
        "predict_seconds": predict_seconds,
        "predict_added_mib": predict_memory.added / 2**20,
        "peak_rss_gib": peak_gib,
        "limit_gib": args.limit_gib,
        "within_limit": peak_gib <= args.limit_gib,
        "training_accuracy": accuracy,
        "machine": machine(),
    }
    print(
        f"one epoch: {fit_seconds:.1f} s, +{fit_memory.added / 2**20:.0f} MiB; "
        f"predict: {predict_seconds:.1f} s, +{predict_memory.added / 2**20:.0f} MiB; "
        f"training accuracy {accuracy:.3f}"
    )
    print(
        f"peak resident memory {peak_gib:.2f} GiB (limit {args.limit_gib} GiB): "
        f"{'within' if report['within_limit'] else 'OVER'} the limit"
    )
    write_report(args.out / ("sparse_quick" if args.quick else "sparse"), report, indent=2)
    if not report["within_limit"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
