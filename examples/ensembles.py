"""Deep ensembles against one network and Monte-Carlo dropout, on data they never saw.

1. Shift: three DeepClassifiers learn the digits 0-4 of load_digits (70% of
   those rows; X/16) and are then shown the digits 5-9. One network
   (the entropy of predict_proba), one network with dropout=0.2 (Monte-Carlo
   dropout, 100 passes) and an ensemble of five (ensemble_size=5, its
   members as the samples). For each: the accuracy on the held-out 0-4
   digits, the mean predictive entropy of the seen and the unseen digits,
   and the AUROC of telling them apart by the entropy (and by the mutual
   information, the members' or the passes' disagreement).
2. A regression band: y = sin(3x) + noise learnt on x in [-1, 1], the mean
   +- 2 std of Monte-Carlo dropout and of an ensemble of five over
   [-3, 3].

Prints the numbers and saves two PNGs under examples/output/.
Run: python examples/ensembles.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
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
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_dnn import DeepClassifier, DeepRegressor, classic_playbook  # noqa: E402

OUTPUT = Path(__file__).parent / "output"
# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
N_SAMPLES = 10 if QUICK else 100
EPOCHS = {"max_epochs": 5} if QUICK else {}


def entropy(proba):
    return -np.sum(proba * np.log(np.clip(proba, 1e-300, None)), axis=1)


def shift():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    seen = y < 5
    X_train, X_test, y_train, y_test = train_test_split(
        X[seen], y[seen], test_size=0.3, stratify=y[seen], random_state=0
    )
    X_unseen = X[~seen]
    X_all = np.concatenate([X_test, X_unseen])
    is_unseen = np.r_[np.zeros(len(X_test)), np.ones(len(X_unseen))]
    contenders = {
        "one network": (
            DeepClassifier(**classic_playbook(DeepClassifier, **EPOCHS, random_state=0)),
            None,
        ),
        "MC dropout (0.2)": (
            DeepClassifier(
                **classic_playbook(DeepClassifier, dropout=0.2, **EPOCHS, random_state=0)
            ),
            "dropout",
        ),
        "ensemble of 5": (
            DeepClassifier(
                **classic_playbook(DeepClassifier, ensemble_size=5, **EPOCHS, random_state=0)
            ),
            "ensemble",
        ),
    }
    print(
        f"Shift: trained on {len(X_train)} images of the digits 0-4; "
        f"{len(X_test)} held-out 0-4 images (seen), {len(X_unseen)} images of 5-9 (unseen)."
    )
    print(
        f"  {'model':<18} {'accuracy':>8} {'entropy seen':>13} {'entropy unseen':>15} "
        f"{'AUROC entropy':>14} {'AUROC mutual info':>18}"
    )
    entropies = {}
    for name, (model, method) in contenders.items():
        model.fit(X_train, y_train)
        if method is None:
            proba, mutual_info = model.predict_proba(X_all), None
        else:
            result = model.predict_uncertainty(
                X_all, n_samples=N_SAMPLES, random_state=0, method=method
            )
            proba, mutual_info = result.mean, result.mutual_info
        h = entropy(proba)
        entropies[name] = h
        accuracy = np.mean(model.classes_[proba[: len(X_test)].argmax(axis=1)] == y_test)
        auroc_mi = f"{roc_auc_score(is_unseen, mutual_info):.3f}" if method else "-"
        print(
            f"  {name:<18} {accuracy:>8.3f} {h[is_unseen == 0].mean():>13.3f} "
            f"{h[is_unseen == 1].mean():>15.3f} {roc_auc_score(is_unseen, h):>14.3f} "
            f"{auroc_mi:>18}"
        )

    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), sharey=True)
    bins = np.linspace(0, np.log(5), 30)
    for ax, (name, h) in zip(axes, entropies.items(), strict=True):
        ax.hist(h[is_unseen == 0], bins=bins, alpha=0.7, density=True, label="seen (0-4)")
        ax.hist(h[is_unseen == 1], bins=bins, alpha=0.7, density=True, label="unseen (5-9)")
        ax.set(title=name, xlabel="predictive entropy (nats)")
    axes[0].set_ylabel("density")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(OUTPUT / "ensembles_shift_entropy.png", dpi=100)
    plt.close(fig)


def regression_bands():
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, size=(300, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=300)
    common = {
        "hidden_layer_sizes": (128, 128),
        "activation": "relu",
        "l2": 0.0,
        "learning_rate": 3e-3,
        "max_epochs": 5 if QUICK else 150,
        "random_state": 0,
    }
    grid = np.linspace(-3, 3, 400)[:, None]
    inside, outside = np.abs(grid[:, 0]) <= 1, np.abs(grid[:, 0]) >= 2
    contenders = {
        "MC dropout (0.2)": (
            DeepRegressor(**classic_playbook(DeepRegressor, dropout=0.2, **common)),
            "dropout",
        ),
        "ensemble of 5": (
            DeepRegressor(**classic_playbook(DeepRegressor, ensemble_size=5, **common)),
            "ensemble",
        ),
    }
    print("Regression, y = sin(3x) + noise (std 0.1), trained on x in [-1, 1]:")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for ax, (name, (model, method)) in zip(axes, contenders.items(), strict=True):
        model.fit(x, y)
        result = model.predict_uncertainty(grid, n_samples=N_SAMPLES, random_state=0, method=method)
        print(
            f"  {name:<18} mean std for |x| <= 1: {result.std[inside].mean():.3f}, "
            f"for |x| >= 2: {result.std[outside].mean():.3f}"
        )
        ax.scatter(x[:, 0], y, s=6, color="0.5", label="training data")
        ax.plot(grid[:, 0], np.sin(3 * grid[:, 0]), "k--", lw=1, label="sin(3x)")
        ax.plot(grid[:, 0], result.mean, color="C0", label="mean")
        ax.fill_between(
            grid[:, 0],
            result.mean - 2 * result.std,
            result.mean + 2 * result.std,
            color="C0",
            alpha=0.25,
            label="mean +- 2 std",
        )
        ax.set(xlabel="x", title=name)
    axes[0].set_ylabel("y")
    axes[0].legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(OUTPUT / "ensembles_regression_bands.png", dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    OUTPUT.mkdir(exist_ok=True)
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
    # Fixed epochs on small data stop before the loss settles; the warning says so.
    warnings.simplefilter("ignore", ConvergenceWarning)
    shift()
    regression_bands()
    print(f"Plots saved in {OUTPUT.name}/")
