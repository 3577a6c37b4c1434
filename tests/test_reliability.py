"""Never a wrong answer: all-or-nothing fits, honest warm starts, thread safety."""

import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_dnn import DeepClassifier, DeepRegressor, TrainingDivergedError
from sklearn_dnn._net import TensorData

from ._data import classification, regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=5, random_state=0)


def interrupting_activation(after_steps):
    """An activation class that raises KeyboardInterrupt in the given training step."""
    calls = {"n": 0}

    class Interrupt(nn.ReLU):
        def forward(self, x):
            if x.requires_grad:
                calls["n"] += 1
                if calls["n"] == after_steps:
                    raise KeyboardInterrupt
            return super().forward(x)

    return Interrupt


def in_threads(function, n_threads):
    results = [None] * n_threads

    def run(i):
        results[i] = function(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# ----------------------------------------------------------------------
# threads


def test_predict_during_sampling_in_another_thread_equals_sequential_predict():
    X, y = classification(n_samples=300)
    clf = DeepClassifier(dropout=0.5, **FAST).fit(X, y)
    expected = clf.predict_proba(X)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            clf.predict_uncertainty(X, n_samples=50)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        results = in_threads(lambda i: [clf.predict_proba(X) for _ in range(20)], 4)
    finally:
        stop.set()
        sampler.join()
    for per_thread in results:
        for proba in per_thread:
            np.testing.assert_array_equal(proba, expected)


def test_seeded_sampling_from_threads_equals_sequential_sampling():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(dropout=0.3, **FAST).fit(X, y)
    expected = clf.predict_uncertainty(X, n_samples=30, random_state=7).mean
    results = in_threads(lambda i: clf.predict_uncertainty(X, n_samples=30, random_state=7), 4)
    for result in results:
        np.testing.assert_array_equal(result.mean, expected)


def test_seeded_fits_in_threads_equal_sequential_fits():
    X, y = classification(n_samples=200)
    model = DeepClassifier(dropout=0.2, hidden_layer_sizes=(32,), max_epochs=8, random_state=3)
    expected = clone(model).fit(X, y).predict_proba(X)
    results = in_threads(lambda i: clone(model).fit(X, y).predict_proba(X), 2)
    for proba in results:
        np.testing.assert_array_equal(proba, expected)


def test_fit_and_sampling_leave_torch_global_random_state_alone():
    X, y = classification()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    clf = DeepClassifier(dropout=0.2, **FAST).fit(X, y)
    clf.predict_uncertainty(X, n_samples=5)
    np.testing.assert_array_equal(torch.rand(3), expected)


# ----------------------------------------------------------------------
# failed fits change nothing


def test_failed_refit_leaves_the_previous_model_exactly_as_it_was():
    X, y = classification()
    clf = DeepClassifier(**FAST).fit(X, y)
    proba, classes, net = clf.predict_proba(X), clf.classes_, clf.net_
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X[:, :5], np.linspace(0, 1, len(X)))  # other features, continuous labels
    assert clf.net_ is net and clf.classes_ is classes and clf.n_features_in_ == X.shape[1]
    check_is_fitted(clf)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_failed_first_fit_leaves_the_estimator_unfitted():
    X, y = classification()
    clf = DeepClassifier(**FAST)
    with pytest.raises(ValueError):
        clf.fit(X, ["a"] * len(X))
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("Estimator", [DeepClassifier, DeepRegressor])
def test_diverged_warm_start_keeps_the_fitted_weights(Estimator):
    X, y = (classification if Estimator is DeepClassifier else regression)(n_samples=100)
    model = Estimator(warm_start=True, activation="relu", **FAST).fit(X, y)
    before = model.predict(X)
    model.set_params(optimizer="sgd", learning_rate=1e3)
    with pytest.raises(TrainingDivergedError):
        model.fit(X * 1e300, y)
    np.testing.assert_array_equal(model.predict(X), before)
    assert model.n_iter_ == len(model.history_) == 5


def test_rejected_warm_start_keeps_the_regressors_output_shape():
    X, y = regression()
    reg = DeepRegressor(warm_start=True, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="y has 2 outputs"):
        reg.fit(X, np.column_stack([y, y]))
    assert reg.predict(X).shape == (len(X),)


def test_keyboard_interrupt_propagates_and_keeps_the_previous_model():
    X, y = classification()
    clf = DeepClassifier(**FAST).fit(X, y)
    proba, net = clf.predict_proba(X), clf.net_
    clf.set_params(activation=interrupting_activation(after_steps=3))
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.net_ is net
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    fresh = DeepClassifier(**{**FAST, "activation": interrupting_activation(after_steps=3)})
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X, y)
    assert not hasattr(fresh, "net_")


def test_keyboard_interrupt_stops_a_search():
    X, y = classification()
    model = DeepClassifier(**{**FAST, "activation": interrupting_activation(after_steps=3)})
    search = GridSearchCV(model, {"learning_rate": [1e-3, 1e-2]}, cv=2)
    with pytest.raises(KeyboardInterrupt):
        search.fit(X, y)


# ----------------------------------------------------------------------
# warm start honours what changed, or refuses it by name


def test_warm_start_trains_at_the_new_learning_rate_and_batch_size():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(warm_start=True, batch_size=50, **FAST).fit(X, y)
    clf.set_params(learning_rate=1e-4, batch_size=100, max_epochs=2).fit(X, y)
    assert [e["lr"] for e in clf.history_[5:]] == [1e-4, 1e-4]
    assert [e["train_batch_count"] for e in clf.history_] == [4] * 5 + [2] * 2
    assert clf.net_.optimizer_.param_groups[-1]["lr"] == 1e-4


def test_warm_start_applies_a_new_penalty_and_dropout():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(warm_start=True, **FAST).fit(X, y)
    clf.set_params(l2=10.0, dropout=0.5, max_epochs=1).fit(X, y)
    assert clf.net_.l2 == 10.0
    assert clf.module_.dropout_rates() == [0.5]
    # a huge penalty dominates the training objective of the continued epoch
    assert clf.history_[-1]["train_penalty"] > 10 * clf.history_[-2]["train_penalty"]
    assert clf.history_[-1]["train_penalty"] > 10 * clf.history_[-1]["train_loss"]


@pytest.mark.parametrize(
    "param, value",
    [("hidden_layer_sizes", (8,)), ("activation", "tanh"), ("batchnorm", True)],
)
def test_warm_start_refuses_a_changed_architecture_by_name(param, value):
    X, y = classification()
    clf = DeepClassifier(warm_start=True, **FAST).fit(X, y)
    net = clf.net_
    with pytest.raises(ValueError, match=rf"architecture cannot change; changed: {param}"):
        clf.set_params(**{param: value}).fit(X, y)
    assert clf.net_ is net


def test_warm_start_with_onecycle_restarts_the_schedule():
    X, y = classification()
    clf = DeepClassifier(warm_start=True, schedule="onecycle", **FAST).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 10
    lrs = [e["lr"] for e in clf.history_]
    assert lrs[5] > lrs[4]  # the second cycle warms up again


def test_warm_start_can_switch_early_stopping_both_ways():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(warm_start=True, early_stopping=True, **FAST).fit(X, y)
    clf.set_params(early_stopping=False).fit(X, y)
    assert "valid_loss" not in clf.history_[-1]
    clf.set_params(early_stopping=True, max_epochs=30, patience=2).fit(X, y)
    assert "valid_loss" in clf.history_[-1]
    assert any(e.get("best") for e in clf.history_[10:])  # restored on the validation loss


# ----------------------------------------------------------------------
# transfer: frozen means untouched by everything


@pytest.fixture(scope="module")
def source():
    X, y = classification(n_samples=200)
    return DeepClassifier(hidden_layer_sizes=(16, 16), max_epochs=5, random_state=0).fit(X, y)


def test_max_norm_leaves_frozen_layers_untouched(source):
    X, y = classification(n_samples=200)
    model = DeepClassifier.from_pretrained(source, max_norm=0.01, max_epochs=3, random_state=0)
    model.fit(X, y)
    for i in range(2):
        np.testing.assert_array_equal(
            model.module_.hidden[i].linear.weight.detach(),
            source.module_.hidden[i].linear.weight.detach(),
        )
    head = model.module_.output.weight.detach()
    assert head.norm(dim=1).max() > 0.01  # max-norm is for hidden layers only


def test_from_pretrained_reports_the_source_architecture_and_refuses_other_values(source):
    model = DeepClassifier.from_pretrained(source)
    params = model.get_params()
    assert params["hidden_layer_sizes"] == (16, 16)
    assert params["activation"] == "relu" and params["dropout"] == 0.0
    with pytest.raises(ValueError, match=r"\['dropout', 'hidden_layer_sizes'\] cannot be set"):
        DeepClassifier.from_pretrained(source, dropout=0.5, hidden_layer_sizes=(4,))
    X, y = classification(n_samples=50)
    with pytest.raises(ValueError, match="these differ: hidden_layer_sizes"):
        model.set_params(hidden_layer_sizes=(8,)).fit(X, y)


# ----------------------------------------------------------------------
# small data, and errors of ours instead of torch's


def test_early_stopping_on_twelve_rows_of_three_classes():
    X, y = classification(n_samples=12, n_classes=3)
    clf = DeepClassifier(early_stopping=True, **FAST).fit(X, y)
    assert "valid_loss" in clf.history_[0]


def test_regressor_refuses_a_one_row_validation_set():
    X, y = regression(n_samples=10)
    with pytest.raises(ValueError, match="The validation set is too small"):
        DeepRegressor(early_stopping=True, validation_fraction=0.1).fit(X, y)


def test_stratified_validation_split_keeps_the_class_ratio():
    # With constant inputs the network predicts one class for every row, so
    # the validation accuracy is that class's share of the validation set:
    # exactly 0.8 when the split is stratified, whatever the seed.
    y = np.array([0] * 80 + [1] * 20)
    X = np.zeros((100, 2))
    scores = set()
    for seed in range(5):
        clf = DeepClassifier(
            hidden_layer_sizes=(),
            early_stopping=True,
            validation_fraction=0.2,
            max_epochs=20,
            learning_rate=0.1,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, y)
        scores.add(clf.history_[-1]["valid_score"])
    assert scores == {0.8}


def test_batches_come_in_a_new_order_every_epoch():
    # A network that barely learns (rate 1e-12) gives every row the same
    # hidden pre-activation in every epoch: the spy reads the batch order off it.
    first_batches = []

    class Spy(nn.Identity):
        def forward(self, x):
            if x.requires_grad:
                first_batches.append(x.detach()[:, 0].clone())
            return x

    X, y = classification(n_samples=40)
    DeepClassifier(
        hidden_layer_sizes=(4,),
        activation=Spy,
        optimizer="sgd",
        learning_rate=1e-12,
        batch_size=40,
        max_epochs=3,
        patience=5,
        random_state=0,
    ).fit(X, y)
    epochs = [batch.numpy().round(6) for batch in first_batches]
    assert len(epochs) == 3
    assert sorted(epochs[0]) == pytest.approx(sorted(epochs[1]))  # the same rows
    assert not np.array_equal(epochs[0], epochs[1])  # in another order
    assert not np.array_equal(epochs[1], epochs[2])


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


@pytest.mark.parametrize("scale", [1e-50, 1e50, 1e15])
@pytest.mark.parametrize("Estimator", [DeepClassifier, DeepRegressor])
def test_rescaled_sample_weights_give_the_same_model(Estimator, scale):
    X, y = (classification if Estimator is DeepClassifier else regression)(n_samples=100)
    X = X.astype(np.float32)
    weight = np.linspace(0.5, 2.0, len(X))
    reference = Estimator(**FAST).fit(X, y, sample_weight=weight).predict(X)
    rescaled = Estimator(**FAST).fit(X, y, sample_weight=weight * scale).predict(X)
    np.testing.assert_allclose(rescaled, reference, rtol=1e-4, atol=1e-4)


def test_predict_uncertainty_raises_on_non_finite_outputs_like_predict():
    X, y = regression()
    reg = DeepRegressor(activation="relu", dropout=0.2, **FAST).fit(X.astype(np.float32), y)
    far = np.full((2, X.shape[1]), 3e38)
    with pytest.raises(ValueError, match="non-finite outputs"):
        reg.predict(far)
    with pytest.raises(ValueError, match="non-finite outputs"):
        reg.predict_uncertainty(far, n_samples=5)


def test_batchnorm_trains_on_batches_of_two_rows():
    X, y = classification(n_samples=20)
    clf = DeepClassifier(batchnorm=True, batch_size=2, **FAST).fit(X, y)
    assert clf.history_[0]["train_batch_count"] == 10


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_clear_error():
    X, y = classification(n_samples=20)
    with pytest.raises(ValueError, match="torch finds no CUDA device"):
        DeepClassifier(device="cuda", **FAST).fit(X, y)


def test_training_stops_after_patience_epochs_without_improvement():
    # A rate of 1e-12 changes nothing, and tol=1 makes no epoch an
    # improvement: the first epoch sets the best loss, then `patience`
    # epochs without improvement end the fit (scikit-learn's rule).
    X, y = classification(n_samples=50)
    for patience in (1, 3):
        clf = DeepClassifier(
            optimizer="sgd", learning_rate=1e-12, tol=1.0, patience=patience, max_epochs=50
        ).fit(X, y)
        assert clf.n_iter_ == patience + 1


def test_warm_start_unfreezes_after_the_epochs_of_its_own_fit(source):
    X, y = classification(n_samples=200)
    model = DeepClassifier.from_pretrained(
        source, unfreeze_after=2, max_epochs=3, warm_start=True, random_state=0
    )
    model.fit(X, y).fit(X, y)
    unfrozen = [e.get("unfrozen", False) for e in model.history_]
    assert unfrozen == [False, True, False, False, True, False]


def test_batchnorm_folds_a_last_single_row_into_the_batch_before():
    X, y = classification(n_samples=51)
    clf = DeepClassifier(batchnorm=True, batch_size=50, **FAST).fit(X, y)
    assert clf.history_[0]["train_batch_count"] == 1


def test_predict_uncertainty_draws_100_samples_by_default():
    X, y = regression(n_samples=30)
    reg = DeepRegressor(dropout=0.2, **FAST).fit(X, y)
    assert reg.predict_uncertainty(X, return_samples=True).samples.shape == (100, 30)


def test_convergence_warning_only_while_the_loss_still_falls():
    X, y = classification(n_samples=50)
    still_falling = DeepClassifier(early_stopping=False, max_epochs=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match="still falling by more than tol"):
        still_falling.fit(X, y)
    flat = DeepClassifier(
        early_stopping=False, optimizer="sgd", learning_rate=1e-12, max_epochs=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        flat.fit(X, y)  # max_epochs ended it, but more epochs would not help


def test_sample_weight_of_the_wrong_length_is_named():
    X, y = classification(n_samples=50)
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(49,\), expected \(50,\)"):
        DeepClassifier(**FAST).fit(X, y, sample_weight=np.ones(49))


def test_dataset_rows_match_the_batches():
    X, y = classification(n_samples=20)
    data = TensorData(torch.as_tensor(X), torch.as_tensor(y), None, torch.tensor([3, 7]))
    x_row, (y_row, weight) = data[1]
    assert torch.equal(x_row, torch.as_tensor(X[7])) and int(y_row) == y[7] and weight is None


def test_auto_batch_size_is_200_rows():
    X, y = classification(n_samples=201)
    clf = DeepClassifier(early_stopping=False, **FAST).fit(X, y)
    assert clf.history_[0]["train_batch_count"] == 2


def test_one_monte_carlo_sample_is_allowed():
    X, y = regression(n_samples=30)
    reg = DeepRegressor(dropout=0.2, **FAST).fit(X, y)
    result = reg.predict_uncertainty(X, n_samples=1, return_samples=True)
    assert result.samples.shape == (1, 30) and np.all(result.std == 0)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        reg.predict_uncertainty(X, n_samples=0)
