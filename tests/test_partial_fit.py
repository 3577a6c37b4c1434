"""partial_fit: one pass per call, the optimizer's state kept, classes on the first call."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from sklearn_dnn import DeepClassifier, DeepRegressor

from ._data import classification, digits, regression

FAST = dict(hidden_layer_sizes=(16,), batch_size=20, random_state=0)


def adam_steps(estimator):
    return {int(state["step"]) for state in estimator.net_.optimizer_.state.values()}


def test_partial_fit_on_ten_chunks_per_epoch_matches_fit_on_digits():
    X, y = digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    epochs, params = 15, dict(batch_size=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = DeepClassifier(max_epochs=epochs, tol=0.0, **params).fit(X_train, y_train)
    streamed = DeepClassifier(**params)
    order = np.random.default_rng(0)
    for _ in range(epochs):
        for chunk in np.array_split(order.permutation(len(y_train)), 10):
            streamed.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
    assert streamed.n_iter_ == 10 * epochs
    assert abs(streamed.score(X_test, y_test) - fitted.score(X_test, y_test)) <= 0.01
    assert streamed.score(X_test, y_test) > 0.95


def test_training_chunk_by_chunk_on_more_rows_than_a_chunk_keeps_the_optimizer_state():
    X, y = regression(n_samples=1000)
    reg = DeepRegressor(**FAST)
    chunks = np.array_split(np.arange(len(y)), 5)  # 200 rows each: 10 batches of 20
    scores = []
    for _ in range(4):
        for rows in chunks:
            reg.partial_fit(X[rows], y[rows])
        scores.append(reg.score(X, y))
    assert reg.n_iter_ == 20
    assert [e["train_batch_count"] for e in reg.history_] == [10] * 20
    assert adam_steps(reg) == {200}  # Adam's moments and step count carried through every call
    assert scores[-1] > scores[0] and scores[-1] > 0.8


def test_partial_fit_continues_a_fit_whatever_warm_start_says():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(max_epochs=3, warm_start=False, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    before = clf.module_.output.weight.detach().numpy().copy()
    clf.partial_fit(X[:40], y[:40])
    after = clf.module_.output.weight.detach().numpy()
    assert clf.n_iter_ == 4 and adam_steps(clf) == {3 * 5 + 2}
    assert not np.allclose(before, after)
    assert np.abs(before - after).max() < 0.05  # two steps on, not a new network


def test_partial_fit_has_no_early_stopping_and_no_schedule():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(early_stopping=True, schedule="exponential", decay_steps=1, **FAST)
    rate = clf.learning_rate
    clf.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y)
    assert all("valid_loss" not in e for e in clf.history_)
    assert [e["train_batch_count"] for e in clf.history_] == [5, 5]  # every row trains
    assert [e["lr"] for e in clf.history_] == [rate, rate]


def test_a_chunk_may_hold_some_classes_only():
    X, y = classification(n_samples=150)
    clf = DeepClassifier(**FAST)
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    clf.partial_fit(X[y == 1], y[y == 1])
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.predict_proba(X).shape == (150, 3)


def test_classes_are_required_on_the_first_call_and_checked_later():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "net_")
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes=\[0, 1\]"):
        clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X, y, classes=[2, 0, 1])
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"not seen in the first fit"):
        clf.partial_fit(X, np.where(y == 2, 7, y))


def test_balanced_class_weight_is_refused_with_the_remedy():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(class_weight="balanced", **FAST)
    with pytest.raises(ValueError, match="compute_class_weight"):
        clf.partial_fit(X, y, classes=[0, 1, 2])


def test_a_failed_partial_fit_keeps_the_model():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(**FAST).partial_fit(X, y, classes=[0, 1, 2])
    net = clf.net_
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :5], y)
    assert clf.net_ is net and clf.n_iter_ == 1


def test_multilabel_partial_fit():
    Y = (regression(n_samples=60, n_targets=3)[1] > 0).astype(int)
    X = classification(n_samples=60)[0]
    clf = DeepClassifier(**FAST).partial_fit(X, Y, classes=range(3)).partial_fit(X, Y)
    assert clf.predict(X).shape == (60, 3)
    with pytest.raises(ValueError, match="classes has 2 entries"):
        DeepClassifier(**FAST).partial_fit(X, Y, classes=range(2))


def test_class_weight_covers_every_class_given_not_only_those_of_the_chunk():
    X, y = classification(n_samples=90)
    labels = np.array(["a", "b", "c"])[y]
    rows = labels != "b"  # the first chunk holds two of the three classes
    by_class = DeepClassifier(class_weight={"b": 5.0, "c": 3.0}, **FAST)
    by_class.partial_fit(X[rows], labels[rows], classes=["a", "b", "c"])
    by_row = DeepClassifier(**FAST).partial_fit(
        X[rows], labels[rows], classes=["a", "b", "c"], sample_weight=np.where(y[rows] == 2, 3, 1)
    )
    np.testing.assert_allclose(by_class.predict_proba(X), by_row.predict_proba(X), rtol=1e-6)
    one_class = DeepClassifier(class_weight={1: 5.0}, **FAST)  # as SGDClassifier takes it
    one_class.partial_fit(X[y == 0], y[y == 0], classes=[0, 1]).partial_fit(X[y == 1], y[y == 1])
    assert one_class.n_iter_ == 2


@pytest.mark.parametrize("first", ["one row", "constant y"])
def test_a_first_chunk_without_spread_leaves_the_target_scale_to_the_next(first):
    X, y = regression(n_samples=400)
    X0, y0 = (X[:1], y[:1]) if first == "one row" else (X[:50], np.full(50, 3.0))
    # (One row fits the input statistics too: no column is continuous, so no
    # embedding; a higher rate makes up for it in 40 steps.)
    reg = DeepRegressor(hidden_layer_sizes=(32,), learning_rate=2e-2, random_state=0)
    reg.partial_fit(X0, y0)
    for _ in range(5):
        for rows in np.array_split(np.arange(400), 8):
            reg.partial_fit(X[rows], y[rows])
    assert reg.score(X, y) > 0.9  # 0.97 from a first chunk with spread; 0 with scale 1
    np.testing.assert_allclose(reg._task.scale, y[:50].std(), rtol=1e-10)  # the second chunk's


def test_setting_the_scale_late_reads_the_output_in_the_new_units_and_restarts_the_optimizer():
    X, y = regression(n_samples=40, n_targets=2)
    y0 = y[:20].copy()
    y0[:, 1] = 5.0  # the second column's scale is left undetermined
    reg = DeepRegressor(clip_predictions=False, **FAST).partial_fit(X[:20], y0)
    assert reg._task.spread.tolist() == [True, False]
    before, task = reg.predict(X), reg._task
    reg.set_params(learning_rate=1e-12).partial_fit(X[20:], y[20:])
    assert reg._task.spread.tolist() == [True, True]
    assert reg._task.scale[0] == task.scale[0] and reg._task.scale[1] != task.scale[1]
    np.testing.assert_allclose(reg.predict(X)[:, 0], before[:, 0], rtol=1e-6)  # unchanged
    # The second column's output, as it was, is read in the new units: what it
    # learned from the constant rows (a level, 5.0) is not kept.
    raw = (before[:, 1] - task.mean[1]) / task.scale[1]
    np.testing.assert_allclose(
        reg.predict(X)[:, 1], reg._task.mean[1] + raw * reg._task.scale[1], rtol=1e-6
    )
    assert adam_steps(reg) == {1}  # the moments measured the loss in the old units


class Interrupt(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise KeyboardInterrupt


def test_partial_fit_appends_to_the_history_without_copying_it():
    X, y = regression(n_samples=40)
    reg = DeepRegressor(diagnostics=True, **FAST).partial_fit(X, y).partial_fit(X, y)
    history, epochs, net_epochs = reg.history_, list(reg.history_), list(reg.net_.history)
    reg.partial_fit(X, y)
    gradient_norms = [epoch["gradient_norms"] for epoch in reg.history_]
    np.testing.assert_array_equal(reg.gradient_norms_, gradient_norms)  # extended, not rebuilt
    assert reg.history_ is history  # appended to, not rebuilt from every epoch
    assert all(a is b for a, b in zip(epochs, reg.history_[:2], strict=True))
    assert all(a is b for a, b in zip(net_epochs, reg.net_.history[:2], strict=True))
    assert [e["epoch"] for e in reg.history_] == [e["epoch"] for e in reg.net_.history] == [1, 2, 3]
    with pytest.raises(KeyboardInterrupt):  # a failed call leaves both histories as they were
        reg.set_params(callbacks=[Interrupt()]).partial_fit(X, y)
    assert len(reg.history_) == len(reg.net_.history) == reg.n_iter_ == 3
