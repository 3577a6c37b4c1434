"""The one inference path (``_engine/inference.py``): chunks, memory budget, finite check."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import sklearn_dnn._engine.inference
from sklearn_dnn import DeepClassifier
from sklearn_dnn._diagnostics import dead_unit_fractions
from sklearn_dnn._engine.inference import (
    DENSE_CHUNK_BYTES,
    PREDICT_CHUNK_ROWS,
    SAMPLES_PER_PASS,
    check_finite_outputs,
    fits_dense,
    predict_outputs,
    row_chunks,
    rows_at_once,
    rows_per_pass,
    sample_outputs,
)
from sklearn_dnn._engine.net import SparseRows
from sklearn_dnn._nn.mlp import MLP, combine_logits

from ._data import classification

# The same rows in chunks of another size can take another matmul kernel,
# whose float64 sums round differently in the last bits.
CHUNKED = dict(rtol=1e-10, atol=1e-12)


def _network(ensemble_size=1, dropout=0.0):
    return MLP(
        10,
        (16, 8),
        3,
        dropout=dropout,
        dtype=torch.float64,
        ensemble_size=ensemble_size,
        combine=combine_logits,
    ).eval()


def _rows(n=61):
    return torch.as_tensor(classification(n_samples=n)[0])


def _collect(raw, return_samples):
    """A summary of sampled outputs (samples, rows, k), as a task's ``summarize`` gives one."""
    return {"mean": raw.mean(axis=0), "samples": raw if return_samples else None}


# ----------------------------------------------------------------------
# the memory budget
def test_rows_at_once_caps_the_dense_bytes_and_keeps_one_row():
    narrow32 = np.zeros((5, 10), dtype=np.float32)
    assert rows_at_once(narrow32, 100) == 100
    wide64 = torch.zeros((2, 2**20), dtype=torch.float64)  # 8 MiB a row
    assert rows_at_once(wide64, 100) == DENSE_CHUNK_BYTES // 2**23 == 8
    wide32 = torch.zeros((2, 2**20), dtype=torch.float32)  # half the bytes: twice the rows
    assert rows_at_once(wide32, 100) == 16
    huge = sp.csr_matrix((3, 2**24), dtype=np.float64)  # one row is over the budget
    assert rows_at_once(SparseRows(huge, "cpu"), 100) == 1


def test_fits_dense_is_the_budget_to_the_byte(monkeypatch):
    X = SparseRows(sp.csr_matrix((200, 10), dtype=np.float64), "cpu")  # 80 bytes a row
    monkeypatch.setattr(sklearn_dnn._engine.inference, "DENSE_CHUNK_BYTES", 800)
    assert fits_dense(X, 10)
    assert not fits_dense(X, 11)
    assert rows_at_once(X, 1000) == 10


def test_rows_per_pass_shares_the_budget_among_a_rows_outputs():
    X = torch.zeros((2, 10), dtype=torch.float64)
    assert rows_per_pass(X, 1, PREDICT_CHUNK_ROWS) == 4096
    assert rows_per_pass(X, 8, PREDICT_CHUNK_ROWS) == 512  # 8 members
    assert rows_per_pass(X, 100 * 3, SAMPLES_PER_PASS) == 27  # 100 copies of 3 members
    assert rows_per_pass(X, 10**6, SAMPLES_PER_PASS) == 1  # at least one row a pass
    wide = torch.zeros((2, 2**20), dtype=torch.float64)
    assert rows_per_pass(wide, 1, PREDICT_CHUNK_ROWS) == 8  # and the dense cap


# ----------------------------------------------------------------------
# chunks
@pytest.mark.parametrize("ensemble_size", [1, 3])
@pytest.mark.parametrize("chunk", [1, 7, 60, 61, 10_000])
def test_predictions_do_not_depend_on_the_chunk_size(monkeypatch, ensemble_size, chunk):
    module, X = _network(ensemble_size), _rows()
    with torch.inference_mode():
        whole = module(X).numpy()
    monkeypatch.setattr(sklearn_dnn._engine.inference, "PREDICT_CHUNK_ROWS", chunk * ensemble_size)
    passes = []
    module.register_forward_pre_hook(lambda m, args: passes.append(len(args[0])))
    out = predict_outputs(module, X)
    assert out.dtype == np.float64 and out.shape == (61, 3)
    np.testing.assert_allclose(out, whole, **CHUNKED)
    assert passes == [min(chunk, 61 - start) for start in range(0, 61, chunk)]
    labels = predict_outputs(module, X, finish=lambda raw: raw.argmax(axis=1))
    np.testing.assert_array_equal(labels, whole.argmax(axis=1))  # finish: the rows' own


@pytest.mark.parametrize("chunk", [1, 4, 20])
def test_an_ensembles_samples_do_not_depend_on_the_chunk_size(monkeypatch, chunk):
    module, X = _network(ensemble_size=3), _rows(20)
    whole = sample_outputs(module, X, 1, None, _collect, return_samples=True)
    monkeypatch.setattr(sklearn_dnn._engine.inference, "SAMPLES_PER_PASS", 3 * chunk)
    chunked = sample_outputs(module, X, 1, None, _collect, return_samples=True)
    assert chunked["samples"].shape == (3, 20, 3)  # rows on the second axis
    for name in ("mean", "samples"):
        np.testing.assert_allclose(chunked[name], whole[name], **CHUNKED)
    assert sample_outputs(module, X, 1, None, _collect, False)["samples"] is None


def test_a_seeds_dropout_samples_follow_the_passes(monkeypatch):
    # The masks are drawn pass after pass: the same seed and budget give the
    # same samples, bit for bit; another budget gives other (equally valid) masks.
    module, X = _network(ensemble_size=2, dropout=0.3), _rows(30)

    def draw():
        generator = torch.Generator().manual_seed(0)
        return sample_outputs(module, X, 5, generator, _collect, True)["samples"]

    monkeypatch.setattr(sklearn_dnn._engine.inference, "SAMPLES_PER_PASS", 100)  # 10 rows a pass
    first = draw()
    assert first.shape == (10, 30, 3)
    np.testing.assert_array_equal(draw(), first)
    monkeypatch.setattr(sklearn_dnn._engine.inference, "SAMPLES_PER_PASS", 50)
    assert not np.array_equal(draw(), first)


def test_dead_units_are_counted_over_every_chunk(monkeypatch):
    module, X = _network(ensemble_size=2), _rows(100)
    with torch.no_grad():  # units that fire on a few rows only: dead in most chunks
        module.hidden[0].linear.bias.sub_(2.5)
    whole = dead_unit_fractions(module, X)
    assert 0 < whole[0] < 1
    monkeypatch.setattr(
        sklearn_dnn._engine.inference, "DENSE_CHUNK_BYTES", 80 * 7
    )  # 7 rows at once
    chunks = [len(c) for c in row_chunks(X, torch.arange(100))]
    assert chunks == [7] * 14 + [2]
    np.testing.assert_array_equal(dead_unit_fractions(module, X), whole)


# ----------------------------------------------------------------------
# the finite check, the module's mode
def test_a_non_finite_output_in_any_chunk_raises_a_clear_error(monkeypatch):
    module, X = _network(), _rows(20)
    X[13, 4] = np.nan
    monkeypatch.setattr(sklearn_dnn._engine.inference, "PREDICT_CHUNK_ROWS", 5)
    with pytest.raises(ValueError, match="non-finite outputs .* scale X as it was scaled"):
        predict_outputs(module, X)
    with pytest.raises(ValueError, match="non-finite outputs"):
        sample_outputs(module, X, 1, None, _collect, False)
    check_finite_outputs(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-finite outputs"):
        check_finite_outputs(np.array([[0.0, np.inf]]))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sampling_a_module_switched_to_training_runs_it_in_evaluation_mode():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        hidden_layer_sizes=(16,), dropout=0.2, ensemble_size=3, max_epochs=3, random_state=0
    ).fit(X, y)
    expected = clf.predict_uncertainty(X, method="ensemble").mean
    clf.module_.train()  # a user's doing; a fit leaves the module in evaluation mode
    state = torch.random.get_rng_state()
    result = clf.predict_uncertainty(X, method="ensemble")
    # Not torch's training-mode dropout, drawn from the global generator.
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(result.mean, expected)
    assert not clf.module_.training


def test_dead_units_of_a_sparse_x_densify_a_chunk_at_a_time(monkeypatch):
    module, X = _network(), _rows(100)
    expected = dead_unit_fractions(module, X)
    densified = []
    original = SparseRows.__getitem__

    def spy(self, index):
        densified.append(len(index))
        return original(self, index)

    monkeypatch.setattr(SparseRows, "__getitem__", spy)
    monkeypatch.setattr(
        sklearn_dnn._engine.inference, "DENSE_CHUNK_BYTES", 80 * 30
    )  # 30 rows at once
    found = dead_unit_fractions(module, SparseRows(sp.csr_matrix(X.numpy()), "cpu"))
    np.testing.assert_array_equal(found, expected)
    assert densified == [30, 30, 30, 10]  # never the 100 rows at once
