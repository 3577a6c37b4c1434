"""warm_start: continues the fitted network, honours what changed, refuses the rest by name."""

import numpy as np
import pytest
import torch

from sklearn_dnn import DeepClassifier, DeepRegressor, TrainingDivergedError

from ._data import FAST, classification, regression

# It continues the fitted network.


def test_warm_start_continues_from_the_current_weights():
    X, y = classification()
    clf = DeepClassifier(warm_start=True, max_epochs=5, tol=0, random_state=0).fit(X, y)
    first_loss = clf.history_[-1]["train_loss"]
    net = clf.net_
    before = {k: v.clone() for k, v in net.module_.state_dict().items()}
    clf.fit(X, y)
    assert clf.n_iter_ == 10
    # the continued fit trained a copy: the first fit's network is untouched
    assert all(torch.equal(v, net.module_.state_dict()[k]) for k, v in before.items())
    assert clf.history_[5]["train_loss"] < clf.history_[0]["train_loss"]
    assert clf.history_[-1]["train_loss"] < first_loss
    clf.set_params(max_epochs=2).fit(X, y)  # a changed max_epochs applies
    assert clf.n_iter_ == 12
    cold = clf.set_params(warm_start=False, max_epochs=5).fit(X, y)
    assert cold.n_iter_ == 5


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "fitted, now",
    [
        ({"hidden_layer_sizes": (8,)}, {"hidden_layer_sizes": [8]}),
        ({"hidden_layer_sizes": (8,)}, {"hidden_layer_sizes": np.array([8])}),
        ({"hidden_layer_sizes": (8,)}, {"hidden_layer_sizes": 8}),
        ({"hidden_layer_sizes": [8, 4]}, {"hidden_layer_sizes": (np.int64(8), 4)}),
        ({"activation": "relu"}, {"activation": torch.nn.ReLU}),
        ({"activation": "relu"}, {"activation": torch.nn.ReLU()}),
        ({"activation": torch.nn.LeakyReLU(0.2)}, {"activation": torch.nn.LeakyReLU(0.2)}),
        ({"ensemble_size": 2}, {"ensemble_size": np.int64(2)}),
        ({"batchnorm": True}, {"batchnorm": np.True_}),
    ],
)
def test_warm_start_continues_an_architecture_given_in_another_form(fitted, now):
    X, y = classification(n_samples=60)
    params = {"hidden_layer_sizes": (8,), "max_epochs": 2, "warm_start": True, "random_state": 0}
    clf = DeepClassifier(**{**params, **fitted}).fit(X, y)
    clf.set_params(**now).fit(X, y)
    assert clf.n_iter_ == 4  # continued, not refused


def test_warm_start_with_onecycle_restarts_the_schedule():
    X, y = classification()
    clf = DeepClassifier(warm_start=True, schedule="onecycle", **FAST).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 10
    lrs = [e["lr"] for e in clf.history_]
    assert lrs[5] > lrs[4]  # the second cycle warms up again


def test_warm_start_unfreezes_after_the_epochs_of_its_own_fit(source_16_16):
    X, y = classification(n_samples=200)
    model = DeepClassifier.from_pretrained(
        source_16_16, unfreeze_after=2, max_epochs=3, warm_start=True, random_state=0
    )
    model.fit(X, y).fit(X, y)
    unfrozen = [e.get("unfrozen", False) for e in model.history_]
    assert unfrozen == [False, True, False, False, True, False]


# It honours the hyperparameters that changed.


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_honours_a_new_class_weight():
    X, y = classification(n_samples=200, n_classes=2)
    clf = DeepClassifier(warm_start=True, **FAST).fit(X, y)
    before = clf.predict_proba(X)[:, 1].mean()
    clf.set_params(class_weight={0: 1.0, 1: 20.0}, batch_size=20).fit(X, y)
    assert clf.predict_proba(X)[:, 1].mean() > before + 0.05


def test_warm_start_trains_at_the_new_learning_rate_and_batch_size():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(warm_start=True, batch_size=50, schedule=None, **FAST).fit(X, y)
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


def test_warm_start_can_switch_early_stopping_both_ways():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(warm_start=True, early_stopping=True, **FAST).fit(X, y)
    clf.set_params(early_stopping=False).fit(X, y)
    assert "valid_loss" not in clf.history_[-1]
    clf.set_params(early_stopping=True, max_epochs=30, patience=2).fit(X, y)
    assert "valid_loss" in clf.history_[-1]
    assert any(e.get("best") for e in clf.history_[10:])  # restored on the validation loss


# It refuses the rest by name, and a failed warm start changes nothing.


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "now, message",
    [
        ({"hidden_layer_sizes": [16]}, r"hidden_layer_sizes \(fitted with \(8,\), now \[16\]\)"),
        (
            {"hidden_layer_sizes": (8, 8)},
            r"hidden_layer_sizes \(fitted with \(8,\), now \(8, 8\)\)",
        ),
        (
            {"activation": torch.nn.LeakyReLU(0.3)},
            r"activation \(fitted with LeakyReLU\(negative_slope=0.2\), now "
            r"LeakyReLU\(negative_slope=0.3\)\)",
        ),
        ({"activation": torch.nn.LeakyReLU}, r"activation \(fitted with LeakyReLU"),
    ],
)
def test_warm_start_refuses_a_changed_architecture_showing_both_values(now, message):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        hidden_layer_sizes=(8,), activation=torch.nn.LeakyReLU(0.2), max_epochs=2, warm_start=True
    ).fit(X, y)
    with pytest.raises(ValueError, match=message):
        clf.set_params(**now).fit(X, y)
    assert clf.n_iter_ == 2


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


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_sees_the_users_objects_changed_in_place():
    X, y = classification(n_samples=60)
    sizes, activation = [8], torch.nn.LeakyReLU(0.2)
    clf = DeepClassifier(
        hidden_layer_sizes=sizes, activation=activation, max_epochs=2, warm_start=True
    ).fit(X, y)
    sizes.append(4)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes \(fitted with \(8,\), now \[8, 4\]"):
        clf.fit(X, y)
    sizes.pop()
    activation.negative_slope = 0.5
    with pytest.raises(ValueError, match=r"changed: activation"):
        clf.fit(X, y)


def test_warm_start_rejects_new_classes():
    X, y = classification(n_classes=3)
    clf = DeepClassifier(warm_start=True, max_epochs=1).fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match=r"labels \[2\] not seen in the first fit"):
        clf.fit(X, y)


def test_rejected_warm_start_keeps_the_regressors_output_shape():
    X, y = regression()
    reg = DeepRegressor(warm_start=True, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="y has 2 outputs"):
        reg.fit(X, np.column_stack([y, y]))
    assert reg.predict(X).shape == (len(X),)


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
