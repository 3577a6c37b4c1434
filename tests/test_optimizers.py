"""Every optimizer and schedule does what its name says."""

import math

import numpy as np
import pytest
import torch

from sklearn_dnn import OPTIMIZERS, SCHEDULES, DeepClassifier, DeepRegressor
from sklearn_dnn._engine.schedules import coslog, flat_cos

from ._data import PLAIN_INPUTS, classification, regression

EXPECTED_OPTIMIZER = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "adamw": torch.optim.AdamW,
}


def test_every_optimizer_is_tested():
    assert set(EXPECTED_OPTIMIZER) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_name_builds_that_optimizer_and_lowers_the_loss(name):
    X, y = classification()
    clf = DeepClassifier(
        hidden_layer_sizes=(16,),
        optimizer=name,
        learning_rate=0.01,
        schedule=None,
        max_epochs=15,
        **PLAIN_INPUTS,  # rmsprop at 0.01 is unstable on the embeddings' extra inputs
        tol=0,
        patience=15,
        random_state=0,
    ).fit(X, y)
    assert type(clf.net_.optimizer_) is EXPECTED_OPTIMIZER[name]
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 0.01
    losses = [epoch["train_loss"] for epoch in clf.history_]
    assert losses[-1] < 0.8 * losses[0]


def sgd_run(**params):
    X, y = regression()
    return DeepRegressor(
        hidden_layer_sizes=(16,),
        optimizer="sgd",
        learning_rate=0.005,
        batch_size=50,
        max_epochs=6,
        tol=0,
        patience=10,
        random_state=0,
        **params,
    ).fit(X, y)


def test_momentum_and_nesterov_change_the_trajectory():
    plain = sgd_run(momentum=0.0)
    heavy = sgd_run(momentum=0.9)
    nesterov = sgd_run(momentum=0.9, nesterov=True)
    assert heavy.net_.optimizer_.defaults["momentum"] == 0.9
    assert nesterov.net_.optimizer_.defaults["nesterov"] is True

    def loss(model):
        return [epoch["train_loss"] for epoch in model.history_]

    # Same start, different paths; momentum gets further in the same steps.
    assert loss(plain)[0] != loss(heavy)[0] != loss(nesterov)[0]
    assert loss(heavy)[-1] < loss(plain)[-1]
    assert loss(nesterov)[-1] < loss(plain)[-1]


def test_rmsprop_receives_momentum():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(optimizer="rmsprop", momentum=0.5, max_epochs=1).fit(X, y)
    assert clf.net_.optimizer_.defaults["momentum"] == 0.5


@pytest.mark.parametrize(
    "optimizer_class, expected",
    [(torch.optim.SGD, {"lr": 0.05, "momentum": 0.8}), (torch.optim.ASGD, {"lr": 0.05})],
)
def test_optimizer_class_receives_the_settings_it_accepts(optimizer_class, expected):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        optimizer=optimizer_class, learning_rate=0.05, momentum=0.8, max_epochs=1
    ).fit(X, y)
    assert type(clf.net_.optimizer_) is optimizer_class
    for key, value in expected.items():
        assert clf.net_.optimizer_.defaults[key] == value


# ---------------------------------------------------------------------------
# schedules

LR0, RATE, STEPS, POWER, EPOCHS = 0.01, 0.5, 3, 2.0, 12


def lrs(schedule, **params):
    X, y = regression(n_samples=100)
    settings = dict(
        learning_rate=LR0,
        decay_rate=RATE,
        decay_steps=STEPS,
        power_t=POWER,
        max_epochs=EPOCHS,
        tol=0,
        patience=EPOCHS,
        batch_size=25,
        random_state=0,
    )
    settings.update(params)
    reg = DeepRegressor(hidden_layer_sizes=(8,), schedule=schedule, **settings).fit(X, y)
    return np.array([epoch["lr"] for epoch in reg.history_])


FORMULAS = {
    "exponential": lambda t: LR0 * RATE ** (t / STEPS),
    "step": lambda t: LR0 * RATE ** (t // STEPS),
    "power": lambda t: LR0 / (1 + t / STEPS) ** POWER,
    "cosine": lambda t: LR0 * (1 + math.cos(math.pi * t / EPOCHS)) / 2,
    # Stepped every batch (4 of 25 rows an epoch): epoch t records its last step's rate.
    "coslog": lambda t: LR0 * coslog((4 * t + 3) / (4 * EPOCHS)),
    "flat_cos": lambda t: LR0 * flat_cos((4 * t + 3) / (4 * EPOCHS)),
}


def test_every_schedule_is_tested():
    assert set(FORMULAS) | {"plateau", "onecycle"} == set(SCHEDULES)


def test_no_schedule_keeps_the_rate():
    np.testing.assert_allclose(lrs(None), LR0)


@pytest.mark.parametrize("schedule", sorted(FORMULAS))
def test_schedule_sets_the_rate_its_formula_gives(schedule):
    # history_[t]["lr"] is the rate used during epoch t (counting from 0).
    expected = [FORMULAS[schedule](t) for t in range(EPOCHS)]
    np.testing.assert_allclose(lrs(schedule), expected, rtol=1e-6)


def test_step_schedule_with_boundaries_drops_at_those_epochs():
    got = lrs("step", decay_steps=(2, 7))
    expected = [LR0] * 2 + [LR0 * RATE] * 5 + [LR0 * RATE**2] * 5
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_plateau_schedule_cuts_the_rate_when_the_loss_stalls():
    # At learning_rate=0.5 the loss soon stops improving; after each epoch
    # without improvement (decay_steps=1) the rate is multiplied by RATE.
    got = lrs("plateau", decay_steps=1, learning_rate=0.5, max_epochs=30, patience=30)
    assert got[0] == 0.5
    assert got[-1] < got[0]
    ratios = got[1:][got[1:] != got[:-1]] / got[:-1][got[1:] != got[:-1]]
    np.testing.assert_allclose(ratios, RATE)


def test_onecycle_rises_to_the_peak_then_anneals():
    got = lrs("onecycle", max_epochs=20, patience=20)
    peak = got.argmax()
    assert 0 < peak < len(got) - 1
    assert got[peak] == pytest.approx(LR0, rel=0.1)
    assert got[0] < LR0 / 5 and got[-1] < LR0 / 100
    assert np.all(np.diff(got[: peak + 1]) > 0) and np.all(np.diff(got[peak:]) < 0)


def test_decay_steps_tuple_needs_the_step_schedule():
    X, y = regression(n_samples=30)
    with pytest.raises(ValueError, match="decay_steps may be a tuple"):
        DeepRegressor(schedule="exponential", decay_steps=(2, 3)).fit(X, y)
