"""Schedules relative to the run, RealMLP's schedules, and selecting the epoch by validation."""

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine import schedules
from sklearn_dnn._engine.callbacks import Stopper
from sklearn_dnn._engine.plan import Stopping, prepare

from ._data import classification, regression
from .test_stopper import run

# ----------------------------------------------------------------------
# the factors of progress


def test_coslog_is_four_cycles_of_growing_length_from_zero_to_zero():
    t = np.linspace(0, 1, 30001)
    f = np.array([schedules.coslog(x) for x in t])
    assert f[0] == pytest.approx(0, abs=1e-12) and f[-1] == pytest.approx(0, abs=1e-12)
    assert f.min() >= 0 and f.max() <= 1
    # Interior local minima (zeros) and the end: 4 minima in (0, 1].
    inner = np.flatnonzero((f[1:-1] < f[:-2]) & (f[1:-1] < f[2:])) + 1
    minima = [*t[inner], 1.0]
    assert len(minima) == 4
    np.testing.assert_allclose(minima, [1 / 15, 3 / 15, 7 / 15, 1.0], atol=1e-4)
    peaks = t[np.flatnonzero((f[1:-1] > f[:-2]) & (f[1:-1] > f[2:])) + 1]
    np.testing.assert_allclose(peaks, (2 ** np.array([0.5, 1.5, 2.5, 3.5]) - 1) / 15, atol=1e-4)
    assert np.all(np.diff(np.diff([0, *minima])) > 0)  # each cycle longer than the last


def test_flat_cos_is_flat_then_a_cosine_to_zero():
    assert schedules.flat_cos(0.0) == schedules.flat_cos(0.5) == 1.0
    assert schedules.flat_cos(0.75) == pytest.approx(0.5)
    assert schedules.flat_cos(1.0) == pytest.approx(0.0, abs=1e-12)


def test_warmup_ramps_linearly_then_holds_and_multiplies_the_schedule():
    factor = schedules.progress_factor(None, warmup=0.2)
    assert [factor(t) for t in (0.0, 0.1, 0.2, 0.6)] == pytest.approx([0, 0.5, 1, 1])
    both = schedules.progress_factor("flat_cos", warmup=0.2)
    assert both(0.1) == pytest.approx(0.5) and both(0.75) == pytest.approx(0.5)
    assert schedules.progress_factor(None, 0.0) is None
    assert schedules.progress_factor("cosine", 0.0) is None  # stepped by torch


class RateLog(Callback):
    """The rate each training step used, the dropout rates and weight-decay factor it saw."""

    def on_train_begin(self, net, **kwargs):
        self.lrs, self.dropouts, self.decays = [], [], []

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.lrs.append(net.optimizer_.param_groups[-1]["lr"])
            self.dropouts.append(net.module_.dropout_rates())
            self.decays.append(net.weight_decay_factor)


def steps_of(Estimator=DeepRegressor, n_samples=100, **params):
    X, y = regression(n_samples=n_samples) if Estimator is DeepRegressor else classification()
    log = RateLog()
    settings = dict(
        hidden_layer_sizes=(8,),
        batch_size=25,
        random_state=0,
        learning_rate=0.01,
        schedule=None,  # each test names its schedule
        early_stopping=False,  # every row trains: 4 batches an epoch
    )
    model = Estimator(callbacks=[("log", log)], **{**settings, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model, dict(model.net_.callbacks_)["log"]  # the fit's copy of the log


def rates(**params):
    model, log = steps_of(**params)
    return model, np.array(log.lrs), np.array(log.dropouts), np.array(log.decays)


@pytest.mark.parametrize("max_epochs", [4, 10])
@pytest.mark.parametrize("schedule", ["coslog", "flat_cos"])
def test_progress_schedules_are_relative_to_the_run(schedule, max_epochs):
    _, lrs, _, _ = rates(schedule=schedule, max_epochs=max_epochs, patience=None)
    n = len(lrs)
    assert n == 4 * max_epochs  # 4 batches an epoch, every epoch trained
    expected = [0.01 * schedules.SCHEDULES[schedule](k / n) for k in range(n)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-6, atol=1e-12)
    # start, middle, end: the same factors, whatever max_epochs is
    if schedule == "flat_cos":
        assert lrs[0] == lrs[n // 2] == pytest.approx(0.01)
    else:
        assert lrs[0] == 0 and lrs[n // 2] == pytest.approx(0.01 * schedules.coslog(0.5))
    assert lrs[-1] < 0.01 * 0.1


@pytest.mark.parametrize("max_epochs", [4, 8])
def test_decay_steps_none_spans_the_run(max_epochs):
    def epoch_lrs(schedule):
        model, *_ = rates(
            schedule=schedule, decay_steps=None, decay_rate=0.1, max_epochs=max_epochs
        )
        return np.array([epoch["lr"] for epoch in model.history_])

    exponential = epoch_lrs("exponential")
    np.testing.assert_allclose(exponential, 0.01 * 0.1 ** (np.arange(max_epochs) / max_epochs))
    step = epoch_lrs("step")
    half = math.ceil(max_epochs / 2)
    np.testing.assert_allclose(step, [0.01] * half + [0.001] * (max_epochs - half))
    power = epoch_lrs("power")
    np.testing.assert_allclose(power, 0.01 / (1 + np.arange(max_epochs) / (max_epochs / 10)))


def test_warmup_alone_and_with_a_schedule_torch_steps():
    _, lrs, _, _ = rates(warmup=0.5, max_epochs=4, patience=None)
    np.testing.assert_allclose(lrs[:8], 0.01 * np.arange(8) / 8)
    np.testing.assert_allclose(lrs[8:], 0.01)
    model, lrs, _, _ = rates(warmup=0.25, schedule="cosine", max_epochs=4)
    cosine = 0.01 * (1 + np.cos(np.pi * np.arange(4) / 4)) / 2
    np.testing.assert_allclose(lrs[:4], cosine[0] * np.arange(4) / 4)  # multiplied
    np.testing.assert_allclose(lrs[4:], np.repeat(cosine[1:], 4))
    # The history records each epoch's last step's rate; torch's schedule is unchanged.
    assert model.history_[0]["lr"] == pytest.approx(cosine[0] * 3 / 4)
    np.testing.assert_allclose([e["lr"] for e in model.history_[1:]], cosine[1:])


def test_dropout_follows_flat_cos_during_training_and_is_restored_after():
    model, _, dropouts, decays = rates(
        dropout=0.4,
        hidden_layer_sizes=(8, 8),
        activation="tanh",  # no unit silent on every sample: each row's MC spread is > 0
        dropout_schedule="flat_cos",
        weight_decay_schedule="flat_cos",
        max_epochs=6,
    )
    n = len(dropouts)
    assert n == 24 and dropouts.shape == (24, 2)
    expected = 0.4 * np.array([schedules.flat_cos(k / n) for k in range(n)])
    np.testing.assert_allclose(dropouts, np.column_stack([expected, expected]))
    assert dropouts[: n // 2].min() == pytest.approx(0.4) and dropouts[-1, 0] < 0.01
    np.testing.assert_allclose(decays, expected / 0.4)  # the attribute follows the schedule
    assert model.module_.dropout_rates() == [0.4, 0.4]  # for prediction, MC dropout
    assert model.net_.weight_decay_factor == 1.0
    X, _ = regression(n_samples=20)
    report = model.predict_uncertainty(X, method="dropout", n_samples=8)
    assert np.all(np.asarray(report.std) > 0)


def test_without_the_schedules_the_rates_are_constant():
    _, lrs, dropouts, decays = rates(dropout=0.2, max_epochs=3)
    np.testing.assert_allclose(lrs, 0.01)
    np.testing.assert_allclose(dropouts, 0.2)
    np.testing.assert_allclose(decays, 1.0)


def test_bad_values_are_refused_by_name():
    X, y = regression(n_samples=30)
    for name, value in [
        ("warmup", 1.0),
        ("dropout_schedule", "cosine"),
        ("weight_decay_schedule", "coslog"),
        ("best_epoch", "best"),
        ("patience", 0),
    ]:
        with pytest.raises(ValueError, match=name):
            DeepRegressor(**{name: value}).fit(X, y)


# ----------------------------------------------------------------------
# selecting the epoch


@pytest.mark.parametrize(("best_epoch", "kept"), [("first", 2), ("last", 4)])
def test_best_epoch_picks_the_first_or_the_last_of_tied_epochs(best_epoch, kept):
    stopper = Stopper("valid_score", 10, 0.0, restore_best=True, best_epoch=best_epoch)
    net, _ = run(stopper, [0.5, 0.9, 0.8, 0.9, 0.7], key="valid_score")
    assert stopper.best_epoch_ == kept
    assert net.module_.weight.item() == kept  # those weights restored
    assert [epoch.get("best", False) for epoch in net.history] == [
        epoch == kept for epoch in range(1, 6)
    ]


def test_patience_none_never_stops():
    stopper = Stopper("valid_loss", None, 0.0, restore_best=True)
    net, _ = run(stopper, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    assert len(net.history) == 12 and not stopper.stopped_
    assert stopper.best_epoch_ == 1 and net.module_.weight.item() == 1


def test_a_schedule_that_spans_the_run_fixes_the_budget_in_the_plan():
    X, y = classification()
    for params, spans in [
        ({}, True),  # the default cosine schedule
        ({"schedule": None}, False),
        ({"schedule": "exponential", "decay_steps": 10}, False),
        ({"schedule": "exponential", "decay_steps": None}, True),
        ({"schedule": "plateau", "decay_steps": None}, False),
        ({"schedule": "onecycle"}, True),
        ({"schedule": "coslog"}, True),
        ({"schedule": None, "warmup": 0.1}, True),
        ({"schedule": None, "dropout": 0.1, "dropout_schedule": "flat_cos"}, True),
    ]:
        plan = prepare(DeepClassifier(**params), X, y, None)
        assert (plan.stopping.patience is None) == spans, params
    assert Stopping.for_fit(True, None, 5, 0.0, spans_run=True).restore_best


def test_patience_none_trains_max_epochs_and_restores_the_best():
    X, y = classification()
    clf = DeepClassifier(
        hidden_layer_sizes=(16,), learning_rate=0.05, max_epochs=25, patience=None, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == len(clf.history_) == 25
    best = [i for i, epoch in enumerate(clf.history_) if epoch.get("best")]
    losses = [epoch["valid_loss"] for epoch in clf.history_]
    assert best == [int(np.argmin(losses))]


def test_onecycle_with_early_stopping_runs_every_epoch_and_restores_the_best():
    X, y = classification()
    params = dict(hidden_layer_sizes=(16,), learning_rate=0.05, max_epochs=30, random_state=0)
    plain = DeepClassifier(patience=2, early_stopping=True, schedule=None, **params).fit(X, y)
    assert plain.n_iter_ < 30  # without the schedule, patience stops it early
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # annealed: converged
        clf = DeepClassifier(schedule="onecycle", patience=2, early_stopping=True, **params)
        clf.fit(X, y)
    assert clf.n_iter_ == len(clf.history_) == 30
    assert [e["epoch"] for e in clf.history_] == list(range(1, 31))
    losses = [epoch["valid_loss"] for epoch in clf.history_]
    best = [i for i, epoch in enumerate(clf.history_) if epoch.get("best")]
    assert best == [int(np.argmin(losses))]


def test_a_fit_that_annealed_gives_no_convergence_warning():
    X, y = regression(n_samples=100)
    params = dict(hidden_layer_sizes=(8,), max_epochs=5, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning):  # a constant rate, still falling
        DeepRegressor(patience=None, schedule=None, **params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for schedule in ("cosine", "coslog", "flat_cos", "onecycle"):
            DeepRegressor(schedule=schedule, **params).fit(X, y)
    assert schedules.anneals("exponential", 0.1, None, 1.0, 50) is False  # ends at lr0 / 10
    assert schedules.anneals("exponential", 0.001, None, 1.0, 50) is True
