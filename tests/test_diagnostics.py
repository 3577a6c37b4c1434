"""diagnostics=True: gradient norms, dead units, health warnings, the range test, plots."""

import sys
import warnings

import matplotlib
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping, LRScheduler
from torch import nn
from torch.optim.lr_scheduler import StepLR

from sklearn_dnn import MLP, DeepClassifier, DeepRegressor, GradientHealthWarning
from sklearn_dnn._diagnostics import dead_unit_fractions, gradient_health_problems
from sklearn_dnn._lr_finder import LearningRateFinder, RangeTestResult

from ._data import PLAIN_INPUTS, classification, regression

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def fit_quietly(estimator, X, y):
    """Fit, returning the GradientHealthWarnings raised (other warnings ignored)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", GradientHealthWarning)
        estimator.fit(X, y)
    return [str(w.message) for w in caught if w.category is GradientHealthWarning]


def input_to_output_ratio(estimator):
    means = estimator.gradient_norms_.mean(axis=0)
    return means[0] / means[-1]


def deep(activation, initializer="auto", **params):
    settings = dict(
        hidden_layer_sizes=(32,) * 10,
        activation=activation,
        initializer=initializer,
        batch_size=50,
        max_epochs=3,
        diagnostics=True,
        random_state=0,
    )
    return DeepClassifier(**{**settings, **params})


# ----------------------------------------------------------------------
# gradient norms and the health warning
def test_deep_sigmoid_gradients_vanish_and_warn_where_relu_with_he_does_not():
    X, y = classification()
    sigmoid, relu = deep("sigmoid"), deep("relu", "he_uniform")
    sigmoid_warnings, relu_warnings = fit_quietly(sigmoid, X, y), fit_quietly(relu, X, y)
    assert input_to_output_ratio(sigmoid) * 10 <= input_to_output_ratio(relu)
    assert len(sigmoid_warnings) == 1
    message = sigmoid_warnings[0]
    assert "vanish" in message and "Linear layer 1 of 11 (the input layer)" in message
    assert f"{input_to_output_ratio(sigmoid):.2g} times" in message
    for remedy in ("He initialization", "selu", "batchnorm=True"):
        assert remedy in message
    assert relu_warnings == []


def test_gradient_norms_have_one_row_per_epoch_and_one_column_per_linear_layer():
    X, y = classification()
    clf = deep("relu", hidden_layer_sizes=(16, 8), max_epochs=4, tol=0)
    fit_quietly(clf, X, y)
    assert clf.gradient_norms_.shape == (clf.n_iter_, 3) == (4, 3)
    assert np.all(clf.gradient_norms_ > 0) and np.all(np.isfinite(clf.gradient_norms_))
    np.testing.assert_array_equal(
        clf.gradient_norms_, [epoch["gradient_norms"] for epoch in clf.history_]
    )
    assert clf.dead_units_.shape == (2,)
    assert np.all((0 <= clf.dead_units_) & (clf.dead_units_ <= 1))


def test_the_epoch_in_which_training_stops_early_is_recorded_too():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        hidden_layer_sizes=(8,),
        tol=10.0,
        patience=2,
        max_epochs=50,
        schedule=None,  # a constant rate stops on patience
        diagnostics=True,
        random_state=0,
    )
    fit_quietly(clf, X, y)
    assert clf.n_iter_ == 3
    assert np.isfinite(clf.gradient_norms_).all()


def first_batch_norms(**params):
    # One batch holding every row: epoch 1's norm is that of the initial weights.
    X, y = regression(n_samples=64)
    reg = DeepRegressor(
        hidden_layer_sizes=(16, 16),
        batch_size=64,
        max_epochs=1,
        diagnostics=True,
        random_state=0,
        **params,
    )
    fit_quietly(reg, X, y)
    return reg.gradient_norms_[0]


def test_norms_leave_out_the_penalties_and_are_taken_before_clipping():
    plain = first_batch_norms(l2=0.0)
    np.testing.assert_allclose(first_batch_norms(l2=1.0, l1=0.1), plain, rtol=1e-6)
    np.testing.assert_allclose(first_batch_norms(l2=0.0, clip_grad_norm=1e-3), plain, rtol=1e-12)
    assert plain.min() > 1e-3


def test_attributes_exist_only_with_diagnostics_on():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    fit_quietly(clf, X, y)
    assert not hasattr(clf, "gradient_norms_") and not hasattr(clf, "dead_units_")
    assert "gradient_norms" not in clf.history_[-1]
    fit_quietly(clf.set_params(diagnostics=True), X, y)
    assert clf.gradient_norms_.shape == (2, 2)
    fit_quietly(clf.set_params(diagnostics=False), X, y)
    assert not hasattr(clf, "gradient_norms_") and not hasattr(clf, "dead_units_")


def test_warm_start_that_switches_diagnostics_on_marks_earlier_epochs_nan():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=2, warm_start=True, random_state=0)
    fit_quietly(clf, X, y)
    fit_quietly(clf.set_params(diagnostics=True), X, y)
    assert clf.gradient_norms_.shape == (4, 2)
    assert np.isnan(clf.gradient_norms_[:2]).all() and np.isfinite(clf.gradient_norms_[2:]).all()


def test_frozen_layers_are_nan_and_raise_no_warning():
    X, y = classification(n_samples=80)
    source = DeepClassifier(hidden_layer_sizes=(16, 16), max_epochs=2, random_state=0)
    fit_quietly(source, X, y)
    model = DeepClassifier.from_pretrained(source, diagnostics=True, max_epochs=2, random_state=0)
    assert fit_quietly(model, X, y) == []
    assert np.isnan(model.gradient_norms_[:, :2]).all()
    assert np.isfinite(model.gradient_norms_[:, 2]).all()


def test_verbose_table_leaves_the_norms_out_and_verbose_zero_prints_nothing(capsys):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=2, diagnostics=True, random_state=0)
    fit_quietly(clf, X, y)
    assert capsys.readouterr().out == ""
    fit_quietly(clf.set_params(verbose=1), X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "gradient_norms" not in out
    # header, rule, one row per epoch, the closing line
    assert len(out.strip().splitlines()) == 2 + 2 + 1


def test_health_check_reports_exploding_gradients():
    growing = np.array([[1.0, 1.0], [10.0, 1.0], [5e3, 2.0]])
    (problem,) = gradient_health_problems(growing, np.zeros(1), learning_rate=0.5)
    assert "explode" in problem and "Linear layer 1 of 2 (the input layer)" in problem
    assert "epoch 3" in problem and "5e+03 times" in problem
    assert "clip_grad_norm" in problem and "learning_rate (it is 0.5)" in problem
    infinite = np.array([[1.0, 1.0], [1.0, np.inf]])
    (problem,) = gradient_health_problems(infinite, np.zeros(1), learning_rate=0.5)
    assert "Linear layer 2 of 2 (the output layer) became infinite" in problem
    steep = np.array([[5e3, 1.0]])
    (problem,) = gradient_health_problems(steep, np.zeros(1), learning_rate=0.5)
    assert "explode toward the input" in problem
    assert gradient_health_problems(np.array([[0.5, 1.0]]), np.zeros(1), 0.5) == []


# ----------------------------------------------------------------------
# dead units
def test_leaky_relu_reports_no_dead_units_where_relu_has_them():
    X = torch.as_tensor(np.abs(classification(n_samples=100)[0]))
    for activation, expected in (("relu", 0.5), ("leaky_relu", 0.0)):
        module = MLP(10, (8, 8), 3, activation=activation, dtype=torch.float64)
        with torch.no_grad():
            # X >= 0: units 1-4 never fire, units 5-8 always do.
            module.hidden[0].linear.weight[0, :4] = -1.0  # (members, units, inputs)
            module.hidden[0].linear.weight[0, 4:] = 1.0
        assert dead_unit_fractions(module, X)[0] == expected


def test_fitted_leaky_relu_network_has_no_dead_units():
    X, y = classification()
    clf = deep("leaky_relu", hidden_layer_sizes=(32,) * 4, learning_rate=0.05, max_epochs=5)
    assert fit_quietly(clf, X, y) == []
    np.testing.assert_array_equal(clf.dead_units_, np.zeros(4))


def test_a_dead_layer_raises_a_warning_naming_it():
    X, y = classification(n_samples=100)
    X = np.abs(X)
    clf = DeepClassifier(
        hidden_layer_sizes=(8, 8),
        initializer=lambda weight: nn.init.constant_(weight, -1.0),
        max_epochs=2,
        diagnostics=True,
        random_state=0,
        **PLAIN_INPUTS,  # the positive inputs reach the first layer as they are
    )
    problems = fit_quietly(clf, X, y)
    # Layer 1 never fires, so layer 2 only ever sees zeros: both are dead.
    np.testing.assert_array_equal(clf.dead_units_, [1.0, 1.0])
    dead = [p for p in problems if "mostly dead" in p]
    assert len(dead) == 2
    assert dead[0].startswith("Hidden layer 1 of 2 is mostly dead: 100%")
    assert dead[1].startswith("Hidden layer 2 of 2 is mostly dead: 100%")
    assert "leaky_relu" in dead[0]


def test_dead_units_use_eval_mode_and_leave_the_module_unchanged():
    X = torch.as_tensor(classification(n_samples=50)[0])
    module = MLP(10, (8,), 3, batchnorm=True, dropout=0.5, dtype=torch.float64).train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    fractions = [dead_unit_fractions(module, X)[0] for _ in range(2)]
    assert fractions[0] == fractions[1]
    assert module.training
    for key, value in module.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert all(p.grad is None for p in module.parameters())


# ----------------------------------------------------------------------
# the learning-rate range test
def test_range_test_lrs_grow_exponentially_and_the_suggestion_is_sane():
    X, y = classification(n_samples=300)
    clf = DeepClassifier(hidden_layer_sizes=(32, 32), batch_size=32, random_state=0)
    result = clf.find_learning_rate(X, y, start_lr=1e-6, end_lr=1.0, n_steps=100)
    assert type(result) is RangeTestResult
    assert LearningRateFinder is RangeTestResult  # the former name, kept
    assert repr(result).startswith(f"RangeTestResult(suggestion={result.suggestion:.3g}, ")
    assert np.all(np.diff(result.lrs) > 0)
    assert result.lrs[0] == pytest.approx(1e-6)
    np.testing.assert_allclose(np.diff(np.log(result.lrs)), np.log(1e6) / 99, rtol=1e-6)
    assert len(result.losses) == len(result.lrs) <= 100
    assert 1e-4 <= result.suggestion <= 1e-1
    assert result.suggestion == pytest.approx(result.lrs[np.argmin(result.smoothed_losses)] / 10)


def test_range_test_stops_when_the_loss_explodes():
    X, y = regression(n_samples=200)
    reg = DeepRegressor(optimizer="sgd", batch_size=20, random_state=0)
    result = reg.find_learning_rate(X, y, start_lr=1e-4, end_lr=100.0, n_steps=100)
    assert len(result.lrs) < 100
    assert np.all(np.isfinite(result.losses))
    smoothed, best = result.smoothed_losses, np.minimum.accumulate(result.smoothed_losses)
    assert smoothed[-1] > 4 * best[-1]
    assert np.all(smoothed[:-1] <= 4 * best[:-1])


def test_range_test_stops_at_the_first_non_finite_loss():
    X, y = regression(n_samples=100)
    X = X.astype(np.float32) * 1e4  # float32 overflows to inf, then nan
    reg = DeepRegressor(optimizer="sgd", batch_size=10, random_state=0)
    result = reg.find_learning_rate(X, y, start_lr=1e-3, end_lr=1e4, n_steps=60, stop_factor=1e30)
    assert 2 <= len(result.lrs) < 60
    assert np.all(np.isfinite(result.losses)) and result.losses[-1] > 1e20


def test_range_test_leaves_out_the_users_lr_schedulers_and_early_stopping():
    X, y = classification(n_samples=60)
    callbacks = [
        LRScheduler(StepLR, step_size=1, gamma=0.1, step_every="batch"),  # would bend the ramp
        ("stop", EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)),  # would end it
    ]
    clf = DeepClassifier(
        hidden_layer_sizes=(8,), batch_size=20, callbacks=callbacks, random_state=0
    )
    result = clf.find_learning_rate(X, y, start_lr=1e-4, end_lr=1e-2, n_steps=12)
    np.testing.assert_allclose(result.lrs, np.geomspace(1e-4, 1e-2, 12), rtol=1e-9)


def test_range_test_leaves_the_estimator_unfitted_and_unchanged():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(hidden_layer_sizes=(8,), batch_size=20, random_state=0)
    before = dict(vars(clf))
    first = clf.find_learning_rate(X, y, n_steps=20)
    assert vars(clf) == before
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    second = clf.find_learning_rate(X, y, n_steps=20)
    np.testing.assert_array_equal(first.losses, second.losses)


def test_range_test_on_a_fitted_estimator_leaves_it_as_it_was():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    fit_quietly(clf, X, y)
    proba, net = clf.predict_proba(X), clf.net_
    clf.find_learning_rate(X, y, n_steps=10)
    assert clf.net_ is net
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"start_lr": 1.0, "end_lr": 0.1}, "0 < start_lr < end_lr"),
        ({"start_lr": 0.0}, "0 < start_lr < end_lr"),
        ({"n_steps": 1}, "n_steps must be an integer >= 2"),
        ({"stop_factor": 1.0}, "stop_factor must be a number > 1"),
    ],
)
def test_range_test_rejects_bad_arguments(kwargs, match):
    X, y = classification(n_samples=40)
    with pytest.raises(ValueError, match=match):
        DeepClassifier().find_learning_rate(X, y, **kwargs)


# ----------------------------------------------------------------------
# plots
def test_plots_return_axes_with_a_line_per_series():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(
        hidden_layer_sizes=(8, 8),
        early_stopping=True,
        max_epochs=3,
        l2=1e-3,  # a penalty to plot
        diagnostics=True,
        random_state=0,
    )
    fit_quietly(clf, X, y)
    history = clf.plot_history()
    assert isinstance(history, matplotlib.axes.Axes)
    best = next(e["epoch"] for e in clf.history_ if e.get("best"))
    assert [line.get_label() for line in history.get_lines()] == [
        "train loss",
        "validation loss",
        "penalty (l1, l2)",
        f"restored best epoch ({best})",
    ]
    assert list(history.get_lines()[3].get_xdata()) == [best, best]
    np.testing.assert_array_equal(
        history.get_lines()[2].get_ydata(), [e["train_penalty"] for e in clf.history_]
    )
    np.testing.assert_array_equal(
        history.get_lines()[0].get_ydata(), [e["train_loss"] for e in clf.history_]
    )
    gradients = clf.plot_gradients()
    assert gradients.get_yscale() == "log"
    assert len(gradients.get_lines()) == 3
    assert gradients.get_lines()[0].get_label() == "layer 1 (input)"
    _, ax = plt.subplots()
    result = clf.find_learning_rate(X, y, n_steps=20)
    assert result.plot(ax=ax) is ax and ax.get_xscale() == "log"


def test_range_test_plot_clips_the_explosion_off_its_y_axis():
    lrs = np.logspace(-5, 0, 50)
    losses = np.concatenate([np.linspace(2.0, 0.5, 40), np.logspace(0, 4, 10)])
    result = RangeTestResult(lrs=lrs, losses=losses, suggestion=1e-3)
    bottom, top = result.plot(ax=plt.subplots()[1]).get_ylim()
    smoothed = result.smoothed_losses
    assert bottom < losses.min() and bottom > losses.min() - 0.2
    expected_top = max(smoothed[0], 3 * smoothed.min())
    assert expected_top < top < 1.1 * expected_top  # not 1e4
    # a curve that never explodes keeps its own range
    calm = RangeTestResult(lrs=lrs[:40], losses=losses[:40], suggestion=1e-3)
    assert calm.plot_limits()[1] == pytest.approx(2.0 + 0.05 * 1.5)


def test_plot_history_without_penalty_or_early_stopping_draws_the_train_loss_only():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(
        hidden_layer_sizes=(8,), l2=0.0, max_epochs=3, early_stopping=False, random_state=0
    )
    fit_quietly(clf, X, y)
    labels = [line.get_label() for line in clf.plot_history().get_lines()]
    assert labels == ["train loss"]


def test_plot_gradients_without_diagnostics_says_how_to_get_them():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    with pytest.raises(NotFittedError):
        clf.plot_history()
    fit_quietly(clf, X, y)
    with pytest.raises(ValueError, match="diagnostics=True"):
        clf.plot_gradients()


def test_plots_without_matplotlib_say_how_to_install_it(monkeypatch):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    fit_quietly(clf, X, y)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install \"sklearn-dnn\[plot\]\""):
        clf.plot_history()
