"""fit(X, y, X_val=..., y_val=..., sample_weight_val=...): the user's validation rows."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.plan import prepare

from ._data import classification, regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=5, random_state=0)


def _plan(estimator, X, y, X_val, y_val, sample_weight_val=None):
    return prepare(estimator, X, y, None, validation=(X_val, y_val, sample_weight_val))


def test_the_given_rows_replace_the_split():
    X, y = classification(300)
    plan = _plan(DeepClassifier(**FAST), X[:200], y[:200], X[200:], y[200:])
    assert len(plan.train) == 200  # every training row trains
    assert len(plan.valid) == 100
    assert plan.stopping.monitor == "valid_loss" and plan.stopping.restore_best
    np.testing.assert_array_equal(plan.valid.targets().numpy(), y[200:])


def test_auto_turns_early_stopping_on_below_100_rows():
    X, y = classification(80)
    assert _plan(DeepClassifier(**FAST), X, y, None, None).valid is None  # no split
    plan = _plan(DeepClassifier(**FAST), X[:60], y[:60], X[60:], y[60:])
    assert plan.stopping.restore_best and len(plan.valid) == 20


def test_a_different_validation_set_changes_the_restored_epoch():
    X, y = classification(400, n_classes=2)
    kwargs = dict(hidden_layer_sizes=(32,), max_epochs=40, patience=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        honest = DeepClassifier(**kwargs).fit(X[:300], y[:300], X_val=X[300:], y_val=y[300:])
        # The same rows with their labels swapped: the better the model, the worse its loss.
        flipped = DeepClassifier(**kwargs).fit(X[:300], y[:300], X_val=X[300:], y_val=1 - y[300:])

    def best_epoch(model):
        return [e["epoch"] for e in model.history_ if e.get("best")][-1]

    assert best_epoch(flipped) <= 2 < best_epoch(honest)
    # The restored weights are the best epoch's: worse on the honest rows.
    assert flipped.score(X[300:], y[300:]) < honest.score(X[300:], y[300:])


def test_early_stopping_false_scores_the_rows_without_stopping_on_them():
    X, y = regression(120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DeepRegressor(early_stopping=False, **FAST)
        model.fit(X[:100], y[:100], X_val=X[100:], y_val=y[100:])
    assert all("valid_loss" in e and "valid_score" in e for e in model.history_)
    assert not any(e.get("best") for e in model.history_)  # nothing restored
    plan = _plan(DeepRegressor(early_stopping=False, **FAST), X[:100], y[:100], X[100:], y[100:])
    assert plan.stopping.monitor == "train_loss" and not plan.stopping.restore_best


def test_targets_are_encoded_with_the_training_scale():
    X, y = regression(120)
    y = y * 100 + 1000
    plan = _plan(DeepRegressor(early_stopping=False, **FAST), X[:100], y[:100], X[100:], y[100:])
    task = plan.task
    expected = (y[100:] - task.mean[0]) / task.scale[0]
    np.testing.assert_allclose(plan.valid.targets().numpy().ravel(), expected, rtol=1e-10)


def test_class_weights_of_the_training_rows_apply_to_the_validation_rows():
    X, y = classification(400, n_classes=2)
    train = np.r_[np.flatnonzero(y == 0)[:150], np.flatnonzero(y == 1)[:50]]
    valid = np.r_[np.flatnonzero(y == 0)[150:175], np.flatnonzero(y == 1)[50:75]]
    model = DeepClassifier(class_weight="balanced", **FAST)
    plan = _plan(model, X[train], y[train], X[valid], y[valid])
    weight = plan.valid.sample_weight.numpy()
    # "balanced" on the training rows: class 1 (50 rows) weighs 3 times class 0 (150).
    np.testing.assert_allclose(weight[y[valid] == 1] / weight[y[valid] == 0][0], 3.0)
    # sample_weight_val multiplies in.
    sw = np.where(np.arange(50) < 25, 2.0, 1.0)
    plan = _plan(model, X[train], y[train], X[valid], y[valid], sw)
    weight = plan.valid.sample_weight.numpy()
    np.testing.assert_allclose(weight[0] / weight[-1], 2.0 / 3.0)


def test_validation_rows_take_the_training_dtype_and_may_be_sparse():
    X, y = classification(150)
    X32 = X.astype(np.float32)
    plan = _plan(DeepClassifier(**FAST), X32[:100], y[:100], sparse.csr_matrix(X[100:]), y[100:])
    assert plan.valid.all_X.dtype.itemsize == 4 or "float32" in str(plan.valid.all_X.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        DeepClassifier(**FAST, ensemble_size=2).fit(
            X32[:100], y[:100], X_val=sparse.csr_matrix(X[100:]), y_val=y[100:]
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(X_val=np.zeros((5, 10))), "X_val is provided, but y_val was not"),
        (dict(y_val=np.zeros(5)), "y_val is provided, but X_val was not"),
        (dict(sample_weight_val=np.ones(5)), "sample_weight_val is provided, but X_val"),
        (dict(X_val=np.zeros((5, 4)), y_val=np.zeros(5, int)), "X_val.*4 features.*expecting 10"),
        (dict(X_val=np.zeros((5, 10)), y_val=np.full(5, 7)), r"y_val contains labels \[7\]"),
        (
            dict(X_val=np.zeros((5, 10)), y_val=np.zeros(5, int), sample_weight_val=np.ones(4)),
            r"sample_weight_val.shape",
        ),
        (dict(X_val=np.zeros((1, 10)), y_val=np.zeros(1, int)), "validation set is too small"),
        (dict(X_val=np.full((5, 10), np.inf), y_val=np.zeros(5, int)), "infinity"),
    ],
)
def test_bad_validation_data_is_refused_by_name(kwargs, message):
    X, y = classification(100)
    model = DeepClassifier(**FAST)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, **kwargs)
    assert not hasattr(model, "net_")  # a failed fit changes nothing


def test_feature_names_must_match():
    X, y = classification(120)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    other = frame.rename(columns={"f0": "g0"})
    with pytest.raises(ValueError, match="X_val.*feature names"):
        DeepClassifier(**FAST).fit(frame[:100], y[:100], X_val=other[100:], y_val=y[100:])


def test_multilabel_and_multioutput_targets_must_keep_their_shape():
    X, _ = classification(120)
    Y = (X[:, :3] > 0).astype(int)
    with pytest.raises(ValueError, match="y_val must be one too"):
        DeepClassifier(**FAST).fit(X[:100], Y[:100], X_val=X[100:], y_val=Y[100:, 0])
    with pytest.raises(ValueError, match="y_val has 1 outputs, but y has 3"):
        DeepRegressor(**FAST).fit(X[:100], Y[:100] * 1.0, X_val=X[100:], y_val=Y[100:, 0])


def test_partial_fit_takes_no_validation_set():
    X, y = classification(100)
    with pytest.raises(TypeError, match="X_val"):
        DeepClassifier(**FAST).partial_fit(X, y, classes=np.unique(y), X_val=X, y_val=y)
    with pytest.raises(ValueError, match="partial_fit does not take a validation set"):
        DeepClassifier(**FAST)._fit(
            X, y, None, incremental=True, classes=np.unique(y), validation=(X, y, None)
        )


def test_warm_start_and_from_pretrained_take_a_validation_set():
    X, y = classification(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DeepClassifier(**FAST, warm_start=True).fit(X[:150], y[:150])
        n_before = model.n_iter_
        model.fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:])
        assert model.n_iter_ > n_before and "valid_loss" in model.history_[-1]
        reused = DeepClassifier.from_pretrained(model, max_epochs=5, random_state=0)
        reused.fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:])
    assert any(e.get("best") for e in reused.history_)
