"""Checkpoint a training run to disk and resume it, with skorch callbacks.

A DeepClassifier takes skorch callbacks through its ``callbacks``
hyperparameter. ``skorch.callbacks.Checkpoint`` saves the network, the
optimizer's state and the history at the end of every epoch (here, to a
temporary folder); ``skorch.callbacks.LoadInitState`` loads them at the
start of a fit, so a new estimator (in a new process, after a crash or a
Ctrl-C) goes on from the last saved epoch instead of starting afresh.

On load_digits: a first run trains EPOCHS_FIRST epochs and stops; a second
estimator resumes from the checkpoint for EPOCHS_MORE more. Prints each
run's epochs and losses, the test accuracy after each, and that of one
uninterrupted run of as many epochs for comparison (the data order differs,
so the numbers are close, not equal).
Run: python examples/checkpoint_resume.py   (SKLEARN_DNN_QUICK=1: a few epochs, for CI)
"""

import os
import tempfile
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Checkpoint, LoadInitState

from sklearn_dnn import DeepClassifier, classic_playbook

# CI sets SKLEARN_DNN_QUICK=1: a few epochs show that the script runs; the
# numbers it then prints are not the documented ones.
QUICK = os.environ.get("SKLEARN_DNN_QUICK") == "1"
EPOCHS_FIRST = 2 if QUICK else 10
EPOCHS_MORE = 2 if QUICK else 10


def losses(history):
    return ", ".join(f"{epoch['epoch']}: {epoch['train_loss']:.4f}" for epoch in history)


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    if QUICK:
        print("SKLEARN_DNN_QUICK=1: a few epochs only; these are not the documented numbers.")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    # A constant rate (the classic playbook's): a run resumed from a checkpoint goes on as one
    # uninterrupted run would, where a schedule planned over max_epochs would start again.
    settings = classic_playbook(
        DeepClassifier, hidden_layer_sizes=(100, 100), batch_size=50, random_state=0
    )
    del settings["max_epochs"]  # each run names its own

    with tempfile.TemporaryDirectory() as folder:
        # monitor=None: save at the end of every epoch.
        checkpoint = Checkpoint(dirname=folder, monitor=None)
        first = DeepClassifier(
            max_epochs=EPOCHS_FIRST, callbacks=[("checkpoint", checkpoint)], **settings
        ).fit(X_train, y_train)
        print(f"First run, {first.n_iter_} epochs (train loss per epoch): {losses(first.history_)}")
        print(f"  saved to disk: {sorted(os.listdir(folder))}")
        print(f"  test accuracy: {first.score(X_test, y_test):.4f}")

        # A new estimator, as a new process would make it: it loads the
        # checkpoint when its fit starts, then trains EPOCHS_MORE epochs more.
        resumed = DeepClassifier(
            max_epochs=EPOCHS_MORE,
            callbacks=[("checkpoint", checkpoint), ("resume", LoadInitState(checkpoint))],
            **settings,
        ).fit(X_train, y_train)
        new = resumed.history_[EPOCHS_FIRST:]
        print(f"Resumed run, epochs {new[0]['epoch']}-{new[-1]['epoch']}: {losses(new)}")
        print(f"  history_ holds {resumed.n_iter_} epochs, the first {EPOCHS_FIRST} loaded")
        print(f"  test accuracy: {resumed.score(X_test, y_test):.4f}")

    straight = DeepClassifier(max_epochs=EPOCHS_FIRST + EPOCHS_MORE, **settings)
    straight.fit(X_train, y_train)
    print(
        f"One uninterrupted run of {straight.n_iter_} epochs: last train loss "
        f"{straight.history_[-1]['train_loss']:.4f}, test accuracy "
        f"{straight.score(X_test, y_test):.4f}"
    )


if __name__ == "__main__":
    main()
