"""Reusing pretrained layers: the playbook's experiment on load_digits.

Task A: classify digits 0-7 (all their rows). Task B: tell 8 from 9 with
only 40 labelled images. For several seeds we train a model on B from
scratch and one built from A's hidden layers with
DeepClassifier.from_pretrained (frozen, then released after 20 epochs at a
tenth of the learning rate), and score both on the remaining 8s and 9s.

Prints the accuracies of every seed and their means, and saves them to
examples/output/transfer_digits_accuracy.png. The gain can be small: we
report what we measure.
Run: python examples/transfer_digits.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
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
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_dnn import DeepClassifier, classic_playbook  # noqa: E402

OUTPUT = Path(__file__).parent / "output"
# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
N_LABELLED = 40
SEEDS = range(2) if QUICK else range(5)


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    task_a = y < 8
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
    model_a = DeepClassifier(
        **classic_playbook(
            DeepClassifier,  # trained on all of task A, as the playbook's experiment does
            hidden_layer_sizes=(100, 100),
            early_stopping=False,
            max_epochs=5 if QUICK else 200,
            random_state=0,
        )
    )
    model_a.fit(X[task_a], y[task_a])
    print(
        f"Task A (digits 0-7, {task_a.sum()} images): training accuracy "
        f"{model_a.score(X[task_a], y[task_a]):.4f}"
    )

    X_b, y_b = X[~task_a], y[~task_a]
    # The book's training settings (from_pretrained takes the architecture from model_a).
    book = {k: v for k, v in classic_playbook(DeepClassifier).items() if k != "activation"}
    book.pop("hidden_layer_sizes")
    settings = dict(book, learning_rate=1e-2, max_epochs=5 if QUICK else 60, random_state=0)
    scratch_scores, reused_scores = [], []
    print(
        f"Task B (8 vs 9), {N_LABELLED} labelled images, accuracy on the other "
        f"{len(y_b) - N_LABELLED}:"
    )
    print("  seed  from scratch  from task A")
    for seed in SEEDS:
        X_train, X_test, y_train, y_test = train_test_split(
            X_b, y_b, train_size=N_LABELLED, stratify=y_b, random_state=seed
        )
        scratch = DeepClassifier(
            **classic_playbook(DeepClassifier, hidden_layer_sizes=(100, 100), **settings)
        )
        scratch.fit(X_train, y_train)
        reused = DeepClassifier.from_pretrained(
            model_a, unfreeze_after=2 if QUICK else 20, **settings
        )
        reused.fit(X_train, y_train)
        scratch_scores.append(scratch.score(X_test, y_test))
        reused_scores.append(reused.score(X_test, y_test))
        print(f"  {seed:>4}  {scratch_scores[-1]:>12.4f}  {reused_scores[-1]:>11.4f}")
    print(f"  mean  {np.mean(scratch_scores):>12.4f}  {np.mean(reused_scores):>11.4f}")
    error_scratch, error_reused = 1 - np.mean(scratch_scores), 1 - np.mean(reused_scores)
    if error_scratch > 0:
        change = (error_scratch - error_reused) / error_scratch
        print(
            f"Error rate: {error_scratch:.4f} from scratch, {error_reused:.4f} reused "
            f"({abs(change):.0%} {'fewer' if change >= 0 else 'more'} errors)"
        )
    plot(scratch_scores, reused_scores)


def plot(scratch_scores, reused_scores):
    fig, ax = plt.subplots(figsize=(7, 4))
    seeds = np.arange(len(scratch_scores))
    ax.bar(seeds - 0.2, scratch_scores, width=0.4, label="from scratch")
    ax.bar(seeds + 0.2, reused_scores, width=0.4, label="from task A's layers")
    ax.axhline(np.mean(scratch_scores), color="C0", linestyle="--", linewidth=1)
    ax.axhline(np.mean(reused_scores), color="C1", linestyle="--", linewidth=1)
    low = min(min(scratch_scores), min(reused_scores))
    ax.set(
        xticks=seeds,
        xlabel="split seed (dashed: means)",
        ylabel="test accuracy",
        ylim=(max(0.0, low - 0.05), 1.0),
        title=f"8 vs 9 from {N_LABELLED} labelled images",
    )
    ax.legend(loc="upper left", ncol=2)
    fig.tight_layout()
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "transfer_digits_accuracy.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved {path.name} in {OUTPUT.name}/")


if __name__ == "__main__":
    main()
