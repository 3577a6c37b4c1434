"""scipy.sparse inputs: accepted everywhere, densified batch by batch, never whole."""

import numpy as np
import pytest
import scipy.sparse as sp

import sklearn_dnn._engine.inference
import sklearn_dnn._nn.layers
from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.net import SparseRows

from ._data import PLAIN_INPUTS, classification, regression

FAST = dict(hidden_layer_sizes=(16,), batch_size=20, max_epochs=3, dropout=0.2, random_state=0)

# A sparse batch is densified before the first layer, so a sparse fit is the
# dense one up to float64 rounding: the densified rows' memory layout (a CSC
# matrix's is by columns) can pick another matmul kernel, whose sums round
# differently (1.7e-16 apart on one machine), and training carries that along.
SAME_FIT = dict(rtol=1e-9, atol=1e-12)
# The same model on the same rows, in other chunks: only the kernels' rounding.
SAME_MODEL = dict(rtol=1e-12, atol=1e-15)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def sparse_version(X):
    return sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_classifier_equals_the_dense_one(fmt):
    X, y = classification(n_samples=120)
    Xs = sparse_version(X).asformat(fmt)
    dense = DeepClassifier(early_stopping=True, diagnostics=True, **FAST).fit(Xs.toarray(), y)
    clf = DeepClassifier(early_stopping=True, diagnostics=True, **FAST).fit(Xs, y)
    np.testing.assert_allclose(clf.predict_proba(Xs), dense.predict_proba(Xs.toarray()), **SAME_FIT)
    # Labels and dead-unit counts are discrete: rounding flips one only at a
    # tie to 1e-15 between two classes, or a unit's largest input that close to 0.
    np.testing.assert_array_equal(clf.predict(Xs), dense.predict(Xs.toarray()))
    np.testing.assert_array_equal(clf.dead_units_, dense.dead_units_)
    ours = clf.predict_uncertainty(Xs, n_samples=5, random_state=0)
    theirs = dense.predict_uncertainty(Xs.toarray(), n_samples=5, random_state=0)
    np.testing.assert_allclose(ours.mean, theirs.mean, **SAME_FIT)


def test_sparse_regressor_fit_partial_fit_and_weights():
    X, y = regression(n_samples=120)
    Xs = sparse_version(X)
    weight = np.r_[np.zeros(10), np.ones(110)]
    reg = DeepRegressor(**FAST).fit(Xs, y, sample_weight=weight)
    dense = DeepRegressor(**FAST).fit(Xs.toarray(), y, sample_weight=weight)
    np.testing.assert_allclose(reg.predict(Xs), dense.predict(Xs.toarray()), **SAME_FIT)
    reg.partial_fit(Xs[:50], y[:50])
    assert reg.n_iter_ == 4


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_multilabel_y_is_read_as_the_dense_one(fmt):
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=60, n_features=10, n_classes=4, random_state=0)
    Ys = sp.csr_matrix(Y).asformat(fmt)
    params = dict(FAST, class_weight="balanced")
    dense = DeepClassifier(**params).fit(X, Y)
    clf = DeepClassifier(**params).fit(X, Ys)
    np.testing.assert_allclose(clf.predict_proba(X), dense.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), dense.predict(X))
    assert clf.score(X, Ys) == dense.score(X, Y)  # subset accuracy, on the sparse y too
    continued = DeepClassifier(**FAST).partial_fit(X, Ys, classes=range(4)).partial_fit(X, Ys)
    by_dense = DeepClassifier(**FAST).partial_fit(X, Y, classes=range(4)).partial_fit(X, Y)
    np.testing.assert_allclose(continued.predict_proba(X), by_dense.predict_proba(X), atol=1e-6)


def test_sparse_x_is_densified_a_batch_or_a_chunk_at_a_time(monkeypatch):
    X, y = classification(n_samples=200)
    Xs = sparse_version(X)
    densified = []
    original = SparseRows.__getitem__

    def spy(self, index):
        out = original(self, index)
        densified.append(len(out))
        return out

    monkeypatch.setattr(SparseRows, "__getitem__", spy)
    monkeypatch.setattr(sklearn_dnn._engine.inference, "PREDICT_CHUNK_ROWS", 50)
    clf = DeepClassifier(**FAST).fit(Xs, y)
    assert densified and max(densified) == 20  # a mini-batch
    densified.clear()
    clf.predict_proba(Xs)
    assert densified == [50, 50, 50, 50]  # a prediction chunk
    densified.clear()
    monkeypatch.setattr(sklearn_dnn._engine.inference, "SAMPLES_PER_PASS", 200)
    clf.predict_uncertainty(Xs, n_samples=4, random_state=0)
    assert densified == [50, 50, 50, 50]  # 200 / 4 samples rows per pass


def test_prediction_chunks_of_a_wide_sparse_x_stay_small(monkeypatch):
    X, y = classification(n_samples=200)
    Xs = sparse_version(X)
    clf = DeepClassifier(**FAST).fit(Xs, y)
    densified = []
    original = SparseRows.__getitem__

    def spy(self, index):
        densified.append(original(self, index))
        return densified[-1]

    monkeypatch.setattr(SparseRows, "__getitem__", spy)
    # 10 float64 features: 80 bytes a row, so a 4,000-byte budget is 50 rows at once
    monkeypatch.setattr(sklearn_dnn._engine.inference, "DENSE_CHUNK_BYTES", 4000)
    expected = clf.predict_proba(Xs.toarray())
    np.testing.assert_allclose(clf.predict_proba(Xs), expected, **SAME_MODEL)
    assert [len(chunk) for chunk in densified] == [50, 50, 50, 50]
    densified.clear()
    clf.predict_uncertainty(Xs, n_samples=5, random_state=0)
    # The copies are made after the first layer: a pass densifies 50 rows, not 50 / 5.
    assert [len(chunk) for chunk in densified] == [50, 50, 50, 50]


def test_an_ensembles_sparse_batches_are_densified_one_member_at_a_time(monkeypatch):
    X, y = classification(n_samples=200)
    Xs = sparse_version(X)
    blocks, densified = [], []
    dense_rows = sklearn_dnn._nn.layers._dense_rows
    original = SparseRows.__getitem__

    def spy_rows(h, e):
        blocks.append(dense_rows(h, e).shape)
        return dense_rows(h, e)

    def spy_getitem(self, index):
        densified.append(len(index))
        return original(self, index)

    monkeypatch.setattr(sklearn_dnn._nn.layers, "_dense_rows", spy_rows)
    monkeypatch.setattr(SparseRows, "__getitem__", spy_getitem)
    # A batch of 4 members' 20 rows of 10 float64 features takes 6,400 bytes dense.
    monkeypatch.setattr(sklearn_dnn._engine.inference, "DENSE_CHUNK_BYTES", 6400)
    DeepClassifier(ensemble_size=4, early_stopping=False, **FAST, **PLAIN_INPUTS).fit(Xs, y)
    assert densified == [80] * 30 and not blocks  # up to the budget, dense: the fastest
    densified.clear()
    monkeypatch.setattr(sklearn_dnn._engine.inference, "DENSE_CHUNK_BYTES", 6399)
    DeepClassifier(ensemble_size=4, early_stopping=False, **FAST, **PLAIN_INPUTS).fit(Xs, y)
    assert not densified  # beyond, no batch of every member's rows is made dense
    # One member's 20 rows at a time: forward and backward, 4 members, 10 batches, 3 epochs.
    assert blocks == [(20, 10)] * (2 * 4 * 10 * 3)


def test_a_sparse_ensemble_trains_as_the_dense_one(monkeypatch):
    X, y = regression(n_samples=120)
    Xs = sparse_version(X)
    weight = np.r_[np.zeros(10), np.linspace(0.5, 2, 110)]
    params = dict(ensemble_size=3, bootstrap=True, early_stopping=True, **FAST)
    monkeypatch.setattr(sklearn_dnn._engine.inference, "DENSE_CHUNK_BYTES", 1000)  # sparse batches
    reg = DeepRegressor(**params).fit(Xs, y, sample_weight=weight)
    dense = DeepRegressor(**params).fit(Xs.toarray(), y, sample_weight=weight)
    # The same products, one member at a time instead of a batched one.
    np.testing.assert_allclose(reg.predict(Xs), dense.predict(Xs.toarray()), rtol=1e-9)
    # Frozen reused layers take sparse batches too.
    reuse = DeepRegressor.from_pretrained(reg, max_epochs=2, random_state=0).fit(Xs, y)
    np.testing.assert_array_equal(
        reuse.module_.hidden[0].linear.weight.detach(), reg.module_.hidden[0].linear.weight.detach()
    )


def test_sparse_tag_is_set():
    assert DeepClassifier().__sklearn_tags__().input_tags.sparse
    assert DeepRegressor().__sklearn_tags__().input_tags.sparse
