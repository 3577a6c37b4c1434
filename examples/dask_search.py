"""Hyperparameter search on a Dask cluster through joblib's Dask backend.

The search's candidates are fitted on the cluster's workers; each worker's
torch keeps to the threads Dask gives it (its nanny sets OMP_NUM_THREADS,
which sklearn-dnn respects when n_threads=None).

Here the cluster is a LocalCluster of two worker processes on this machine.
To use a real cluster, change the one line marked below to
    client = Client("tcp://scheduler-host:8786")
and make sure the workers have sklearn-dnn installed.

Needs the extra: pip install "sklearn-dnn[dask]"
Run: python examples/dask_search.py   (SKLEARN_DNN_QUICK=1: 2 candidates, for CI)
"""

import os
import time
import warnings

import joblib
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepClassifier

# CI sets SKLEARN_DNN_QUICK=1: a smaller search shows that the script runs;
# the numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
GRID = {
    "deepclassifier__activation": ["relu", "selu"],
    "deepclassifier__learning_rate": [1e-3, 3e-3],
    "deepclassifier__dropout": [0.0, 0.2],
}
if QUICK:
    GRID = {"deepclassifier__activation": ["relu", "selu"]}
N_FOLDS = 2 if QUICK else 3


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a smaller search; these are not the documented numbers.")
    epochs = 3 if QUICK else 30
    search = GridSearchCV(
        make_pipeline(StandardScaler(), DeepClassifier(max_epochs=epochs, random_state=0)),
        GRID,
        cv=N_FOLDS,
    )
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    client = Client(cluster)  # <- for a real cluster: Client("tcp://scheduler-host:8786")
    try:
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
        seconds = time.perf_counter() - start
    finally:
        client.close()
        cluster.close()
    print(
        f"{len(search.cv_results_['params'])} candidates x {N_FOLDS} folds on the cluster "
        f"in {seconds:.1f} s"
    )
    print(f"best parameters: {search.best_params_}")
    print(f"best cross-validated accuracy: {search.best_score_:.4f}")


if __name__ == "__main__":
    main()
