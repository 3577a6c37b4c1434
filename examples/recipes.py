"""Recipes: a Pipeline in GridSearchCV, saving and loading, and the device.

1. A Pipeline (StandardScaler, then DeepClassifier) tuned by GridSearchCV,
   3-fold, on 1,347 load_digits images, in two worker processes
   (n_jobs=2); the refitted best pipeline is scored on the other 450.
2. That pipeline saved with joblib and with pickle, loaded back, and its
   predictions compared with the original's.
3. Where the network lives: device="cpu" (the default), "cuda", or
   "auto", which takes a GPU when torch sees one.

Prints the search's results, the saved files' sizes and whether the loaded
pipelines predict exactly as the original does.
Run: python examples/recipes.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
"""

import os
import pickle
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepClassifier

# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"


def search(X_train, y_train):
    pipeline = make_pipeline(
        StandardScaler(), DeepClassifier(max_epochs=3 if QUICK else 40, random_state=0)
    )
    grid = {
        "deepclassifier__hidden_layer_sizes": [(100,), (100, 100)],
        "deepclassifier__dropout": [0.0, 0.2],
    }
    searcher = GridSearchCV(pipeline, grid, cv=3, n_jobs=2)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        searcher.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(
        f"1. GridSearchCV, {len(searcher.cv_results_['params'])} candidates x 3 folds, "
        f"n_jobs=2: {seconds:.1f} s"
    )
    for params, mean, std in zip(
        searcher.cv_results_["params"],
        searcher.cv_results_["mean_test_score"],
        searcher.cv_results_["std_test_score"],
        strict=True,
    ):
        short = {key.split("__")[1]: value for key, value in params.items()}
        print(f"   {short}: {mean:.4f} +- {std:.4f}")
    print(f"   best: {searcher.best_params_}")
    return searcher.best_estimator_


def save_and_load(model, X_test):
    expected = model.predict_proba(X_test)
    print("2. Saving and loading the fitted pipeline:")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.joblib"
        joblib.dump(model, path)
        loaded = joblib.load(path)
        same = np.array_equal(loaded.predict_proba(X_test), expected)
        print(f"   joblib: {path.stat().st_size / 1024:.0f} KiB, same probabilities: {same}")
        path = Path(folder) / "model.pkl"
        with open(path, "wb") as file:
            pickle.dump(model, file)
        with open(path, "rb") as file:
            loaded = pickle.load(file)
        same = np.array_equal(loaded.predict_proba(X_test), expected)
        print(f"   pickle: {path.stat().st_size / 1024:.0f} KiB, same probabilities: {same}")


def device(X_train, y_train):
    model = DeepClassifier(device="auto", max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    print(
        f"3. torch sees a GPU: {torch.cuda.is_available()}; device='auto' trained on "
        f"{model.module_.output.weight.device}; predict returns {type(model.predict(X_train))}"
    )


def main():
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    best = search(X_train, y_train)
    print(f"   test accuracy of the refitted best pipeline: {best.score(X_test, y_test):.4f}")
    save_and_load(best, X_test)
    device(StandardScaler().fit_transform(X_train), y_train)


if __name__ == "__main__":
    main()
