"""l1, l2, max-norm, dropout, clipping and early stopping have their effect."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from sklearn_dnn import DeepClassifier, DeepRegressor

from ._data import PLAIN_INPUTS, classification, regression


def weights(model):
    return np.concatenate(
        [layer.weight.detach().numpy().ravel() for layer in model.module_.linear_layers()]
    )


def fit_regressor(**params):
    X, y = regression(n_samples=150)
    settings = dict(
        hidden_layer_sizes=(32, 32),
        activation="relu",
        l2=0.0,
        learning_rate=0.01,
        batch_size=16,
        max_epochs=40,
        tol=0,
        random_state=0,
        schedule=None,
        early_stopping=False,
        **PLAIN_INPUTS,  # the penalties' effect on the hidden layers alone
    )
    settings.update(params)
    return DeepRegressor(**settings).fit(X, y)


def test_l1_makes_weights_sparser():
    plain, sparse = fit_regressor(), fit_regressor(l1=1e-3)
    near_zero = [np.mean(np.abs(weights(m)) < 1e-2) for m in (plain, sparse)]
    assert near_zero[1] > 2 * near_zero[0]


def test_l2_makes_weights_smaller():
    plain, shrunk = fit_regressor(), fit_regressor(l2=1e-2)
    assert np.linalg.norm(weights(shrunk)) < 0.7 * np.linalg.norm(weights(plain))


def test_penalties_leave_biases_alone():
    model = fit_regressor(l2=1.0, max_epochs=20)
    # A heavy penalty drives the weights to zero but not the output bias.
    assert np.abs(weights(model)).max() < 0.05
    assert model.net_.history[0]["train_loss"] > model.history_[-1]["train_loss"]


def test_max_norm_bounds_every_hidden_unit():
    plain = fit_regressor(learning_rate=0.01)
    bounded = fit_regressor(learning_rate=0.01, max_norm=0.5)
    for model, holds in ((plain, False), (bounded, True)):
        norms = [
            layer.weight.detach().norm(dim=-1).max().item()  # per member and unit
            for layer in model.module_.linear_layers()[:-1]
        ]
        assert (max(norms) <= 0.5 + 1e-5) is holds


def test_clip_grad_norm_bounds_each_step():
    # Plain SGD moves the weights by lr * |gradient|; with clipping every
    # step moves them by at most lr * clip_grad_norm.
    X, y = regression(n_samples=100)
    params = dict(
        hidden_layer_sizes=(16,),
        optimizer="sgd",
        momentum=0.0,
        learning_rate=0.1,
        batch_size=100,
        max_epochs=1,
        random_state=0,
    )
    start = DeepRegressor(**params, max_norm=None)
    start.set_params(learning_rate=1e-12).fit(X, y)
    clipped = DeepRegressor(**params, clip_grad_norm=0.01).fit(X, y)
    free = DeepRegressor(**params).fit(X, y)
    step = lambda m: np.linalg.norm(  # noqa: E731
        np.concatenate([p.detach().numpy().ravel() for p in m.module_.parameters()])
        - np.concatenate([p.detach().numpy().ravel() for p in start.module_.parameters()])
    )
    assert step(clipped) <= 0.1 * 0.01 * (1 + 1e-4)
    assert step(free) > 10 * step(clipped)


def test_dropout_is_off_at_prediction_time():
    X, y = classification()
    clf = DeepClassifier(dropout=0.5, max_epochs=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    assert not clf.module_.training


def test_dropout_regularizes_training_loss():
    plain = fit_regressor()
    dropped = fit_regressor(dropout=0.5)
    assert dropped.history_[-1]["train_loss"] > 2 * plain.history_[-1]["train_loss"]


def test_early_stopping_holds_out_data_and_restores_the_best_weights():
    X, y = regression(n_samples=200)
    params = dict(
        hidden_layer_sizes=(64, 64),
        early_stopping=True,
        validation_fraction=0.2,
        patience=5,
        learning_rate=0.01,
        schedule=None,  # a constant rate: patience stops it
        random_state=0,
        **PLAIN_INPUTS,
    )
    stopped = DeepRegressor(max_epochs=300, **params).fit(X, y)
    assert stopped.n_iter_ < 300
    valid = [epoch["valid_loss"] for epoch in stopped.history_]
    best = int(np.argmin(valid)) + 1
    assert best == stopped.n_iter_ - 5
    assert all(np.isfinite(e["valid_score"]) and e["valid_score"] <= 1 for e in stopped.history_)
    # The same run cut at the best epoch ends with the weights that the
    # stopped run restored.
    at_best = DeepRegressor(max_epochs=best, **params).fit(X, y)
    np.testing.assert_array_equal(stopped.predict(X), at_best.predict(X))


def test_early_stopping_off_holds_nothing_out():
    X, y = classification()
    clf = DeepClassifier(early_stopping=False, max_epochs=3, random_state=0).fit(X, y)
    assert "valid_loss" not in clf.history_[0]
    assert clf.net_.history[0]["train_batch_count"] == 1  # all 200 rows, one batch


def test_early_stopping_auto_holds_out_from_100_rows_on():
    X, y = classification(n_samples=200)
    auto = DeepClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert auto.early_stopping == "auto" and "valid_loss" in auto.history_[0]
    small = DeepClassifier(max_epochs=2, random_state=0).fit(X[:99], y[:99])
    assert "valid_loss" not in small.history_[0]
    assert small.history_[0]["train_batch_count"] == 1  # all 99 rows train


def test_early_stopping_holds_out_validation_fraction_of_the_rows():
    X, y = classification(n_samples=300, n_classes=3)
    clf = DeepClassifier(
        early_stopping=True, validation_fraction=0.2, max_epochs=1, random_state=0
    ).fit(X, y)
    epoch = clf.net_.history[0]
    n_train = sum(
        batch["train_batch_size"] for batch in epoch["batches"] if "train_batch_size" in batch
    )
    n_valid = sum(
        batch["valid_batch_size"] for batch in epoch["batches"] if "valid_batch_size" in batch
    )
    assert (n_train, n_valid) == (240, 60)


@pytest.mark.parametrize("l1, l2", [(0.0, 0.5), (0.1, 0.0)])
def test_history_train_loss_is_the_data_loss_and_the_penalty_its_own_column(l1, l2):
    X, y = classification(n_samples=100)
    # A rate too small to move the weights: the epoch's losses are those of the fitted model.
    clf = DeepClassifier(
        hidden_layer_sizes=(8,),
        learning_rate=1e-12,
        l1=l1,
        l2=l2,
        max_epochs=1,
        early_stopping=False,  # the epoch's loss is over every row
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    epoch = clf.history_[0]
    np.testing.assert_allclose(epoch["train_loss"], log_loss(y, clf.predict_proba(X)), rtol=1e-6)
    weights = [layer.weight.detach() for layer in clf.module_.linear_layers()]
    penalty = sum(l1 * w.abs().sum().item() + l2 * w.square().sum().item() for w in weights)
    np.testing.assert_allclose(epoch["train_penalty"], penalty, rtol=1e-6)


def test_without_penalty_the_penalty_column_is_zero():
    model = fit_regressor(max_epochs=3)
    assert [epoch["train_penalty"] for epoch in model.history_] == [0.0] * 3


def test_training_draws_dropout_masks_only_with_dropout(monkeypatch):
    # without dropout a training step is the layers' own pass, not the masked one
    from sklearn_dnn._nn import mlp as _module

    passes = []
    masked = _module.forward_with_dropout
    monkeypatch.setattr(
        _module, "forward_with_dropout", lambda *args: passes.append(1) or masked(*args)
    )
    X, y = classification(n_samples=60)
    params = dict(hidden_layer_sizes=(8,), batch_size=20, max_epochs=1, early_stopping=False)
    DeepClassifier(**params).fit(X, y)
    assert passes == []
    DeepClassifier(dropout=0.2, **params).fit(X, y)
    assert len(passes) == 3
