"""Classification beyond one label per row: class weights and multilabel targets."""

import numpy as np
import pytest
from sklearn.metrics import recall_score

from sklearn_dnn import DeepClassifier

from ._data import classification

FAST = dict(hidden_layer_sizes=(16,), max_epochs=5, random_state=0)


# ----------------------------------------------------------------------
# class_weight


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_class_weight_dict_equals_the_same_sample_weight():
    X, y = classification(n_samples=200, n_classes=3)
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    by_class = DeepClassifier(class_weight=weights, **FAST).fit(X, y)
    by_row = DeepClassifier(**FAST).fit(X, y, sample_weight=np.vectorize(weights.get)(y))
    np.testing.assert_allclose(by_class.predict_proba(X), by_row.predict_proba(X), atol=1e-6)
    unweighted = DeepClassifier(**FAST).fit(X, y)
    assert not np.allclose(by_class.predict_proba(X), unweighted.predict_proba(X), atol=1e-3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_class_weight_is_multiplied_into_sample_weight():
    X, y = classification(n_samples=200, n_classes=2)
    rows = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    both = DeepClassifier(class_weight={0: 1.0, 1: 4.0}, **FAST).fit(X, y, sample_weight=rows)
    product = DeepClassifier(**FAST).fit(X, y, sample_weight=rows * np.where(y == 1, 4.0, 1.0))
    np.testing.assert_allclose(both.predict_proba(X), product.predict_proba(X), atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_balanced_class_weight_raises_the_recall_of_a_rare_class():
    X, y = classification(n_samples=600, n_classes=2)
    rare = np.flatnonzero(y == 1)[:30]
    keep = np.concatenate([np.flatnonzero(y == 0), rare])
    X, y = X[keep], y[keep]
    params = dict(hidden_layer_sizes=(16,), batch_size=32, max_epochs=20, random_state=0)
    plain = DeepClassifier(**params).fit(X, y)
    balanced = DeepClassifier(class_weight="balanced", **params).fit(X, y)
    assert recall_score(y, balanced.predict(X)) > recall_score(y, plain.predict(X)) + 0.1


def test_misspelt_class_weight_is_named():
    X, y = classification()
    with pytest.raises(ValueError, match=r"Did you mean class_weight='balanced'\?"):
        DeepClassifier(class_weight="balance").fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_honours_a_new_class_weight():
    X, y = classification(n_samples=200, n_classes=2)
    clf = DeepClassifier(warm_start=True, **FAST).fit(X, y)
    before = clf.predict_proba(X)[:, 1].mean()
    clf.set_params(class_weight={0: 1.0, 1: 20.0}, batch_size=20).fit(X, y)
    assert clf.predict_proba(X)[:, 1].mean() > before + 0.05
