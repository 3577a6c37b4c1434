"""Conformal intervals around a deep ensemble: MAPIE's split conformal regressor."""

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepRegressor


def test_split_conformal_intervals_of_a_prefit_ensemble_cover_90_percent():
    mapie = pytest.importorskip("mapie.regression")
    X, y = make_friedman1(n_samples=3000, noise=1.0, random_state=0)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=2 / 3, random_state=0)
    X_conf, X_test, y_conf, y_test = train_test_split(X_rest, y_rest, test_size=0.5, random_state=0)
    model = make_pipeline(
        StandardScaler(),
        DeepRegressor(ensemble_size=5, l2=1e-4, max_epochs=60, random_state=0),
    ).fit(X_train, y_train)

    conformal = mapie.SplitConformalRegressor(model, confidence_level=0.9, prefit=True)
    points, intervals = conformal.conformalize(X_conf, y_conf).predict_interval(X_test)
    lower, upper = intervals[:, 0, 0], intervals[:, 1, 0]

    assert np.isfinite(intervals).all()
    np.testing.assert_allclose(points, model.predict(X_test))
    assert ((lower <= points) & (points <= upper)).all()
    # 1,000 held-out and 1,000 test rows: the coverage's standard deviation is about 0.013.
    coverage = np.mean((lower <= y_test) & (y_test <= upper))
    assert abs(coverage - 0.9) <= 0.04, coverage
    # Informative: far narrower than the interval that ignores X (5th to 95th percentile).
    width, trivial = np.mean(upper - lower), np.subtract(*np.quantile(y_train, [0.95, 0.05]))
    assert width < 0.5 * trivial, (width, trivial)
