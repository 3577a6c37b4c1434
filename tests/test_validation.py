"""Bad input and bad hyperparameters get a clear ValueError naming the problem."""

import re
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from skorch.history import History
from torch import nn

from sklearn_dnn import (
    DeepClassifier,
    DeepRegressor,
    DivergenceWarning,
    TrainingDivergedError,
)
from sklearn_dnn._engine.callbacks import DivergenceGuard
from sklearn_dnn._engine.divergence import EXPLOSION_FACTOR, warn_if_unstable

from ._data import FAST, PLAIN_INPUTS, classification, regression

ESTIMATORS = [DeepClassifier, DeepRegressor]


def data_for(Estimator, n_samples=40):
    return (classification if Estimator is DeepClassifier else regression)(n_samples)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_inf_in_X(Estimator, value):
    X, y = data_for(Estimator)
    X[3, 2] = value
    with pytest.raises(ValueError, match="Input X contains inf"):
        Estimator(max_epochs=1).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_nan_in_X_is_imputed_inside_the_network(Estimator):
    # Missing values are filled with the median and flagged (tests/test_tables.py).
    X, y = data_for(Estimator)
    X[3, 2] = np.nan
    est = Estimator(max_epochs=2).fit(X, y)
    assert est._inputs_.missing == (2,)
    assert np.isfinite(est.predict(X)).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_nan_in_y(Estimator):
    X, y = data_for(Estimator)
    y = y.astype(float)
    y[0] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        Estimator(max_epochs=1).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_strings_in_X(Estimator):
    X, y = data_for(Estimator)
    X = X.astype(object)
    X[0, 0] = "seven"
    # A column of numbers with a string in it: the column and the value named.
    with pytest.raises(
        ValueError, match=r"Column 'x0' holds values that are not numbers \(such as 'seven'\)"
    ):
        Estimator(max_epochs=1).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_no_rows(Estimator):
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        Estimator().fit(np.empty((0, 3)), np.empty(0))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_3d_X(Estimator):
    with pytest.raises(ValueError, match="Found array with dim 3"):
        Estimator().fit(np.zeros((10, 2, 2)), np.arange(10) % 2)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_wrong_number_of_features_at_predict_time(Estimator):
    X, y = data_for(Estimator)
    model = Estimator(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 9 features, but .* is expecting 10"):
        model.predict(X[:, :9])


def test_continuous_y_for_a_classifier():
    X, y = regression()
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        DeepClassifier().fit(X, y)


def test_one_class_for_a_classifier():
    X, _ = classification()
    with pytest.raises(ValueError, match="at least 2 classes .* only one class: 'a'"):
        DeepClassifier().fit(X, ["a"] * len(X))


@pytest.mark.parametrize(
    "param, value, message",
    [
        (
            "activation",
            "rellu",
            r"activation.*Got 'rellu' instead\. Did you mean activation='relu'\?",
        ),
        ("optimizer", "adamm", r"Did you mean optimizer='adam'\?"),
        ("initializer", "he_normall", r"Did you mean initializer='he_normal'\?"),
        ("schedule", "cosin", r"Did you mean schedule='cosine'\?"),
        ("optimizer", "lbfgs", r"The 'optimizer' parameter .* must be a str among"),
        ("dropout", 1.0, r"'dropout' parameter .* must be a float in the range \[0.0, 1.0\)"),
        ("dropout", -0.1, r"'dropout' parameter .* range \[0.0, 1.0\)"),
        ("learning_rate", 0.0, r"'learning_rate' parameter"),
        ("hidden_layer_sizes", (10, 0), r"hidden_layer_sizes must hold positive widths"),
        ("hidden_layer_sizes", (10, 2.5), r"hidden_layer_sizes must be a tuple of positive"),
        ("activation", int, r"activation must be .* got the class <class 'int'>"),
        ("optimizer", dict, r"optimizer must be .* got the class <class 'dict'>"),
        ("batch_size", 0, r"'batch_size' parameter"),
        ("momentum", 1.5, r"'momentum' parameter .* range \[0.0, 1.0\]"),
        ("validation_fraction", 1.0, r"'validation_fraction' parameter .* range \(0.0, 1.0\)"),
    ],
)
def test_bad_hyperparameters_are_named(param, value, message):
    X, y = classification()
    with pytest.raises(ValueError, match=message):
        DeepClassifier(**{param: value}).fit(X, y)


def test_mistyped_hyperparameter_name_is_rejected():
    with pytest.raises(ValueError, match="Invalid parameter 'dropuot'"):
        DeepClassifier().set_params(dropuot=0.2)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_negative_or_all_zero_sample_weight(Estimator):
    X, y = data_for(Estimator)
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        Estimator().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(
        ValueError, match="Sample weights must contain at least one non-zero number"
    ):
        Estimator().fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_diverging_training_stops_with_an_error_that_names_the_cure(Estimator):
    X, y = data_for(Estimator, n_samples=100)
    X = X.astype(np.float32) * 1e4  # float32 overflows to inf, then nan
    model = Estimator(optimizer="sgd", learning_rate=1e3, max_epochs=50)
    with pytest.raises(
        TrainingDivergedError,
        match=r"Training diverged in epoch \d+.*"
        r"Lower learning_rate \(it is 1000.0\), set clip_grad_norm",
    ):
        model.fit(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_a_finite_but_exploded_loss_fails_the_fit_and_keeps_the_fitted_model():
    # The loss reached 5.5e190 (still finite), and the model with R^2 -2e198
    # was returned after a DivergenceWarning.
    X, y = regression()
    reg = DeepRegressor(max_epochs=5, random_state=0).fit(X, y)
    before, n_iter = reg.predict(X), reg.n_iter_
    reg.set_params(optimizer="sgd", learning_rate=10, max_epochs=200)
    with pytest.raises(
        TrainingDivergedError,
        match=r"Training diverged in epoch \d+: the training loss grew to .*, over 10000 "
        r"times the first epoch's .*Lower learning_rate \(it is 10\)",
    ):
        reg.fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)  # the same module, untouched
    assert reg.n_iter_ == n_iter and reg.learning_rate == 10


def test_partial_fit_that_diverges_one_pass_at_a_time_fails():
    # Each call is one epoch: its loss is measured against the network's first epoch.
    X, y = regression(n_samples=100)
    reg = DeepRegressor(optimizer="sgd", learning_rate=10, random_state=0)
    with (
        pytest.raises(TrainingDivergedError, match="over 10000 times the first epoch's"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", DivergenceWarning)  # a call before: "exploded"
        for _ in range(10):
            reg.partial_fit(X, y)
    assert 1 <= reg.n_iter_ < 10 and np.isfinite(reg.predict(X)).all()


def test_a_loss_that_spikes_and_recovers_is_warned_about_not_refused():
    X, y = classification(n_samples=100)
    # The loss rises to about 500 times its first epoch's, then falls below it.
    model = DeepClassifier(
        optimizer="sgd",
        learning_rate=0.3,
        schedule=None,
        max_epochs=20,
        random_state=0,
        **PLAIN_INPUTS,  # X * 10 reaches the first layer as it is
    )
    with pytest.warns(DivergenceWarning, match=r"The training loss exploded to .* in epoch"):
        model.fit(X * 10, y)
    losses = [epoch["train_loss"] for epoch in model.history_]
    assert max(losses) > EXPLOSION_FACTOR * losses[0] and losses[-1] < losses[0]


@pytest.mark.parametrize(
    "losses, diverged",
    [
        ([1.0, 0.5, 0.2], None),
        ([1.0, 50.0, 9e3, 0.1], None),  # noisy, never 1e4 times the first epoch's
        ([1.0, 2e4], "grew to 2e+04, over 10000 times the first epoch's 1"),
        ([1.0, np.inf], "became inf"),
        ([np.nan], "became nan"),
    ],
)
def test_divergence_guard_rule(losses, diverged):
    guard = DivergenceGuard(learning_rate=0.1)
    net = SimpleNamespace(history=History())
    guard.on_train_begin(net)
    try:
        for loss in losses:
            net.history.new_epoch()
            net.history.record("train_loss", loss)
            guard.on_epoch_end(net)
    except TrainingDivergedError as exc:
        assert diverged is not None and diverged in str(exc)
        assert f"epoch {len(losses)}:" in str(exc)
    else:
        assert diverged is None


def test_divergence_guard_of_a_continued_fit_measures_from_the_networks_first_epoch():
    guard = DivergenceGuard(learning_rate=0.1, reference=1.0)
    net = SimpleNamespace(history=History())
    guard.on_train_begin(net)
    net.history.new_epoch()
    net.history.record("train_loss", 2e4)
    with pytest.raises(TrainingDivergedError, match="first epoch's 1"):
        guard.on_epoch_end(net)


@pytest.mark.parametrize(
    "losses, n_before, message",
    [
        ([1.0, 0.5, 0.4], 0, None),
        ([1.0, 150.0, 0.5], 0, r"exploded to 150 in epoch 2 \(epoch 1: 1\)"),
        ([1.0, 0.5, 1.2], 0, r"ended at 1.2, above its first epoch's 1"),
        # a warm start: this fit is epochs 3-4, measured against the network's epoch 1
        ([1.0, 0.01, 0.02, 0.5], 2, r"ended at 0.5, above its first epoch's 0.02"),
        ([1.0, 0.01, 0.02, 0.03], 2, r"ended at 0.03"),
        ([1.0, 0.01, 0.5, 0.4], 2, None),  # 50 times this fit's start, half the network's
        ([1.0, 0.01, 200.0], 2, r"exploded to 200 in epoch 3 \(epoch 1: 1\)"),
    ],
)
def test_unstable_training_warning_rule(losses, n_before, message):
    history = [{"train_loss": loss} for loss in losses]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_unstable(history, n_before, learning_rate=0.1)
    if message is None:
        assert not caught
    else:
        assert len(caught) == 1 and caught[0].category is DivergenceWarning
        assert re.search(message, str(caught[0].message))


def test_stable_training_gives_no_divergence_warning():
    X, y = classification()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        DeepClassifier(max_epochs=20, random_state=0).fit(X, y)


def test_inputs_far_outside_the_training_range_do_not_give_nan_silently():
    X, y = regression()
    reg = DeepRegressor(activation="relu", max_epochs=5, random_state=0)
    reg.fit(X.astype(np.float32), y)
    with pytest.raises(ValueError, match="(non-finite outputs|too large)"):
        reg.predict(np.full((2, X.shape[1]), 3e38))


def test_global_torch_state_is_left_alone_by_a_failed_fit():
    X, y = classification()
    before = torch.random.get_rng_state()
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        DeepClassifier(dropout=2).fit(X, y)
    assert torch.equal(before, torch.random.get_rng_state())


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(activation=nn.Linear), "cannot serve as an activation"),
        (dict(activation=nn.Linear(3, 5)), "must keep the shape of its input"),
        (dict(schedule="plateau", decay_rate=1.5), "decay_rate must be below 1"),
        (dict(batchnorm=True, batch_size=1), "batchnorm=True needs at least 2 rows"),
    ],
)
def test_errors_of_ours_not_torchs(params, message):
    X, y = classification(n_samples=50)
    with pytest.raises(ValueError, match=message):
        DeepClassifier(**params).fit(X, y)


def test_sample_weight_of_the_wrong_length_is_named():
    X, y = classification(n_samples=50)
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(49,\), expected \(50,\)"):
        DeepClassifier(**FAST).fit(X, y, sample_weight=np.ones(49))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_clear_error():
    X, y = classification(n_samples=20)
    with pytest.raises(ValueError, match="torch finds no CUDA device"):
        DeepClassifier(device="cuda", **FAST).fit(X, y)


def test_a_first_epoch_that_starts_almost_right_is_no_reference_for_divergence():
    # One row whose standardized target the untrained output nearly hits: the
    # first epoch's loss is tiny, and ordinary noise after it is not divergence.
    guard = DivergenceGuard(learning_rate=0.1)
    net = SimpleNamespace(history=History())
    guard.on_train_begin(net)
    for loss in (3.68e-8, 0.00625, 0.5):
        net.history.new_epoch()
        net.history.record("train_loss", loss)
        guard.on_epoch_end(net)
    net.history.new_epoch()
    net.history.record("train_loss", 2e4)
    with pytest.raises(TrainingDivergedError, match="the loss scale of an untrained network, 1"):
        guard.on_epoch_end(net)
    # Nor an explosion (the rise above the first epoch's loss is still said).
    history = [{"train_loss": loss} for loss in (3.68e-8, 0.006, 1e-4)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_unstable(history, 0, 0.1)
    assert [str(w.message) for w in caught if "exploded" in str(w.message)] == []
    assert any("ended at 0.0001" in str(w.message) for w in caught)
