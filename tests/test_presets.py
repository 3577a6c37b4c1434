"""The named parameter sets build estimators that fit, and refuse what they are not for."""

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_dnn import DeepClassifier, DeepRegressor, classic_playbook, tabular_recipe


@pytest.mark.parametrize("kind", [DeepClassifier, DeepRegressor, "classifier", "regressor"])
def test_recipe_names_only_hyperparameters_of_the_estimator(kind):
    named = {"classifier": DeepClassifier, "regressor": DeepRegressor}
    cls = kind if isinstance(kind, type) else named[kind]
    params = tabular_recipe(kind)
    assert set(params) <= set(cls().get_params())
    estimator = cls(**params)
    assert clone(estimator).get_params()["numeric_embedding"] == "piecewise"


def test_recipe_takes_an_instance_and_gives_the_regressor_its_clipping():
    assert tabular_recipe(DeepRegressor(max_epochs=3))["clip_predictions"] is True
    assert "clip_predictions" not in tabular_recipe(DeepClassifier())


def test_recipe_returns_a_fresh_dict():
    params = tabular_recipe(DeepClassifier)
    params["max_epochs"] = 1
    assert tabular_recipe(DeepClassifier)["max_epochs"] == 60


def test_unknown_estimator_is_refused_by_name():
    with pytest.raises(ValueError, match="DeepClassifier or DeepRegressor.*'forest'"):
        tabular_recipe("forest")
    with pytest.raises(ValueError, match="DeepClassifier or DeepRegressor"):
        tabular_recipe(dict)


def test_the_defaults_fit_a_nonlinear_target_better_than_the_classic_playbook():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(600, 2))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])
    train, test = slice(0, 500), slice(500, None)
    settings = {"random_state": 0, "n_threads": 1}
    recipe = DeepRegressor(max_epochs=30, **settings)
    classic = DeepRegressor(**{**classic_playbook(DeepRegressor), "max_epochs": 30}, **settings)
    r2_recipe = recipe.fit(X[train], y[train]).score(X[test], y[test])
    r2_classic = classic.fit(X[train], y[train]).score(X[test], y[test])
    assert r2_recipe > r2_classic + 0.1
    assert r2_recipe > 0.6


@pytest.mark.parametrize("cls", [DeepClassifier, DeepRegressor])
def test_the_defaults_are_the_recipe_and_the_classic_playbook_is_0_1s(cls):
    defaults = cls().get_params()
    recipe = tabular_recipe(cls)
    assert {name: defaults[name] for name in recipe} == recipe
    classic = classic_playbook(cls)
    assert classic["max_epochs"] == 200 and classic["numeric_embedding"] is None
    assert classic["schedule"] is None and classic["betas"] == (0.9, 0.999)
    # Every setting it names is one the recipe moved (or 0.1's, kept as it was).
    assert set(classic) <= set(recipe) | {"tol"}


def test_the_parameter_sets_refuse_what_is_not_an_estimator_of_ours():
    with pytest.raises(ValueError, match="DeepClassifier or DeepRegressor"):
        classic_playbook("forest")


def test_keywords_given_override_the_set_and_add_to_it():
    params = classic_playbook(DeepClassifier, max_epochs=7, dropout=0.1)
    assert params["max_epochs"] == 7 and params["dropout"] == 0.1
    assert params["schedule"] is None  # the set's own, kept
    assert tabular_recipe("regressor", clip_predictions=False)["clip_predictions"] is False
