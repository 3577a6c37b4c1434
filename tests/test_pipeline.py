"""Functions that reach the model through a Pipeline, and from_pretrained on one."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_dnn
from sklearn_dnn import DeepClassifier, DeepRegressor, find_learning_rate, predict_uncertainty

from ._data import FAST, classification, regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def raw(X):
    """Features on a scale a network should not see unscaled."""
    return 100.0 * X + 1000.0


def test_predict_uncertainty_of_a_pipeline_transforms_x_first():
    X, y = regression(n_samples=100)
    pipe = make_pipeline(StandardScaler(), DeepRegressor(dropout=0.2, **FAST)).fit(raw(X), y)
    result = predict_uncertainty(pipe, raw(X[:5]), n_samples=10, random_state=0)
    expected = pipe[-1].predict_uncertainty(
        pipe[0].transform(raw(X[:5])), n_samples=10, random_state=0
    )
    np.testing.assert_array_equal(result.mean, expected.mean)
    np.testing.assert_array_equal(result.std, expected.std)
    assert result.mean.shape == (5,)
    # a bare estimator works too
    model = pipe[-1]
    X_scaled = pipe[0].transform(raw(X[:5]))
    np.testing.assert_array_equal(
        predict_uncertainty(model, X_scaled, n_samples=10, random_state=0).mean, expected.mean
    )


def test_find_learning_rate_of_a_pipeline_fits_a_clone_of_the_preprocessing():
    X, y = classification(n_samples=200)
    pipe = make_pipeline(StandardScaler(), DeepClassifier(batch_size=20, **FAST))
    result = find_learning_rate(pipe, raw(X), y, n_steps=20)
    scaled = StandardScaler().fit_transform(raw(X))
    expected = pipe[-1].find_learning_rate(scaled, y, n_steps=20)
    np.testing.assert_allclose(result.losses, expected.losses)
    assert not hasattr(pipe[0], "mean_") and not hasattr(pipe[-1], "net_")  # nothing fitted


def test_pipeline_functions_name_a_wrong_last_step():
    X, y = classification(n_samples=60)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match="the last step of the Pipeline is LogisticRegression"):
        predict_uncertainty(pipe, X)
    with pytest.raises(TypeError, match="the last step of the Pipeline is LogisticRegression"):
        find_learning_rate(pipe, X, y)


def test_from_pretrained_takes_a_fitted_pipelines_last_step():
    X, y = classification(n_samples=100)
    pipe = make_pipeline(StandardScaler(), DeepClassifier(**FAST)).fit(raw(X), y)
    model = DeepClassifier.from_pretrained(pipe, max_epochs=2, random_state=0)
    assert model.hidden_layer_sizes == (16,)
    source = pipe[-1].module_.hidden[0].linear.weight.detach().numpy()
    np.testing.assert_array_equal(model.pretrained.blocks[0].linear.weight.numpy(), source)
    reused = make_pipeline(StandardScaler(), model).fit(raw(X), y)
    assert reused.predict(raw(X)).shape == (100,)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: DeepClassifier(**FAST), r"DeepClassifier is not fitted: it has no trained"),
        (
            lambda: make_pipeline(StandardScaler(), DeepClassifier(**FAST)),
            r"DeepClassifier \(the last step of the Pipeline\) is not fitted",
        ),
        (
            lambda: clone(DeepClassifier(**FAST).fit(*classification(n_samples=60))),
            r"or it is a clone",
        ),
        (
            lambda: make_pipeline(StandardScaler(), LogisticRegression()).fit(
                *classification(n_samples=60)
            ),
            r"got LogisticRegression \(the last step of the Pipeline\)",
        ),
    ],
)
def test_from_pretrained_says_why_a_source_cannot_be_used(make, message):
    with pytest.raises(ValueError, match=message):
        DeepClassifier.from_pretrained(make())


def test_the_functions_are_public():
    assert {"predict_uncertainty", "find_learning_rate"} <= set(sklearn_dnn.__all__)
