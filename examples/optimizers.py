"""Faster optimizers and learning-rate schedules, compared on load_digits.

The same network (two hidden layers of 100 ReLU units, He initialization,
no weight penalty) trains for 30 epochs on mini-batches of 32 images:

1. with each optimizer at its usual learning rate: plain SGD, SGD with
   momentum 0.9, Nesterov momentum, AdaGrad, RMSProp, Adam, Nadam, AdamW;
2. with SGD and momentum 0.9 at a rate of 0.05 under each schedule:
   constant, exponential, step (piecewise constant), power, plateau
   (performance scheduling), 1cycle and cosine annealing;
3. the learning-rate range test (find_learning_rate) for that SGD network.

Prints the training loss after the first, the fifth and the last epoch,
the test accuracy and the time of every fit, and the range test's suggestion; saves the loss curves,
the learning rates and the range test to
examples/output/optimizers_loss_curves.png.
Run: python examples/optimizers.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
"""

import os
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_dnn import DeepClassifier, classic_playbook  # noqa: E402

OUTPUT = Path(__file__).parent / "output"
# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
EPOCHS = 3 if QUICK else 30

COMMON = dict(
    hidden_layer_sizes=(100, 100),
    batch_size=32,
    max_epochs=EPOCHS,
    patience=EPOCHS,  # never stop before max_epochs: every curve has EPOCHS points
    early_stopping=False,  # every optimizer sees all the training rows
    l2=0.0,
    n_threads=1,  # small networks train fastest on one core
    random_state=0,
)


OPTIMIZERS = {
    "SGD (lr 0.01)": dict(optimizer="sgd", learning_rate=0.01, momentum=0.0),
    "momentum 0.9 (lr 0.01)": dict(optimizer="sgd", learning_rate=0.01, momentum=0.9),
    "Nesterov 0.9 (lr 0.01)": dict(
        optimizer="sgd", learning_rate=0.01, momentum=0.9, nesterov=True
    ),
    "AdaGrad (lr 0.01)": dict(optimizer="adagrad", learning_rate=0.01),
    "RMSProp (lr 0.001)": dict(optimizer="rmsprop", learning_rate=1e-3, momentum=0.0),
    "Adam (lr 0.001)": dict(optimizer="adam", learning_rate=1e-3),
    "Nadam (lr 0.001)": dict(optimizer="nadam", learning_rate=1e-3),
    "AdamW (lr 0.001)": dict(optimizer="adamw", learning_rate=1e-3),
}

SGD_MOMENTUM = dict(optimizer="sgd", learning_rate=0.05, momentum=0.9)
SCHEDULES = {
    "constant": dict(schedule=None),
    "exponential (0.1 per 10 epochs)": dict(schedule="exponential", decay_rate=0.1, decay_steps=10),
    "step (x0.1 at epochs 10, 20)": dict(schedule="step", decay_rate=0.1, decay_steps=(10, 20)),
    "power (s=5, c=1)": dict(schedule="power", decay_steps=5, power_t=1.0),
    "plateau (x0.5 after 2 epochs)": dict(schedule="plateau", decay_rate=0.5, decay_steps=2),
    "1cycle (peak 0.05)": dict(schedule="onecycle"),
    "cosine": dict(schedule="cosine"),
}


def train(params, X_train, X_test, y_train, y_test):
    model = DeepClassifier(**classic_playbook(DeepClassifier, **{**COMMON, **params}))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_epochs is reached on purpose
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return model, model.score(X_test, y_test), seconds


def compare(title, runs, data, ax, lr_ax=None):
    checkpoints = sorted({1, min(5, EPOCHS), EPOCHS})
    print(title)
    header = " ".join(f"{f'loss ep{n}':>9}" for n in checkpoints)
    print(f"  {'':<31} {header} {'test acc':>8} {'fit':>6}")
    for name, params in runs.items():
        model, score, seconds = train(params, *data)
        losses = [epoch["train_loss"] for epoch in model.history_]
        epochs = range(1, len(losses) + 1)
        row = " ".join(f"{losses[n - 1]:>9.2e}" for n in checkpoints)
        print(f"  {name:<31} {row} {score:>8.4f} {seconds:>5.1f}s")
        ax.plot(epochs, losses, label=f"{name}: {score:.3f}")
        if lr_ax is not None:
            lr_ax.plot(epochs, [epoch["lr"] for epoch in model.history_], label=name)
    ax.set(yscale="log", xlabel="epoch", ylabel="training loss (log scale)")
    ax.legend(fontsize="small", title="test accuracy", title_fontsize="small")


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    data = scaler.transform(X_train), scaler.transform(X_test), y_train, y_test
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
    print(
        f"load_digits, {len(y_train)} training and {len(y_test)} test images, "
        f"2 hidden layers of 100 ReLU units, batches of 32, {EPOCHS} epochs"
    )

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    compare("1. Optimizers", OPTIMIZERS, data, axes[0, 0])
    axes[0, 0].set_title("Optimizers")
    compare(
        "2. Schedules, SGD with momentum 0.9 at lr 0.05",
        {name: {**SGD_MOMENTUM, **params} for name, params in SCHEDULES.items()},
        data,
        axes[0, 1],
        lr_ax=axes[1, 0],
    )
    axes[0, 1].set_title("Schedules (SGD, momentum 0.9, lr 0.05)")
    axes[1, 0].set(yscale="log", xlabel="epoch", ylabel="learning rate at the end of the epoch")
    axes[1, 0].set_title("Learning rate per epoch")
    axes[1, 0].legend(fontsize="small")

    finder = DeepClassifier(
        **classic_playbook(DeepClassifier, **{**COMMON, **SGD_MOMENTUM})
    ).find_learning_rate(data[0], data[2], n_steps=20 if QUICK else 100)
    print("3. Learning-rate range test, SGD with momentum 0.9:")
    print(
        f"  {len(finder.lrs)} mini-batches from {finder.lrs[0]:.1e} to {finder.lrs[-1]:.2g}; "
        f"lowest smoothed loss at {finder.suggestion * 10:.2g}, suggestion {finder.suggestion:.2g}"
    )
    finder.plot(ax=axes[1, 1])

    fig.tight_layout()
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "optimizers_loss_curves.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"saved {path.name} in {OUTPUT.name}/")


if __name__ == "__main__":
    main()
