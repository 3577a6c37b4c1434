"""Monte-Carlo dropout: a regression band and the entropy of right vs wrong answers.

1. A DeepRegressor with dropout learns y = sin(3x) + noise on x in [-1, 1];
   predict_uncertainty draws the mean +- 2 std band over [-3, 3]: narrow
   where there was data, wide outside it.
2. A DeepClassifier with dropout on load_digits: the predictive entropy of
   the test images it gets wrong against those it gets right.

Prints the numbers and saves two PNGs under examples/output/.
Run: python examples/uncertainty.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
"""

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_dnn import DeepClassifier, DeepRegressor, classic_playbook  # noqa: E402

OUTPUT = Path(__file__).parent / "output"
# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"


def regression_band():
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, size=(300, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=300)
    reg = DeepRegressor(
        **classic_playbook(
            DeepRegressor,
            hidden_layer_sizes=(128, 128),
            activation="relu",
            l2=0.0,
            dropout=0.2,
            learning_rate=3e-3,
            max_epochs=5 if QUICK else 150,
            random_state=0,
        )
    ).fit(x, y)
    grid = np.linspace(-3, 3, 400)[:, None]
    result = reg.predict_uncertainty(grid, n_samples=20 if QUICK else 200, random_state=0)
    inside = np.abs(grid[:, 0]) <= 1
    print("Regression, y = sin(3x) + noise, trained on x in [-1, 1]:")
    print(f"  mean std for |x| <= 1: {result.std[inside].mean():.3f}")
    print(f"  mean std for |x| >= 2: {result.std[np.abs(grid[:, 0]) >= 2].mean():.3f}")

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(x[:, 0], y, s=6, color="0.5", label="training data")
    ax.plot(grid[:, 0], np.sin(3 * grid[:, 0]), "k--", lw=1, label="sin(3x)")
    ax.plot(grid[:, 0], result.mean, color="C0", label="MC-dropout mean")
    ax.fill_between(
        grid[:, 0],
        result.mean - 2 * result.std,
        result.mean + 2 * result.std,
        color="C0",
        alpha=0.25,
        label="mean +- 2 std",
    )
    ax.set(xlabel="x", ylabel="y", title="DeepRegressor.predict_uncertainty")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(OUTPUT / "uncertainty_regression_band.png", dpi=100)
    plt.close(fig)


def entropy_of_right_and_wrong():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = DeepClassifier(
            **classic_playbook(
                DeepClassifier,
                dropout=0.3,
                early_stopping=False,
                max_epochs=5 if QUICK else 200,
                random_state=0,
            )
        )
        clf.fit(X_train, y_train)
    result = clf.predict_uncertainty(X_test, n_samples=10 if QUICK else 100, random_state=0)
    wrong = clf.classes_[result.mean.argmax(axis=1)] != y_test
    print("Classification, load_digits test set:")
    print(f"  accuracy of the MC mean: {1 - wrong.mean():.4f} ({wrong.sum()} wrong)")
    print(f"  mean entropy, right: {result.entropy[~wrong].mean():.4f} nats")
    print(f"  mean entropy, wrong: {result.entropy[wrong].mean():.4f} nats")
    print(f"  mean mutual information, right: {result.mutual_info[~wrong].mean():.4f}")
    print(f"  mean mutual information, wrong: {result.mutual_info[wrong].mean():.4f}")
    print(f"  log-loss, predict_proba: {log_loss(y_test, clf.predict_proba(X_test)):.4f}")
    print(f"  log-loss, MC mean:       {log_loss(y_test, result.mean):.4f}")

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, result.entropy.max(), 30)
    ax.hist(result.entropy[~wrong], bins=bins, alpha=0.7, density=True, label="right")
    ax.hist(result.entropy[wrong], bins=bins, alpha=0.7, density=True, label="wrong")
    ax.set(xlabel="predictive entropy (nats)", ylabel="density", title="load_digits test set")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUTPUT / "uncertainty_entropy_histogram.png", dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    OUTPUT.mkdir(exist_ok=True)
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs stop before convergence
    regression_band()
    entropy_of_right_and_wrong()
    print(f"Plots saved in {OUTPUT.name}/")
