"""The callbacks hyperparameter: skorch callbacks, copied per fit."""

import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback, Checkpoint, EpochScoring, LoadInitState, LRScheduler
from torch.optim.lr_scheduler import StepLR

from sklearn_dnn import DeepClassifier, DeepRegressor

from ._data import classification, regression

FAST = dict(hidden_layer_sizes=(16,), batch_size=20, max_epochs=4, random_state=0)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class EpochCounter(Callback):
    def initialize(self):
        self.n_epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.n_epochs_ += 1
        net.history.record("counted", self.n_epochs_)


def valid_accuracy(net, dataset, y):
    with torch.no_grad():
        logits = net.forward(dataset)
    return float((logits.argmax(dim=1) == dataset.targets().cpu()).double().mean())


def test_epoch_scoring_records_a_score_every_epoch():
    X, y = classification(n_samples=200)
    scoring = EpochScoring(
        valid_accuracy, lower_is_better=False, on_train=False, use_caching=False, name="acc"
    )
    clf = DeepClassifier(early_stopping=True, callbacks=[scoring], **FAST).fit(X, y)
    assert all("acc" in epoch for epoch in clf.history_)
    # the same accuracy as our own validation score, computed another way
    np.testing.assert_allclose(
        [e["acc"] for e in clf.history_], [e["valid_score"] for e in clf.history_]
    )


def test_callbacks_are_copied_per_fit_so_clone_and_search_stay_safe():
    X, y = classification(n_samples=120)
    counter = EpochCounter()
    clf = DeepClassifier(callbacks=[("counter", counter)], **FAST)
    clf.fit(X, y)
    clf.fit(X, y)  # a new fit counts from zero: it got a fresh copy
    assert [e["counted"] for e in clf.history_] == [1, 2, 3, 4]
    assert not hasattr(counter, "n_epochs_")  # the object given is never changed
    assert clone(clf).get_params()["callbacks"][0][1] is not counter
    search = GridSearchCV(clf, {"learning_rate": [1e-3, 1e-2]}, cv=2).fit(X, y)
    assert [e["counted"] for e in search.best_estimator_.history_] == [1, 2, 3, 4]
    assert not hasattr(counter, "n_epochs_")


def test_the_stopper_comes_last_so_callbacks_see_the_last_epoch():
    X, y = classification(n_samples=120)
    params = dict(FAST, max_epochs=100, patience=2, tol=10.0)  # stops after 3 epochs
    clf = DeepClassifier(callbacks=[EpochCounter()], **params).fit(X, y)
    assert clf.n_iter_ == 3 and clf.history_[-1]["counted"] == 3


def test_checkpoint_to_disk_and_resume_with_load_init_state(tmp_path):
    X, y = regression(n_samples=120)
    checkpoint = Checkpoint(dirname=str(tmp_path), monitor=None)
    params = dict(FAST, learning_rate=0.01)
    first = DeepRegressor(callbacks=[("checkpoint", checkpoint)], **params).fit(X, y)
    assert (tmp_path / "params.pt").exists() and (tmp_path / "optimizer.pt").exists()
    resume = [("checkpoint", checkpoint), ("resume", LoadInitState(checkpoint))]
    second = DeepRegressor(callbacks=resume, **dict(params, max_epochs=2, random_state=1))
    second.fit(X, y)
    assert second.n_iter_ == 6  # 4 loaded from disk, 2 trained on
    assert [e["train_loss"] for e in second.history_[:4]] == [
        e["train_loss"] for e in first.history_
    ]
    # the resumed fit goes on from where the first one ended, not from a new network
    fresh = DeepRegressor(**dict(params, max_epochs=2, random_state=1)).fit(X, y)
    assert second.history_[4]["train_loss"] < first.history_[3]["train_loss"]
    assert second.history_[4]["train_loss"] < 0.5 * fresh.history_[0]["train_loss"], (
        [e["train_loss"] for e in first.history_],
        [e["train_loss"] for e in second.history_],
        [e["train_loss"] for e in fresh.history_],
    )


@pytest.mark.parametrize(
    "callbacks, message",
    [
        (["not a callback"], "callbacks must be a list of skorch callbacks"),
        ([("stopper", EpochCounter())], "'stopper' is taken by sklearn-dnn"),
        ("EpochCounter", "'callbacks' parameter"),
    ],
)
def test_bad_callbacks_are_named(callbacks, message):
    X, y = classification(n_samples=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match=message):
            DeepClassifier(callbacks=callbacks, **FAST).fit(X, y)


class LockedLog(Callback):
    """Holds a lock from its creation, as a TensorBoard writer does: cannot be copied."""

    def __init__(self):
        self.lock = threading.Lock()


class LazyLockedLog(Callback):
    """The way out: the lock is made when training starts."""

    def initialize(self):
        self.lock_ = threading.Lock()
        return self


@pytest.mark.parametrize(
    "callbacks, name", [([("log", LockedLog())], "'log'"), ([LockedLog()], "'LockedLog'")]
)
def test_a_callback_that_cannot_be_copied_is_named_with_the_way_out(callbacks, name):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(callbacks=callbacks, **FAST)
    with pytest.raises(
        TypeError, match=rf"callback {name} \(LockedLog\).*cannot be deep-copied"
    ) as info:
        clf.fit(X, y)
    message = str(info.value)
    assert "_thread.lock" in message and "initialize()" in message
    assert not hasattr(clf, "net_")  # the failed fit changed nothing
    DeepClassifier(callbacks=[("log", LazyLockedLog())], **FAST).fit(X, y)  # the way out fits


@pytest.mark.parametrize(
    "item", [LRScheduler(StepLR, step_size=1), ("lr", LRScheduler(StepLR, step_size=1))]
)
def test_a_user_lr_scheduler_is_refused_with_a_schedule(item):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(schedule="cosine", callbacks=[item], **FAST)
    with pytest.raises(
        ValueError, match=r"schedule='cosine' and the skorch LRScheduler .* compound"
    ):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")
    # without a schedule, the user's scheduler alone sets the rate: 1e-2 * 0.1 ** epoch
    clf.set_params(schedule=None, learning_rate=1e-2).fit(X, y)
    np.testing.assert_allclose(
        [e["lr"] for e in clf.history_], 1e-2 * 0.1 ** np.arange(4), rtol=1e-6
    )
