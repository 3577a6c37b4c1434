"""Train DeepClassifier on digits and DeepRegressor on diabetes; print the scores.

Both data sets ship with scikit-learn. Each model sits in a Pipeline after
a StandardScaler and is compared with scikit-learn's own MLP, and with the
settings of 0.1 (``classic_playbook``), on the same 75/25 split.

Run: python examples/demo.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
"""

import os
import time
import warnings

from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepClassifier, DeepRegressor, classic_playbook

# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
EPOCHS = dict(max_epochs=5) if QUICK else {}


def evaluate(name, model, X_train, X_test, y_train, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"  {name:<32} score {pipeline.score(X_test, y_test):.4f}   fit {seconds:5.1f} s")
    return pipeline


def main():
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    print("load_digits, accuracy on 450 held-out images:")
    deep = evaluate("DeepClassifier()", DeepClassifier(random_state=0, **EPOCHS), *split)
    evaluate(
        "MLPClassifier(max_iter=500)",
        MLPClassifier(max_iter=5 if QUICK else 500, random_state=0),
        *split,
    )
    evaluate(
        "DeepClassifier(classic playbook)",
        DeepClassifier(**classic_playbook(DeepClassifier, random_state=0, **EPOCHS)),
        *split,
    )
    print(f"  DeepClassifier() trained {deep[-1].n_iter_} epochs")

    X, y = load_diabetes(return_X_y=True)
    split = train_test_split(X, y, test_size=0.25, random_state=0)
    print("load_diabetes, R^2 on 111 held-out patients:")
    evaluate("DeepRegressor()", DeepRegressor(random_state=0, **EPOCHS), *split)
    evaluate(
        "MLPRegressor(max_iter=2000)",
        MLPRegressor(max_iter=5 if QUICK else 2000, random_state=0),
        *split,
    )
    evaluate(
        "DeepRegressor(classic playbook)",
        DeepRegressor(**classic_playbook(DeepRegressor, random_state=0, **EPOCHS)),
        *split,
    )


if __name__ == "__main__":
    main()
