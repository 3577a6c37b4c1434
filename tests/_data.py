"""Small data sets shared by the tests (no downloads)."""

import numpy as np
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.preprocessing import StandardScaler

# A small network that fits in a fraction of a second.
FAST = dict(hidden_layer_sizes=(16,), max_epochs=5, random_state=0)


def classification(n_samples=200, n_features=10, n_classes=3, random_state=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=5,
        n_classes=n_classes,
        random_state=random_state,
    )
    return StandardScaler().fit_transform(X), y


def regression(n_samples=200, n_features=10, n_targets=1, random_state=0):
    X, y = make_regression(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=5,
        n_targets=n_targets,
        noise=5.0,
        random_state=random_state,
    )
    return StandardScaler().fit_transform(X), y


def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(np.float32), y


# The inputs of 0.1's defaults: the first layer sees X's columns as they are
# (no robust scaling, embeddings or feature scale), for tests of the
# network's shapes and weights.
PLAIN_INPUTS = dict(numeric_scaling="auto", numeric_embedding=None, feature_scaling=False)
