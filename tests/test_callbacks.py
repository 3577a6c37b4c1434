"""The callbacks hyperparameter: skorch callbacks, copied per fit."""

import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    LoadInitState,
    LRScheduler,
)
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


@pytest.mark.parametrize(
    "Estimator, data, scoring, score",
    [
        (
            DeepClassifier,
            classification,
            "accuracy",
            lambda est, X, y: accuracy_score(y, est.predict(X)),
        ),
        (
            DeepClassifier,
            lambda: classification(n_classes=2),
            "roc_auc",
            lambda est, X, y: roc_auc_score(y, est.predict_proba(X)[:, 1]),
        ),
        (DeepRegressor, regression, "r2", lambda est, X, y: r2_score(y, est.predict(X))),
    ],
)
@pytest.mark.parametrize("ensemble_size", [1, 2])
def test_epoch_scoring_by_name_scores_the_estimators_own_predictions(
    Estimator, data, scoring, score, ensemble_size
):
    # use_caching=False: the score of the epoch's final weights on the training rows
    X, y = data()
    scorer = EpochScoring(scoring, lower_is_better=False, on_train=True, use_caching=False)
    params = dict(FAST, early_stopping=False, learning_rate=0.01, ensemble_size=ensemble_size)
    est = Estimator(callbacks=[scorer], **params).fit(X, y)
    np.testing.assert_allclose(est.history_[-1][scoring], score(est, X, y), rtol=1e-6)


def test_epoch_scoring_by_name_on_validation_matches_the_validation_score():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(early_stopping=True, callbacks=[EpochScoring("accuracy")], **FAST)
    clf.fit(X, y)  # cached validation outputs (skorch's default)
    np.testing.assert_allclose(
        [e["accuracy"] for e in clf.history_], [e["valid_score"] for e in clf.history_]
    )


class TrainingBatches(Callback):
    """Every training batch as callbacks see it, and the members' outputs for its rows."""

    def initialize(self):
        self.X_, self.y_, self.y_pred_, self.outputs_ = [], [], [], []
        return self

    def on_batch_end(self, net, batch, y_pred, training, **kwargs):
        if not training:
            return
        X, y = batch
        members = net.module_.ensemble_size
        with torch.no_grad():  # member m's output for each of its rows (rows member by member)
            by_member = net.module_(X.view(members, -1, X.shape[1]).transpose(0, 1))
        self.outputs_.append(by_member.transpose(0, 1).flatten(0, 1))
        self.X_.append(X)
        self.y_.append(y)
        self.y_pred_.append(y_pred.detach())


def test_training_batches_reach_callbacks_as_skorch_passes_them():
    # (X, y) with one row per sample, every member's rows in an ensemble, y_pred
    # in the same order; EpochScoring's cached training accuracy reads them
    X, y = classification(n_samples=100)
    scorer = EpochScoring("accuracy", lower_is_better=False, on_train=True)
    params = dict(FAST, early_stopping=False, ensemble_size=3, max_epochs=1, learning_rate=1e-12)
    clf = DeepClassifier(callbacks=[("batches", TrainingBatches()), scorer], **params).fit(X, y)
    seen = dict(clf.net_.callbacks_)["batches"]
    X_seen, y_seen, y_pred = (torch.cat(t).numpy() for t in (seen.X_, seen.y_, seen.y_pred_))
    assert X_seen.shape == (3 * len(X), X.shape[1]) and y_seen.shape == (3 * len(y),)
    rows = [np.flatnonzero((X == x).all(axis=1))[0] for x in X_seen]
    np.testing.assert_array_equal(y_seen, y[rows])  # each row with its own target
    # each prediction is its member's, for that row (the rate is too small to move the weights)
    np.testing.assert_allclose(y_pred, torch.cat(seen.outputs_).numpy(), rtol=1e-6, atol=1e-9)
    expected = accuracy_score(y_seen, y_pred.argmax(axis=1))
    np.testing.assert_allclose(clf.history_[-1]["accuracy"], expected, rtol=1e-12)


def test_skorch_early_stopping_ends_the_fit_as_a_normal_stop():
    X, y = classification(n_samples=120)
    # the loss never improves by 10: one better epoch, then `patience` misses
    stop = EarlyStopping(patience=2, threshold=10.0, threshold_mode="abs")
    clf = DeepClassifier(early_stopping=True, callbacks=[stop], **dict(FAST, max_epochs=50))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopped: not "still improving"
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    search = GridSearchCV(clf, {"learning_rate": [1e-3, 1e-2]}, cv=2).fit(X, y)
    assert search.best_estimator_.n_iter_ == 3


class CtrlC(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise KeyboardInterrupt


@pytest.mark.parametrize("order", ["before", "after"])
def test_a_users_ctrl_c_still_interrupts_with_early_stopping_present(order):
    X, y = classification(n_samples=120)
    stop = EarlyStopping(monitor="train_loss", patience=5)
    callbacks = [CtrlC(), stop] if order == "before" else [stop, CtrlC()]
    clf = DeepClassifier(callbacks=callbacks, **FAST)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_skorch_early_stopping_on_a_validation_score_needs_a_validation_set():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(early_stopping=False, callbacks=[EarlyStopping(patience=1)], **FAST)
    with pytest.raises(ValueError, match="monitors 'valid_loss'.*Set early_stopping=True"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


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
    # A constant rate stops on patience: after 3 epochs.
    params = dict(FAST, max_epochs=100, patience=2, tol=10.0, schedule=None)
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


def test_a_sparse_ensemble_batch_reaches_callbacks_member_after_member():
    from sklearn_dnn._engine.conventions import _member_major

    dense = torch.arange(2 * 3 * 4, dtype=torch.float64).view(2, 3, 4)  # (rows, members, features)
    dense[0, 1] = 0.0  # some zeros, as in a sparse batch
    ours = _member_major(dense.to_sparse())
    assert ours.is_sparse and ours.shape == (6, 4)
    torch.testing.assert_close(ours.to_dense(), _member_major(dense), rtol=0, atol=0)
    assert _member_major(dense)[2].tolist() == dense[0, 1].tolist()  # member 1's first row


def test_a_batch_is_rebuilt_only_for_a_callback_that_reads_it(monkeypatch):
    # sklearn-dnn's own per-batch callbacks read no batch: a training step
    # rebuilds none for them (it cost a plain network a tenth of its step)
    from sklearn_dnn._engine import conventions as _conventions

    rebuilt = []
    rebuild = _conventions._as_skorch_batch
    monkeypatch.setattr(
        _conventions, "_as_skorch_batch", lambda kwargs: rebuilt.append(1) or rebuild(kwargs)
    )
    X, y = classification(n_samples=60)
    params = dict(FAST, early_stopping=False, max_epochs=1)
    own = dict(clip_grad_norm=1.0, max_norm=3.0, diagnostics=True, schedule="onecycle")
    DeepClassifier(**own, **params).fit(X, y)
    assert rebuilt == []
    DeepClassifier(callbacks=[("batches", TrainingBatches())], **params).fit(X, y)
    assert len(rebuilt) == 3  # for the notification it acts on, of each of the three batches
