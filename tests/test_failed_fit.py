"""A failed fit changes nothing: a bad refit, a first fit, a KeyboardInterrupt."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_dnn import DeepClassifier

from ._data import FAST, classification


def interrupting_activation(after_steps):
    """An activation class that raises KeyboardInterrupt in the given training step."""
    calls = {"n": 0}

    class Interrupt(nn.ReLU):
        def forward(self, x):
            if x.requires_grad:
                calls["n"] += 1
                if calls["n"] == after_steps:
                    raise KeyboardInterrupt
            return super().forward(x)

    return Interrupt


def test_failed_refit_leaves_the_previous_model_exactly_as_it_was():
    X, y = classification()
    clf = DeepClassifier(**FAST).fit(X, y)
    proba, classes, net = clf.predict_proba(X), clf.classes_, clf.net_
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X[:, :5], np.linspace(0, 1, len(X)))  # other features, continuous labels
    assert clf.net_ is net and clf.classes_ is classes and clf.n_features_in_ == X.shape[1]
    check_is_fitted(clf)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_failed_first_fit_leaves_the_estimator_unfitted():
    X, y = classification()
    clf = DeepClassifier(**FAST)
    with pytest.raises(ValueError):
        clf.fit(X, ["a"] * len(X))
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_keyboard_interrupt_propagates_and_keeps_the_previous_model():
    X, y = classification()
    clf = DeepClassifier(**FAST).fit(X, y)
    proba, net = clf.predict_proba(X), clf.net_
    clf.set_params(activation=interrupting_activation(after_steps=3))
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.net_ is net
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    fresh = DeepClassifier(**{**FAST, "activation": interrupting_activation(after_steps=3)})
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X, y)
    assert not hasattr(fresh, "net_")


def test_keyboard_interrupt_stops_a_search():
    X, y = classification()
    model = DeepClassifier(**{**FAST, "activation": interrupting_activation(after_steps=3)})
    search = GridSearchCV(model, {"learning_rate": [1e-3, 1e-2]}, cv=2)
    with pytest.raises(KeyboardInterrupt):
        search.fit(X, y)
