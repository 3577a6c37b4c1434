"""Threads and shared state: predictions, sampling and fits in threads, torch's global RNG."""

import threading

import numpy as np
import torch
from sklearn.base import clone

from sklearn_dnn import DeepClassifier

from ._data import FAST, classification


def in_threads(function, n_threads):
    results = [None] * n_threads

    def run(i):
        results[i] = function(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_predict_during_sampling_in_another_thread_equals_sequential_predict():
    X, y = classification(n_samples=300)
    clf = DeepClassifier(dropout=0.5, **FAST).fit(X, y)
    expected = clf.predict_proba(X)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            clf.predict_uncertainty(X, n_samples=50)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        results = in_threads(lambda i: [clf.predict_proba(X) for _ in range(20)], 4)
    finally:
        stop.set()
        sampler.join()
    for per_thread in results:
        for proba in per_thread:
            np.testing.assert_array_equal(proba, expected)


def test_seeded_sampling_from_threads_equals_sequential_sampling():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(dropout=0.3, **FAST).fit(X, y)
    expected = clf.predict_uncertainty(X, n_samples=30, random_state=7).mean
    results = in_threads(lambda i: clf.predict_uncertainty(X, n_samples=30, random_state=7), 4)
    for result in results:
        np.testing.assert_array_equal(result.mean, expected)


def test_seeded_fits_in_threads_equal_sequential_fits():
    X, y = classification(n_samples=200)
    model = DeepClassifier(dropout=0.2, hidden_layer_sizes=(32,), max_epochs=8, random_state=3)
    expected = clone(model).fit(X, y).predict_proba(X)
    results = in_threads(lambda i: clone(model).fit(X, y).predict_proba(X), 2)
    for proba in results:
        np.testing.assert_array_equal(proba, expected)


def test_fit_and_sampling_leave_torch_global_random_state_alone():
    X, y = classification()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    clf = DeepClassifier(dropout=0.2, **FAST).fit(X, y)
    clf.predict_uncertainty(X, n_samples=5)
    np.testing.assert_array_equal(torch.rand(3), expected)
