"""The named parameter sets build estimators that fit, and refuse what they are not for."""

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_dnn import DeepClassifier, DeepRegressor, tabular_recipe


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


def test_recipe_fits_a_nonlinear_target_better_than_the_classic_defaults():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(600, 2))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])
    train, test = slice(0, 500), slice(500, None)
    settings = {"random_state": 0, "n_threads": 1}
    recipe = DeepRegressor(**{**tabular_recipe(DeepRegressor), "max_epochs": 30}, **settings)
    classic = DeepRegressor(max_epochs=30, **settings)
    r2_recipe = recipe.fit(X[train], y[train]).score(X[test], y[test])
    r2_classic = classic.fit(X[train], y[train]).score(X[test], y[test])
    assert r2_recipe > r2_classic + 0.1
    assert r2_recipe > 0.6
