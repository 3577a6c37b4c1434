"""Parallel search: thread control, joblib's Dask backend, GPU placement."""

import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.threads import thread_limit, torch_threads

from ._data import classification, regression

GRID = {"learning_rate": [1e-3, 1e-2], "l2": [0.0, 1e-3]}


def small_search(n_jobs=None):
    return GridSearchCV(
        DeepClassifier(hidden_layer_sizes=(16,), max_epochs=5, random_state=0),
        GRID,
        cv=2,
        n_jobs=n_jobs,
        error_score="raise",
    )


def test_n_threads_applies_during_fit_and_is_restored():
    X, y = classification()
    seen = []

    class ThreadSpy(torch.nn.ReLU):
        """An activation that records torch's thread count in every training step."""

        def forward(self, x):
            if x.requires_grad:
                seen.append(torch.get_num_threads())
            return super().forward(x)

    before = torch.get_num_threads()
    assert before == 1  # the tests' own setting (conftest)
    DeepClassifier(activation=ThreadSpy, n_threads=2, max_epochs=1).fit(X, y)
    assert seen and set(seen) == {2}
    assert torch.get_num_threads() == before
    seen.clear()
    DeepClassifier(activation=ThreadSpy, max_epochs=1).fit(X, y)
    assert seen and set(seen) == {1}


def test_default_respects_the_workers_omp_limit(monkeypatch):
    with torch_threads(2):
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert thread_limit(None) == 1
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert thread_limit(None) == 2
    assert thread_limit(3) == 3


def test_search_with_two_processes_matches_the_serial_search():
    X, y = classification(n_samples=120)
    serial = small_search().fit(X, y)
    parallel = small_search(n_jobs=2).fit(X, y)
    np.testing.assert_allclose(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )


def test_grid_search_on_a_local_dask_cluster_matches_the_local_run():
    distributed = pytest.importorskip("distributed")
    X, y = classification(n_samples=120)
    local = small_search().fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        with joblib.parallel_backend("dask"):
            remote = small_search().fit(X, y)
    np.testing.assert_allclose(
        local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_


needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@needs_gpu
def test_cuda_fit_returns_numpy_on_the_cpu():
    X, y = regression()
    reg = DeepRegressor(device="cuda", dropout=0.2, max_epochs=3, random_state=0).fit(X, y)
    assert reg.module_.output.weight.is_cuda
    assert isinstance(reg.predict(X), np.ndarray)
    assert isinstance(reg.predict_uncertainty(X, n_samples=5).std, np.ndarray)


@needs_gpu
def test_model_fitted_on_a_gpu_unpickles_on_a_cpu_only_machine(tmp_path):
    X, y = classification()
    clf = DeepClassifier(device="cuda", max_epochs=3, random_state=0).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    script = (
        "import pickle, sys, numpy as np, torch; assert not torch.cuda.is_available();"
        "d = sys.argv[1]; clf = pickle.load(open(d + '/model.pkl', 'rb'));"
        "np.testing.assert_allclose(clf.predict_proba(np.load(d + '/X.npy')),"
        " np.load(d + '/expected.npy'), rtol=1e-5)"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, env=env)
