"""The estimators inside Pipelines and GridSearchCV."""

import numpy as np
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepClassifier, DeepRegressor

from ._data import classification, regression


def test_grid_search_over_activation_optimizer_l2_dropout_refits():
    X, y = classification(n_samples=150)
    pipe = make_pipeline(StandardScaler(), DeepClassifier(max_epochs=10, random_state=0))
    grid = {
        "deepclassifier__activation": ["relu", torch.nn.LeakyReLU(0.2)],
        "deepclassifier__optimizer": ["adam", "sgd"],
        "deepclassifier__l2": [0.0, 1e-3],
        "deepclassifier__dropout": [0.0, 0.2],
    }
    search = GridSearchCV(pipe, grid, cv=2, error_score="raise").fit(X, y)
    assert len(search.cv_results_["params"]) == 16
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_[-1]
    assert best.n_iter_ >= 1 and best.predict(search.best_estimator_[0].transform(X)).shape == (
        150,
    )
    assert search.score(X, y) > 0.6


def test_regressor_in_a_search_with_a_schedule():
    X, y = regression(n_samples=120)
    search = GridSearchCV(
        DeepRegressor(max_epochs=10, random_state=0),
        {"schedule": [None, "cosine"], "learning_rate": [1e-3, 1e-2]},
        cv=2,
        error_score="raise",
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(np.unique(scores)) == 4  # each setting trains another model
    best, params = search.best_estimator_, search.best_params_
    assert best.history_[0]["lr"] == params["learning_rate"]
    decayed = best.history_[-1]["lr"] < params["learning_rate"]
    assert decayed == (params["schedule"] == "cosine")
