"""The prepare phase decides every setting once; training reads the plan, never the estimator."""

import gc
import weakref

import numpy as np
import pytest
from torch import nn

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.plan import Stopping, prepare
from sklearn_dnn._engine.training import train
from sklearn_dnn._nn.architecture import Activation, Architecture

from ._data import classification, regression


def test_prepare_puts_every_setting_in_the_plan_as_python_values_without_training():
    X, y = classification(n_samples=120, n_classes=3)
    clf = DeepClassifier(
        hidden_layer_sizes=np.array([8, 4]),
        activation=nn.ReLU,
        ensemble_size=np.int64(2),
        bootstrap=np.True_,
        optimizer="sgd",
        learning_rate=np.float32(0.5),
        momentum=0.5,
        nesterov=True,
        schedule="step",
        decay_steps=(2,),
        l1=1e-4,
        l2=1e-3,
        max_norm=3.0,
        clip_grad_norm=1.0,
        dropout=0.1,
        early_stopping=True,
        patience=3,
        tol=0.01,
        scoring="accuracy",
        diagnostics=True,
        n_threads=1,
        max_epochs=7,
        batch_size=16,
    )
    plan = prepare(clf, X, y, None)
    assert not hasattr(clf, "net_") and not hasattr(clf, "history_")  # nothing fitted
    assert plan.architecture == Architecture(
        hidden_layer_sizes=(8, 4),
        activation=Activation("relu"),
        initializer="auto",
        batchnorm=False,
        ensemble_size=2,
        numeric_embedding="piecewise",
        embedding_size=16,
        feature_scaling=True,
        n_features=50,  # 10 columns, each with the 4 values of its piecewise embedding
        n_outputs=3,
    )
    recipe = plan.recipe
    assert (recipe.optimizer, recipe.momentum, recipe.nesterov) == ("sgd", 0.5, True)
    assert type(recipe.learning_rate) is float and recipe.learning_rate == pytest.approx(0.5)
    assert (recipe.schedule, recipe.decay_steps) == ("step", (2,))
    assert (recipe.l1, recipe.l2, recipe.max_norm, recipe.clip_grad_norm) == (1e-4, 1e-3, 3.0, 1.0)
    assert recipe.dropout == 0.1 and recipe.groups.n_frozen == 0
    assert plan.stopping == Stopping(
        monitor="valid_loss",
        stop_on="valid_score",
        patience=3,
        tol=0.01,
        restore_best=True,
        monitored="validation score (accuracy) was still rising",
    )
    assert plan.bootstrap is True and plan.diagnostics is True and plan.n_threads == 1
    assert (plan.max_epochs, plan.batch_size, plan.verbose) == (7, 16, 0)
    assert len(plan.train) + len(plan.valid) == 120


@pytest.mark.parametrize(
    "has_validation, scoring, stop_on, monitored",
    [
        (False, "accuracy", "train_loss", "training loss was still falling"),
        (True, None, "valid_loss", "validation loss was still falling"),
        (True, "r2", "valid_score", "validation score (r2) was still rising"),
    ],
)
def test_the_stopping_rule_and_its_words_are_decided_once(
    has_validation, scoring, stop_on, monitored
):
    stopping = Stopping.for_fit(has_validation, scoring, patience=2, tol=0.1)
    assert (stopping.stop_on, stopping.monitored) == (stop_on, monitored)
    assert stopping.restore_best is has_validation


def test_partial_fit_plans_one_epoch_without_a_validation_split():
    X, y = regression(n_samples=150)
    plan = prepare(DeepRegressor(early_stopping=True, max_epochs=50), X, y, None, incremental=True)
    assert plan.max_epochs == 1 and plan.valid is None and plan.incremental
    assert plan.stopping.monitor == "train_loss"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_train_reads_the_plan_not_the_estimator():
    X, y = classification(n_samples=80)
    params = dict(
        hidden_layer_sizes=(8,), max_epochs=3, dropout=0.1, learning_rate=0.01, random_state=0
    )
    estimator = DeepClassifier(**params)
    plan = prepare(estimator, X, y, None)
    # Changed after prepare, then gone: training must not see either.
    estimator.set_params(hidden_layer_sizes=(2,), learning_rate=10.0, max_epochs=50, dropout=0.9)
    alive = weakref.ref(estimator)
    del estimator
    gc.collect()
    assert alive() is None  # the plan holds no reference to the estimator
    net, _ = train(plan)
    expected = DeepClassifier(**params).fit(X, y)
    assert len(net.history) == 3
    assert net.module_.dropout_rates() == [0.1]
    for got, want in zip(net.module_.parameters(), expected.module_.parameters(), strict=True):
        # the same seed in the same process: the same computation, tolerance only for noise
        np.testing.assert_allclose(got.detach(), want.detach(), rtol=1e-6, atol=1e-9)


def test_a_continued_plan_needs_the_network_it_continues():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(4,), max_epochs=1, warm_start=True).fit(X, y)
    plan = prepare(clf, X, y, None)
    assert plan.continuing and plan.first_loss == clf.history_[0]["train_loss"]
    with pytest.raises(ValueError, match="needs its net"):
        train(plan)
