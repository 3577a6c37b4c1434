"""Regularization on a small, noisy data set: l1, l2, dropout, max-norm, early stopping.

A synthetic problem (make_classification: 40 features of which 8 are
informative, 2 classes, 20% of the labels flipped) gives 300 training rows
and 3,000 test rows. A network far larger than the data needs (two hidden
layers of 256 ReLU units) trains with Adam for up to 200 epochs, first
with no regularization, then with each regularizer alone and with two
pairs of them. A logistic regression gives a linear baseline.

Without regularization the network learns the training set by heart,
flipped labels included; each regularizer trades training accuracy for
test accuracy. A last run keeps early stopping's validation curve for
200 epochs to show where the validation loss turns.

Prints each model's training and test accuracy, test log-loss and epochs,
and saves examples/output/regularization.png.
Run: python examples/regularization.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
"""

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_dnn import DeepClassifier, classic_playbook  # noqa: E402

OUTPUT = Path(__file__).parent / "output"
# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
EPOCHS = 5 if QUICK else 200

COMMON = dict(
    hidden_layer_sizes=(256, 256),
    learning_rate=1e-3,
    batch_size=32,
    max_epochs=EPOCHS,
    l2=0.0,
    early_stopping=False,  # each row names its regularizer; early stopping is one of them
    n_threads=1,  # small networks train fastest on one core
    random_state=0,
)


# Strengths from a small scan on this data; GridSearchCV would pick them
# by cross-validation.
MODELS = {
    "none": {},
    "l1=1e-2": dict(l1=1e-2),
    "l2=1e-1": dict(l2=1e-1),
    "dropout=0.5": dict(dropout=0.5),
    "max_norm=1.0": dict(max_norm=1.0),
    "dropout=0.5, max_norm=1.0": dict(dropout=0.5, max_norm=1.0),
    "early stopping": dict(early_stopping=True, validation_fraction=0.2, patience=10),
    "l2=1e-1, dropout=0.5": dict(l2=1e-1, dropout=0.5),
}


def make_data():
    X, y = make_classification(
        n_samples=3300,
        n_features=40,
        n_informative=8,
        n_redundant=4,
        flip_y=0.2,
        class_sep=1.0,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=300, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def fit(params, X_train, y_train):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return DeepClassifier(**classic_playbook(DeepClassifier, **{**COMMON, **params})).fit(
            X_train, y_train
        )


def main():
    X_train, X_test, y_train, y_test = make_data()
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
    print(
        f"make_classification, 20% flipped labels: {len(y_train)} training rows, "
        f"{len(y_test)} test rows; 2 hidden layers of 256 ReLU units, Adam, "
        f"up to {EPOCHS} epochs"
    )
    print(
        f"  {'regularization':<36} {'train acc':>9} {'test acc':>9} {'test log-loss':>13} "
        f"{'epochs':>6}"
    )
    baseline = LogisticRegression().fit(X_train, y_train)
    print(
        f"  {'(logistic regression)':<36} {baseline.score(X_train, y_train):>9.4f} "
        f"{baseline.score(X_test, y_test):>9.4f} "
        f"{log_loss(y_test, baseline.predict_proba(X_test)):>13.4f}"
    )
    results = {}
    for name, params in MODELS.items():
        model = fit(params, X_train, y_train)
        results[name] = (model.score(X_train, y_train), model.score(X_test, y_test))
        loss = log_loss(y_test, model.predict_proba(X_test))
        print(
            f"  {name:<36} {results[name][0]:>9.4f} {results[name][1]:>9.4f} {loss:>13.4f} "
            f"{model.n_iter_:>6}"
        )

    # Early stopping's view of training: the same unregularized network with
    # a validation set, but a patience so long that it trains every epoch.
    watched = fit(
        dict(early_stopping=True, validation_fraction=0.2, patience=EPOCHS), X_train, y_train
    )
    valid = np.array([epoch["valid_loss"] for epoch in watched.history_])
    best = int(np.argmin(valid)) + 1
    print(
        f"Validation loss of the unregularized network: lowest {valid.min():.4f} at epoch "
        f"{best}, {valid[-1]:.4f} at epoch {len(valid)}"
    )

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    names = list(results)
    rows = np.arange(len(names))
    left.barh(rows - 0.2, [results[n][0] for n in names], height=0.4, label="train")
    left.barh(rows + 0.2, [results[n][1] for n in names], height=0.4, label="test")
    for row, name in zip(rows, names, strict=True):
        left.text(
            results[name][1] + 0.005,
            row + 0.2,
            f"{results[name][1]:.3f}",
            va="center",
            fontsize="small",
        )
    left.axvline(
        baseline.score(X_test, y_test), color="0.4", linestyle=":", label="logistic regr., test"
    )
    left.set(yticks=rows, yticklabels=names, xlim=(0.5, 1.05), xlabel="accuracy")
    left.invert_yaxis()
    left.legend(loc="lower right")
    left.set_title("Train and test accuracy")
    epochs = np.arange(1, len(valid) + 1)
    right.plot(epochs, [epoch["train_loss"] for epoch in watched.history_], label="train loss")
    right.plot(epochs, valid, label="validation loss")
    right.axvline(best, color="0.4", linestyle="--", label=f"lowest validation loss (epoch {best})")
    right.set(xlabel="epoch", ylabel="loss", yscale="log")
    right.legend()
    right.set_title("No regularization: validation loss turns")
    fig.tight_layout()
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "regularization.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"saved {path.name} in {OUTPUT.name}/")


if __name__ == "__main__":
    main()
